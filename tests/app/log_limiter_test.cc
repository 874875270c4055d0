// The log limiter: the first line of a kind goes through, then one per interval, and the next one
// says how many were held back.
#include "engine/app/log_limiter.h"

#include <gtest/gtest.h>

namespace alertd::app {
namespace {

TEST(LogLimiterTest, FirstLineOfAKindGoesThroughThenOnePerIntervalWithTheCountOfTheRest) {
  LogLimiter limiter(5000);
  EXPECT_EQ(limiter.Admit("delivery MSG_SIZE_TOO_LARGE", 1000), 0u);
  for (int64_t t = 1001; t < 6000; t += 10) EXPECT_FALSE(limiter.Admit("delivery MSG_SIZE_TOO_LARGE", t)) << t;
  // 4,999 ms after the last line: still held; at 5,000 ms: through, with the 500 it stood for.
  EXPECT_FALSE(limiter.Admit("delivery MSG_SIZE_TOO_LARGE", 5999));
  EXPECT_EQ(limiter.Admit("delivery MSG_SIZE_TOO_LARGE", 6000), 501u);
  EXPECT_EQ(limiter.Admit("delivery MSG_SIZE_TOO_LARGE", 11000), 0u);
}

TEST(LogLimiterTest, KindsAreCountedApart) {
  LogLimiter limiter(5000);
  EXPECT_EQ(limiter.Admit("consume _TRANSPORT", 0), 0u);
  EXPECT_EQ(limiter.Admit("produce _MSG_TIMED_OUT", 1), 0u);
  EXPECT_FALSE(limiter.Admit("consume _TRANSPORT", 2));
  EXPECT_EQ(limiter.Admit("produce _MSG_TIMED_OUT", 5001), 0u);
  EXPECT_EQ(limiter.Admit("consume _TRANSPORT", 5002), 1u);
}

TEST(LogLimiterTest, SuffixSaysHowManyLinesALineStandsFor) {
  EXPECT_EQ(LogLimiter::Suffix(0), "");
  EXPECT_EQ(LogLimiter::Suffix(81589), " (81589 more like it since the last line)");
}

}  // namespace
}  // namespace alertd::app
