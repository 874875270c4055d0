// DeliveryKey is deterministic and injective; RetryDelay's full-jitter backoff is capped and bounded.
#include "engine/notify/delivery.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

namespace alertd::notify {
namespace {

TEST(DeliveryKey, IsTheSameForTheSameTriple) {
  EXPECT_EQ(DeliveryKey("ev-1", "HM0012", "grid-wecom"), "ev-1/HM0012/grid-wecom");
  EXPECT_EQ(DeliveryKey("ev-1", "HM0012", "grid-wecom"), DeliveryKey("ev-1", "HM0012", "grid-wecom"));
}

TEST(DeliveryKey, DistinctTriplesNeverShareAKeyEvenWhenIdsHoldTheSeparator) {
  const std::set<std::string> keys = {DeliveryKey("a/b", "c", "d"),        DeliveryKey("a", "b/c", "d"),
                                      DeliveryKey("a", "b", "c/d"),        DeliveryKey("a", "b", "c"),
                                      DeliveryKey("a%2Fb", "c", "d"),      DeliveryKey("", "a", "b/c"),
                                      DeliveryKey("a", "", "b/c"),         DeliveryKey("ev-1", "HM0012", "am"),
                                      DeliveryKey("ev-1", "HM0013", "am"), DeliveryKey("ev-2", "HM0012", "am")};
  EXPECT_EQ(keys.size(), 10u);
}

// A random source that always returns `u`.
std::function<double()> Fixed(double u) {
  return [u] { return u; };
}

struct RetryCase {
  uint32_t failed;
  double u;
  std::optional<int64_t> delay_ms;

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const RetryCase& c, std::ostream* os) { *os << "after " << c.failed << " failed, u=" << c.u; }
};

class RetryDelayTest : public ::testing::TestWithParam<RetryCase> {};

TEST_P(RetryDelayTest, FullJitterUnderADoublingCappedCeiling) {
  const RetryPolicy policy{/*base_delay_ms=*/1000, /*max_delay_ms=*/60000, /*max_attempts=*/10};
  EXPECT_EQ(RetryDelay(GetParam().failed, policy, Fixed(GetParam().u)), GetParam().delay_ms)
      << "failed=" << GetParam().failed << " u=" << GetParam().u;
}

constexpr double kAlmostOne = 0.9999999999;

INSTANTIATE_TEST_SUITE_P(Table, RetryDelayTest,
                         ::testing::Values(RetryCase{0, 0.5, std::nullopt},  // nothing failed yet: no retry to schedule
                                           RetryCase{1, 0.0, 0},             // full jitter reaches down to zero
                                           RetryCase{1, kAlmostOne, 1000},   // ... and up to the ceiling, base * 2^0
                                           RetryCase{1, 0.5, 500}, RetryCase{2, kAlmostOne, 2000},  // doubles
                                           RetryCase{3, kAlmostOne, 4000}, RetryCase{6, kAlmostOne, 32000},
                                           RetryCase{7, kAlmostOne, 60000},   // 64 s capped at 60 s
                                           RetryCase{7, 0.5, 30000},          // jitter spans the capped ceiling
                                           RetryCase{9, kAlmostOne, 60000},   // the last retry
                                           RetryCase{10, 0.5, std::nullopt},  // 10 sends made: give up
                                           RetryCase{4000000000u, 0.5, std::nullopt},
                                           RetryCase{2, 1.0, 2000},  // a faulty source at 1.0 stays within the ceiling
                                           RetryCase{2, 7.5, 2000}, RetryCase{2, -3.0, 0},
                                           RetryCase{2, std::numeric_limits<double>::quiet_NaN(), 0}),
                         [](const auto& tc) {
                           return "failed_" + std::to_string(tc.param.failed) + "_case_" + std::to_string(tc.index);
                         });

TEST(RetryDelay, HugeAttemptCountsAndBasesDoNotOverflowPastTheCap) {
  const RetryPolicy policy{std::numeric_limits<int64_t>::max() / 3, std::numeric_limits<int64_t>::max() / 2, 1000};
  for (uint32_t failed : {1u, 2u, 3u, 63u, 64u, 999u}) {
    const std::optional<int64_t> delay = RetryDelay(failed, policy, Fixed(kAlmostOne));
    ASSERT_TRUE(delay.has_value());
    EXPECT_GE(*delay, 0);
    EXPECT_LE(*delay, policy.max_delay_ms);
  }
}

TEST(RetryDelay, SpreadsRetriesOverTheWholeWindow) {
  // The injected source walks [0, 1): the delays must cover the window, not cluster at its end.
  const RetryPolicy policy{1000, 60000, 10};
  double u = 0.0;
  std::set<int64_t> tenths;
  for (int i = 0; i < 100; ++i, u += 0.01) tenths.insert(*RetryDelay(3, policy, Fixed(u)) / 400);  // ceiling 4000 ms
  EXPECT_EQ(tenths.size(), 10u);
}

}  // namespace
}  // namespace alertd::notify
