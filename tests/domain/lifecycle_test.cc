// Timelines on an injected clock: R3 self-test deadlines, acks, the ack-timeout ladder, re-notify, snooze, R4.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/clock.h"
#include "engine/domain/event_id.h"
#include "engine/domain/policy.h"
#include "engine/domain/rulebook.h"
#include "engine/domain/timer.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {
namespace {

using test_support::IsEscalation;
using test_support::kMar4UtcMs;
using test_support::kWorker;
using test_support::MakeProfile;
using test_support::OfRule;
using test_support::SameEscalation;

using test_support::At;
using test_support::Contains;
using test_support::Ev;
using test_support::kManager;
using test_support::kStart;
using test_support::Timeline;

WorkerProfile Grade2() {
  WorkerProfile p = MakeProfile();
  p.diagnosed_hypertension_grade = 2;
  return p;
}

WorkerProfile Driver() {
  WorkerProfile p = MakeProfile();
  p.high_risk_posts = {HighRiskPost::kDriver};
  return p;
}

std::vector<Recipient> Manager() { return {Recipient{"hm-31", "Li Na", RecipientRole::kHealthManager}}; }
std::vector<Recipient> ManagerAndSupervisor() {
  return {Recipient{"hm-31", "Li Na", RecipientRole::kHealthManager},
          Recipient{"sup-12", "Chen Jun", RecipientRole::kUnitSupervisor}};
}

// ---------------------------------------------------------------------------------------------------
// R3 enrolment

struct EnrolRow {
  const char* name;
  int diagnosed_grade;
  std::optional<int> interval_days;
  bool active;
  bool sustained;  // feed readings that open R2
  std::optional<int64_t> due_after_newest_ms;  // nullopt: not enrolled
  friend void PrintTo(const EnrolRow& r, std::ostream* os) { *os << r.name; }
};

class R3EnrolmentTest : public ::testing::TestWithParam<EnrolRow> {};

TEST_P(R3EnrolmentTest, SchedulesTheDueTimerOnlyForEnrolledWorkers) {
  const EnrolRow& row = GetParam();
  Timeline t;
  WorkerProfile p = MakeProfile();
  p.diagnosed_hypertension_grade = row.diagnosed_grade;
  p.policy.self_test_interval_days = row.interval_days;
  p.active = row.active;
  t.Profile(p);
  if (row.sustained) {
    t.Bp(At(-kDayMs - kHourMs), 165, 102);
    t.Bp(At(-kDayMs), 165, 102);
  }
  t.BpNow(166, 102);
  if (row.sustained) {
    ASSERT_NE(t.Open(Rule::kR2SustainedHypertension), nullptr);
  }
  if (!row.due_after_newest_ms) {
    EXPECT_FALSE(t.state.self_test_due.has_value());
    for (const Timer& timer : t.timers) EXPECT_NE(timer.kind, TimerKind::kSelfTestDue);
    return;
  }
  EXPECT_EQ(t.state.self_test_due, At(*row.due_after_newest_ms));
  EXPECT_TRUE(t.HasTimer(At(*row.due_after_newest_ms), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue));
}

INSTANTIATE_TEST_SUITE_P(
    Who, R3EnrolmentTest,
    ::testing::Values(EnrolRow{"grade1_not_enrolled", 1, {}, true, false, {}},
                      EnrolRow{"grade2_enrolled", 2, {}, true, false, 7 * kDayMs},
                      EnrolRow{"grade3_enrolled", 3, {}, true, false, 7 * kDayMs},
                      EnrolRow{"grade1_with_policy_interval", 1, 3, true, false, 3 * kDayMs},
                      EnrolRow{"grade2_with_shorter_interval", 2, 2, true, false, 2 * kDayMs},
                      EnrolRow{"zero_interval_falls_back_to_global", 2, 0, true, false, 7 * kDayMs},
                      EnrolRow{"zero_interval_alone_does_not_enrol", 1, 0, true, false, {}},
                      EnrolRow{"inactive_not_enrolled", 2, {}, false, false, {}},
                      EnrolRow{"open_r2_enrols", 1, {}, true, true, 7 * kDayMs}),
    test_support::RowName());

TEST(R3EnrolmentTest, WithoutAProfileNobodyIsEnrolled) {
  Timeline t;
  t.BpNow(150, 95);
  EXPECT_FALSE(t.state.self_test_due.has_value());
  EXPECT_TRUE(t.timers.empty());
}

TEST(R3EnrolmentTest, EnrolmentWithoutReadingsGivesAFullInterval) {
  Timeline t;
  const Outcome out = t.Profile(Grade2());
  ASSERT_EQ(out.timers_set.size(), 1u);
  EXPECT_EQ(out.timers_set[0], (TimerRequest{At(7 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue}));
  EXPECT_EQ(t.state.self_test_since, kStart);
  t.RunUntil(At(7 * kDayMs));
  const std::vector<Escalation> events = t.Take();  // OfRule points into it
  const auto r3 = OfRule(events, Rule::kR3SelfTestMissed);
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_TRUE(Contains(r3[0]->reason, "enrolled")) << r3[0]->reason;
}

// ---------------------------------------------------------------------------------------------------
// R3 ladder: level 1 at due, level 2 at due + 24 h, level 3 at due + 72 h

struct LadderRow {
  const char* name;
  int64_t until_after_due_ms;
  std::size_t events;  // R3 events so far
  std::optional<EscalationLevel> level;
  friend void PrintTo(const LadderRow& r, std::ostream* os) { *os << r.name; }
};

class R3LadderTest : public ::testing::TestWithParam<LadderRow> {};

TEST_P(R3LadderTest, ClimbsExactlyAtItsDeadlines) {
  const LadderRow& row = GetParam();
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  const ProcessingTime due = At(7 * kDayMs);
  t.RunUntil(ProcessingTime{due.ms + row.until_after_due_ms});
  const auto r3 = OfRule(t.events, Rule::kR3SelfTestMissed);
  ASSERT_EQ(r3.size(), row.events);
  if (row.events == 0) {
    EXPECT_EQ(t.Open(Rule::kR3SelfTestMissed), nullptr);
    return;
  }
  const Escalation& last = *r3.back();
  EXPECT_EQ(last.level, *row.level);
  EXPECT_EQ(last.sequence, row.events);
  EXPECT_THAT(last, IsEscalation({.state = row.events == 1 ? EscalationState::kOpen : EscalationState::kEscalated,
                                  .severity = Severity::kHigh}));
  EXPECT_EQ(last.episode_id, EpisodeId(kWorker, Rule::kR3SelfTestMissed, 1));
  EXPECT_EQ(last.event_id, EventId(last.episode_id, last.sequence));
}

INSTANTIATE_TEST_SUITE_P(
    Deadlines, R3LadderTest,
    ::testing::Values(LadderRow{"due_minus_1ms", -1, 0, {}},
                      LadderRow{"at_due", 0, 1, EscalationLevel::kWorker},
                      LadderRow{"level2_minus_1ms", 24 * kHourMs - 1, 1, EscalationLevel::kWorker},
                      LadderRow{"level2_exactly", 24 * kHourMs, 2, EscalationLevel::kHealthManager},
                      LadderRow{"level3_minus_1ms", 72 * kHourMs - 1, 2, EscalationLevel::kHealthManager},
                      LadderRow{"level3_exactly", 72 * kHourMs, 3, EscalationLevel::kUnitSupervisor},
                      LadderRow{"a_month_later_stays_at_level3", 30 * kDayMs, 3, EscalationLevel::kUnitSupervisor}),
    test_support::RowName());

TEST(R3LadderTest, EventsAddressTheRightPeopleAndSayWhy) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.RunUntil(At(10 * kDayMs));
  const auto r3 = OfRule(t.events, Rule::kR3SelfTestMissed);
  ASSERT_EQ(r3.size(), 3u);
  EXPECT_EQ(r3[0]->recipients, (std::vector<Recipient>{{kWorker.value, "Zhang Wei", RecipientRole::kWorker}}));
  EXPECT_TRUE(Contains(r3[0]->reason, "Grade-2 hypertension, no self-test for 7 days")) << r3[0]->reason;
  EXPECT_TRUE(Contains(r3[0]->reason, "reminder to the worker")) << r3[0]->reason;
  EXPECT_EQ(r3[0]->emitted_at, At(7 * kDayMs));
  EXPECT_EQ(r3[1]->recipients, Manager());
  EXPECT_TRUE(Contains(r3[1]->reason, "No self-test for 8 days; reminder sent 24 h ago")) << r3[1]->reason;
  EXPECT_EQ(r3[1]->emitted_at, At(8 * kDayMs));
  EXPECT_EQ(r3[2]->recipients, ManagerAndSupervisor());
  EXPECT_TRUE(Contains(r3[2]->reason, "No self-test for 10 days; reminder sent 3 days ago")) << r3[2]->reason;
  EXPECT_EQ(r3[2]->emitted_at, At(10 * kDayMs));
  EXPECT_TRUE(t.timers.empty());  // top of the ladder, unacknowledged: nothing pending
}

TEST(R3LadderTest, ATimerProcessedLateKeepsTheLadderAnchoredAtDue) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  // The engine was down: the due timer is processed 5 h late.
  t.clock.Set(At(7 * kDayMs + 5 * kHourMs));
  t.Apply(t.book.OnTimer(Timer{At(7 * kDayMs), 0, kWorker, Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue}, t.state,
                         t.clock.Now()));
  EXPECT_TRUE(t.HasTimer(At(8 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kAckTimeout));
}

// ---------------------------------------------------------------------------------------------------
// R3 resolution, retraction, stale timers, profile changes

TEST(R3ResolutionTest, AReadingResolvesAndRestartsTheWeeklyClock) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.RunUntil(At(8 * kDayMs + kHourMs));
  t.Take();
  const ReadingOutcome out = t.BpNow(138, 88);
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_EQ(e.state, EscalationState::kResolved);
  EXPECT_EQ(e.sequence, 3u);
  EXPECT_TRUE(Contains(e.reason, "Self-test received: 138/88 mmHg")) << e.reason;
  EXPECT_EQ(t.Open(Rule::kR3SelfTestMissed), nullptr);
  // The pending level-3 climb is cancelled and the next due is a week after the new reading.
  EXPECT_EQ(out.timers_cancel,
            (std::vector<TimerRequest>{{At(10 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kAckTimeout}}));
  EXPECT_EQ(out.timers_set, (std::vector<TimerRequest>{{At(15 * kDayMs + kHourMs), Rule::kR3SelfTestMissed,
                                                        TimerKind::kSelfTestDue}}));
  t.Take();
  t.RunUntil(At(15 * kDayMs + kHourMs - 1));
  EXPECT_TRUE(t.Take().empty());
}

struct LateRow {
  const char* name;
  int64_t measured_after_due_ms;  // of the late reading; uploaded at due + 30 h
  bool resolves;
  bool retracts;
  friend void PrintTo(const LateRow& r, std::ostream* os) { *os << r.name; }
};

class R3LateReadingTest : public ::testing::TestWithParam<LateRow> {};

TEST_P(R3LateReadingTest, OnTimeReadingUploadedLateRetracts) {
  const LateRow& row = GetParam();
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  const int64_t due = 7 * kDayMs;
  t.RunUntil(At(due + 30 * kHourMs));
  ASSERT_NE(t.Open(Rule::kR3SelfTestMissed), nullptr);
  t.Take();
  const ReadingOutcome out = t.Bp(At(due + row.measured_after_due_ms), 132, 84);
  const auto r3 = OfRule(out.escalations, Rule::kR3SelfTestMissed);
  ASSERT_EQ(r3.size(), row.resolves ? 1u : 0u);
  EXPECT_EQ(t.Open(Rule::kR3SelfTestMissed) == nullptr, row.resolves);
  if (row.resolves) {
    EXPECT_EQ(r3[0]->state, EscalationState::kResolved);
    EXPECT_EQ(Contains(r3[0]->reason, "uploaded late: the missed self-test escalation is retracted"), row.retracts)
        << r3[0]->reason;
    EXPECT_EQ(Contains(r3[0]->reason, "measured on time at"), row.retracts) << r3[0]->reason;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Lateness, R3LateReadingTest,
    ::testing::Values(LateRow{"measured_a_day_before_due", -kDayMs, true, true},
                      LateRow{"measured_1ms_before_due", -1, true, true},
                      LateRow{"measured_at_due", 0, true, false},
                      LateRow{"measured_after_due", 2 * kHourMs, true, false},
                      LateRow{"measured_before_the_last_known_reading", -7 * kDayMs - kHourMs, false, false},
                      LateRow{"measured_with_the_last_known_reading", -7 * kDayMs, false, false}),
    test_support::RowName());

TEST(R3StaleTimerTest, ADueTimerOvertakenByAReadingDoesNothing) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.clock.Set(At(3 * kDayMs));
  t.BpNow(148, 92);  // moves the due to day 10 and cancels day 7
  EXPECT_FALSE(t.HasTimer(At(7 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue));
  // Cancellation is an optimisation: the old timer firing anyway must change nothing.
  t.clock.Set(At(7 * kDayMs));
  const WorkerState before = t.state;
  const Outcome out =
      t.book.OnTimer(Timer{At(7 * kDayMs), 0, kWorker, Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue}, t.state,
                     At(7 * kDayMs));
  EXPECT_TRUE(out.ignored);
  EXPECT_FALSE(out.ignored_reason.empty());
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(out.timers_set.empty());
  EXPECT_TRUE(out.timers_cancel.empty());
  EXPECT_TRUE(t.state == before);
}

struct StaleRow {
  const char* name;
  Rule rule;
  TimerKind kind;
  friend void PrintTo(const StaleRow& r, std::ostream* os) { *os << r.name; }
};

class StaleTimerTest : public ::testing::TestWithParam<StaleRow> {};

TEST_P(StaleTimerTest, TimersTheStateIsNotWaitingForAreIgnored) {
  const StaleRow& row = GetParam();
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(185, 100);  // R1 open, waiting for its ack timeout; R3 due in 7 days
  t.clock.Set(At(kHourMs));
  const WorkerState before = t.state;
  const Outcome out = t.book.OnTimer(Timer{At(kHourMs), 0, kWorker, row.rule, row.kind}, t.state, t.clock.Now());
  EXPECT_TRUE(out.ignored) << row.name;
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(t.state == before);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, StaleTimerTest,
    ::testing::Values(StaleRow{"renotify_of_an_unacknowledged_episode", Rule::kR1CriticalBp, TimerKind::kRenotify},
                      StaleRow{"snooze_end_without_snooze", Rule::kR1CriticalBp, TimerKind::kSnoozeEnd},
                      StaleRow{"ack_timeout_of_a_closed_rule", Rule::kR2SustainedHypertension, TimerKind::kAckTimeout},
                      StaleRow{"self_test_due_before_its_time", Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue},
                      StaleRow{"unknown_kind", Rule::kR1CriticalBp, TimerKindFromCode(99)}),
    test_support::RowName());

TEST(StaleTimerTest, AnAckTimeoutBeforeItsDeadlineIsIgnored) {
  Timeline t;
  t.BpNow(185, 100);
  const Outcome out =
      t.book.OnTimer(Timer{At(30 * kMinuteMs), 0, kWorker, Rule::kR1CriticalBp, TimerKind::kAckTimeout}, t.state,
                     At(30 * kMinuteMs - 1));
  EXPECT_TRUE(out.ignored);
  EXPECT_TRUE(out.escalations.empty());
}

TEST(R3ProfileChangeTest, ShorterIntervalMovesTheNextDue) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.clock.Set(At(kDayMs));
  WorkerProfile p = Grade2();
  p.policy.self_test_interval_days = 3;
  const Outcome out = t.Profile(p);
  EXPECT_EQ(out.timers_cancel,
            (std::vector<TimerRequest>{{At(7 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue}}));
  EXPECT_EQ(out.timers_set, (std::vector<TimerRequest>{{At(3 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue}}));
  t.RunUntil(At(3 * kDayMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(3 * kDayMs));
  const std::vector<Escalation> events = t.Take();  // OfRule points into it
  const auto r3 = OfRule(events, Rule::kR3SelfTestMissed);
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_TRUE(Contains(r3[0]->reason, "no self-test for 3 days")) << r3[0]->reason;
  // The ladder follows the new due.
  EXPECT_TRUE(t.HasTimer(At(4 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kAckTimeout));
}

TEST(R3ProfileChangeTest, LeavingTheProgrammeWithdrawsTheReminder) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.RunUntil(At(7 * kDayMs + kHourMs));
  t.Take();
  const Outcome out = t.Profile(MakeProfile());  // grade 1, no interval: no longer enrolled
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_TRUE(Contains(out.escalations[0].reason, "No longer enrolled")) << out.escalations[0].reason;
  EXPECT_TRUE(t.timers.empty());
  EXPECT_FALSE(t.state.self_test_since.has_value());
}

TEST(R3ProfileChangeTest, TombstoneCancelsEveryTimer) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(185, 100);
  ASSERT_EQ(t.timers.size(), 2u);  // R1 ack timeout, R3 due
  const Outcome out = t.book.OnWorkerProfile(kWorker, std::nullopt, t.state, t.clock.Now());
  t.Apply(out);
  EXPECT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.timers_cancel.size(), 2u);
  EXPECT_TRUE(t.timers.empty());
}

// ---------------------------------------------------------------------------------------------------
// Acknowledgement and the ack-timeout ladder (R1: health manager, then the unit supervisor at 30 min)

struct AckRow {
  const char* name;
  std::optional<int64_t> ack_after_ms;  // after the OPEN; nullopt: never acknowledged
  int64_t run_until_ms;
  bool climbed;
  friend void PrintTo(const AckRow& r, std::ostream* os) { *os << r.name; }
};

class AckTimeoutTest : public ::testing::TestWithParam<AckRow> {};

TEST_P(AckTimeoutTest, UnacknowledgedEpisodeClimbsExactlyAtTheTimeout) {
  const AckRow& row = GetParam();
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  const std::string episode = t.Open(Rule::kR1CriticalBp)->episode_id;
  EXPECT_TRUE(t.HasTimer(At(30 * kMinuteMs), Rule::kR1CriticalBp, TimerKind::kAckTimeout));
  if (row.ack_after_ms) {
    t.RunUntil(At(*row.ack_after_ms));
    EXPECT_FALSE(t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge).ignored);
  }
  t.RunUntil(At(row.run_until_ms));
  const auto r1 = OfRule(t.events, Rule::kR1CriticalBp);
  ASSERT_EQ(r1.size(), row.climbed ? 2u : 1u);
  EXPECT_EQ(t.Open(Rule::kR1CriticalBp)->level,
            row.climbed ? EscalationLevel::kUnitSupervisor : EscalationLevel::kHealthManager);
  if (row.climbed) {
    const Escalation& e = *r1[1];
    EXPECT_EQ(e.state, EscalationState::kEscalated);
    EXPECT_EQ(e.sequence, 2u);
    EXPECT_EQ(e.event_id, EventId(episode, 2));
    EXPECT_THAT(e, IsEscalation({.severity = Severity::kUrgent, .level = EscalationLevel::kUnitSupervisor}));
    EXPECT_EQ(e.recipients, ManagerAndSupervisor());
    EXPECT_EQ(e.emitted_at, At(30 * kMinuteMs));
    EXPECT_TRUE(Contains(e.reason, "Not acknowledged within 30 min: escalated to the unit supervisor")) << e.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Timeouts, AckTimeoutTest,
    ::testing::Values(AckRow{"no_ack_1ms_before", std::nullopt, 30 * kMinuteMs - 1, false},
                      AckRow{"no_ack_exactly_at_timeout", std::nullopt, 30 * kMinuteMs, true},
                      AckRow{"no_ack_hours_later_climbs_once", std::nullopt, 5 * kHourMs, true},
                      AckRow{"ack_1ms_before_timeout", 30 * kMinuteMs - 1, 5 * kHourMs, false},
                      AckRow{"ack_at_once", 0, 5 * kHourMs, false}),
    test_support::RowName());

struct LadderTimeoutRow {
  const char* name;
  Rule rule;
  int sys, dia;
  ReadingContext context;
  int64_t timeout_ms;
  friend void PrintTo(const LadderTimeoutRow& r, std::ostream* os) { *os << r.name; }
};

class RuleAckTimeoutTest : public ::testing::TestWithParam<LadderTimeoutRow> {};

TEST_P(RuleAckTimeoutTest, EachRuleHasItsOwnTimeout) {
  const LadderTimeoutRow& row = GetParam();
  Timeline t;
  t.Profile(Driver());
  if (row.rule == Rule::kR2SustainedHypertension) {
    t.Bp(At(-kDayMs - kHourMs), row.sys, row.dia);
    t.Bp(At(-kDayMs), row.sys, row.dia);
  }
  t.BpNow(row.sys, row.dia, row.context);
  ASSERT_NE(t.Open(row.rule), nullptr);
  t.RunUntil(At(row.timeout_ms - 1));
  EXPECT_EQ(OfRule(t.events, row.rule).size(), 1u);
  t.RunUntil(At(row.timeout_ms));
  const auto events = OfRule(t.events, row.rule);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1]->state, EscalationState::kEscalated);
  EXPECT_EQ(events[1]->level, EscalationLevel::kUnitSupervisor);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, RuleAckTimeoutTest,
    ::testing::Values(
        LadderTimeoutRow{"r2_24h", Rule::kR2SustainedHypertension, 165, 102, ReadingContext::kSelfTest, 24 * kHourMs},
        LadderTimeoutRow{"r4_15min", Rule::kR4PreShiftFitness, 165, 102, ReadingContext::kPreShift, 15 * kMinuteMs}),
    test_support::RowName());

TEST(RenotifyTest, AcknowledgedEpisodeRenotifiesWhileItPersists) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  t.RunUntil(At(10 * kMinuteMs));
  const Outcome ack = t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  EXPECT_TRUE(ack.escalations.empty());
  EXPECT_EQ(ack.timers_cancel,
            (std::vector<TimerRequest>{{At(30 * kMinuteMs), Rule::kR1CriticalBp, TimerKind::kAckTimeout}}));
  EXPECT_EQ(ack.timers_set,
            (std::vector<TimerRequest>{{At(10 * kMinuteMs + 24 * kHourMs), Rule::kR1CriticalBp, TimerKind::kRenotify}}));
  const OpenEpisode* e = t.Open(Rule::kR1CriticalBp);
  EXPECT_TRUE(e->acknowledged);
  EXPECT_EQ(e->acked_by, kManager);
  EXPECT_EQ(e->acked_at, At(10 * kMinuteMs));
  t.Take();

  t.RunUntil(At(10 * kMinuteMs + 24 * kHourMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(10 * kMinuteMs + 24 * kHourMs));
  std::vector<Escalation> got = t.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].state, EscalationState::kRenotified);
  EXPECT_EQ(got[0].sequence, 2u);
  EXPECT_EQ(got[0].level, EscalationLevel::kHealthManager);
  EXPECT_EQ(got[0].recipients, Manager());
  EXPECT_TRUE(Contains(got[0].reason, "acknowledged by Li Na")) << got[0].reason;
  t.RunUntil(At(10 * kMinuteMs + 48 * kHourMs));
  got = t.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sequence, 3u);

  // The condition clears: RESOLVED, and nothing more.
  t.BpNow(130, 85);
  got = t.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].state, EscalationState::kResolved);
  t.RunUntil(At(10 * kDayMs));
  EXPECT_TRUE(OfRule(t.Take(), Rule::kR1CriticalBp).empty());
}

TEST(AckTest, RedeliveredAckIsIgnoredAndKeepsTheRenotifyTime) {
  Timeline t;
  t.BpNow(184, 112);
  t.RunUntil(At(kMinuteMs));
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  t.RunUntil(At(2 * kMinuteMs));
  const Outcome again = t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  EXPECT_TRUE(again.ignored);
  EXPECT_TRUE(again.timers_set.empty());
  EXPECT_EQ(t.Open(Rule::kR1CriticalBp)->next_deadline, At(kMinuteMs + 24 * kHourMs));
}

struct IgnoredAckRow {
  const char* name;
  Rule rule;
  std::string episode;  // empty: the open episode's id
  EscalationAck::Action action;
  std::optional<int64_t> snooze_until_ms;
  friend void PrintTo(const IgnoredAckRow& r, std::ostream* os) { *os << r.name; }
};

class IgnoredAckTest : public ::testing::TestWithParam<IgnoredAckRow> {};

TEST_P(IgnoredAckTest, ChangesNothing) {
  const IgnoredAckRow& row = GetParam();
  Timeline t;
  t.BpNow(184, 112);
  t.clock.Set(At(kMinuteMs));
  const WorkerState before = t.state;
  std::optional<ProcessingTime> until;
  if (row.snooze_until_ms) until = At(*row.snooze_until_ms);
  const Outcome out = t.Ack(row.rule, row.action, until, row.episode);
  EXPECT_TRUE(out.ignored);
  EXPECT_FALSE(out.ignored_reason.empty());
  EXPECT_TRUE(out.escalations.empty());
  EXPECT_TRUE(out.timers_set.empty());
  EXPECT_TRUE(out.timers_cancel.empty());
  EXPECT_TRUE(t.state == before);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, IgnoredAckTest,
    ::testing::Values(
        IgnoredAckRow{"unknown_episode", Rule::kR1CriticalBp, "0123456789abcdef0123456789abcdef",
                      EscalationAck::Action::kAcknowledge, {}},
        IgnoredAckRow{"rule_with_nothing_open", Rule::kR2SustainedHypertension, "x", EscalationAck::Action::kResolve,
                      {}},
        IgnoredAckRow{"snooze_without_until", Rule::kR1CriticalBp, "", EscalationAck::Action::kSnooze, {}},
        IgnoredAckRow{"snooze_until_now", Rule::kR1CriticalBp, "", EscalationAck::Action::kSnooze, kMinuteMs},
        IgnoredAckRow{"snooze_until_the_past", Rule::kR1CriticalBp, "", EscalationAck::Action::kSnooze, 0}),
    test_support::RowName());

TEST(AckTest, ResolveByAckClosesTheEpisode) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  const std::string episode = t.Open(Rule::kR1CriticalBp)->episode_id;
  t.RunUntil(At(5 * kMinuteMs));
  t.Take();
  const Outcome out = t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kResolve);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_EQ(out.escalations[0].sequence, 2u);
  EXPECT_EQ(out.escalations[0].event_id, EventId(episode, 2));
  EXPECT_EQ(out.escalations[0].reason, "Resolved by Li Na");
  EXPECT_EQ(t.Open(Rule::kR1CriticalBp), nullptr);
  EXPECT_TRUE(t.timers.empty());
  // An ack of the closed episode is ignored.
  EXPECT_TRUE(t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge, std::nullopt, episode).ignored);
  t.Take();
  t.RunUntil(At(kDayMs));
  EXPECT_TRUE(t.Take().empty());
}

TEST(AckTest, ResolvingAMissedSelfTestRestartsTheWeeklyClock) {
  Timeline t;
  t.Profile(Grade2());
  t.BpNow(150, 95);
  t.RunUntil(At(7 * kDayMs + 2 * kHourMs));
  const Outcome out = t.Ack(Rule::kR3SelfTestMissed, EscalationAck::Action::kResolve);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_EQ(t.state.self_test_due, At(14 * kDayMs + 2 * kHourMs));
  EXPECT_TRUE(t.HasTimer(At(14 * kDayMs + 2 * kHourMs), Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue));
  EXPECT_FALSE(t.HasTimer(At(8 * kDayMs), Rule::kR3SelfTestMissed, TimerKind::kAckTimeout));
}

// ---------------------------------------------------------------------------------------------------
// Snooze

TEST(SnoozeTest, SilencesUntilTheTimeThenResumesClimbing) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  t.RunUntil(At(5 * kMinuteMs));
  const Outcome snooze = t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kSnooze, At(2 * kHourMs));
  EXPECT_FALSE(snooze.ignored);
  EXPECT_EQ(snooze.timers_set, (std::vector<TimerRequest>{{At(2 * kHourMs), Rule::kR1CriticalBp, TimerKind::kSnoozeEnd}}));
  t.Take();
  t.RunUntil(At(2 * kHourMs - 1));  // the 30-minute timeout passes in silence
  EXPECT_TRUE(t.Take().empty());
  EXPECT_EQ(t.Open(Rule::kR1CriticalBp)->level, EscalationLevel::kHealthManager);
  t.RunUntil(At(2 * kHourMs));
  std::vector<Escalation> got = t.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].state, EscalationState::kRenotified);
  EXPECT_TRUE(Contains(got[0].reason, "Snooze ended")) << got[0].reason;
  EXPECT_FALSE(t.Open(Rule::kR1CriticalBp)->snoozed_until.has_value());
  // Unacknowledged: the ack timeout restarts from the end of the snooze.
  t.RunUntil(At(2 * kHourMs + 30 * kMinuteMs - 1));
  EXPECT_TRUE(t.Take().empty());
  t.RunUntil(At(2 * kHourMs + 30 * kMinuteMs));
  got = t.Take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], IsEscalation({.state = EscalationState::kEscalated, .level = EscalationLevel::kUnitSupervisor}));
  EXPECT_EQ(got[0].sequence, 3u);
}

TEST(SnoozeTest, AcknowledgedEpisodeRenotifiesAfterTheSnooze) {
  Timeline t;
  t.BpNow(184, 112);
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  t.RunUntil(At(kHourMs));
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kSnooze, At(3 * kDayMs));
  t.RunUntil(At(3 * kDayMs - 1));  // two re-notify intervals pass in silence
  EXPECT_EQ(t.Take().size(), 1u);  // just the OPEN
  t.RunUntil(At(3 * kDayMs));
  EXPECT_EQ(t.Take().size(), 1u);
  EXPECT_TRUE(t.HasTimer(At(4 * kDayMs), Rule::kR1CriticalBp, TimerKind::kRenotify));
}

TEST(SnoozeTest, TheConditionClearingDuringASnoozeStillResolves) {
  Timeline t;
  t.BpNow(184, 112);
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kSnooze, At(kDayMs));
  t.clock.Set(At(kHourMs));
  t.Take();
  const ReadingOutcome out = t.BpNow(130, 85);
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_EQ(out.escalations[0].state, EscalationState::kResolved);
  EXPECT_TRUE(t.timers.empty());
}

// ---------------------------------------------------------------------------------------------------
// R4 pre-shift fitness

struct FitnessRow {
  const char* name;
  int sys, dia;
  ReadingContext context;
  bool high_risk_post;
  bool unfit;
  friend void PrintTo(const FitnessRow& r, std::ostream* os) { *os << r.name; }
};

class R4FitnessTest : public ::testing::TestWithParam<FitnessRow> {};

TEST_P(R4FitnessTest, UnfitPreShiftReadingOpensUrgent) {
  const FitnessRow& row = GetParam();
  Timeline t;
  t.Profile(row.high_risk_post ? Driver() : MakeProfile());
  const ReadingOutcome out = t.BpNow(row.sys, row.dia, row.context);
  const auto r4 = OfRule(out.escalations, Rule::kR4PreShiftFitness);
  ASSERT_EQ(r4.size(), row.unfit ? 1u : 0u);
  if (!row.unfit) return;
  const Escalation& e = *r4[0];
  EXPECT_THAT(e, IsEscalation({.state = EscalationState::kOpen,
                               .severity = Severity::kUrgent,
                               .level = EscalationLevel::kHealthManager}));
  EXPECT_EQ(e.recipients, Manager());
  const std::string expected = "unfit for duty: " + std::to_string(row.sys) + "/" + std::to_string(row.dia) +
                               " mmHg before shift; retest after 5 min rest";
  EXPECT_TRUE(Contains(e.reason, expected)) << e.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Readings, R4FitnessTest,
    ::testing::Values(FitnessRow{"grade2_165_102", 165, 102, ReadingContext::kPreShift, true, true},
                      FitnessRow{"grade2_systolic_160_80", 160, 80, ReadingContext::kPreShift, true, true},
                      FitnessRow{"grade2_diastolic_130_100", 130, 100, ReadingContext::kPreShift, true, true},
                      FitnessRow{"grade1_159_99_fit", 159, 99, ReadingContext::kPreShift, true, false},
                      FitnessRow{"hypotension_systolic_89", 89, 62, ReadingContext::kPreShift, true, true},
                      FitnessRow{"hypotension_diastolic_59", 110, 59, ReadingContext::kPreShift, true, true},
                      FitnessRow{"low_normal_90_60_fit", 90, 60, ReadingContext::kPreShift, true, false},
                      FitnessRow{"self_test_context_not_r4", 165, 102, ReadingContext::kSelfTest, true, false},
                      FitnessRow{"no_high_risk_post", 165, 102, ReadingContext::kPreShift, false, false}),
    test_support::RowName());

TEST(R4FitnessTest, FitRetestResolvesButAnOlderFitReadingDoesNot) {
  Timeline t;
  t.Profile(Driver());
  t.clock.Set(At(kHourMs));
  t.BpNow(165, 102, ReadingContext::kPreShift);
  t.Bp(At(30 * kMinuteMs), 130, 82, ReadingContext::kPreShift);  // measured before the unfit one
  EXPECT_NE(t.Open(Rule::kR4PreShiftFitness), nullptr);
  t.clock.Set(At(kHourMs + 6 * kMinuteMs));
  const ReadingOutcome out = t.BpNow(150, 95, ReadingContext::kPreShift);
  const auto r4 = OfRule(out.escalations, Rule::kR4PreShiftFitness);
  ASSERT_EQ(r4.size(), 1u);
  EXPECT_EQ(r4[0]->state, EscalationState::kResolved);
  EXPECT_TRUE(Contains(r4[0]->reason, "Fit for duty on retest: 150/95 mmHg")) << r4[0]->reason;
  EXPECT_TRUE(t.timers.empty());  // the 15-minute ack timeout is cancelled
}

struct WindowRow {
  const char* name;
  std::optional<int64_t> check_before_clock_in_ms;  // fit PRE_SHIFT reading; negative: after clock-in
  bool no_check;
  friend void PrintTo(const WindowRow& r, std::ostream* os) { *os << r.name; }
};

class R4ClockInWindowTest : public ::testing::TestWithParam<WindowRow> {};

TEST_P(R4ClockInWindowTest, ClockInNeedsAPreShiftReadingInThePrevious2Hours) {
  const WindowRow& row = GetParam();
  Timeline t;
  t.Profile(Driver());
  const ProcessingTime clock_in = At(10 * kHourMs);
  t.clock.Set(At(11 * kHourMs));
  if (row.check_before_clock_in_ms) {
    t.Bp(ProcessingTime{clock_in.ms - *row.check_before_clock_in_ms}, 128, 82, ReadingContext::kPreShift);
  }
  t.Bp(At(9 * kHourMs), 128, 82, ReadingContext::kSelfTest);  // not a pre-shift check
  const Outcome out = t.Shift(clock_in);
  const auto r4 = OfRule(out.escalations, Rule::kR4PreShiftFitness);
  ASSERT_EQ(r4.size(), row.no_check ? 1u : 0u);
  if (!row.no_check) return;
  EXPECT_EQ(r4[0]->state, EscalationState::kOpen);
  EXPECT_EQ(r4[0]->severity, Severity::kHigh);
  EXPECT_EQ(r4[0]->level, EscalationLevel::kHealthManager);
  EXPECT_EQ(r4[0]->opened_at, Ev(clock_in));
  EXPECT_TRUE(Contains(r4[0]->reason, "No pre-shift check: clocked in to driving at well pad 12")) << r4[0]->reason;
  EXPECT_TRUE(Contains(r4[0]->reason, "in the previous 2 h")) << r4[0]->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Window, R4ClockInWindowTest,
    ::testing::Values(WindowRow{"one_minute_inside", 2 * kHourMs - kMinuteMs, false},
                      WindowRow{"exactly_2h_before", 2 * kHourMs, false},
                      WindowRow{"one_minute_outside", 2 * kHourMs + kMinuteMs, true},
                      WindowRow{"at_clock_in", 0, false},
                      WindowRow{"after_clock_in", -kMinuteMs, true},
                      WindowRow{"none", std::nullopt, true}),
    test_support::RowName());

TEST(R4ClockInTest, LateFitCheckRetractsNoPreShiftCheck) {
  Timeline t;
  t.Profile(Driver());
  t.clock.Set(At(10 * kHourMs));
  t.Shift(At(10 * kHourMs));
  ASSERT_NE(t.Open(Rule::kR4PreShiftFitness), nullptr);
  // The check was done 30 min before clock-in; the station uploaded it later.
  const ReadingOutcome out = t.Bp(At(9 * kHourMs + 30 * kMinuteMs), 128, 82, ReadingContext::kPreShift);
  ASSERT_EQ(OfRule(out.escalations, Rule::kR4PreShiftFitness).size(), 1u);
  EXPECT_EQ(t.Open(Rule::kR4PreShiftFitness), nullptr);
}

TEST(R4ClockInTest, UnfitClockedInEscalatesTheOpenEpisodeToCritical) {
  Timeline t;
  t.Profile(Driver());
  t.clock.Set(At(9 * kHourMs + 30 * kMinuteMs));
  t.BpNow(165, 102, ReadingContext::kPreShift);
  const std::string episode = t.Open(Rule::kR4PreShiftFitness)->episode_id;
  t.clock.Set(At(9 * kHourMs + 40 * kMinuteMs));
  t.Ack(Rule::kR4PreShiftFitness, EscalationAck::Action::kAcknowledge);
  t.clock.Set(At(10 * kHourMs));
  const Outcome out = t.Shift(At(10 * kHourMs));
  ASSERT_EQ(out.escalations.size(), 1u);
  const Escalation& e = out.escalations[0];
  EXPECT_THAT(e, IsEscalation({.state = EscalationState::kEscalated,
                               .severity = Severity::kCritical,
                               .level = EscalationLevel::kUnitSupervisor}));
  EXPECT_EQ(e.recipients, ManagerAndSupervisor());
  EXPECT_EQ(e.episode_id, episode);
  EXPECT_EQ(e.sequence, 2u);
  EXPECT_TRUE(Contains(e.reason, "Unfit clocked in")) << e.reason;
  EXPECT_EQ(t.state.open.size(), 1u);
  // A more serious finding needs a fresh acknowledgement.
  EXPECT_FALSE(t.Open(Rule::kR4PreShiftFitness)->acknowledged);
  // A second clock-in does not page again.
  EXPECT_TRUE(t.Shift(At(10 * kHourMs + 5 * kMinuteMs)).escalations.empty());
}

TEST(R4ClockInTest, RetestAfterClockInDoesNotHideAnUnfitClockIn) {
  Timeline t;
  t.Profile(Driver());
  t.clock.Set(At(10 * kHourMs + 20 * kMinuteMs));
  t.Bp(At(9 * kHourMs + 30 * kMinuteMs), 168, 104, ReadingContext::kPreShift);
  t.Bp(At(10 * kHourMs + 10 * kMinuteMs), 132, 84, ReadingContext::kPreShift);  // resolves R4
  ASSERT_EQ(t.Open(Rule::kR4PreShiftFitness), nullptr);
  const Outcome out = t.Shift(At(10 * kHourMs));  // the shift event arrives last
  ASSERT_EQ(out.escalations.size(), 1u);
  EXPECT_THAT(out.escalations[0], IsEscalation({.state = EscalationState::kOpen, .severity = Severity::kCritical}));
  EXPECT_TRUE(Contains(out.escalations[0].reason, "168/104 mmHg")) << out.escalations[0].reason;
}

TEST(R4ClockInTest, UnfitReadingAfterNoCheckRaisesTheSameEpisode) {
  Timeline t;
  t.Profile(Driver());
  t.clock.Set(At(10 * kHourMs));
  t.Shift(At(10 * kHourMs));
  const std::string episode = t.Open(Rule::kR4PreShiftFitness)->episode_id;
  t.clock.Set(At(10 * kHourMs + 20 * kMinuteMs));
  const ReadingOutcome out = t.BpNow(170, 100, ReadingContext::kPreShift);
  const auto r4 = OfRule(out.escalations, Rule::kR4PreShiftFitness);
  ASSERT_EQ(r4.size(), 1u);
  EXPECT_EQ(r4[0]->state, EscalationState::kEscalated);
  EXPECT_EQ(r4[0]->severity, Severity::kUrgent);
  EXPECT_EQ(r4[0]->episode_id, episode);
  EXPECT_EQ(t.state.open.size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// Determinism: the same inputs on the same clock give the same events, ids and timers.

std::vector<Escalation> Replay() {
  Timeline t;
  WorkerProfile p = Driver();
  p.diagnosed_hypertension_grade = 2;
  t.Profile(p);
  t.BpNow(184, 112);
  t.RunUntil(At(kHourMs));
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  t.BpNow(165, 102, ReadingContext::kPreShift);
  t.Shift(At(kHourMs + 10 * kMinuteMs));
  t.RunUntil(At(9 * kDayMs));
  t.BpNow(128, 80, ReadingContext::kPreShift);
  t.RunUntil(At(20 * kDayMs));
  return t.events;
}

TEST(LifecycleDeterminismTest, SameHistoryGivesIdenticalEvents) {
  const std::vector<Escalation> a = Replay();
  const std::vector<Escalation> b = Replay();
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 8u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(SameEscalation(a[i], b[i])) << i;
}

}  // namespace
}  // namespace alertd::domain
