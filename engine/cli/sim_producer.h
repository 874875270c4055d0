// alertd-sim's Kafka side: the producer with its delivery tally, and the pacing of --rate.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/tool/kafka_client.h"

namespace alertd::cli {

using SteadyClock = std::chrono::steady_clock;

// Counts delivery outcomes. librdkafka calls it from poll()/flush(), i.e. on the main thread.
class DeliveryTally : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override;
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }

 private:
  static constexpr uint64_t kReportedFailures = 5;
  uint64_t delivered_ = 0;
  uint64_t failed_ = 0;
};

// alertd-sim's producer: records queued with backpressure, delivery counted, a fatal error thrown.
class SimProducer {
 public:
  // engine/kafka's producer settings, the engine's own: idempotent, linger.ms=1, and the Java
  // client's murmur2_random partitioner, so that every producer of these topics, in any language,
  // puts a worker on the same partition number and co-partitioning holds.
  explicit SimProducer(const tool::KafkaClientOptions& kafka);

  RdKafka::Producer& handle() { return *producer_; }
  const DeliveryTally& deliveries() const { return deliveries_; }

  // Queues one record. Returns false if a stop was requested while waiting for queue space.
  // `timestamp_ms` is the record's CreateTime; 0 means now.
  bool Send(const std::string& topic, std::string_view key, const std::string& value, int64_t timestamp_ms = 0);

  // Serves delivery reports for up to `timeout`, returning early when there are some. Used as the
  // pacing sleep, so waiting for the next send slot is never a busy loop.
  void Poll(std::chrono::milliseconds timeout) { producer_->poll(static_cast<int>(timeout.count())); }

  // Waits until every queued record is delivered or failed (message.timeout.ms bounds that).
  void Drain(const std::function<void()>& on_tick);

 private:
  void ThrowIfFatal();

  tool::KafkaEventLog events_;
  DeliveryTally deliveries_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

// Holds the send rate at --rate records per second; 0 means as fast as the producer takes them.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate) {}

  void Restart() {
    start_ = SteadyClock::now();
    sent_ = 0;
  }

  // Waits for the next slot, serving delivery reports meanwhile. False if a stop was requested.
  bool Wait(SimProducer& producer);

 private:
  double rate_;
  SteadyClock::time_point start_ = SteadyClock::now();
  uint64_t sent_ = 0;
};

}  // namespace alertd::cli
