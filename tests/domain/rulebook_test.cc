// Rulebook: accepted/rejected readings, the BP window, R1 critical BP and R2 sustained hypertension.
#include "engine/domain/rulebook.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/blood_pressure.h"
#include "engine/domain/event_id.h"
#include "engine/domain/policy.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {
namespace {

using test_support::BodyReading;
using test_support::BpReading;
using test_support::GlucoseReading;
using test_support::IsEscalation;
using test_support::kNow;
using test_support::kWorker;
using test_support::MakeProfile;
using test_support::OfRule;
using test_support::Plus;
using test_support::SameEscalation;
using test_support::Utc;

// One worker's history driven through a Rulebook at the fixed processing time kNow.
struct Scenario {
  explicit Scenario(Policy p = Policy{}, WorkerId w = kWorker) : book(std::move(p)), worker(std::move(w)) {}

  ReadingOutcome Feed(const Reading& r) {
    ReadingOutcome out = book.OnReading(r, state, kNow);
    events.insert(events.end(), out.escalations.begin(), out.escalations.end());
    return out;
  }
  ReadingOutcome Bp(EventTime at, int sys, int dia, int pulse = 72) {
    return Feed(BpReading(at, sys, dia, pulse, worker));
  }
  void Profile(const WorkerProfile& p) {
    const std::vector<Escalation> out = book.OnWorkerProfile(p.worker, p, state, kNow).escalations;
    EXPECT_TRUE(out.empty()) << "a profile update emitted " << out.size() << " events";
  }
  const OpenEpisode* Open(Rule rule) const {
    for (const OpenEpisode& e : state.open) {
      if (e.rule == rule) return &e;
    }
    return nullptr;
  }

  Rulebook book;
  WorkerId worker;
  WorkerState state;
  std::vector<Escalation> events;  // every escalation so far, in emission order
};

WorkerProfile ProfileWithExtras() {
  WorkerProfile p = MakeProfile();
  p.policy.extra_recipients = {Person{"ex-1", "Dr Wang"}, Person{"ex-2", "Zhao Min"}};
  return p;
}

std::vector<Recipient> ExpectedRecipients() {
  return {Recipient{"hm-31", "Li Na", RecipientRole::kHealthManager}, Recipient{"ex-1", "Dr Wang", RecipientRole::kExtra},
          Recipient{"ex-2", "Zhao Min", RecipientRole::kExtra}};
}

std::vector<EventTime> Times(const std::vector<BpSample>& samples) {
  std::vector<EventTime> out;
  for (const BpSample& s : samples) out.push_back(s.measured_at);
  return out;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------------
// Accepted readings: counting and classification

struct AcceptRow {
  const char* name;
  Reading reading;
  uint64_t bp_readings;
  std::optional<BpCategory> bp_category;
  friend void PrintTo(const AcceptRow& r, std::ostream* os) { *os << r.name; }
};

class AcceptedReadingTest : public ::testing::TestWithParam<AcceptRow> {};

TEST_P(AcceptedReadingTest, IsCountedAndClassified) {
  const AcceptRow& row = GetParam();
  Scenario s;
  const ReadingOutcome out = s.Feed(row.reading);
  EXPECT_FALSE(out.rejected.has_value()) << out.rejected->message;
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_EQ(s.state.readings_accepted, 1u);
  EXPECT_EQ(s.state.bp_readings, row.bp_readings);
  ASSERT_EQ(out.bp.has_value(), row.bp_category.has_value());
  if (row.bp_category) {
    EXPECT_EQ(out.bp->category, *row.bp_category);
    EXPECT_EQ(s.state.newest_bp_at, row.reading.measured_at);
    EXPECT_EQ(s.state.bp_window.size(), 1u);
  } else {
    EXPECT_FALSE(s.state.newest_bp_at.has_value());
    EXPECT_TRUE(s.state.bp_window.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, AcceptedReadingTest,
    ::testing::Values(AcceptRow{"bp_grade2", BpReading(Utc(0, 2), 150, 105), 1, BpCategory::kGrade2},
                      AcceptRow{"bp_normal", BpReading(Utc(0, 2), 118, 76), 1, BpCategory::kNormal},
                      AcceptRow{"normal_glucose_triggers_nothing", GlucoseReading(Utc(0, 2), 5.2), 0, std::nullopt},
                      AcceptRow{"body_triggers_nothing", BodyReading(Utc(0, 2), 92.0, 171.0), 0, std::nullopt}),
    test_support::RowName());

TEST(RulebookReadingTest, OutcomeCarriesTheFullClassification) {
  Scenario s;
  const ReadingOutcome out = s.Bp(Utc(0, 2), 165, 85);
  ASSERT_TRUE(out.bp.has_value());
  EXPECT_EQ(*out.bp, ClassifyBp(165, 85, BpThresholds{}));
  EXPECT_TRUE(out.bp->isolated_systolic);
}

TEST(RulebookReadingTest, WindowSampleCopiesTheReading) {
  Scenario s;
  Reading r = BpReading(Utc(0, 2), 150, 95, 88);
  r.context = ReadingContext::kCheckup;
  s.Feed(r);
  ASSERT_EQ(s.state.bp_window.size(), 1u);
  const BpSample expected{Utc(0, 2), 150, 95, 88, BpCategory::kGrade1, r.station_id, r.device_id,
                          ReadingContext::kCheckup};
  EXPECT_EQ(s.state.bp_window[0], expected);
}

TEST(RulebookReadingTest, MixedKindsAreAllCounted) {
  Scenario s;
  s.Feed(GlucoseReading(Utc(0, 1), 5.2));
  s.Bp(Utc(0, 2), 128, 82);
  s.Feed(BodyReading(Utc(0, 3), 70.0, 0));
  s.Bp(Utc(0, 4), 131, 84);
  EXPECT_EQ(s.state.readings_accepted, 4u);
  EXPECT_EQ(s.state.bp_readings, 2u);
  EXPECT_EQ(s.state.newest_bp_at, Utc(0, 4));
}

// ---------------------------------------------------------------------------------------------------
// Rejected readings leave the state untouched

struct RejectRow {
  const char* name;
  Reading reading;
  RejectReason reason;
  friend void PrintTo(const RejectRow& r, std::ostream* os) { *os << r.name; }
};

class RejectedReadingTest : public ::testing::TestWithParam<RejectRow> {};

TEST_P(RejectedReadingTest, LeavesStateUnchangedAndEmitsNothing) {
  const RejectRow& row = GetParam();
  Scenario s;
  s.Profile(MakeProfile());
  s.Bp(Utc(0, 2), 185, 95);  // opens R1
  s.Bp(Utc(1, 2), 165, 95);
  const WorkerState before = s.state;

  const ReadingOutcome out = s.Feed(row.reading);
  ASSERT_TRUE(out.rejected.has_value());
  EXPECT_EQ(out.rejected->reason, row.reason) << out.rejected->message;
  EXPECT_FALSE(out.bp.has_value());
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(s.state == before);
}

Reading WithoutWorker(Reading r) {
  r.worker = WorkerId{""};
  return r;
}
Reading WithoutMeasurement(Reading r) {
  r.measurement = std::monostate{};
  return r;
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, RejectedReadingTest,
    ::testing::Values(
        RejectRow{"missing_worker", WithoutWorker(BpReading(Utc(2, 2), 120, 80)), RejectReason::kMissingWorkerId},
        RejectRow{"no_measurement", WithoutMeasurement(BpReading(Utc(2, 2), 120, 80)), RejectReason::kNoMeasurement},
        RejectRow{"impossible_systolic", BpReading(Utc(2, 2), 400, 80), RejectReason::kImpossibleValue},
        RejectRow{"impossible_critical_looking", BpReading(Utc(2, 2), 301, 120), RejectReason::kImpossibleValue},
        RejectRow{"impossible_glucose", GlucoseReading(Utc(2, 2), 60.0), RejectReason::kImpossibleValue},
        RejectRow{"future_normal_that_would_resolve",
                  BpReading(EventTime{kNow.ms + 10 * kMinuteMs + 1}, 120, 80), RejectReason::kFutureTimestamp},
        RejectRow{"too_old", BpReading(EventTime{kNow.ms - 30 * kDayMs - 1}, 165, 100), RejectReason::kTooOld}),
    test_support::RowName());

// ---------------------------------------------------------------------------------------------------
// The BP window: event-time order, pruning at 7 days, bounded size

struct WindowRow {
  const char* name;
  std::size_t max_window_samples;
  std::vector<EventTime> fed;  // processing order
  std::vector<EventTime> window;
  EventTime newest;
  friend void PrintTo(const WindowRow& r, std::ostream* os) { *os << r.name; }
};

class BpWindowTest : public ::testing::TestWithParam<WindowRow> {};

TEST_P(BpWindowTest, KeepsSamplesInEventTimeOrder) {
  const WindowRow& row = GetParam();
  Policy p;
  p.max_window_samples = row.max_window_samples;
  Scenario s(p);
  for (EventTime t : row.fed) s.Bp(t, 150, 85);
  EXPECT_EQ(Times(s.state.bp_window), row.window);
  EXPECT_EQ(s.state.newest_bp_at, row.newest);
  EXPECT_EQ(s.state.bp_readings, row.fed.size());
  EXPECT_EQ(s.state.readings_accepted, row.fed.size());
}

INSTANTIATE_TEST_SUITE_P(
    Maintenance, BpWindowTest,
    ::testing::Values(
        WindowRow{"in_order", 256, {Utc(0, 2), Utc(1, 2), Utc(2, 2)}, {Utc(0, 2), Utc(1, 2), Utc(2, 2)}, Utc(2, 2)},
        WindowRow{"out_of_order_sorted", 256, {Utc(2, 2), Utc(0, 2), Utc(1, 2)}, {Utc(0, 2), Utc(1, 2), Utc(2, 2)},
                  Utc(2, 2)},
        WindowRow{"exactly_7_days_older_pruned", 256, {Utc(0, 2), Utc(7, 2)}, {Utc(7, 2)}, Utc(7, 2)},
        WindowRow{"every_sample_at_the_7_day_edge_pruned_the_next_ms_kept", 256,
                  {Utc(0, 2), Utc(0, 2), Plus(Utc(0, 2), 1), Utc(0, 2), Utc(7, 2)},
                  {Plus(Utc(0, 2), 1), Utc(7, 2)}, Utc(7, 2)},
        WindowRow{"7_days_minus_1ms_kept", 256, {Utc(0, 2), Plus(Utc(7, 2), -1)}, {Utc(0, 2), Plus(Utc(7, 2), -1)},
                  Plus(Utc(7, 2), -1)},
        WindowRow{"late_reading_older_than_window_not_kept", 256, {Utc(9, 2), Utc(1, 2)}, {Utc(9, 2)}, Utc(9, 2)},
        WindowRow{"late_reading_inside_window_kept", 256, {Utc(9, 2), Utc(3, 2)}, {Utc(3, 2), Utc(9, 2)}, Utc(9, 2)},
        WindowRow{"capped_drops_oldest",
                  3,
                  {Utc(0, 1), Utc(0, 2), Utc(0, 3), Utc(0, 4), Utc(0, 5)},
                  {Utc(0, 3), Utc(0, 4), Utc(0, 5)},
                  Utc(0, 5)},
        WindowRow{"capped_late_oldest_dropped",
                  3,
                  {Utc(0, 2), Utc(0, 3), Utc(0, 4), Utc(0, 1)},
                  {Utc(0, 2), Utc(0, 3), Utc(0, 4)},
                  Utc(0, 4)}),
    test_support::RowName());

// ---------------------------------------------------------------------------------------------------
// R1 critical blood pressure

struct R1ThresholdRow {
  const char* name;
  std::optional<int> critical_systolic;  // per-worker override, unset = global 180
  std::optional<int> critical_diastolic;  // per-worker override, unset = global 110
  int systolic;
  int diastolic;
  bool opens;
  friend void PrintTo(const R1ThresholdRow& r, std::ostream* os) { *os << r.name; }
};

class R1ThresholdTest : public ::testing::TestWithParam<R1ThresholdRow> {};

TEST_P(R1ThresholdTest, OpensAtTheCriticalThreshold) {
  const R1ThresholdRow& row = GetParam();
  Scenario s;
  WorkerProfile p = MakeProfile();
  p.policy.critical_systolic_mmhg = row.critical_systolic;
  p.policy.critical_diastolic_mmhg = row.critical_diastolic;
  p.policy.focus_tracking = row.critical_systolic.has_value() || row.critical_diastolic.has_value();
  s.Profile(p);
  const ReadingOutcome out = s.Bp(Utc(0, 2), row.systolic, row.diastolic);
  EXPECT_EQ(OfRule(out.escalations, Rule::kR1CriticalBp).size(), row.opens ? 1u : 0u);
  EXPECT_EQ(s.Open(Rule::kR1CriticalBp) != nullptr, row.opens);
}

INSTANTIATE_TEST_SUITE_P(
    Thresholds, R1ThresholdTest,
    ::testing::Values(R1ThresholdRow{"default_180_70_opens", {}, {}, 180, 70, true},
                      R1ThresholdRow{"default_179_70_does_not", {}, {}, 179, 70, false},
                      R1ThresholdRow{"default_150_110_opens", {}, {}, 150, 110, true},
                      R1ThresholdRow{"default_150_109_does_not", {}, {}, 150, 109, false},
                      R1ThresholdRow{"default_179_109_does_not", {}, {}, 179, 109, false},
                      R1ThresholdRow{"default_184_112_opens", {}, {}, 184, 112, true},
                      R1ThresholdRow{"focus_170_80_opens", 170, 105, 170, 80, true},
                      R1ThresholdRow{"focus_169_80_does_not", 170, 105, 169, 80, false},
                      R1ThresholdRow{"focus_150_105_opens", 170, 105, 150, 105, true},
                      R1ThresholdRow{"focus_150_104_does_not", 170, 105, 150, 104, false},
                      R1ThresholdRow{"systolic_override_only_keeps_default_diastolic_109", 170, {}, 150, 109, false},
                      R1ThresholdRow{"systolic_override_only_keeps_default_diastolic_110", 170, {}, 150, 110, true}),
    test_support::RowName());

TEST(R1CriticalBpTest, OpenEventCarriesProfileEvidenceAndIds) {
  Scenario s;
  s.Profile(ProfileWithExtras());
  Reading r = BpReading(Utc(0, 2), 184, 112, 96);
  r.context = ReadingContext::kCheckup;
  const ReadingOutcome out = s.Feed(r);

  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  const std::string episode = EpisodeId(kWorker, Rule::kR1CriticalBp, 1);
  const BpSample sample{Utc(0, 2), 184, 112, 96, BpCategory::kGrade3, r.station_id, r.device_id,
                        ReadingContext::kCheckup};
  EXPECT_THAT(e, IsEscalation({.rule = Rule::kR1CriticalBp, .state = EscalationState::kOpen,
                               .severity = Severity::kUrgent, .level = EscalationLevel::kHealthManager}));
  EXPECT_EQ(e.sequence, 1u);
  EXPECT_EQ(e.episode_id, episode);
  EXPECT_EQ(e.event_id, EventId(episode, 1));
  EXPECT_EQ(e.worker, kWorker);
  EXPECT_EQ(e.worker_name, "Zhang Wei");
  EXPECT_EQ(e.unit_id, "unit-07");
  EXPECT_EQ(e.grid_id, "grid-03");
  EXPECT_EQ(e.unit_name, "Rolling mill");
  EXPECT_EQ(e.grid_name, "East district");
  EXPECT_EQ(e.evidence, std::vector<BpSample>{sample});
  EXPECT_EQ(e.opened_at, Utc(0, 2));
  EXPECT_EQ(e.trigger_at, Utc(0, 2));
  EXPECT_EQ(e.emitted_at, kNow);
  EXPECT_EQ(e.recipients, ExpectedRecipients());
  EXPECT_TRUE(Contains(e.reason, "184/112")) << e.reason;

  EXPECT_EQ(s.state.episodes_opened, 1u);
  ASSERT_EQ(s.state.open.size(), 1u);
  const OpenEpisode& ep = s.state.open[0];
  EXPECT_EQ(ep.rule, Rule::kR1CriticalBp);
  EXPECT_EQ(ep.episode_id, episode);
  EXPECT_EQ(ep.last_sequence, 1u);
  EXPECT_THAT(ep, IsEscalation({.severity = Severity::kUrgent, .level = EscalationLevel::kHealthManager}));
  EXPECT_EQ(ep.opened_at, Utc(0, 2));
  EXPECT_EQ(ep.last_trigger_at, Utc(0, 2));
  EXPECT_EQ(ep.trigger_count, 1u);
  EXPECT_EQ(ep.evidence, std::vector<BpSample>{sample});
}

TEST(R1CriticalBpTest, WithoutProfileHasNoRecipients) {
  Scenario s;
  const ReadingOutcome out = s.Bp(Utc(0, 2), 190, 100);
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_TRUE(e.recipients.empty());
  EXPECT_EQ(e.worker, kWorker);
  EXPECT_EQ(e.episode_id, EpisodeId(kWorker, Rule::kR1CriticalBp, 1));
  EXPECT_TRUE(Contains(e.reason, "190/100")) << e.reason;
}

TEST(R1CriticalBpTest, RepeatedTriggerUpdatesTheOpenEpisodeSilently) {
  Scenario s;
  s.Bp(Utc(0, 2), 185, 95);
  const ReadingOutcome out = s.Bp(Utc(0, 3), 190, 100);
  EXPECT_TRUE(OfRule(out.escalations, Rule::kR1CriticalBp).empty());
  const OpenEpisode* ep = s.Open(Rule::kR1CriticalBp);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->trigger_count, 2u);
  EXPECT_EQ(ep->last_sequence, 1u);
  EXPECT_EQ(ep->opened_at, Utc(0, 2));
  EXPECT_EQ(ep->last_trigger_at, Utc(0, 3));
  EXPECT_EQ(Times(ep->evidence), (std::vector<EventTime>{Utc(0, 2), Utc(0, 3)}));
  EXPECT_EQ(s.state.episodes_opened, 1u);
  EXPECT_EQ(s.state.open.size(), 1u);
}

TEST(R1CriticalBpTest, EvidenceIsBoundedNewestLast) {
  Scenario s;
  std::vector<EventTime> fed;
  for (int i = 0; i < 7; ++i) {
    fed.push_back(Utc(0, 1, 5 * i));  // all on one local day: no R2
    s.Bp(fed.back(), 181 + i, 95);
  }
  EXPECT_EQ(s.events.size(), 1u);
  const OpenEpisode* ep = s.Open(Rule::kR1CriticalBp);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->trigger_count, 7u);
  EXPECT_EQ(Times(ep->evidence), std::vector<EventTime>(fed.begin() + 2, fed.end()));
  ASSERT_EQ(ep->evidence.size(), 5u);
  EXPECT_EQ(ep->evidence.back().systolic_mmhg, 187);
}

TEST(R1CriticalBpTest, LateTriggerKeepsTheNewestTriggerTime) {
  Scenario s;
  s.Bp(Utc(0, 3), 185, 95);
  const ReadingOutcome out = s.Bp(Utc(0, 2), 188, 95);
  EXPECT_TRUE(out.escalations.empty());
  const OpenEpisode* ep = s.Open(Rule::kR1CriticalBp);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->trigger_count, 2u);
  EXPECT_EQ(ep->last_trigger_at, Utc(0, 3));
}

struct R1ResolveRow {
  const char* name;
  int64_t offset_ms;  // measured_at of the second reading relative to the critical one
  int systolic;
  int diastolic;
  bool resolves;
  friend void PrintTo(const R1ResolveRow& r, std::ostream* os) { *os << r.name; }
};

class R1ResolveTest : public ::testing::TestWithParam<R1ResolveRow> {};

TEST_P(R1ResolveTest, ResolvesOnlyOnANonCriticalReadingMeasuredAfterTheLastTrigger) {
  const R1ResolveRow& row = GetParam();
  Scenario s;
  s.Bp(Utc(0, 3), 185, 95);
  ASSERT_EQ(s.events.size(), 1u);
  const std::string episode = s.events[0].episode_id;

  const ReadingOutcome out = s.Bp(Plus(Utc(0, 3), row.offset_ms), row.systolic, row.diastolic);
  const auto r1 = OfRule(out.escalations, Rule::kR1CriticalBp);
  if (!row.resolves) {
    EXPECT_TRUE(r1.empty());
    EXPECT_NE(s.Open(Rule::kR1CriticalBp), nullptr);
    return;
  }
  ASSERT_EQ(r1.size(), 1u);
  const Escalation& e = *r1[0];
  EXPECT_EQ(e.state, EscalationState::kResolved);
  EXPECT_EQ(e.sequence, 2u);
  EXPECT_EQ(e.episode_id, episode);
  EXPECT_EQ(e.event_id, EventId(episode, 2));
  EXPECT_EQ(e.worker, kWorker);
  EXPECT_EQ(e.emitted_at, kNow);
  EXPECT_FALSE(e.reason.empty());
  EXPECT_EQ(s.Open(Rule::kR1CriticalBp), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Resolution, R1ResolveTest,
    ::testing::Values(R1ResolveRow{"normal_an_hour_later", kHourMs, 120, 80, true},
                      R1ResolveRow{"grade2_an_hour_later", kHourMs, 175, 105, true},
                      R1ResolveRow{"just_below_threshold_1ms_later", 1, 179, 109, true},
                      R1ResolveRow{"normal_at_the_same_instant", 0, 120, 80, false},
                      R1ResolveRow{"normal_measured_earlier_arriving_late", -kHourMs, 120, 80, false},
                      R1ResolveRow{"critical_an_hour_later", kHourMs, 180, 70, false}),
    test_support::RowName());

TEST(R1CriticalBpTest, NormalReadingBetweenTriggersDoesNotResolve) {
  Scenario s;
  s.Bp(Utc(0, 2), 185, 95);
  s.Bp(Utc(0, 4), 186, 95);
  const ReadingOutcome out = s.Bp(Utc(0, 3), 120, 80);
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_NE(s.Open(Rule::kR1CriticalBp), nullptr);
}

TEST(R1CriticalBpTest, PerWorkerThresholdAlsoGovernsResolution) {
  Scenario s;
  WorkerProfile p = MakeProfile();
  p.policy.critical_systolic_mmhg = 170;
  p.policy.critical_diastolic_mmhg = 105;
  p.policy.focus_tracking = true;
  s.Profile(p);
  s.Bp(Utc(0, 2), 172, 90);
  ASSERT_NE(s.Open(Rule::kR1CriticalBp), nullptr);
  EXPECT_TRUE(OfRule(s.Bp(Utc(0, 3), 171, 90).escalations, Rule::kR1CriticalBp).empty());
  EXPECT_EQ(OfRule(s.Bp(Utc(0, 4), 165, 90).escalations, Rule::kR1CriticalBp).size(), 1u);
  EXPECT_EQ(s.Open(Rule::kR1CriticalBp), nullptr);
}

TEST(R1CriticalBpTest, SecondEpisodeAfterResolveGetsANewId) {
  Scenario s;
  s.Bp(Utc(0, 2), 185, 95);
  s.Bp(Utc(0, 3), 120, 80);
  const ReadingOutcome out = s.Bp(Utc(0, 4), 186, 96);
  ASSERT_EQ(s.events.size(), 3u);
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_EQ(e.state, EscalationState::kOpen);
  EXPECT_EQ(e.sequence, 1u);
  EXPECT_NE(e.episode_id, s.events[0].episode_id);
  EXPECT_EQ(e.episode_id, EpisodeId(kWorker, Rule::kR1CriticalBp, 2));
  EXPECT_EQ(e.event_id, EventId(e.episode_id, 1));
  EXPECT_EQ(s.state.episodes_opened, 2u);
}

// ---------------------------------------------------------------------------------------------------
// R2 sustained hypertension

struct BpAt {
  EventTime at;
  int systolic;
  int diastolic;
};

struct R2Row {
  const char* name;
  std::vector<BpAt> fed;  // processing order
  bool opens;
  friend void PrintTo(const R2Row& r, std::ostream* os) { *os << r.name; }
};

class R2ConditionTest : public ::testing::TestWithParam<R2Row> {};

TEST_P(R2ConditionTest, OpensOnlyWithGrade2MeanEnoughReadingsAndDays) {
  const R2Row& row = GetParam();
  Scenario s;
  for (const BpAt& b : row.fed) s.Bp(b.at, b.systolic, b.diastolic);
  const auto r2 = OfRule(s.events, Rule::kR2SustainedHypertension);
  ASSERT_EQ(r2.size(), row.opens ? 1u : 0u);
  if (row.opens) {
    EXPECT_EQ(r2[0]->state, EscalationState::kOpen);
  }
  EXPECT_EQ(s.Open(Rule::kR2SustainedHypertension) != nullptr, row.opens);
  EXPECT_TRUE(OfRule(s.events, Rule::kR1CriticalBp).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Conditions, R2ConditionTest,
    ::testing::Values(
        R2Row{"three_readings_one_day", {{Utc(0, 1), 165, 95}, {Utc(0, 2), 165, 95}, {Utc(0, 3), 165, 95}}, false},
        R2Row{"two_readings_two_days", {{Utc(0, 2), 165, 95}, {Utc(1, 2), 165, 95}}, false},
        R2Row{"three_readings_two_days", {{Utc(0, 1), 165, 95}, {Utc(0, 2), 165, 95}, {Utc(1, 2), 165, 95}}, true},
        R2Row{"mean_grade1", {{Utc(0, 2), 150, 95}, {Utc(1, 2), 150, 95}, {Utc(2, 2), 150, 95}}, false},
        R2Row{"mean_systolic_exactly_160", {{Utc(0, 2), 150, 80}, {Utc(1, 2), 170, 80}, {Utc(2, 2), 160, 80}}, true},
        R2Row{"mean_systolic_159_67", {{Utc(0, 2), 150, 80}, {Utc(1, 2), 170, 80}, {Utc(2, 2), 159, 80}}, false},
        R2Row{"mean_diastolic_exactly_100", {{Utc(0, 2), 130, 95}, {Utc(1, 2), 130, 105}, {Utc(2, 2), 130, 100}},
              true},
        R2Row{"mean_diastolic_99_67", {{Utc(0, 2), 130, 95}, {Utc(1, 2), 130, 105}, {Utc(2, 2), 130, 99}}, false},
        R2Row{"oldest_exactly_7_days_before_newest_falls_out",
              {{Utc(0, 2), 165, 95}, {Utc(1, 2), 165, 95}, {Utc(7, 2), 165, 95}},
              false},
        R2Row{"oldest_7_days_minus_1ms_before_newest_stays_in",
              {{Utc(0, 2), 165, 95}, {Utc(1, 2), 165, 95}, {Plus(Utc(7, 2), -1), 165, 95}},
              true},
        R2Row{"local_day_ends_at_15_59_59_999_utc",
              {{Utc(0, 15), 165, 95}, {Utc(0, 15, 30), 165, 95}, {Utc(0, 15, 59, 59, 999), 165, 95}},
              false},
        R2Row{"local_day_starts_at_16_00_utc",
              {{Utc(0, 15), 165, 95}, {Utc(0, 15, 30), 165, 95}, {Utc(0, 16), 165, 95}},
              true},
        R2Row{"16_00_utc_to_next_15_59_59_999_utc_is_one_local_day",
              {{Utc(0, 16), 165, 95}, {Utc(0, 20), 165, 95}, {Utc(1, 15, 59, 59, 999), 165, 95}},
              false},
        R2Row{"utc_midnight_is_not_a_local_day_boundary",
              {{Utc(0, 23), 165, 95}, {Utc(1, 0, 30), 165, 95}, {Utc(1, 1), 165, 95}},
              false},
        R2Row{"late_reading_older_than_window_does_not_count",
              {{Utc(8, 2), 165, 95}, {Utc(9, 2), 165, 95}, {Utc(1, 2), 165, 95}},
              false},
        R2Row{"late_reading_inside_window_counts", {{Utc(8, 2), 165, 95}, {Utc(9, 2), 165, 95}, {Utc(3, 2), 165, 95}},
              true}),
    test_support::RowName());

TEST(R2SustainedHypertensionTest, OpenEventCarriesWindowEvidenceAndIds) {
  Scenario s;
  s.Profile(ProfileWithExtras());
  s.Bp(Utc(0, 2), 160, 95);
  s.Bp(Utc(0, 5), 165, 100);
  const ReadingOutcome out = s.Bp(Utc(1, 2), 170, 105);

  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  const std::string episode = EpisodeId(kWorker, Rule::kR2SustainedHypertension, 1);
  EXPECT_THAT(e, IsEscalation({.rule = Rule::kR2SustainedHypertension, .state = EscalationState::kOpen,
                               .severity = Severity::kHigh, .level = EscalationLevel::kHealthManager}));
  EXPECT_EQ(e.sequence, 1u);
  EXPECT_EQ(e.episode_id, episode);
  EXPECT_EQ(e.event_id, EventId(episode, 1));
  EXPECT_EQ(e.worker, kWorker);
  EXPECT_EQ(e.worker_name, "Zhang Wei");
  EXPECT_EQ(e.unit_id, "unit-07");
  EXPECT_EQ(e.grid_id, "grid-03");
  EXPECT_EQ(e.recipients, ExpectedRecipients());
  EXPECT_EQ(e.emitted_at, kNow);
  EXPECT_TRUE(Contains(e.reason, "165")) << e.reason;
  EXPECT_EQ(Times(e.evidence), (std::vector<EventTime>{Utc(0, 2), Utc(0, 5), Utc(1, 2)}));

  ASSERT_TRUE(e.window.has_value());
  EXPECT_EQ(e.window->start, Plus(Utc(1, 2), -7 * kDayMs));
  EXPECT_EQ(e.window->end, Utc(1, 2));
  EXPECT_EQ(e.window->readings, 3);
  EXPECT_EQ(e.window->days, 2);
  EXPECT_DOUBLE_EQ(e.window->mean_systolic_mmhg, 165.0);
  EXPECT_DOUBLE_EQ(e.window->mean_diastolic_mmhg, 100.0);
  EXPECT_EQ(e.window->mean_category, BpCategory::kGrade2);

  EXPECT_EQ(s.state.episodes_opened, 1u);
  const OpenEpisode* ep = s.Open(Rule::kR2SustainedHypertension);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->episode_id, episode);
  EXPECT_EQ(ep->severity, Severity::kHigh);
  EXPECT_EQ(ep->last_sequence, 1u);
}

TEST(R2SustainedHypertensionTest, EvidenceIsTheNewestFiveOfTheWindow) {
  Scenario s;
  for (int h = 1; h <= 6; ++h) s.Bp(Utc(0, h), 165, 100);  // one local day: no R2 yet
  ASSERT_TRUE(s.events.empty());
  const ReadingOutcome out = s.Bp(Utc(1, 2), 165, 100);
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_EQ(Times(e.evidence), (std::vector<EventTime>{Utc(0, 3), Utc(0, 4), Utc(0, 5), Utc(0, 6), Utc(1, 2)}));
  ASSERT_TRUE(e.window.has_value());
  EXPECT_EQ(e.window->readings, 7);
}

TEST(R2SustainedHypertensionTest, PersistingConditionEmitsNothing) {
  Scenario s;
  s.Bp(Utc(0, 2), 165, 100);
  s.Bp(Utc(1, 2), 165, 100);
  s.Bp(Utc(2, 2), 165, 100);
  ASSERT_EQ(s.events.size(), 1u);
  const ReadingOutcome out = s.Bp(Utc(3, 2), 170, 104);
  EXPECT_TRUE(out.escalations.empty());
  const OpenEpisode* ep = s.Open(Rule::kR2SustainedHypertension);
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->last_sequence, 1u);
}

// An open R2 episode resolves once both 7-day means are the resolve margin (2 mmHg) below grade 2:
// a mean hovering at the bound keeps the one episode open instead of opening and resolving it (with a
// referral each time) on alternate readings. Three readings open it with a mean exactly at the bound;
// the fourth decides.
struct R2ResolveRow {
  const char* name;
  int open_sys, open_dia;      // the three opening readings
  int fourth_sys, fourth_dia;  // the deciding reading
  int margin;
  bool resolves;
};

class R2ResolveTest : public ::testing::TestWithParam<R2ResolveRow> {};

TEST_P(R2ResolveTest, ResolvesOnlyBelowTheBoundByTheMargin) {
  const R2ResolveRow& row = GetParam();
  Policy policy;
  policy.r2_resolve_margin_mmhg = row.margin;
  Scenario s(policy);
  s.Bp(Utc(0, 2), row.open_sys, row.open_dia);
  s.Bp(Utc(1, 2), row.open_sys, row.open_dia);
  s.Bp(Utc(2, 2), row.open_sys, row.open_dia);  // mean exactly at the grade-2 bound: opens
  ASSERT_EQ(s.events.size(), 1u);
  const std::string episode = s.events[0].episode_id;

  const ReadingOutcome out = s.Bp(Utc(3, 2), row.fourth_sys, row.fourth_dia);
  if (!row.resolves) {
    EXPECT_TRUE(out.escalations.empty());
    EXPECT_NE(s.Open(Rule::kR2SustainedHypertension), nullptr);
    return;
  }
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_THAT(e, IsEscalation({.rule = Rule::kR2SustainedHypertension, .state = EscalationState::kResolved}));
  EXPECT_EQ(e.sequence, 2u);
  EXPECT_EQ(e.episode_id, episode);
  EXPECT_EQ(e.event_id, EventId(episode, 2));
  EXPECT_EQ(s.Open(Rule::kR2SustainedHypertension), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, R2ResolveTest,
    ::testing::Values(
        // Systolic: (480 + x) / 4 against 160 - 2 = 158.
        R2ResolveRow{"sys_mean_159_75_within_margin", 160, 80, 159, 80, 2, false},
        R2ResolveRow{"sys_mean_158_00_at_margin", 160, 80, 152, 80, 2, false},
        R2ResolveRow{"sys_mean_157_75_below_margin", 160, 80, 151, 80, 2, true},
        // Diastolic: (300 + d) / 4 against 100 - 2 = 98.
        R2ResolveRow{"dia_mean_98_00_at_margin", 120, 100, 120, 92, 2, false},
        R2ResolveRow{"dia_mean_97_75_below_margin", 120, 100, 120, 91, 2, true},
        // Margin 0 is the bound itself: any mean below grade 2 resolves.
        R2ResolveRow{"margin_0_sys_mean_159_75", 160, 80, 159, 80, 0, true},
        R2ResolveRow{"margin_0_sys_mean_160_00", 160, 80, 160, 80, 0, false}),
    [](const auto& row) { return std::string(row.param.name); });

TEST(R2SustainedHypertensionTest, ResolvesWhenTheWindowSlidesPastTheHighReadings) {
  Scenario s;
  s.Bp(Utc(0, 2), 165, 100);
  s.Bp(Utc(1, 2), 165, 100);
  s.Bp(Utc(2, 2), 165, 100);
  ASSERT_NE(s.Open(Rule::kR2SustainedHypertension), nullptr);
  const ReadingOutcome out = s.Bp(Utc(9, 3), 118, 76);  // window (Utc(2,3), Utc(9,3)] holds only this
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_EQ(s.Open(Rule::kR2SustainedHypertension), nullptr);
}

TEST(R2SustainedHypertensionTest, OutOfOrderArrivalMatchesInOrder) {
  Scenario in_order;
  in_order.Bp(Utc(0, 2), 160, 100);
  in_order.Bp(Utc(1, 2), 170, 100);
  in_order.Bp(Utc(2, 2), 165, 104);
  Scenario late;
  late.Bp(Utc(0, 2), 160, 100);
  late.Bp(Utc(2, 2), 165, 104);
  late.Bp(Utc(1, 2), 170, 100);  // arrives last, measured in the middle

  const auto a = OfRule(in_order.events, Rule::kR2SustainedHypertension);
  const auto b = OfRule(late.events, Rule::kR2SustainedHypertension);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0]->window, b[0]->window);
  EXPECT_EQ(a[0]->episode_id, b[0]->episode_id);
  EXPECT_EQ(a[0]->evidence, b[0]->evidence);
  EXPECT_EQ(in_order.state.bp_window, late.state.bp_window);
  EXPECT_EQ(in_order.state.newest_bp_at, late.state.newest_bp_at);
}

TEST(R1AndR2Test, OneReadingTriggeringBothEmitsR1First) {
  Scenario s;
  s.Bp(Utc(0, 2), 165, 95);
  s.Bp(Utc(1, 2), 165, 95);
  const ReadingOutcome out = s.Bp(Utc(1, 4), 185, 95);  // critical, and the mean is now grade 2
  ASSERT_EQ(out.escalations.size(), 2u);
  EXPECT_EQ(out.escalations[0].rule, Rule::kR1CriticalBp);
  EXPECT_EQ(out.escalations[1].rule, Rule::kR2SustainedHypertension);
  EXPECT_EQ(out.escalations[0].episode_id, EpisodeId(kWorker, Rule::kR1CriticalBp, 1));
  EXPECT_EQ(out.escalations[1].episode_id, EpisodeId(kWorker, Rule::kR2SustainedHypertension, 2));
  EXPECT_EQ(s.state.episodes_opened, 2u);
  EXPECT_EQ(s.state.open.size(), 2u);
}

// ---------------------------------------------------------------------------------------------------
// Determinism

// A history touching every transition: R1 open/resolve, R2 open, a second R1, a late reading, and a
// reading that resolves both.
Scenario PlayHistory(const WorkerId& worker) {
  Scenario s(Policy{}, worker);
  s.Profile(MakeProfile(worker));
  s.Bp(Utc(0, 2), 185, 95);      // R1 open (episode 1)
  s.Bp(Utc(0, 4), 165, 100);     // R1 resolved
  s.Bp(Utc(1, 2), 168, 100);     // R2 open (episode 2)
  s.Bp(Utc(2, 2), 190, 112);     // R1 open (episode 3)
  s.Bp(Utc(1, 5), 120, 80);      // late, before the last trigger: nothing
  s.Bp(Utc(9, 3), 118, 76);      // R1 resolved, R2 resolved
  return s;
}

TEST(DeterminismTest, HistoryProducesTheExpectedTransitions) {
  const Scenario s = PlayHistory(kWorker);
  using P = std::pair<Rule, EscalationState>;
  std::vector<P> got;
  for (const Escalation& e : s.events) got.emplace_back(e.rule, e.state);
  const std::vector<P> expected = {{Rule::kR1CriticalBp, EscalationState::kOpen},
                                   {Rule::kR1CriticalBp, EscalationState::kResolved},
                                   {Rule::kR2SustainedHypertension, EscalationState::kOpen},
                                   {Rule::kR1CriticalBp, EscalationState::kOpen},
                                   {Rule::kR1CriticalBp, EscalationState::kResolved},
                                   {Rule::kR2SustainedHypertension, EscalationState::kResolved}};
  EXPECT_EQ(got, expected);
  ASSERT_EQ(s.events.size(), 6u);
  EXPECT_EQ(s.events[3].episode_id, EpisodeId(kWorker, Rule::kR1CriticalBp, 3));
  EXPECT_TRUE(s.state.open.empty());
}

TEST(DeterminismTest, SameHistoryTwiceGivesIdenticalEventsAndState) {
  const Scenario a = PlayHistory(kWorker);
  const Scenario b = PlayHistory(kWorker);
  ASSERT_EQ(a.events.size(), b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_TRUE(SameEscalation(a.events[i], b.events[i])) << "event " << i << ": " << a.events[i].event_id;
  }
  EXPECT_TRUE(a.state == b.state);
}

TEST(DeterminismTest, DifferentWorkersGetDifferentIds) {
  const Scenario a = PlayHistory(WorkerId{"w-1001"});
  const Scenario b = PlayHistory(WorkerId{"w-2002"});
  std::set<std::string> event_ids;
  std::set<std::string> episode_ids_a;
  for (const Escalation& e : a.events) {
    event_ids.insert(e.event_id);
    episode_ids_a.insert(e.episode_id);
  }
  for (const Escalation& e : b.events) {
    event_ids.insert(e.event_id);
    EXPECT_EQ(episode_ids_a.count(e.episode_id), 0u) << e.episode_id;
  }
  EXPECT_EQ(event_ids.size(), a.events.size() + b.events.size());
}

// ---------------------------------------------------------------------------------------------------
// ComputeWindow

BpSample Sample(EventTime at, int sys, int dia) {
  BpSample s;
  s.measured_at = at;
  s.systolic_mmhg = sys;
  s.diastolic_mmhg = dia;
  s.category = ClassifyBp(sys, dia, BpThresholds{}).category;
  return s;
}

struct ComputeWindowRow {
  const char* name;
  std::vector<BpSample> samples;  // ascending measured_at
  EventTime end;
  int64_t window_ms;
  int day_offset_minutes;
  int readings;
  int days;
  double mean_systolic;
  double mean_diastolic;
  BpCategory mean_category;
  friend void PrintTo(const ComputeWindowRow& r, std::ostream* os) { *os << r.name; }
};

class ComputeWindowTest : public ::testing::TestWithParam<ComputeWindowRow> {};

TEST_P(ComputeWindowTest, StatsOverTheHalfOpenWindow) {
  const ComputeWindowRow& row = GetParam();
  Policy p;
  p.day_offset_minutes = row.day_offset_minutes;
  const WindowStats w = ComputeWindow(row.samples, row.end, row.window_ms, p);
  EXPECT_EQ(w.readings, row.readings);
  EXPECT_EQ(w.days, row.days);
  EXPECT_DOUBLE_EQ(w.mean_systolic_mmhg, row.mean_systolic);
  EXPECT_DOUBLE_EQ(w.mean_diastolic_mmhg, row.mean_diastolic);
  EXPECT_EQ(w.mean_category, row.mean_category);
}

constexpr int64_t kWeek = 7 * kDayMs;
constexpr int kChina = 8 * 60;

INSTANTIATE_TEST_SUITE_P(
    Windows, ComputeWindowTest,
    ::testing::Values(
        ComputeWindowRow{"empty", {}, Utc(7, 2), kWeek, kChina, 0, 0, 0, 0, BpCategory::kNormal},
        ComputeWindowRow{"all_outside", {Sample(Utc(0, 1), 170, 105)}, Utc(7, 2), kWeek, kChina, 0, 0, 0, 0,
                         BpCategory::kNormal},
        ComputeWindowRow{"single_at_end", {Sample(Utc(7, 2), 150, 90)}, Utc(7, 2), kWeek, kChina, 1, 1, 150, 90,
                         BpCategory::kGrade1},
        ComputeWindowRow{"start_is_exclusive",
                         {Sample(Utc(0, 2), 200, 120), Sample(Utc(7, 2), 150, 90)},
                         Utc(7, 2), kWeek, kChina, 1, 1, 150, 90, BpCategory::kGrade1},
        ComputeWindowRow{"one_ms_after_start_is_inside",
                         {Sample(Plus(Utc(0, 2), 1), 170, 110), Sample(Utc(7, 2), 150, 90)},
                         Utc(7, 2), kWeek, kChina, 2, 2, 160, 100, BpCategory::kGrade2},
        ComputeWindowRow{"after_end_excluded",
                         {Sample(Utc(7, 2), 150, 90), Sample(Utc(7, 3), 200, 120)},
                         Utc(7, 2), kWeek, kChina, 1, 1, 150, 90, BpCategory::kGrade1},
        ComputeWindowRow{"local_midnight_splits_days",
                         {Sample(Utc(6, 15, 59, 59, 999), 150, 90), Sample(Utc(6, 16), 150, 90)},
                         Utc(6, 16), kWeek, kChina, 2, 2, 150, 90, BpCategory::kGrade1},
        ComputeWindowRow{"utc_midnight_does_not_split_local_day",
                         {Sample(Utc(6, 23), 150, 90), Sample(Utc(7, 1), 150, 90)},
                         Utc(7, 1), kWeek, kChina, 2, 1, 150, 90, BpCategory::kGrade1},
        ComputeWindowRow{"utc_policy_uses_utc_days",
                         {Sample(Utc(6, 15, 59, 59, 999), 150, 90), Sample(Utc(6, 16), 150, 90)},
                         Utc(6, 16), kWeek, 0, 2, 1, 150, 90, BpCategory::kGrade1},
        ComputeWindowRow{"fractional_mean",
                         {Sample(Utc(5, 2), 150, 80), Sample(Utc(6, 2), 170, 80), Sample(Utc(7, 2), 159, 80)},
                         Utc(7, 2), kWeek, kChina, 3, 3, 479.0 / 3.0, 80, BpCategory::kGrade1},
        ComputeWindowRow{"two_day_window",
                         {Sample(Utc(5, 1), 200, 120), Sample(Utc(5, 2), 200, 120), Sample(Utc(6, 2), 160, 100),
                          Sample(Utc(7, 2), 160, 100)},
                         Utc(7, 2), 2 * kDayMs, kChina, 2, 2, 160, 100, BpCategory::kGrade2}),
    test_support::RowName());

TEST(ComputeWindowBoundsTest, StartIsEndMinusWindow) {
  const WindowStats w = ComputeWindow({Sample(Utc(3, 2), 150, 90), Sample(Utc(7, 2), 150, 90)}, Utc(7, 2), kWeek,
                                      Policy{});
  EXPECT_EQ(w.start, Utc(0, 2));
  EXPECT_EQ(w.end, Utc(7, 2));
}

// ---------------------------------------------------------------------------------------------------
// Profiles and tombstones

TEST(OnProfileTest, StoresTheProfileAndEmitsNothing) {
  Scenario s;
  const WorkerProfile p = ProfileWithExtras();
  EXPECT_TRUE(s.book.OnWorkerProfile(kWorker, p, s.state, kNow).escalations.empty());
  ASSERT_TRUE(s.state.profile.has_value());
  EXPECT_EQ(*s.state.profile, p);
}

TEST(OnProfileTest, LaterProfileReplacesTheEarlierOne) {
  Scenario s;
  s.Profile(MakeProfile());
  WorkerProfile updated = ProfileWithExtras();
  updated.health_manager = Person{"hm-99", "Sun Li"};
  s.Profile(updated);
  ASSERT_TRUE(s.state.profile.has_value());
  EXPECT_EQ(*s.state.profile, updated);
  const ReadingOutcome out = s.Bp(Utc(0, 2), 185, 95);
  ASSERT_EQ(out.escalations.size(), 1u);
  ASSERT_FALSE(out.escalations[0].recipients.empty());
  EXPECT_EQ(out.escalations[0].recipients[0], (Recipient{"hm-99", "Sun Li", RecipientRole::kHealthManager}));
}

TEST(OnProfileTest, TombstoneWithNothingOpenEmitsNothing) {
  Scenario s;
  s.Profile(MakeProfile());
  s.Bp(Utc(0, 2), 128, 82);
  EXPECT_TRUE(s.book.OnWorkerProfile(kWorker, std::nullopt, s.state, kNow).escalations.empty());
}

TEST(OnProfileTest, TombstoneResolvesEveryOpenEpisode) {
  Scenario s;
  s.Profile(MakeProfile());
  s.Bp(Utc(0, 2), 165, 95);
  s.Bp(Utc(1, 2), 165, 95);
  s.Bp(Utc(1, 4), 185, 95);  // opens R1 and R2
  ASSERT_EQ(s.state.open.size(), 2u);
  std::set<std::string> open_episodes;
  for (const OpenEpisode& ep : s.state.open) open_episodes.insert(ep.episode_id);

  const std::vector<Escalation> out = s.book.OnWorkerProfile(kWorker, std::nullopt, s.state, kNow).escalations;
  ASSERT_EQ(out.size(), 2u);
  std::set<std::string> resolved;
  std::set<Rule> rules;
  for (const Escalation& e : out) {
    EXPECT_EQ(e.state, EscalationState::kResolved);
    EXPECT_EQ(e.sequence, 2u);
    EXPECT_EQ(e.event_id, EventId(e.episode_id, 2));
    EXPECT_EQ(e.worker, kWorker);
    EXPECT_EQ(e.emitted_at, kNow);
    std::string reason = e.reason;
    std::transform(reason.begin(), reason.end(), reason.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_TRUE(Contains(reason, "remov")) << e.reason;
    resolved.insert(e.episode_id);
    rules.insert(e.rule);
  }
  EXPECT_EQ(resolved, open_episodes);
  EXPECT_EQ(rules, (std::set<Rule>{Rule::kR1CriticalBp, Rule::kR2SustainedHypertension}));
}

}  // namespace
}  // namespace alertd::domain
