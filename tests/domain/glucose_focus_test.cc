// Timelines on an injected clock: R5 glucose, R6 focus tracking, clinic referrals, individual
// overrides taking effect mid-stream, acks by rule and the pre-shift fitness verdict.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/event_id.h"
#include "engine/domain/policy.h"
#include "engine/domain/rulebook.h"
#include "engine/domain/timer.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {
namespace {

using test_support::At;
using test_support::Contains;
using test_support::Ev;
using test_support::IsEscalation;
using test_support::kWorker;
using test_support::MakeProfile;
using test_support::OfRule;
using test_support::SameEscalation;
using test_support::Timeline;

using Ack = EscalationAck::Action;

std::vector<Recipient> Manager() { return {Recipient{"hm-31", "Li Na", RecipientRole::kHealthManager}}; }
std::vector<Recipient> ManagerAndSupervisor() {
  return {Recipient{"hm-31", "Li Na", RecipientRole::kHealthManager},
          Recipient{"sup-12", "Chen Jun", RecipientRole::kUnitSupervisor}};
}

WorkerProfile Focus(std::optional<int> abnormal_sys = std::nullopt, std::optional<int> abnormal_dia = std::nullopt) {
  WorkerProfile p = MakeProfile();
  p.policy.focus_tracking = true;
  p.policy.abnormal_systolic_mmhg = abnormal_sys;
  p.policy.abnormal_diastolic_mmhg = abnormal_dia;
  return p;
}

// ---------------------------------------------------------------------------------------------------
// R5 thresholds: severe hypoglycaemia on one reading; high glucose on the second high reading

struct SevereRow {
  const char* name;
  GlucoseTiming timing;
  double mmol;
  bool opens;
  friend void PrintTo(const SevereRow& r, std::ostream* os) { *os << r.name; }
};

class R5SevereHypoTest : public ::testing::TestWithParam<SevereRow> {};

TEST_P(R5SevereHypoTest, OneReadingBelow3Point0OpensUrgent) {
  const SevereRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  const ReadingOutcome out = t.GlucoseNow(row.mmol, row.timing);
  const auto r5 = OfRule(out.escalations, Rule::kR5Glucose);
  ASSERT_EQ(r5.size(), row.opens ? 1u : 0u);
  EXPECT_TRUE(out.referrals.empty()) << "severe hypoglycaemia is treated on the spot, not referred";
  if (!row.opens) return;
  EXPECT_EQ(r5[0]->state, EscalationState::kOpen);
  EXPECT_EQ(r5[0]->severity, Severity::kUrgent);
  EXPECT_EQ(r5[0]->level, EscalationLevel::kHealthManager);
  EXPECT_EQ(r5[0]->recipients, Manager());
  ASSERT_EQ(r5[0]->glucose_evidence.size(), 1u);
  EXPECT_EQ(r5[0]->glucose_evidence[0].mmol_per_l, row.mmol);
  EXPECT_TRUE(r5[0]->evidence.empty());
  EXPECT_TRUE(Contains(r5[0]->reason, "Severe hypoglycaemia: ")) << r5[0]->reason;
  EXPECT_TRUE(Contains(r5[0]->reason, "retest and treat now")) << r5[0]->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, R5SevereHypoTest,
    ::testing::Values(SevereRow{"fasting_3_0_not_severe", GlucoseTiming::kFasting, 3.0, false},
                      SevereRow{"fasting_2_9_severe", GlucoseTiming::kFasting, 2.9, true},
                      SevereRow{"random_2_9_severe", GlucoseTiming::kRandom, 2.9, true},
                      SevereRow{"two_hour_2_9_severe", GlucoseTiming::kPostprandial2h, 2.9, true},
                      SevereRow{"mild_hypo_3_8_no_r5", GlucoseTiming::kFasting, 3.8, false},
                      SevereRow{"hypo_bound_3_9_no_r5", GlucoseTiming::kFasting, 3.9, false},
                      SevereRow{"normal_5_5", GlucoseTiming::kFasting, 5.5, false}),
    test_support::RowName());

TEST(R5SevereHypoTest, ReasonQuotesValueTimingTimeAndStation) {
  Timeline t;
  t.Profile(MakeProfile());
  // kStart is 08:00 local time on 5 March.
  const ReadingOutcome out = t.GlucoseNow(2.6, GlucoseTiming::kFasting);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].reason,
            "Severe hypoglycaemia: 2.6 mmol/L (fasting) at 2024-03-05 08:00, station station-east-gate: retest and "
            "treat now; urgent follow-up by the health manager");
}

struct HighRow {
  const char* name;
  GlucoseTiming timing;
  double mmol;
  bool high;
  friend void PrintTo(const HighRow& r, std::ostream* os) { *os << r.name; }
};

class R5HighGlucoseTest : public ::testing::TestWithParam<HighRow> {};

TEST_P(R5HighGlucoseTest, SecondHighReadingOpensHighWithARoutineReferral) {
  const HighRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  EXPECT_TRUE(t.Glucose(At(-kDayMs), 8.0, GlucoseTiming::kFasting).escalations.empty()) << "one high is not enough";
  const ReadingOutcome out = t.GlucoseNow(row.mmol, row.timing);
  const auto r5 = OfRule(out.escalations, Rule::kR5Glucose);
  ASSERT_EQ(r5.size(), row.high ? 1u : 0u);
  ASSERT_EQ(out.referrals.size(), row.high ? 1u : 0u);
  if (!row.high) return;
  EXPECT_EQ(r5[0]->severity, Severity::kHigh);
  EXPECT_EQ(r5[0]->level, EscalationLevel::kHealthManager);
  ASSERT_EQ(r5[0]->glucose_evidence.size(), 2u);
  EXPECT_EQ(r5[0]->glucose_evidence[0].mmol_per_l, 8.0);
  EXPECT_EQ(r5[0]->glucose_evidence[1].mmol_per_l, row.mmol);
  EXPECT_TRUE(Contains(r5[0]->reason, "High glucose twice in 30 days: 8.0 mmol/L (fasting) at ")) << r5[0]->reason;
  EXPECT_EQ(out.referrals[0].urgency, ReferralUrgency::kRoutine);
  EXPECT_EQ(out.referrals[0].rule, Rule::kR5Glucose);
  EXPECT_EQ(out.referrals[0].glucose_evidence, r5[0]->glucose_evidence);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, R5HighGlucoseTest,
    ::testing::Values(HighRow{"fasting_6_9", GlucoseTiming::kFasting, 6.9, false},
                      HighRow{"fasting_7_0", GlucoseTiming::kFasting, 7.0, true},
                      HighRow{"random_11_0", GlucoseTiming::kRandom, 11.0, false},
                      HighRow{"random_11_1", GlucoseTiming::kRandom, 11.1, true},
                      HighRow{"two_hour_11_0", GlucoseTiming::kPostprandial2h, 11.0, false},
                      HighRow{"two_hour_11_1", GlucoseTiming::kPostprandial2h, 11.1, true},
                      HighRow{"random_7_5_is_not_high", GlucoseTiming::kRandom, 7.5, false},
                      HighRow{"fasting_11_0_is_high", GlucoseTiming::kFasting, 11.0, true}),
    test_support::RowName());

struct WindowRow {
  const char* name;
  int64_t apart_ms;
  bool opens;
  friend void PrintTo(const WindowRow& r, std::ostream* os) { *os << r.name; }
};

class R5WindowTest : public ::testing::TestWithParam<WindowRow> {};

TEST_P(R5WindowTest, TwoHighsCountOnlyWithin30DaysOfEventTime) {
  const WindowRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(0), 12.0, GlucoseTiming::kRandom);
  t.RunUntil(At(row.apart_ms));
  const ReadingOutcome out = t.Glucose(At(row.apart_ms), 7.2, GlucoseTiming::kFasting);
  EXPECT_EQ(OfRule(out.escalations, Rule::kR5Glucose).size(), row.opens ? 1u : 0u);
  EXPECT_EQ(t.Open(Rule::kR5Glucose) != nullptr, row.opens);
}

TEST_P(R5WindowTest, LateUploadCountsByEventTimeToo) {
  // The later high arrives first; the older one is uploaded late.
  const WindowRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  t.RunUntil(At(row.apart_ms));
  t.Glucose(At(row.apart_ms), 7.2, GlucoseTiming::kFasting);
  const ReadingOutcome out = t.Glucose(At(0), 12.0, GlucoseTiming::kRandom);
  EXPECT_EQ(OfRule(out.escalations, Rule::kR5Glucose).size(), row.opens ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Apart, R5WindowTest,
    ::testing::Values(WindowRow{"one_day", kDayMs, true},
                      WindowRow{"just_inside_30_days", 30 * kDayMs - 1, true},
                      WindowRow{"exactly_30_days_is_outside", 30 * kDayMs, false}),
    test_support::RowName());

TEST(R5GlucoseWindowTest, KeepsOnlyTheWindowAndAtMostMaxSamples) {
  Policy p;
  p.max_glucose_samples = 3;
  Timeline t(p);
  for (int i = 0; i < 5; ++i) t.Glucose(At((i - 4) * kHourMs), 5.0 + i * 0.1);
  ASSERT_EQ(t.state.glucose_window.size(), 3u);
  EXPECT_EQ(t.state.glucose_window.front().measured_at, Ev(At(-2 * kHourMs)));
  EXPECT_EQ(t.state.glucose_window.back().measured_at, Ev(At(0)));

  t.RunUntil(At(30 * kDayMs - kHourMs));
  t.Glucose(At(30 * kDayMs - kHourMs), 5.5);  // the window is (-1 h, 30 d - 1 h]
  ASSERT_EQ(t.state.glucose_window.size(), 2u);
  EXPECT_EQ(t.state.glucose_window.front().measured_at, Ev(At(0)));
}

// ---------------------------------------------------------------------------------------------------
// R5 lifecycle: ack timeout, raise, resolution

struct HypoAckRow {
  const char* name;
  std::optional<int64_t> ack_after_ms;  // by rule (no episode id); nullopt: nobody acknowledges
  bool climbs;
  friend void PrintTo(const HypoAckRow& r, std::ostream* os) { *os << r.name; }
};

class R5HypoAckTest : public ::testing::TestWithParam<HypoAckRow> {};

TEST_P(R5HypoAckTest, UnacknowledgedSevereHypoClimbsExactlyAt30Minutes) {
  const HypoAckRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  t.GlucoseNow(2.7);
  t.Take();
  if (row.ack_after_ms) {
    t.RunUntil(At(*row.ack_after_ms));
    const Outcome ack = t.AckByRule(Rule::kR5Glucose);
    EXPECT_FALSE(ack.ignored) << ack.ignored_reason;
  }
  t.RunUntil(At(30 * kMinuteMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(30 * kMinuteMs));
  const std::vector<Escalation> events = t.Take();
  ASSERT_EQ(events.size(), row.climbs ? 1u : 0u);
  if (row.climbs) {
    EXPECT_THAT(events[0], IsEscalation({.state = EscalationState::kEscalated,
                                         .level = EscalationLevel::kUnitSupervisor}));
    EXPECT_EQ(events[0].recipients, ManagerAndSupervisor());
    EXPECT_EQ(events[0].emitted_at, At(30 * kMinuteMs));
    EXPECT_EQ(events[0].glucose_evidence.size(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(Acks, R5HypoAckTest,
                         ::testing::Values(HypoAckRow{"no_ack_climbs", std::nullopt, true},
                                           HypoAckRow{"ack_just_before_timeout", 30 * kMinuteMs - 1, false},
                                           HypoAckRow{"ack_at_once", 0, false}),
                         test_support::RowName());

TEST(R5LifecycleTest, HighEpisodeClimbsAfter24Hours) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(-kHourMs), 12.0, GlucoseTiming::kRandom);
  t.GlucoseNow(12.5, GlucoseTiming::kRandom);
  ASSERT_NE(t.Open(Rule::kR5Glucose), nullptr);
  t.Take();
  t.RunUntil(At(kDayMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(kDayMs));
  const std::vector<Escalation> events = t.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].level, EscalationLevel::kUnitSupervisor);
}

TEST(R5LifecycleTest, SevereHypoOnAHighEpisodeRaisesItAndRestartsTheAck) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(-kHourMs), 12.0, GlucoseTiming::kRandom);
  t.GlucoseNow(12.5, GlucoseTiming::kRandom);
  const std::string episode = t.Open(Rule::kR5Glucose)->episode_id;
  t.AckByRule(Rule::kR5Glucose);
  t.RunUntil(At(2 * kHourMs));
  t.Take();
  const ReadingOutcome out = t.GlucoseNow(2.8);
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_EQ(e.episode_id, episode) << "one R5 episode per worker";
  EXPECT_THAT(e, IsEscalation({.state = EscalationState::kEscalated, .severity = Severity::kUrgent}));
  EXPECT_EQ(e.sequence, 2u);
  EXPECT_TRUE(Contains(e.reason, "Severe hypoglycaemia: 2.8 mmol/L")) << e.reason;
  EXPECT_EQ(e.glucose_evidence.back().mmol_per_l, 2.8);
  EXPECT_TRUE(out.referrals.empty()) << "the episode's referral was sent when it opened";
  const OpenEpisode* r5 = t.Open(Rule::kR5Glucose);
  EXPECT_FALSE(r5->acknowledged);
  EXPECT_TRUE(t.HasTimer(At(2 * kHourMs + 30 * kMinuteMs), Rule::kR5Glucose, TimerKind::kAckTimeout))
      << "the hypoglycaemia ack timeout (30 min) now applies";
}

TEST(R5LifecycleTest, HypoResolvesOnlyOnALaterReadingAtOrAbove3Point9) {
  Timeline t;
  t.Profile(MakeProfile());
  t.GlucoseNow(2.5);
  t.Take();
  EXPECT_TRUE(t.Glucose(At(-kMinuteMs), 5.0).escalations.empty()) << "measured before the severe reading";
  EXPECT_TRUE(t.Glucose(At(10 * kMinuteMs), 2.4).escalations.empty()) << "still severe: evidence only";
  EXPECT_EQ(t.Open(Rule::kR5Glucose)->glucose_evidence.size(), 2u);
  t.RunUntil(At(20 * kMinuteMs));
  EXPECT_TRUE(t.Glucose(At(20 * kMinuteMs), 3.8).escalations.empty()) << "mild hypoglycaemia keeps it open";
  const ReadingOutcome out = t.Glucose(At(25 * kMinuteMs), 3.9);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_TRUE(Contains(out.escalations[0].reason, "Glucose back above 3.9 mmol/L: 3.9 mmol/L (fasting)"))
      << out.escalations[0].reason;
  EXPECT_EQ(t.Open(Rule::kR5Glucose), nullptr);
  EXPECT_FALSE(t.HasTimer(At(30 * kMinuteMs), Rule::kR5Glucose, TimerKind::kAckTimeout));
}

TEST(R5LifecycleTest, HighResolvesWhenTheWindowNoLongerHoldsTwoHighs) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(0), 12.0, GlucoseTiming::kRandom);
  t.RunUntil(At(kDayMs));
  t.Glucose(At(kDayMs), 7.5);
  ASSERT_NE(t.Open(Rule::kR5Glucose), nullptr);
  t.RunUntil(At(2 * kDayMs));
  EXPECT_TRUE(OfRule(t.Glucose(At(2 * kDayMs), 5.5).escalations, Rule::kR5Glucose).empty())
      << "two highs still in the window";
  t.RunUntil(At(30 * kDayMs + kHourMs));
  const ReadingOutcome out = t.Glucose(At(30 * kDayMs + kHourMs), 5.4);  // window (1 h, 30 d + 1 h]: one high left
  const auto r5 = OfRule(out.escalations, Rule::kR5Glucose);
  ASSERT_EQ(r5.size(), 1u);
  EXPECT_EQ(r5[0]->state, EscalationState::kResolved);
  EXPECT_TRUE(Contains(r5[0]->reason, "Glucose no longer high: 5.4 mmol/L (fasting)")) << r5[0]->reason;
  EXPECT_TRUE(Contains(r5[0]->reason, "1 high reading in the last 30 days")) << r5[0]->reason;
}

TEST(R5LifecycleTest, FurtherHighsUpdateTheEvidenceSilently) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(-2 * kHourMs), 12.0, GlucoseTiming::kRandom);
  t.Glucose(At(-kHourMs), 7.5);
  t.Take();
  const ReadingOutcome out = t.GlucoseNow(13.0, GlucoseTiming::kPostprandial2h);
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(out.referrals.empty());
  const OpenEpisode* r5 = t.Open(Rule::kR5Glucose);
  EXPECT_EQ(r5->trigger_count, 2u);
  ASSERT_EQ(r5->glucose_evidence.size(), 3u);
  EXPECT_EQ(r5->glucose_evidence.back().mmol_per_l, 13.0);
}

TEST(R5LifecycleTest, RecoveryFromHypoIntoHighGlucoseOpensANewReferredEpisode) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Glucose(At(-2 * kHourMs), 12.0, GlucoseTiming::kRandom);
  t.Glucose(At(-kHourMs), 2.6);
  const std::string hypo = t.Open(Rule::kR5Glucose)->episode_id;
  EXPECT_EQ(t.Open(Rule::kR5Glucose)->severity, Severity::kUrgent);
  t.Take();
  const ReadingOutcome out = t.GlucoseNow(11.5, GlucoseTiming::kRandom);
  ASSERT_EQ(out.escalations.size(), 2u);
  EXPECT_EQ(out.escalations[0].episode_id, hypo);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_NE(out.escalations[1].episode_id, hypo);
  EXPECT_THAT(out.escalations[1], IsEscalation({.state = EscalationState::kOpen, .severity = Severity::kHigh}));
  ASSERT_EQ(out.referrals.size(), 1u);
  EXPECT_EQ(out.referrals[0].episode_id, out.escalations[1].episode_id);
}

TEST(R5LifecycleTest, GlucoseIsNotABloodPressureSelfTest) {
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.diagnosed_hypertension_grade = 2;
  t.Profile(p);
  const std::optional<ProcessingTime> due = t.state.self_test_due;
  ASSERT_TRUE(due.has_value());
  t.RunUntil(At(kDayMs));
  const ReadingOutcome out = t.Glucose(At(kDayMs), 5.5);
  EXPECT_TRUE(out.timers_set.empty());
  EXPECT_EQ(t.state.self_test_due, due);
}

// ---------------------------------------------------------------------------------------------------
// R6 focus tracking

struct FocusRow {
  const char* name;
  bool focus;
  std::optional<int> abnormal_sys, abnormal_dia;
  std::optional<std::pair<int, int>> bp;
  std::optional<double> fasting_glucose;
  bool opens;
  friend void PrintTo(const FocusRow& r, std::ostream* os) { *os << r.name; }
};

class R6FocusTest : public ::testing::TestWithParam<FocusRow> {};

TEST_P(R6FocusTest, EveryAbnormalReadingOfAFocusTrackedWorkerEscalates) {
  const FocusRow& row = GetParam();
  Timeline t;
  WorkerProfile p = Focus(row.abnormal_sys, row.abnormal_dia);
  p.policy.focus_tracking = row.focus;
  p.policy.extra_recipients = {Person{"ex-1", "Dr Wang"}};
  t.Profile(p);
  const ReadingOutcome out = row.bp ? t.BpNow(row.bp->first, row.bp->second) : t.GlucoseNow(*row.fasting_glucose);
  const auto r6 = OfRule(out.escalations, Rule::kR6FocusTracking);
  ASSERT_EQ(r6.size(), row.opens ? 1u : 0u);
  if (!row.opens) return;
  EXPECT_EQ(r6[0]->severity, Severity::kHigh);
  EXPECT_EQ(r6[0]->level, EscalationLevel::kHealthManager);
  EXPECT_EQ(r6[0]->recipients, (std::vector<Recipient>{{"hm-31", "Li Na", RecipientRole::kHealthManager},
                                                        {"ex-1", "Dr Wang", RecipientRole::kExtra}}));
  EXPECT_EQ(r6[0]->evidence.size(), row.bp ? 1u : 0u);
  EXPECT_EQ(r6[0]->glucose_evidence.size(), row.bp ? 0u : 1u);
  EXPECT_TRUE(Contains(r6[0]->reason, "Focus tracking: ")) << r6[0]->reason;
  EXPECT_TRUE(t.HasTimer(At(4 * kHourMs), Rule::kR6FocusTracking, TimerKind::kAckTimeout));
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, R6FocusTest,
    ::testing::Values(
        FocusRow{"default_139_89_normal", true, {}, {}, std::pair{139, 89}, {}, false},
        FocusRow{"default_140_80_abnormal", true, {}, {}, std::pair{140, 80}, {}, true},
        FocusRow{"default_120_90_abnormal", true, {}, {}, std::pair{120, 90}, {}, true},
        FocusRow{"hypotension_89_70", true, {}, {}, std::pair{89, 70}, {}, true},
        FocusRow{"hypotension_100_59", true, {}, {}, std::pair{100, 59}, {}, true},
        FocusRow{"low_normal_90_60", true, {}, {}, std::pair{90, 60}, {}, false},
        FocusRow{"own_130_85_at_129_84_normal", true, 130, 85, std::pair{129, 84}, {}, false},
        FocusRow{"own_130_85_at_130_70_abnormal", true, 130, 85, std::pair{130, 70}, {}, true},
        FocusRow{"own_130_85_at_120_85_abnormal", true, 130, 85, std::pair{120, 85}, {}, true},
        FocusRow{"own_systolic_only_keeps_default_diastolic_89", true, 130, {}, std::pair{125, 89}, {}, false},
        FocusRow{"own_systolic_only_keeps_default_diastolic_90", true, 130, {}, std::pair{125, 90}, {}, true},
        FocusRow{"no_focus_150_95_nothing", false, {}, {}, std::pair{150, 95}, {}, false},
        FocusRow{"no_focus_lowered_thresholds_nothing", false, 130, 85, std::pair{135, 86}, {}, false},
        FocusRow{"glucose_fasting_6_9_normal", true, {}, {}, {}, 6.9, false},
        FocusRow{"glucose_fasting_7_0_abnormal", true, {}, {}, {}, 7.0, true},
        FocusRow{"glucose_3_9_normal", true, {}, {}, {}, 3.9, false},
        FocusRow{"glucose_3_8_abnormal", true, {}, {}, {}, 3.8, true},
        FocusRow{"no_focus_glucose_3_5_nothing", false, {}, {}, {}, 3.5, false}),
    test_support::RowName());

TEST(R6FocusTest, RunsInAdditionToR1) {
  Timeline t;
  t.Profile(Focus());
  const ReadingOutcome out = t.BpNow(185, 115);
  EXPECT_EQ(OfRule(out.escalations, Rule::kR1CriticalBp).size(), 1u);
  EXPECT_EQ(OfRule(out.escalations, Rule::kR6FocusTracking).size(), 1u);
  EXPECT_EQ(out.escalations.front().rule, Rule::kR1CriticalBp) << "the specific rule speaks first";
}

TEST(R6FocusTest, RepeatedAbnormalReadingsUpdateTheEvidenceWithoutANewEvent) {
  Timeline t;
  t.Profile(Focus());
  t.BpNow(145, 92);
  t.Take();
  t.RunUntil(At(kHourMs));
  EXPECT_TRUE(t.BpNow(150, 95).escalations.empty());
  EXPECT_TRUE(t.GlucoseNow(8.0).escalations.empty());
  const OpenEpisode* r6 = t.Open(Rule::kR6FocusTracking);
  ASSERT_NE(r6, nullptr);
  EXPECT_EQ(r6->trigger_count, 3u);
  EXPECT_EQ(r6->evidence.size(), 2u);
  EXPECT_EQ(r6->glucose_evidence.size(), 1u);
  EXPECT_EQ(r6->last_trigger_at, Ev(At(kHourMs)));
}

TEST(R6FocusTest, ResolvesOnceEveryAbnormalKindHasALaterNormalReading) {
  Timeline t;
  t.Profile(Focus());
  t.Bp(At(0), 145, 92);
  t.Glucose(At(kMinuteMs), 3.6);
  t.RunUntil(At(kHourMs));
  t.Take();
  EXPECT_TRUE(t.Bp(At(-kHourMs), 120, 78).escalations.empty()) << "a normal reading measured earlier";
  EXPECT_TRUE(t.Bp(At(kHourMs), 128, 82).escalations.empty()) << "glucose is still abnormal";
  ASSERT_NE(t.Open(Rule::kR6FocusTracking), nullptr);
  const ReadingOutcome out = t.Glucose(At(kHourMs + kMinuteMs), 5.2);
  const auto r6 = OfRule(out.escalations, Rule::kR6FocusTracking);
  ASSERT_EQ(r6.size(), 1u);
  EXPECT_EQ(r6[0]->state, EscalationState::kResolved);
  EXPECT_TRUE(Contains(r6[0]->reason, "back within the worker's limits: 5.2 mmol/L (fasting)")) << r6[0]->reason;
  EXPECT_EQ(t.Open(Rule::kR6FocusTracking), nullptr);
}

TEST(R6FocusTest, EndingFocusTrackingWithdrawsTheEpisode) {
  Timeline t;
  t.Profile(Focus());
  t.BpNow(150, 95);
  t.Take();
  WorkerProfile p = Focus();
  p.policy.focus_tracking = false;
  const Outcome out = t.Profile(p);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_THAT(out.escalations[0], IsEscalation({.rule = Rule::kR6FocusTracking, .state = EscalationState::kResolved}));
  EXPECT_EQ(out.timers_cancel,
            (std::vector<TimerRequest>{{At(4 * kHourMs), Rule::kR6FocusTracking, TimerKind::kAckTimeout}}));
}

TEST(R6FocusTest, UnacknowledgedClimbsAtItsOwnTimeout) {
  Timeline t;
  t.Profile(Focus());
  t.BpNow(150, 95);
  t.Take();
  t.RunUntil(At(4 * kHourMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(4 * kHourMs));
  const std::vector<Escalation> events = t.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].level, EscalationLevel::kUnitSupervisor);
}

// ---------------------------------------------------------------------------------------------------
// Individual overrides take effect mid-stream

TEST(OverrideTest, LoweredCriticalThresholdAppliesFromTheNextReading) {
  Timeline t;
  t.Profile(MakeProfile());
  EXPECT_TRUE(OfRule(t.BpNow(172, 100).escalations, Rule::kR1CriticalBp).empty());
  WorkerProfile p = MakeProfile();
  p.policy.critical_systolic_mmhg = 170;
  EXPECT_TRUE(t.Profile(p).escalations.empty());
  t.RunUntil(At(kMinuteMs));
  const ReadingOutcome out = t.BpNow(170, 100);
  const auto r1 = OfRule(out.escalations, Rule::kR1CriticalBp);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_TRUE(Contains(r1[0]->reason, "at or above the individual critical threshold 170/110 mmHg")) << r1[0]->reason;
  ASSERT_EQ(out.referrals.size(), 1u);
  EXPECT_EQ(out.referrals[0].urgency, ReferralUrgency::kUrgent);
}

TEST(OverrideTest, OwnAckTimeoutAppliesToEveryRule) {
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.policy.ack_timeout_minutes = 10;
  t.Profile(p);
  t.BpNow(185, 100);
  t.GlucoseNow(2.5);
  EXPECT_TRUE(t.HasTimer(At(10 * kMinuteMs), Rule::kR1CriticalBp, TimerKind::kAckTimeout));
  EXPECT_TRUE(t.HasTimer(At(10 * kMinuteMs), Rule::kR5Glucose, TimerKind::kAckTimeout));
}

TEST(OverrideTest, ChangedAckTimeoutAndRenotifyApplyFromTheNextTimer) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(185, 100);  // R1: climbs at 30 min by the global policy
  WorkerProfile p = MakeProfile();
  p.policy.ack_timeout_minutes = 10;
  p.policy.renotify_interval_hours = 2;
  t.Profile(p);
  EXPECT_TRUE(t.HasTimer(At(30 * kMinuteMs), Rule::kR1CriticalBp, TimerKind::kAckTimeout))
      << "a pending deadline keeps its time";
  t.RunUntil(At(5 * kMinuteMs));
  t.AckByRule(Rule::kR1CriticalBp);
  EXPECT_TRUE(t.HasTimer(At(5 * kMinuteMs + 2 * kHourMs), Rule::kR1CriticalBp, TimerKind::kRenotify))
      << "the ack is the next input: it uses the worker's own re-notify interval";
  t.Take();
  t.RunUntil(At(5 * kMinuteMs + 2 * kHourMs));
  ASSERT_EQ(t.Take().size(), 1u);
  EXPECT_TRUE(t.HasTimer(At(5 * kMinuteMs + 4 * kHourMs), Rule::kR1CriticalBp, TimerKind::kRenotify));
}

TEST(OverrideTest, SelfTestEnrolledEnrolsInR3) {
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.diagnosed_hypertension_grade = 0;
  t.Profile(p);
  EXPECT_FALSE(t.state.self_test_due.has_value());
  p.policy.self_test_enrolled = true;
  t.Profile(p);
  EXPECT_EQ(t.state.self_test_due, At(7 * kDayMs));
  t.RunUntil(At(7 * kDayMs));
  const OpenEpisode* r3 = t.Open(Rule::kR3SelfTestMissed);
  ASSERT_NE(r3, nullptr);
  EXPECT_TRUE(Contains(t.events.back().reason, "Individual policy (self-test every 7 days)")) << t.events.back().reason;
}

// ---------------------------------------------------------------------------------------------------
// Referrals

TEST(ReferralTest, R1OpeningSendsOneUrgentReferralWithTheProfile) {
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.coronary_heart_disease = true;
  t.Profile(p);
  const ReadingOutcome out = t.BpNow(182, 112);
  ASSERT_EQ(out.referrals.size(), 1u);
  const Referral& r = out.referrals[0];
  const Escalation& open = *OfRule(out.escalations, Rule::kR1CriticalBp)[0];
  EXPECT_EQ(r.episode_id, open.episode_id);
  EXPECT_EQ(r.referral_id, ReferralId(open.episode_id));
  EXPECT_NE(r.referral_id, open.event_id);
  EXPECT_TRUE(test_support::IsLowerHex32(r.referral_id));
  EXPECT_EQ(r.worker, kWorker);
  EXPECT_EQ(r.worker_name, "Zhang Wei");
  EXPECT_EQ(r.unit_id, "unit-07");
  EXPECT_EQ(r.unit_name, "Rolling mill");
  EXPECT_EQ(r.grid_id, "grid-03");
  EXPECT_EQ(r.grid_name, "East district");
  EXPECT_EQ(r.health_manager, (Person{"hm-31", "Li Na"}));
  EXPECT_EQ(r.diagnosed_hypertension_grade, 1);
  EXPECT_TRUE(r.coronary_heart_disease);
  EXPECT_FALSE(r.diabetes);
  EXPECT_EQ(r.rule, Rule::kR1CriticalBp);
  EXPECT_EQ(r.urgency, ReferralUrgency::kUrgent);
  EXPECT_EQ(r.evidence, open.evidence);
  EXPECT_FALSE(r.window.has_value());
  EXPECT_EQ(r.reason,
            "Grade-3 blood pressure 182/112 mmHg, pulse 72 at 2024-03-05 08:00, station station-east-gate: see a "
            "doctor today");
  EXPECT_EQ(r.trigger_at, Ev(At(0)));
  EXPECT_EQ(r.emitted_at, At(0));

  t.RunUntil(At(kMinuteMs));
  EXPECT_TRUE(t.BpNow(190, 115).referrals.empty()) << "one referral per episode";
}

TEST(ReferralTest, R2OpeningSendsARoutineReferralWithTheWindow) {
  Timeline t;
  t.Profile(MakeProfile());
  t.Bp(At(-kDayMs - kHourMs), 165, 102);
  t.Bp(At(-kDayMs), 166, 103);
  const ReadingOutcome out = t.BpNow(164, 101);
  ASSERT_EQ(out.referrals.size(), 1u);
  const Referral& r = out.referrals[0];
  EXPECT_EQ(r.rule, Rule::kR2SustainedHypertension);
  EXPECT_EQ(r.urgency, ReferralUrgency::kRoutine);
  ASSERT_TRUE(r.window.has_value());
  EXPECT_EQ(r.window->readings, 3);
  EXPECT_EQ(r.evidence.size(), 3u);
  EXPECT_TRUE(Contains(r.reason, "Sustained grade-2 hypertension: 7-day mean 165/102 mmHg")) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "routine clinic review")) << r.reason;
  EXPECT_TRUE(t.BpNow(166, 102).referrals.empty());
}

TEST(ReferralTest, WithoutAProfileTheReferralGoesToTheOnCallDesk) {
  Timeline t;
  const ReadingOutcome out = t.BpNow(185, 100);
  ASSERT_EQ(out.referrals.size(), 1u);
  EXPECT_TRUE(out.referrals[0].worker_name.empty());
  EXPECT_TRUE(Contains(out.referrals[0].reason, "no worker profile on file")) << out.referrals[0].reason;
}

std::vector<Referral> ReferralHistory() {
  Timeline t;
  t.Profile(Focus());
  t.BpNow(185, 112);
  t.Glucose(At(-kHourMs), 12.0, GlucoseTiming::kRandom);
  t.GlucoseNow(7.5);
  t.RunUntil(At(kDayMs));
  t.Bp(At(kDayMs - 3 * kHourMs), 120, 78);  // R1 resolves
  t.BpNow(186, 111);  // a second R1 episode (its referral held back by the cool-down), and R2
  return t.referrals;
}

TEST(ReferralTest, SameHistoryGivesTheSameReferralIds) {
  const std::vector<Referral> a = ReferralHistory();
  const std::vector<Referral> b = ReferralHistory();
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), a.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].referral_id, b[i].referral_id);
    EXPECT_EQ(a[i].reason, b[i].reason);
    ids.insert(a[i].referral_id);
  }
  EXPECT_EQ(ids.size(), 3u) << "each episode has its own referral";
  EXPECT_EQ(a[0].rule, Rule::kR1CriticalBp);
  EXPECT_EQ(a[1].rule, Rule::kR5Glucose);
  // The second R1 episode opened a day after the first: within the 7-day referral cool-down.
  EXPECT_EQ(a[2].rule, Rule::kR2SustainedHypertension);  // 185/112, 120/78, 186/111: a grade-2 mean
}

// ---------------------------------------------------------------------------------------------------
// Acks that name a rule instead of an episode

TEST(AckByRuleTest, StopsTheClimbAndRenotifiesLater) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(185, 100);
  t.RunUntil(At(10 * kMinuteMs));
  const Outcome ack = t.AckByRule(Rule::kR1CriticalBp);
  EXPECT_FALSE(ack.ignored) << ack.ignored_reason;
  EXPECT_TRUE(t.Open(Rule::kR1CriticalBp)->acknowledged);
  t.Take();
  t.RunUntil(At(30 * kMinuteMs));
  EXPECT_TRUE(t.Take().empty());
  EXPECT_TRUE(t.HasTimer(At(10 * kMinuteMs + kDayMs), Rule::kR1CriticalBp, TimerKind::kRenotify));
}

TEST(AckByRuleTest, ResolveByRuleClosesTheOpenEpisode) {
  Timeline t;
  t.Profile(MakeProfile());
  t.GlucoseNow(2.5);
  t.Take();
  const Outcome out = t.AckByRule(Rule::kR5Glucose, Ack::kResolve);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_EQ(out.escalations[0].glucose_evidence.size(), 1u);
  EXPECT_EQ(t.Open(Rule::kR5Glucose), nullptr);
}

TEST(AckByRuleTest, NothingOpenForTheRuleIsIgnored) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(185, 100);
  const WorkerState before = t.state;
  const Outcome out = t.AckByRule(Rule::kR2SustainedHypertension);
  EXPECT_TRUE(out.ignored);
  EXPECT_EQ(out.ignored_reason, "no open R2_sustained_hypertension episode");
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(out.timers_set.empty());
  EXPECT_EQ(t.state, before);
}

// ---------------------------------------------------------------------------------------------------
// The pre-shift fitness verdict of a reading

struct FitRow {
  const char* name;
  bool high_risk_post;
  ReadingContext context;
  int systolic, diastolic;
  std::optional<bool> fit;
  friend void PrintTo(const FitRow& r, std::ostream* os) { *os << r.name; }
};

class PreShiftFitTest : public ::testing::TestWithParam<FitRow> {};

TEST_P(PreShiftFitTest, SetOnlyForPreShiftBpOfHighRiskPosts) {
  const FitRow& row = GetParam();
  Timeline t;
  WorkerProfile p = MakeProfile();
  if (row.high_risk_post) p.high_risk_posts = {HighRiskPost::kWorkAtHeight};
  t.Profile(p);
  EXPECT_EQ(t.BpNow(row.systolic, row.diastolic, row.context).pre_shift_fit, row.fit);
}

INSTANTIATE_TEST_SUITE_P(
    Verdicts, PreShiftFitTest,
    ::testing::Values(FitRow{"grade1_159_99_fit", true, ReadingContext::kPreShift, 159, 99, true},
                      FitRow{"grade2_160_90_unfit", true, ReadingContext::kPreShift, 160, 90, false},
                      FitRow{"grade2_130_100_unfit", true, ReadingContext::kPreShift, 130, 100, false},
                      FitRow{"hypotension_89_65_unfit", true, ReadingContext::kPreShift, 89, 65, false},
                      FitRow{"normal_118_76_fit", true, ReadingContext::kPreShift, 118, 76, true},
                      FitRow{"self_test_unset", true, ReadingContext::kSelfTest, 170, 100, std::nullopt},
                      FitRow{"no_high_risk_post_unset", false, ReadingContext::kPreShift, 170, 100, std::nullopt}),
    test_support::RowName());

TEST(PreShiftFitTest, UnsetForGlucose) {
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.high_risk_posts = {HighRiskPost::kDriver};
  t.Profile(p);
  Reading r = test_support::GlucoseReading(Ev(At(0)), 5.0);
  r.context = ReadingContext::kPreShift;
  EXPECT_FALSE(t.book.OnReading(r, t.state, At(0)).pre_shift_fit.has_value());
}

// ---------------------------------------------------------------------------------------------------
// Determinism of the new rules

std::vector<Escalation> GlucoseFocusHistory() {
  Timeline t;
  t.Profile(Focus(130, 85));
  t.GlucoseNow(2.8);
  t.BpNow(135, 80);
  t.RunUntil(At(kHourMs));
  t.Glucose(At(kHourMs), 12.5, GlucoseTiming::kRandom);
  t.RunUntil(At(2 * kHourMs));
  t.Glucose(At(2 * kHourMs), 11.8, GlucoseTiming::kPostprandial2h);
  t.RunUntil(At(3 * kDayMs));
  t.Bp(At(3 * kDayMs), 120, 75);
  return t.events;
}

TEST(GlucoseFocusDeterminismTest, SameHistoryGivesIdenticalEvents) {
  const std::vector<Escalation> a = GlucoseFocusHistory();
  const std::vector<Escalation> b = GlucoseFocusHistory();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(SameEscalation(a[i], b[i])) << "event " << i;
}

}  // namespace
}  // namespace alertd::domain
