// The Kafka task both of alertd-notify's loops are: an input topic consumed in a group, a changelog
// topic co-partitioned with it, sends through the scheduler, commits only past settled offsets.
//
// Shaped like a Kafka Streams task: on assignment of input partition p it reads changelog[p] to its
// end into p's PartitionBook (done keys), then consumes p from its committed offset. What a record
// asks for is up to the loop (Handle); each outcome goes to changelog[p], and an input offset is
// committed only once everything it made is on the broker, so a kill -9 loses nothing. Records that
// do not parse go to the dead-letters topic and are committed past. The escalation loop
// (notifier.cc) and the FHIR referral loop (referral_loop.cc) derive from it. One thread runs Run().
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/kafka/clients.h"
#include "engine/notifyd/delivery_scheduler.h"
#include "engine/notifyd/http_sender.h"
#include "engine/notifyd/notify_metrics.h"
#include "engine/notifyd/partition_book.h"
#include "engine/tool/kafka_client.h"
#include "health.pb.h"

namespace alertd::notifyd {

int64_t WallClockMs();

// A record on its way to the broker, and what its acknowledgement settles.
struct Pending {
  std::string topic;
  int32_t partition = 0;
  std::string key;
  std::string value;
  uint64_t generation = 0;                          // the input partition's assignment it belongs to
  int64_t settles = -1;                             // input offset it settles; -1: none
  std::optional<healthgrid::v1::Delivery> outcome;  // a changelog record: makes its key done
  std::unique_ptr<Pending> then;                    // produced once this one is acknowledged
};

// The loop's topics and clients, and the flags that name them in errors.
struct LoopSetup {
  std::string bootstrap;
  kafka::Properties consumer_properties;
  kafka::Properties producer_properties;
  std::string group;
  std::string input_flag;  // "--escalations-topic"
  std::string input_topic;
  std::string changelog_flag;  // "--deliveries-topic"
  std::string changelog_topic;
  std::string dead_letters_topic;
  std::vector<std::pair<std::string, std::string>> also_needed;  // {flag, topic} that must exist
  SchedulerOptions scheduler;
  SendTimeouts timeouts;
  int64_t dedupe_horizon_ms = 0;
  int commit_interval_ms = 1000;
  int restore_timeout_ms = 60000;
  int shutdown_grace_ms = 12000;
};

// A LoopSetup with the fields every loop's options share (bootstrap, clients, group, dead letters,
// scheduler, timeouts, horizons) copied from `o`; the caller names the input and changelog topics.
template <typename Options>
LoopSetup CommonSetup(const Options& o) {
  LoopSetup s;
  s.bootstrap = o.bootstrap;
  s.consumer_properties = o.consumer_properties;
  s.producer_properties = o.producer_properties;
  s.group = o.group;
  s.dead_letters_topic = o.dead_letters_topic;
  s.scheduler = o.scheduler;
  s.timeouts = o.timeouts;
  s.dedupe_horizon_ms = o.dedupe_horizon_ms;
  s.commit_interval_ms = o.commit_interval_ms;
  s.restore_timeout_ms = o.restore_timeout_ms;
  s.shutdown_grace_ms = o.shutdown_grace_ms;
  return s;
}

class DeliveryLoop : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb {
 public:
  // Until `stop`; an error when the loop cannot go on (a fatal Kafka error, a missing topic, a restore
  // that cannot finish).
  absl::Status Run(const std::atomic<bool>& stop, std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;
  void dr_cb(RdKafka::Message& message) override;

 protected:
  struct Owned {
    uint64_t generation = 0;
    PartitionBook book;
    int64_t committed = -1;
  };

  DeliveryLoop(LoopSetup setup, NotifyMetrics& metrics);
  virtual ~DeliveryLoop() = default;

  // What the loop does with one input record of an owned partition.
  virtual void Handle(RdKafka::Message& message, Owned& owned) = 0;
  virtual void StartSends() = 0;
  virtual void FinishSends(int wait_ms) = 0;
  // Each changelog record read on assignment, after the book took it; and once p is restored.
  virtual void Restored(int32_t /*partition*/, const healthgrid::v1::Delivery& /*record*/, int64_t /*now_ms*/) {}
  virtual void AfterRestore(int32_t /*partition*/, Owned& /*owned*/) {}
  // Partition p moved away; `aborted` are the scheduler's job ids whose sends were abandoned.
  virtual void Dropped(int32_t /*partition*/, const std::vector<uint64_t>& /*aborted*/) {}
  // Every commit interval, after the commit.
  virtual void OnInterval() {}
  // An outcome record the broker acknowledged (its key is done now).
  virtual void Recorded(const healthgrid::v1::Delivery& /*outcome*/) {}

  void DeadLetter(RdKafka::Message& message, Owned& owned, const std::string& why);
  void Produce(std::unique_ptr<Pending> pending);
  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

  const LoopSetup setup_;
  NotifyMetrics& metrics_;
  DeliveryScheduler scheduler_;
  tool::KafkaEventLog events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::KafkaConsumer> restore_reader_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<HttpSender> sender_;
  std::map<int32_t, Owned> owned_;
  absl::Status failure_;  // set in a callback when the loop cannot go on

 private:
  // Creates the clients, checks that the changelog has the input's partition count and that the
  // also_needed topics exist, and subscribes to the input.
  absl::Status Open();
  void Assign(const std::vector<RdKafka::TopicPartition*>& partitions);
  void Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  void Commit(bool sync, const std::vector<int32_t>& only = {});
  void ProduceQueued();

  std::mt19937_64 random_;
  std::vector<std::unique_ptr<Pending>> to_retry_;
  uint64_t next_generation_ = 1;
  bool paused_ = false;
};

}  // namespace alertd::notifyd
