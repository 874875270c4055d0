// The referral cool-down at its boundaries: one clinic referral per worker, rule and urgency within
// Policy::referral_cooldown_ms of event time, while the episodes themselves still open and escalate.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/episode.h"

namespace alertd::domain {
namespace {

using test_support::BpReading;
using test_support::GlucoseReading;
using test_support::kNow;
using test_support::MakeProfile;
using test_support::Plus;
using test_support::Utc;

constexpr int64_t kWeekMs = 7 * kDayMs;

// --- HeldBackBy: the rule itself ---------------------------------------------------------------

struct HoldRow {
  std::string name;
  Rule rule;
  ReferralUrgency urgency;
  int64_t after_ms;  // the new trigger's event time, after the referral sent
  int64_t cooldown_ms;
  bool held_back;
};

void PrintTo(const HoldRow& row, std::ostream* os) { *os << row.name; }

class ReferralCooldownTable : public ::testing::TestWithParam<HoldRow> {};

TEST_P(ReferralCooldownTable, HoldsBackOnlyTheSameRuleAndUrgencyWithinThePeriod) {
  const HoldRow& row = GetParam();
  const EventTime sent_at = Utc(0, 2);
  WorkerState state;
  state.referrals_sent = {{Rule::kR1CriticalBp, ReferralUrgency::kUrgent, sent_at}};
  const ReferralSent* by = HeldBackBy(state, row.rule, row.urgency, Plus(sent_at, row.after_ms), row.cooldown_ms);
  EXPECT_EQ(by != nullptr, row.held_back);
  if (by) {
    EXPECT_EQ(by->at, sent_at);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ReferralCooldownTable,
    ::testing::Values(
        HoldRow{"exactly_the_period_later_refers_again", Rule::kR1CriticalBp, ReferralUrgency::kUrgent, kWeekMs, kWeekMs,
                false},
        HoldRow{"one_ms_before_the_period_is_held_back", Rule::kR1CriticalBp, ReferralUrgency::kUrgent, kWeekMs - 1,
                kWeekMs, true},
        HoldRow{"the_same_instant_is_held_back", Rule::kR1CriticalBp, ReferralUrgency::kUrgent, 0, kWeekMs, true},
        HoldRow{"a_late_reading_older_than_the_referral_is_held_back", Rule::kR1CriticalBp, ReferralUrgency::kUrgent,
                -kDayMs, kWeekMs, true},
        HoldRow{"another_urgency_of_the_same_rule_is_independent", Rule::kR1CriticalBp, ReferralUrgency::kRoutine,
                kHourMs, kWeekMs, false},
        HoldRow{"another_rule_with_the_same_urgency_is_independent", Rule::kR2SustainedHypertension,
                ReferralUrgency::kUrgent, kHourMs, kWeekMs, false},
        HoldRow{"a_cooldown_of_zero_holds_back_nothing", Rule::kR1CriticalBp, ReferralUrgency::kUrgent, 0, 0, false},
        HoldRow{"a_shorter_cooldown_ends_sooner", Rule::kR1CriticalBp, ReferralUrgency::kUrgent, kDayMs, kDayMs,
                false}),
    [](const ::testing::TestParamInfo<HoldRow>& p) { return p.param.name; });

TEST(ReferralCooldown, NoReferralSentHoldsBackNothing) {
  EXPECT_EQ(HeldBackBy(WorkerState{}, Rule::kR1CriticalBp, ReferralUrgency::kUrgent, Utc(0, 2), kWeekMs), nullptr);
}

// --- Through the rulebook: R1 crossings of a worker hovering around 180/110 --------------------

struct Crossings {
  explicit Crossings(Policy p = Policy{}) : book(std::move(p)) {
    book.OnWorkerProfile(test_support::kWorker, MakeProfile(), state, kNow);
  }
  // A critical reading at `at` (opening R1), then a normal one a minute later (resolving it).
  ReadingOutcome Cross(EventTime at) {
    ReadingOutcome out = Feed(BpReading(at, 186, 112));
    Feed(BpReading(Plus(at, kMinuteMs), 100, 64));  // low enough that the mean never makes R2
    return out;
  }
  ReadingOutcome Feed(const Reading& r) {
    ReadingOutcome out = book.OnReading(r, state, kNow);
    for (const Referral& ref : out.referrals) referral_ids.push_back(ref.referral_id);
    for (const Escalation& ev : out.escalations) event_ids.push_back(ev.event_id);
    return out;
  }

  Rulebook book;
  WorkerState state;
  std::vector<std::string> referral_ids;
  std::vector<std::string> event_ids;
};

const Escalation* OpenEvent(const ReadingOutcome& out, Rule rule) {
  for (const Escalation& ev : out.escalations) {
    if (ev.rule == rule && ev.state == EscalationState::kOpen) return &ev;
  }
  return nullptr;
}

TEST(ReferralCooldown, ACrossingWithinTheWeekOpensTheEpisodeButRefersNobody) {
  Crossings w;
  const ReadingOutcome first = w.Cross(Utc(0, 2));
  ASSERT_EQ(first.referrals.size(), 1u);
  EXPECT_EQ(first.referrals[0].urgency, ReferralUrgency::kUrgent);

  const ReadingOutcome again = w.Cross(Utc(3, 2));
  EXPECT_TRUE(again.referrals.empty());
  const Escalation* open = OpenEvent(again, Rule::kR1CriticalBp);
  ASSERT_NE(open, nullptr) << "the health manager is still told";
  EXPECT_EQ(open->recipients.size(), 1u);
  EXPECT_NE(open->reason.find("no new clinic referral: one went out for a reading at 2024-03-04 10:00 "
                              "(referral cool-down 7 days)"),
            std::string::npos)
      << open->reason;
  ASSERT_EQ(w.state.referrals_sent.size(), 1u);
  EXPECT_EQ(w.state.referrals_sent[0].at, Utc(0, 2)) << "a held-back referral does not restart the period";
}

TEST(ReferralCooldown, ExactlyAWeekAfterTheLastReferralRefersAgainAndOneMsBeforeDoesNot) {
  Crossings before;
  before.Cross(Utc(0, 2));
  EXPECT_TRUE(before.Cross(Plus(Utc(0, 2), kWeekMs - 1)).referrals.empty());

  Crossings at;
  at.Cross(Utc(0, 2));
  const ReadingOutcome week = at.Cross(Plus(Utc(0, 2), kWeekMs));
  ASSERT_EQ(week.referrals.size(), 1u);
  EXPECT_EQ(at.state.referrals_sent.at(0).at, Plus(Utc(0, 2), kWeekMs)) << "the period restarts from the new one";
}

TEST(ReferralCooldown, ZeroTurnsItOff) {
  Policy p;
  p.referral_cooldown_ms = 0;
  Crossings w(p);
  w.Cross(Utc(0, 2));
  EXPECT_EQ(w.Cross(Utc(0, 3)).referrals.size(), 1u);
  EXPECT_EQ(w.referral_ids.size(), 2u);
}

TEST(ReferralCooldown, ARoutineGlucoseReferralIsIndependentOfAnUrgentBloodPressureOne) {
  Crossings w;
  w.Cross(Utc(0, 2));
  w.Feed(GlucoseReading(Utc(0, 3), 8.2));
  const ReadingOutcome high = w.Feed(GlucoseReading(Utc(0, 4), 8.6));
  ASSERT_EQ(high.referrals.size(), 1u);
  EXPECT_EQ(high.referrals[0].rule, Rule::kR5Glucose);
  EXPECT_EQ(w.state.referrals_sent.size(), 2u);
}

TEST(ReferralCooldown, AReplayGivesTheSameIds) {
  const std::vector<EventTime> crossings = {Utc(0, 2), Utc(2, 2), Utc(7, 1), Utc(7, 3), Utc(14, 2)};
  Crossings first;
  Crossings replay;
  for (EventTime at : crossings) first.Cross(at);
  for (EventTime at : crossings) replay.Cross(at);
  EXPECT_EQ(first.referral_ids, replay.referral_ids);
  EXPECT_EQ(first.event_ids, replay.event_ids);
  EXPECT_EQ(first.state, replay.state);
  // Day 0 refers; day 2 and day 7 01:00 (1 h before the week is up) do not; day 7 03:00 does (a week
  // and an hour after day 0); day 14 02:00 is 23 h short of a week after that, so it does not.
  EXPECT_EQ(first.referral_ids.size(), 2u);
}

}  // namespace
}  // namespace alertd::domain
