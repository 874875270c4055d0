// PartitionTimers: each partition's deadlines in fire order, independent of the others.
#include "engine/app/partition_timers.h"

#include <gtest/gtest.h>

#include <vector>

namespace alertd::app {
namespace {

using domain::Rule;
using domain::Timer;

Timer T(int64_t at, int32_t partition, const char* worker, Rule rule = Rule::kR3SelfTestMissed,
        domain::TimerKind kind = domain::TimerKind::kSelfTestDue) {
  return {{at}, partition, {worker}, rule, kind};
}

std::vector<Timer> PopAll(PartitionTimers& timers, int32_t partition, int64_t at) {
  std::vector<Timer> out;
  while (auto t = timers.PopDue(partition, {at})) out.push_back(*t);
  return out;
}

TEST(PartitionTimersTest, DueTimersComeInFireOrderThenRuleKindAndWorker) {
  PartitionTimers timers;
  timers.Put(T(300, 0, "b"));
  timers.Put(T(100, 0, "z"));
  timers.Put(T(200, 0, "b", Rule::kR1CriticalBp, domain::TimerKind::kAckTimeout));
  timers.Put(T(200, 0, "a", Rule::kR3SelfTestMissed, domain::TimerKind::kAckTimeout));
  timers.Put(T(200, 0, "a", Rule::kR1CriticalBp, domain::TimerKind::kAckTimeout));
  timers.Put(T(150, 1, "other partition"));
  EXPECT_EQ(timers.size(), 6u);
  EXPECT_EQ(PopAll(timers, 0, 99), std::vector<Timer>{});
  EXPECT_EQ(PopAll(timers, 0, 200),
            (std::vector<Timer>{T(100, 0, "z"), T(200, 0, "a", Rule::kR1CriticalBp, domain::TimerKind::kAckTimeout),
                                T(200, 0, "b", Rule::kR1CriticalBp, domain::TimerKind::kAckTimeout),
                                T(200, 0, "a", Rule::kR3SelfTestMissed, domain::TimerKind::kAckTimeout)}));
  EXPECT_EQ(PopAll(timers, 1, 1000), std::vector<Timer>{T(150, 1, "other partition")});
  EXPECT_EQ(timers.size(), 1u);
}

TEST(PartitionTimersTest, EraseAndPutAgainAreIdempotent) {
  PartitionTimers timers;
  timers.Put(T(100, 0, "a"));
  timers.Put(T(100, 0, "a"));
  timers.Erase(T(100, 0, "missing"));
  timers.Erase(T(100, 7, "a"));  // a partition never seen
  EXPECT_EQ(timers.size(), 1u);
  timers.Erase(T(100, 0, "a"));
  EXPECT_FALSE(timers.PopDue(0, {1000}));
  timers.Put(T(100, 2, "a"));
  timers.Clear();
  EXPECT_EQ(timers.size(), 0u);
}

}  // namespace
}  // namespace alertd::app
