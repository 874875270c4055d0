// alertd-sim's Kafka side: the producer with its delivery tally, and the pacing of --rate.
#include "engine/cli/sim_producer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "engine/kafka/clients.h"
#include "engine/tool/stop_signal.h"

namespace alertd::cli {
namespace {

constexpr int kPollWhileQueueFullMs = 100;
constexpr int kFlushStepMs = 500;

}  // namespace

void DeliveryTally::dr_cb(RdKafka::Message& message) {
  if (message.err() == RdKafka::ERR_NO_ERROR) {
    ++delivered_;
    return;
  }
  ++failed_;
  if (failed_ <= kReportedFailures) {
    spdlog::error("delivery to {} failed: {}", message.topic_name(), message.errstr());
  } else if (failed_ == kReportedFailures + 1) {
    spdlog::error("more deliveries failed; only counting them from now on");
  }
}

SimProducer::SimProducer(const tool::KafkaClientOptions& kafka) {
  auto producer =
      kafka::NewProducer(kafka.bootstrap, tool::ClientProperties(kafka, "alertd-sim"), &deliveries_, &events_);
  if (!producer.ok()) throw std::runtime_error(std::string(producer.status().message()));
  producer_ = std::move(*producer);
}

bool SimProducer::Send(const std::string& topic, std::string_view key, const std::string& value,
                       int64_t timestamp_ms) {
  for (;;) {
    ThrowIfFatal();
    // librdkafka copies the payload (RK_MSG_COPY) and never writes through the pointer. The backfill
    // sends timestamp 0 (= now), not measured_at: a real broker with retention.ms of 7 days would
    // delete a week-old backfill as soon as it arrived. --scenario week sets the simulated moment
    // each record reached Kafka, for alertd --clock=stream (topics then need retention beyond it).
    const RdKafka::ErrorCode err =
        producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                           timestamp_ms, /*msg_opaque=*/nullptr);
    if (err == RdKafka::ERR_NO_ERROR) {
      producer_->poll(0);  // serve delivery reports as we go
      return true;
    }
    if (err != RdKafka::ERR__QUEUE_FULL) {
      throw std::runtime_error(fmt::format("produce to {}: {}", topic, RdKafka::err2str(err)));
    }
    // Backpressure: the local queue is full until the broker acknowledges some of it.
    if (tool::StopRequested()) return false;
    producer_->poll(kPollWhileQueueFullMs);
  }
}

void SimProducer::Drain(const std::function<void()>& on_tick) {
  while (producer_->outq_len() > 0) {
    ThrowIfFatal();
    producer_->flush(kFlushStepMs);
    on_tick();
  }
}

void SimProducer::ThrowIfFatal() {
  if (!events_.fatal()) return;
  std::string reason;
  const RdKafka::ErrorCode err = producer_->fatal_error(reason);
  throw std::runtime_error(fmt::format("Kafka producer failed fatally: {}: {}", RdKafka::err2str(err), reason));
}

bool Pacer::Wait(SimProducer& producer) {
  if (rate_ <= 0) return !tool::StopRequested();
  const auto due = start_ + std::chrono::duration_cast<SteadyClock::duration>(
                                std::chrono::duration<double>(static_cast<double>(sent_) / rate_));
  ++sent_;
  for (;;) {
    if (tool::StopRequested()) return false;
    const auto now = SteadyClock::now();
    // After a stall (planning a day, a full queue) forgive the lag rather than burst to catch up.
    if (now - due > std::chrono::seconds(1)) {
      start_ = now;
      sent_ = 1;
      return true;
    }
    // Under a millisecond early is close enough; poll() cannot sleep less anyway.
    if (due - now < std::chrono::milliseconds(1)) return true;
    producer.Poll(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(due - now),
                           std::chrono::milliseconds(200)));
  }
}

}  // namespace alertd::cli
