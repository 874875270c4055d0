// DeliveryScheduler: per-channel limits, retries with backoff, holds, bounds and revocation.
#include "engine/notifyd/delivery_scheduler.h"

#include <gtest/gtest.h>

namespace alertd::notifyd {
namespace {

DeliveryJob Job(const std::string& key, const std::string& channel, int32_t partition = 0, int64_t due_ms = 0) {
  DeliveryJob job;
  job.key = key;
  job.channel = channel;
  job.partition = partition;
  job.offset = 7;
  job.due_ms = due_ms;
  return job;
}

SchedulerOptions Options(int in_flight = 2, std::size_t queued = 3) {
  SchedulerOptions o;
  o.max_in_flight_per_channel = in_flight;
  o.max_queued_per_channel = queued;
  o.retry = {/*base_delay_ms=*/1000, /*max_delay_ms=*/60000, /*max_attempts=*/3};
  return o;
}

const auto kMaxJitter = [] { return 0.999999; };

TEST(DeliveryScheduler, ASlowChannelUsesItsOwnSlotsOnly) {
  DeliveryScheduler s(Options(/*in_flight=*/2));
  for (int i = 0; i < 4; ++i) s.Add(Job("slow" + std::to_string(i), "slow"));
  s.Add(Job("fast0", "fast"));
  const auto started = s.Start(0);
  ASSERT_EQ(started.size(), 3u) << "two of the slow channel, and the fast one's despite the slow backlog";
  EXPECT_EQ(s.Start(0).size(), 0u) << "the slow channel's slots are taken until a send finishes";
  EXPECT_EQ(s.InFlight(), 3u);
}

TEST(DeliveryScheduler, AFailedSendIsRetriedAfterItsBackoffThenFailsForGood) {
  DeliveryScheduler s(Options());
  const uint64_t id = s.Add(Job("k", "wecom"));
  ASSERT_EQ(s.Start(0).size(), 1u);
  EXPECT_EQ(s.Finish(id, false, "HTTP status 500", 0, kMaxJitter), std::nullopt);
  EXPECT_TRUE(s.Start(999).empty()) << "the first retry waits up to base_delay (jitter at its top)";
  ASSERT_EQ(s.Start(1000).size(), 1u);
  EXPECT_EQ(s.Finish(id, false, "timeout", 1000, kMaxJitter), std::nullopt);
  EXPECT_TRUE(s.Start(2999).empty()) << "the second waits up to twice that";
  ASSERT_EQ(s.Start(3000).size(), 1u);
  const std::optional<DeliveryJob> done = s.Finish(id, false, "HTTP status 502", 3000, kMaxJitter);
  ASSERT_TRUE(done.has_value()) << "three attempts used: failed for good";
  EXPECT_EQ(done->attempts, 3u);
  EXPECT_EQ(done->last_error, "HTTP status 502");
  EXPECT_EQ(s.Queued("wecom"), 0u);
}

TEST(DeliveryScheduler, AFailureThatIsNotRetryableEndsTheJobAtOnce) {
  DeliveryScheduler s(Options());
  const uint64_t id = s.Add(Job("k", "fhir"));
  ASSERT_EQ(s.Start(0).size(), 1u);
  const std::optional<DeliveryJob> done = s.Finish(id, false, "HTTP status 400", 0, kMaxJitter, /*retryable=*/false);
  ASSERT_TRUE(done.has_value()) << "a refusal is not tried again";
  EXPECT_EQ(done->attempts, 1u);
  EXPECT_EQ(done->last_error, "HTTP status 400");
  EXPECT_EQ(s.Queued("fhir"), 0u);
  EXPECT_EQ(s.Start(1000000).size(), 0u);
}

TEST(DeliveryScheduler, ASuccessAfterFailuresReturnsTheJobWithItsAttempts) {
  DeliveryScheduler s(Options());
  const uint64_t id = s.Add(Job("k", "wecom"));
  s.Start(0);
  ASSERT_EQ(s.Finish(id, false, "garbage", 0, [] { return 0.0; }), std::nullopt);
  ASSERT_EQ(s.Start(0).size(), 1u) << "zero jitter: the retry is due at once";
  const std::optional<DeliveryJob> done = s.Finish(id, true, "", 0, [] { return 0.0; });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->attempts, 2u);
  EXPECT_TRUE(done->last_error.empty());
  EXPECT_EQ(done->offset, 7);
}

TEST(DeliveryScheduler, HeldJobsWaitForTheirTimeAndDoNotCountTowardsTheBound) {
  DeliveryScheduler s(Options(/*in_flight=*/1, /*queued=*/1));
  for (int i = 0; i < 5; ++i) {
    DeliveryJob job = Job("held" + std::to_string(i), "wecom", 0, /*due_ms=*/5000);
    job.held = true;
    s.Add(std::move(job));
  }
  EXPECT_EQ(s.Held(), 5u);
  EXPECT_FALSE(s.Full());
  EXPECT_TRUE(s.Start(4999).empty());
  EXPECT_EQ(s.NextDue(), 5000);
  ASSERT_EQ(s.Start(5000).size(), 1u);
  EXPECT_EQ(s.Held(), 4u);
}

TEST(DeliveryScheduler, FullWhenOneChannelHoldsMoreThanItsBound) {
  DeliveryScheduler s(Options(/*in_flight=*/1, /*queued=*/2));
  s.Add(Job("a", "wecom"));
  s.Add(Job("b", "wecom"));
  EXPECT_FALSE(s.Full());
  s.Add(Job("c", "wecom"));
  EXPECT_TRUE(s.Full());
  const auto started = s.Start(0);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_TRUE(s.Full()) << "a send in flight still counts";
  ASSERT_TRUE(s.Finish(started[0]->id, true, "", 0, kMaxJitter).has_value());
  EXPECT_FALSE(s.Full());
}

TEST(DeliveryScheduler, DroppingAPartitionReturnsItsSendsInFlightAndKeepsTheOthers) {
  DeliveryScheduler s(Options(/*in_flight=*/4));
  const uint64_t moving_sent = s.Add(Job("a", "wecom", /*partition=*/1));
  s.Add(Job("b", "wecom", 1, /*due_ms=*/100));
  s.Add(Job("c", "wecom", 2));
  ASSERT_EQ(s.Start(0).size(), 2u);
  EXPECT_EQ(s.DropPartition(1), std::vector<uint64_t>{moving_sent});
  EXPECT_EQ(s.Finish(moving_sent, true, "", 0, kMaxJitter), std::nullopt) << "its answer is ignored";
  EXPECT_EQ(s.Queued("wecom"), 1u);
  EXPECT_TRUE(s.Start(100).empty()) << "the waiting job of partition 1 is gone";
}

}  // namespace
}  // namespace alertd::notifyd
