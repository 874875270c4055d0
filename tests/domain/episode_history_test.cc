// An open episode's history, "who was told and when": one step per event it emitted, bounded, gone with it.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/episode.h"
#include "engine/domain/policy.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {
namespace {

using test_support::At;
using test_support::kManager;
using test_support::kWorker;
using test_support::MakeProfile;
using test_support::Timeline;

const Recipient kManagerTold{"hm-31", "Li Na", RecipientRole::kHealthManager};
const Recipient kSupervisorTold{"sup-12", "Chen Jun", RecipientRole::kUnitSupervisor};
const Recipient kWorkerTold{kWorker.value, "Zhang Wei", RecipientRole::kWorker};

WorkerProfile Grade2() {
  WorkerProfile p = MakeProfile();
  p.diagnosed_hypertension_grade = 2;
  return p;
}

// The escalation events of the timeline whose episode is `episode_id`, in order.
std::vector<const Escalation*> EventsOf(const Timeline& t, const std::string& episode_id) {
  std::vector<const Escalation*> of;
  for (const Escalation& ev : t.events) {
    if (ev.episode_id == episode_id) of.push_back(&ev);
  }
  return of;
}

// An R1 episode to the health manager, acknowledged at 10 min and re-sent daily for `days` days.
void AcknowledgedAndResentDaily(Timeline& t, int64_t days) {
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  t.RunUntil(At(10 * kMinuteMs));
  t.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
  t.RunUntil(At(10 * kMinuteMs + days * kDayMs));
}

struct HistoryRow {
  const char* name;
  Rule rule;
  void (*drive)(Timeline&);
  std::vector<EpisodeStep> want;
  friend void PrintTo(const HistoryRow& r, std::ostream* os) { *os << r.name; }
};

class EpisodeHistoryTest : public ::testing::TestWithParam<HistoryRow> {};

TEST_P(EpisodeHistoryTest, ListsEachStepWithItsRecipientsAndTime) {
  const HistoryRow& row = GetParam();
  Timeline t;
  row.drive(t);
  const OpenEpisode* e = t.Open(row.rule);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->history, row.want);
  // Each step is the event as it went out: same sequence, state, level, severity, time and people.
  const std::vector<const Escalation*> events = EventsOf(t, e->episode_id);
  ASSERT_EQ(events.size(), e->history.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(e->history[i], (EpisodeStep{events[i]->sequence, events[i]->state, events[i]->level,
                                          events[i]->severity, events[i]->emitted_at, events[i]->recipients}))
        << "step " << i;
  }
}

constexpr int64_t kAckedAfter = 40 * kMinuteMs;

INSTANTIATE_TEST_SUITE_P(
    Lifecycles, EpisodeHistoryTest,
    ::testing::Values(
        // R1 opens to the health manager, climbs to the unit supervisor after 30 min unacknowledged, is
        // acknowledged at 40 min and re-sent every 24 h while it persists.
        HistoryRow{"r1_opens_climbs_is_acknowledged_and_renotified", Rule::kR1CriticalBp,
                   [](Timeline& line) {
                     line.Profile(MakeProfile());
                     line.BpNow(184, 112);
                     line.RunUntil(At(kAckedAfter));
                     line.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kAcknowledge);
                     line.RunUntil(At(kAckedAfter + 48 * kHourMs));
                   },
                   {{1, EscalationState::kOpen, EscalationLevel::kHealthManager, Severity::kUrgent, At(0),
                     {kManagerTold}},
                    {2, EscalationState::kEscalated, EscalationLevel::kUnitSupervisor, Severity::kUrgent,
                     At(30 * kMinuteMs), {kManagerTold, kSupervisorTold}},
                    {3, EscalationState::kRenotified, EscalationLevel::kUnitSupervisor, Severity::kUrgent,
                     At(kAckedAfter + 24 * kHourMs), {kManagerTold, kSupervisorTold}},
                    {4, EscalationState::kRenotified, EscalationLevel::kUnitSupervisor, Severity::kUrgent,
                     At(kAckedAfter + 48 * kHourMs), {kManagerTold, kSupervisorTold}}}},
        // R3 climbs twice: the worker at due, the health manager a day later, the supervisor at 72 h.
        HistoryRow{"r3_reminds_the_worker_then_climbs_twice", Rule::kR3SelfTestMissed,
                   [](Timeline& line) {
                     line.Profile(Grade2());
                     line.BpNow(150, 95);
                     line.RunUntil(At(10 * kDayMs));
                   },
                   {{1, EscalationState::kOpen, EscalationLevel::kWorker, Severity::kHigh, At(7 * kDayMs),
                     {kWorkerTold}},
                    {2, EscalationState::kEscalated, EscalationLevel::kHealthManager, Severity::kHigh,
                     At(8 * kDayMs), {kManagerTold}},
                    {3, EscalationState::kEscalated, EscalationLevel::kUnitSupervisor, Severity::kHigh,
                     At(10 * kDayMs), {kManagerTold, kSupervisorTold}}}},
        // A snooze is silent; its end is told (RENOTIFIED), then the ladder resumes.
        HistoryRow{"r1_snoozed_then_told_again_then_climbs", Rule::kR1CriticalBp,
                   [](Timeline& line) {
                     line.Profile(MakeProfile());
                     line.BpNow(184, 112);
                     line.RunUntil(At(5 * kMinuteMs));
                     line.Ack(Rule::kR1CriticalBp, EscalationAck::Action::kSnooze, At(2 * kHourMs));
                     line.RunUntil(At(3 * kHourMs));
                   },
                   {{1, EscalationState::kOpen, EscalationLevel::kHealthManager, Severity::kUrgent, At(0),
                     {kManagerTold}},
                    {2, EscalationState::kRenotified, EscalationLevel::kHealthManager, Severity::kUrgent,
                     At(2 * kHourMs), {kManagerTold}},
                    {3, EscalationState::kEscalated, EscalationLevel::kUnitSupervisor, Severity::kUrgent,
                     At(2 * kHourMs + 30 * kMinuteMs), {kManagerTold, kSupervisorTold}}}},
        // Without a profile nobody could be addressed, and the history says so: no recipients.
        HistoryRow{"without_a_profile_the_steps_name_nobody", Rule::kR1CriticalBp,
                   [](Timeline& line) {
                     line.BpNow(184, 112);
                     line.RunUntil(At(30 * kMinuteMs));
                   },
                   {{1, EscalationState::kOpen, EscalationLevel::kHealthManager, Severity::kUrgent, At(0), {}},
                    {2, EscalationState::kEscalated, EscalationLevel::kUnitSupervisor, Severity::kUrgent,
                     At(30 * kMinuteMs), {}}}}),
    test_support::RowName());

TEST(EpisodeHistoryTest, AcknowledgingIsNotAStepButIsKeptWithTheEpisode) {
  Timeline t;
  AcknowledgedAndResentDaily(t, 0);
  const OpenEpisode* e = t.Open(Rule::kR1CriticalBp);
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->history.size(), 1u);  // no event was emitted for the acknowledgement
  EXPECT_EQ(e->acked_by, kManager);
  EXPECT_EQ(e->acked_at, At(10 * kMinuteMs));
}

struct BoundRow {
  const char* name;
  std::size_t max_history;
  std::vector<uint32_t> sequences;  // of the steps kept
  friend void PrintTo(const BoundRow& r, std::ostream* os) { *os << r.name; }
};

class HistoryBoundTest : public ::testing::TestWithParam<BoundRow> {};

// Acknowledged at 10 min and re-sent daily for 10 days: sequences 1 (OPEN) to 11.
TEST_P(HistoryBoundTest, KeepsTheOpenStepAndTheNewestMaxHistory) {
  const BoundRow& row = GetParam();
  Policy p;
  p.max_history = row.max_history;
  Timeline t(p);
  AcknowledgedAndResentDaily(t, 10);
  const OpenEpisode* e = t.Open(Rule::kR1CriticalBp);
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->last_sequence, 11u);
  std::vector<uint32_t> kept;
  for (const EpisodeStep& step : e->history) kept.push_back(step.sequence);
  EXPECT_EQ(kept, row.sequences);
  EXPECT_EQ(e->history.front().state, EscalationState::kOpen);
  EXPECT_EQ(e->history.back().at, At(10 * kMinuteMs + 10 * 24 * kHourMs));

  // The bound changes what is remembered, never what is told.
  Policy roomy;
  roomy.max_history = 100;
  Timeline unbounded(roomy);
  AcknowledgedAndResentDaily(unbounded, 10);
  ASSERT_EQ(t.events.size(), unbounded.events.size());
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    EXPECT_TRUE(test_support::SameEscalation(t.events[i], unbounded.events[i])) << "event " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Bounds, HistoryBoundTest,
    ::testing::Values(BoundRow{"one_after_open", 1, {1, 11}},
                      BoundRow{"three_after_open", 3, {1, 9, 10, 11}},
                      BoundRow{"exactly_all", 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
                      BoundRow{"default_keeps_all_eleven", Policy{}.max_history, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}),
    test_support::RowName());

TEST(HistoryBoundTest, ManyRenotificationsStayWithinTheDefaultBound) {
  Timeline t;
  AcknowledgedAndResentDaily(t, 200);
  const OpenEpisode* e = t.Open(Rule::kR1CriticalBp);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->last_sequence, 201u);
  ASSERT_EQ(e->history.size(), Policy{}.max_history + 1);
  EXPECT_EQ(e->history.front().sequence, 1u);
  EXPECT_EQ(e->history[1].sequence, 201u - Policy{}.max_history + 1);
  EXPECT_EQ(e->history.back().sequence, 201u);
}

TEST(EpisodeHistoryTest, ResolvedRemovesTheEpisodeWithItsHistoryAndANewOneStartsAfresh) {
  Timeline t;
  t.Profile(MakeProfile());
  t.BpNow(184, 112);
  t.RunUntil(At(30 * kMinuteMs));
  ASSERT_EQ(t.Open(Rule::kR1CriticalBp)->history.size(), 2u);
  t.BpNow(130, 85);
  ASSERT_EQ(t.events.back().state, EscalationState::kResolved);
  EXPECT_EQ(t.Open(Rule::kR1CriticalBp), nullptr);
  t.RunUntil(At(2 * kHourMs));
  t.BpNow(186, 114);
  const OpenEpisode* again = t.Open(Rule::kR1CriticalBp);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->history,
            (std::vector<EpisodeStep>{{1, EscalationState::kOpen, EscalationLevel::kHealthManager, Severity::kUrgent,
                                       At(2 * kHourMs), {kManagerTold}}}));
}

TEST(RememberStepTest, KeepsTheFirstAndTheNewest) {
  OpenEpisode e;
  Escalation told;
  for (uint32_t seq = 1; seq <= 6; ++seq) {
    told.sequence = seq;
    told.emitted_at = ProcessingTime{seq * 1000};
    RememberStep(e, told, 2);
  }
  ASSERT_EQ(e.history.size(), 3u);
  EXPECT_EQ(e.history[0].sequence, 1u);
  EXPECT_EQ(e.history[1].sequence, 5u);
  EXPECT_EQ(e.history[2].sequence, 6u);
  EXPECT_EQ(e.history[2].at, ProcessingTime{6000});
}

}  // namespace
}  // namespace alertd::domain
