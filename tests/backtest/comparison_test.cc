// The backtest's comparison core on hand-made events: weeks, units, changed workers, alert fatigue.
#include "engine/backtest/comparison.h"

#include <gtest/gtest.h>

namespace alertd::backtest {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kFrom = 1'741'190'400'000;  // 2025-03-06 00:00 +08:00

EventSummary Event(const std::string& worker, const std::string& unit, const std::string& rule, int64_t at,
                   const std::string& state = "OPEN") {
  return {.event_id = worker + rule + std::to_string(at),
          .episode_id = worker + rule,
          .sequence = 1,
          .worker = worker,
          .unit = unit,
          .rule = rule,
          .severity = "URGENT",
          .level = "HEALTH_MANAGER",
          .state = state,
          .trigger_at_ms = at,
          .emitted_at_ms = at};
}

Comparison TwoWeeks() { return Comparison({.from_ms = kFrom, .to_ms = kFrom + 14 * kDay, .utc_offset_ms = 8 * kHour}); }

TEST(ComparisonTest, CountsOnlyEventsTriggeredInThePeriod) {
  Comparison c = TwoWeeks();
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom - 1));
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom));
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + 14 * kDay - 1));
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + 14 * kDay));
  const ComparisonResult r = c.Result(10);
  EXPECT_EQ(r.total, (Pair{2, 0}));
  ASSERT_EQ(r.by_week.size(), 2u);
  EXPECT_EQ(r.by_week[0].week, 0);
  EXPECT_EQ(r.by_week[1].week, 1);
  EXPECT_EQ(r.weeks, 2);
}

TEST(ComparisonTest, RowsByWeekRuleSeverityAndUnitCarryBothSides) {
  Comparison c = TwoWeeks();
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + kHour));
  c.AddEvent(Side::kCandidate, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + kHour));
  c.AddEvent(Side::kCandidate, Event("W2", "U2", "R1_CRITICAL_BP", kFrom + 8 * kDay));
  const ComparisonResult r = c.Result(10);
  ASSERT_EQ(r.by_week.size(), 2u);
  EXPECT_EQ(r.by_week[0].unit, "U1");
  EXPECT_EQ(r.by_week[0].events, (Pair{1, 1}));
  EXPECT_EQ(r.by_week[1].unit, "U2");
  EXPECT_EQ(r.by_week[1].week, 1);
  EXPECT_EQ(r.by_week[1].events, (Pair{0, 1}));
  EXPECT_EQ(r.total.difference(), 1);
}

TEST(ComparisonTest, NewEpisodesApartFromLaterPages) {
  Comparison c = TwoWeeks();
  c.AddEvent(Side::kBaseline, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + kHour, "OPEN"));
  c.AddEvent(Side::kCandidate, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + kHour, "OPEN"));
  c.AddEvent(Side::kCandidate, Event("W1", "U1", "R1_CRITICAL_BP", kFrom + 2 * kHour, "ESCALATED"));
  const ComparisonResult r = c.Result(10);
  ASSERT_EQ(r.by_state.size(), 2u);
  EXPECT_EQ(r.by_state[0].state, "ESCALATED");
  EXPECT_EQ(r.by_state[0].events, (Pair{0, 1}));
  EXPECT_EQ(r.by_state[1].state, "OPEN");
  EXPECT_EQ(r.by_state[1].events, (Pair{1, 1}));
}

TEST(ComparisonTest, AWorkerChangesWhenTheirEventsDifferNotWhenTheyAreTheSame) {
  Comparison c = TwoWeeks();
  for (Side side : {Side::kBaseline, Side::kCandidate}) c.AddEvent(side, Event("SAME", "U1", "R2", kFrom + kHour));
  // Same count, another trigger time: a change.
  c.AddEvent(Side::kBaseline, Event("MOVED", "U1", "R1", kFrom + kHour));
  c.AddEvent(Side::kCandidate, Event("MOVED", "U1", "R1", kFrom + 2 * kHour));
  c.AddEvent(Side::kCandidate, Event("NEW", "U2", "R1", kFrom + kHour));
  c.AddEvent(Side::kCandidate, Event("ANOTHER", "U2", "R1", kFrom + kHour));
  const ComparisonResult all = c.Result(10);
  EXPECT_EQ(all.changed_workers, 3u);
  ASSERT_EQ(all.changed.size(), 3u);
  EXPECT_EQ(all.changed[0].worker, "ANOTHER");
  EXPECT_EQ(all.changed[1].worker, "MOVED");
  EXPECT_EQ(all.changed[1].events, (Pair{1, 1}));
  EXPECT_EQ(all.changed[2].worker, "NEW");
  const ComparisonResult first = c.Result(1);
  EXPECT_EQ(first.changed_workers, 3u) << "all are counted";
  ASSERT_EQ(first.changed.size(), 1u);
  EXPECT_EQ(first.changed[0].worker, "ANOTHER");
}

TEST(ComparisonTest, FatigueIsPerWorkerAndLocalDayOfTheAlert) {
  Comparison c = TwoWeeks();
  // W1: 3 alerts on day 1 (local), 1 on day 2; 23:30 and 00:30 local are different days.
  for (int64_t at : {kFrom + kHour, kFrom + 2 * kHour, kFrom + 23 * kHour + kHour / 2}) {
    c.AddEvent(Side::kCandidate, Event("W1", "U1", "R1", at));
  }
  c.AddEvent(Side::kCandidate, Event("W1", "U1", "R1", kFrom + 24 * kHour + kHour / 2));
  c.AddEvent(Side::kCandidate, Event("W2", "U1", "R1", kFrom + kHour));
  const ComparisonResult r = c.Result(10);
  EXPECT_EQ(r.fatigue[0], Fatigue{});
  const Fatigue& f = r.fatigue[1];
  EXPECT_EQ(f.worker_days, 3u);
  EXPECT_EQ(f.alerts, 5u);
  EXPECT_DOUBLE_EQ(f.mean, 5.0 / 3);
  EXPECT_EQ(f.p95, 3u);
  EXPECT_EQ(f.max, 3u);
}

TEST(ComparisonTest, P95IsTheNearestRank) {
  Comparison c({.from_ms = kFrom, .to_ms = kFrom + 100 * kDay, .utc_offset_ms = 0});
  // 20 worker-days: 19 with one alert, one with 7. The 95th percentile of 20 values is the 19th: 1.
  for (int d = 0; d < 20; ++d) {
    const int n = d == 0 ? 7 : 1;
    for (int i = 0; i < n; ++i) c.AddEvent(Side::kBaseline, Event("W", "U", "R1", kFrom + d * kDay + i));
  }
  EXPECT_EQ(c.Result(0).fatigue[0].p95, 1u);
  c.AddEvent(Side::kBaseline, Event("W", "U", "R1", kFrom + 20 * kDay));  // 21 values: rank 20 is still 1
  EXPECT_EQ(c.Result(0).fatigue[0].p95, 1u);
  for (int i = 0; i < 7; ++i) c.AddEvent(Side::kBaseline, Event("W", "U", "R1", kFrom + 21 * kDay + i));
  EXPECT_EQ(c.Result(0).fatigue[0].p95, 7u) << "22 values: rank 21 is the first 7";
}

TEST(ComparisonTest, ReferralsByRuleAndUrgency) {
  Comparison c = TwoWeeks();
  c.AddReferral(Side::kCandidate, {"r1", "W1", "U1", "R1_CRITICAL_BP", "REFERRAL_URGENT", kFrom});
  c.AddReferral(Side::kCandidate, {"r0", "W1", "U1", "R1_CRITICAL_BP", "REFERRAL_URGENT", kFrom - 1});
  c.AddReferral(Side::kBaseline, {"r2", "W2", "U1", "R2_SUSTAINED_HYPERTENSION", "REFERRAL_ROUTINE", kFrom});
  const ComparisonResult r = c.Result(10);
  EXPECT_EQ(r.referrals_total, (Pair{1, 1}));
  ASSERT_EQ(r.referrals.size(), 2u);
  EXPECT_EQ(r.referrals[0].rule, "R1_CRITICAL_BP");
  EXPECT_EQ(r.referrals[0].referrals, (Pair{0, 1}));
}

TEST(ComparisonTest, WeeksInCountsAShortLastWeek) {
  EXPECT_EQ(WeeksIn({.from_ms = 0, .to_ms = 7 * kDay}), 1);
  EXPECT_EQ(WeeksIn({.from_ms = 0, .to_ms = 7 * kDay + 1}), 2);
  EXPECT_EQ(WeeksIn({.from_ms = 0, .to_ms = 0}), 0);
}

}  // namespace
}  // namespace alertd::backtest
