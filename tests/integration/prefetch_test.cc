// The consumer's prefetch within the memory budget's share, on the real protocol: librdkafka checks its
// queue's bounds before a fetch, and a fetch lands whole, so the budget bounds what a fetch brings too.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "engine/app/memory_budget.h"
#include "engine/kafka/fetch_wake.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

constexpr int kPartitions = 16;
constexpr int kRecordsPerPartition = 6'000;

long RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string field;
  long kib = 0;
  while (status >> field) {
    if (field == "VmRSS:") {
      status >> kib;
      break;
    }
  }
  return kib * 1024;
}

rd_kafka_conf_t* Conf(const std::string& bootstrap, const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  std::map<std::string, std::string> all = properties;
  all["bootstrap.servers"] = bootstrap;
  for (const auto& [name, value] : all) {
    EXPECT_EQ(rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error), RD_KAFKA_CONF_OK)
        << name << ": " << error;
  }
  return conf;
}

// kRecordsPerPartition readings-sized records (90 bytes) in each partition, in one batch of ~0.6 MB
// each, as a backlog's are: a fetch bounded only per partition (1 MiB) brings them all at once.
void FillBacklog(const std::string& bootstrap) {
  char error[512];
  rd_kafka_t* producer = rd_kafka_new(
      RD_KAFKA_PRODUCER,
      Conf(bootstrap, {{"linger.ms", "60000"}, {"batch.num.messages", "100000"}, {"batch.size", "1000000"}}), error,
      sizeof error);
  ASSERT_NE(producer, nullptr) << error;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(producer, "readings", nullptr);
  std::string payload(90, 'r');
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    for (int i = 0; i < kRecordsPerPartition; ++i) {
      ASSERT_EQ(
          rd_kafka_produce(topic, partition, RD_KAFKA_MSG_F_COPY, payload.data(), payload.size(), nullptr, 0, nullptr),
          0)
          << rd_kafka_err2str(rd_kafka_last_error());
    }
    ASSERT_EQ(rd_kafka_flush(producer, 60'000), RD_KAFKA_RESP_ERR_NO_ERROR);  // the partition's batch, alone
  }
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(producer);
}

struct Filled {
  size_t queued = 0;  // records in the consumer's queue once it stopped growing
  long rss = 0;       // what they added to the process's RSS
};

// A consumer with `properties`, not yet assigned. nullptr after a failed expectation.
rd_kafka_t* NewConsumer(const std::string& bootstrap, const std::map<std::string, std::string>& properties) {
  std::map<std::string, std::string> all = properties;
  all["group.id"] = "prefetch";
  all["enable.auto.commit"] = "false";
  char error[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, Conf(bootstrap, all), error, sizeof error);
  EXPECT_NE(consumer, nullptr) << error;
  if (consumer != nullptr) rd_kafka_poll_set_consumer(consumer);
  return consumer;
}

// Every partition from the start.
void AssignAll(rd_kafka_t* consumer) {
  rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(kPartitions);
  for (int p = 0; p < kPartitions; ++p) {
    rd_kafka_topic_partition_list_add(partitions, "readings", p)->offset = 0;  // concrete: no offset lookup, every partition fetchable at once
  }
  EXPECT_EQ(rd_kafka_assign(consumer, partitions), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(partitions);
}

// A consumer with `properties` takes every partition from the start and is never polled: its queue
// fills to the bounds librdkafka keeps, and stops.
Filled FillQueue(const std::string& bootstrap, const std::map<std::string, std::string>& properties) {
  rd_kafka_t* consumer = NewConsumer(bootstrap, properties);
  if (consumer == nullptr) return {};
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  const long rss0 = RssBytes();
  AssignAll(consumer);
  // Stopped: the same length for 2 s (librdkafka retries a paused fetch within a second).
  size_t last = 0;
  auto steady_since = std::chrono::steady_clock::now();
  const auto deadline = steady_since + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline &&
         (last == 0 || std::chrono::steady_clock::now() - steady_since < std::chrono::seconds(2))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const size_t now = rd_kafka_queue_length(queue);
    if (now != last) steady_since = std::chrono::steady_clock::now();
    last = now;
  }
  const Filled filled{.queued = last, .rss = RssBytes() - rss0};
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return filled;
}

TEST(PrefetchTest, TheQueueStaysWithinTheBudgetsShareWhateverAFetchBrings) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), kPartitions, {"--topics", "readings"});
  ASSERT_FALSE(kafka.bootstrap().empty());
  FillBacklog(kafka.bootstrap());
  constexpr uint64_t kShare = 16 << 20;  // the prefetch of a --memory-budget of 80 MiB
  const Filled bounded = FillQueue(kafka.bootstrap(), app::PrefetchProperties(kShare));
  std::printf("the budget's properties: %zu records queued, %.1f MiB of RSS against a share of %.1f MiB\n",
              bounded.queued, bounded.rss / 1048576.0, kShare / 1048576.0);
  EXPECT_GT(bounded.queued, 1000u) << "the consumer fetched nothing";
  EXPECT_LT(bounded.queued, static_cast<size_t>(kPartitions * kRecordsPerPartition))
      << "the whole backlog is in the queue";
  EXPECT_LE(bounded.rss, static_cast<long>(kShare));
  // Without bounds on the fetch, the same bounds on the queue let one fetch bring the backlog.
  std::map<std::string, std::string> unbounded = app::PrefetchProperties(kShare);
  unbounded.erase("fetch.max.bytes");
  unbounded.erase("max.partition.fetch.bytes");
  const Filled whole = FillQueue(kafka.bootstrap(), unbounded);
  std::printf("without them: %zu records queued, %.1f MiB of RSS\n", whole.queued, whole.rss / 1048576.0);
  EXPECT_GT(whole.rss, static_cast<long>(kShare)) << "the test cannot tell a bounded fetch from an unbounded one";
}

struct Drained {
  int64_t records = 0;
  double longest_wait_s = 0;  // between two records
  uint64_t wakes = 0;
};

// Reads the whole backlog as fast as the consumer gives it, with a FetchWake or without.
Drained Drain(const std::string& bootstrap, const std::map<std::string, std::string>& properties, bool wake) {
  Drained drained;
  rd_kafka_t* consumer = NewConsumer(bootstrap, properties);
  if (consumer == nullptr) return drained;
  AssignAll(consumer);
  auto fetch_wake = wake ? std::make_unique<kafka::FetchWake>(consumer) : nullptr;
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  Clock::time_point last{};
  while (drained.records < kPartitions * kRecordsPerPartition && Clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 10);
    if (fetch_wake != nullptr) fetch_wake->AfterPoll(m);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const auto now = Clock::now();
      if (drained.records++ > 0) {
        drained.longest_wait_s = std::max(drained.longest_wait_s, std::chrono::duration<double>(now - last).count());
      }
      last = now;
    }
    rd_kafka_message_destroy(m);
  }
  if (fetch_wake != nullptr) drained.wakes = fetch_wake->wakes();
  fetch_wake.reset();  // its queue handle before the client
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return drained;
}

// librdkafka 2.0 stops fetching once the queue reaches its bound and looks again up to a second later;
// a consumer that empties its queue at once waits that second for every queue's worth, unless woken.
TEST(PrefetchTest, AConsumerThatEmptiesItsQueueIsNotLeftWaitingForTheNextFetch) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), kPartitions, {"--topics", "readings"});
  ASSERT_FALSE(kafka.bootstrap().empty());
  FillBacklog(kafka.bootstrap());
  // A fetch (1 MB, one ~0.6 MB batch of ~6,000 records per partition) fills a queue of 4,000 at once.
  const std::map<std::string, std::string> small_queue = {
      {"queued.min.messages", "4000"}, {"fetch.max.bytes", "1000000"}, {"max.partition.fetch.bytes", "1000000"}};
  const Drained woken = Drain(kafka.bootstrap(), small_queue, /*wake=*/true);
  std::printf("woken: %lld records, %llu wakes, the longest wait between two records %.3f s\n",
              static_cast<long long>(woken.records), static_cast<unsigned long long>(woken.wakes),
              woken.longest_wait_s);
  EXPECT_EQ(woken.records, kPartitions * kRecordsPerPartition);
  EXPECT_GT(woken.wakes, 0u);
  EXPECT_LT(woken.longest_wait_s, 0.4);
  const Drained plain = Drain(kafka.bootstrap(), small_queue, /*wake=*/false);
  std::printf("not woken: %lld records, the longest wait between two records %.3f s\n",
              static_cast<long long>(plain.records), plain.longest_wait_s);
  EXPECT_GT(plain.longest_wait_s, 0.4) << "the test cannot tell a woken consumer from one left waiting";
}

TEST(PrefetchTest, AnOperatorsMessageMaxAboveTheBudgetsFetchRaisesTheFetch) {
  EXPECT_EQ(app::BudgetedConsumerProperties(16 << 20, {{"message.max.bytes", "8000000"}}).at("fetch.max.bytes"),
            "8000000");
  // The operator's own fetch.max.bytes is left as given, for librdkafka to judge.
  EXPECT_EQ(
      app::BudgetedConsumerProperties(16 << 20, {{"message.max.bytes", "8000000"}, {"fetch.max.bytes", "2000000"}})
          .at("fetch.max.bytes"),
      "2000000");
  char error[512];
  rd_kafka_conf_t* conf = Conf("127.0.0.1:1", app::PrefetchProperties(16 << 20));
  rd_kafka_t* accepted = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  EXPECT_NE(accepted, nullptr) << "librdkafka refused the budget's properties: " << error;
  if (accepted != nullptr) rd_kafka_destroy(accepted);
}

}  // namespace
}  // namespace alertd::testing
