// The output side (see outbox.h): produce, confirm, retry, park.
#include "engine/app/outbox.h"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <limits>
#include <utility>

#include "engine/app/kafka_error.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

// Output larger than this is parked at once instead of produced: below the 1,000,000-byte default
// of the broker's message.max.bytes and the producer's, with room for the record batch's overhead.
// With bounded input (codec.h) no escalation comes near it; it guards against what bounds miss.
constexpr std::size_t kMaxOutputBytes = 900 * 1000;

// A broker answer that no retry can change for this record: it is parked, not retried.
bool RefusedForGood(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

// How long a failed output waits before it is produced again. librdkafka has already retried it
// for message.timeout.ms when a delivery report says it failed; this spaces out the rest.
constexpr int64_t kRetryDeliveryAfterMs = 1000;

}  // namespace

Outbox::Outbox(Topics topics, CommitWindow& window, metrics::EngineMetrics& metrics, const domain::Clock& clock,
               LogLimiter& log_limiter)
    : topics_(std::move(topics)), window_(window), metrics_(metrics), clock_(clock), log_limiter_(log_limiter) {}

Outbox::~Outbox() = default;

absl::Status Outbox::Start(std::unique_ptr<RdKafka::Producer> producer) {
  producer_ = std::move(producer);
  std::string err;
  escalations_topic_.reset(RdKafka::Topic::create(producer_.get(), topics_.escalations, nullptr, err));
  dead_letters_topic_.reset(RdKafka::Topic::create(producer_.get(), topics_.dead_letters, nullptr, err));
  referrals_topic_.reset(RdKafka::Topic::create(producer_.get(), topics_.referrals, nullptr, err));
  if (!escalations_topic_ || !dead_letters_topic_ || !referrals_topic_) {
    return absl::InternalError("kafka output topic: " + err);
  }

  // Output committed by a previous run but not confirmed: send it again (consumers drop duplicates
  // by event id).
  absl::StatusOr<std::vector<state::OutboxEntry>> pending;
  absl::Status read = window_.Read([&](state::StateStore& store) {
    next_seq_ = store.NextOutboxSeq();
    auto parked = store.LoadParked(std::numeric_limits<std::size_t>::max());
    if (!parked.ok()) return parked.status();
    metrics_.SetParked(parked->size());
    if (!parked->empty()) {
      spdlog::warn("{} output records are parked (refused by the broker for good); `alertd parked --db DIR` lists "
                   "them",
                   parked->size());
    }
    pending = store.LoadOutbox();
    return pending.status();
  });
  if (!read.ok()) return read;
  if (!pending->empty()) spdlog::info("re-sending {} output records left in the outbox", pending->size());
  for (const auto& e : *pending) Produce(e);
  return absl::OkStatus();
}

void Outbox::Output(const std::string& topic, std::string key, std::string value, int32_t partition) {
  auto epoch = epochs_.find(partition);
  state::OutboxEntry entry{next_seq_++, topic, std::move(key), std::move(value), partition,
                           epoch == epochs_.end() ? 0 : epoch->second};
  if (entry.value.size() + entry.key.size() > kMaxOutputBytes) {
    return Park(entry, std::to_string(entry.value.size()) + " bytes, more than a broker accepts (" +
                           std::to_string(kMaxOutputBytes) + ")");
  }
  window_.PutOutput(std::move(entry));
}

void Outbox::Produce(const state::OutboxEntry& e) {
  RdKafka::Topic* topic = e.topic == topics_.escalations    ? escalations_topic_.get()
                          : e.topic == topics_.dead_letters ? dead_letters_topic_.get()
                          : e.topic == topics_.referrals    ? referrals_topic_.get()
                                                            : nullptr;
  std::unique_ptr<RdKafka::Topic> other;
  if (topic == nullptr) {
    // An outbox entry written under another topic configuration: deliver it where it was meant to go.
    std::string err;
    other.reset(RdKafka::Topic::create(producer_.get(), e.topic, nullptr, err));
    if (!other) return Park(e, "cannot create a producer handle for topic " + e.topic + ": " + err);
    topic = other.get();
  }
  unconfirmed_[e.id()] = e;
  const uint64_t token = next_token_++;
  tokens_[token] = e.id();
  void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(token));
  for (;;) {
    RdKafka::ErrorCode rc = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                               const_cast<char*>(e.value.data()), e.value.size(), &e.key, opaque);
    if (rc == RdKafka::ERR_NO_ERROR) return;
    if (rc == RdKafka::ERR__QUEUE_FULL) {
      // The token stays: the same call produces again.
      producer_->poll(50);  // back-pressure: let deliveries drain the local queue
      continue;
    }
    tokens_.erase(token);
    const std::string name = ErrorName(rc);
    metrics_.CountKafkaError("produce", name);
    if (RefusedForGood(rc)) return Park(e, "producer refused it: " + RdKafka::err2str(rc));
    metrics_.CountDeliveryFailure(e.topic);
    LogLimited(log_limiter_, spdlog::level::err, "produce " + name,
               "produce to {}: {}; kept in the outbox, retrying", e.topic, RdKafka::err2str(rc));
    failed_deliveries_.push_back({e.id(), SteadyMs() + kRetryDeliveryAfterMs});
    return;
  }
}

void Outbox::Resend(const std::vector<state::OutboxEntry>& entries) {
  std::size_t sent = 0;
  for (const state::OutboxEntry& e : entries) {
    if (unconfirmed_.count(e.id())) continue;
    Produce(e);
    ++sent;
  }
  if (sent > 0) spdlog::info("re-sending {} output records restored with partition {}", sent, entries.front().source_partition);
}

void Outbox::SetEpoch(int32_t partition, uint32_t epoch) {
  if (epoch == 0) {
    epochs_.erase(partition);
  } else {
    epochs_[partition] = epoch;
  }
}

void Outbox::OnDelivery(RdKafka::Message& m) {
  const auto token = tokens_.find(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m.msg_opaque())));
  if (token == tokens_.end()) return;
  const state::OutboxId id = token->second;
  tokens_.erase(token);
  const RdKafka::ErrorCode err = m.err();
  if (err == RdKafka::ERR_NO_ERROR) {
    if (unconfirmed_.erase(id) > 0) window_.DeleteOutput(id);
    return;
  }
  const std::string name = ErrorName(err);
  metrics_.CountKafkaError("delivery", name);
  auto it = unconfirmed_.find(id);
  if (it == unconfirmed_.end()) return;  // already confirmed or parked by an earlier report
  if (RefusedForGood(err)) return Park(it->second, "broker refused it: " + m.errstr());
  const std::string topic = m.topic_name();
  metrics_.CountDeliveryFailure(topic);
  LogLimited(log_limiter_, spdlog::level::warn, "delivery " + name,
             "delivery to {} failed: {}; kept in the outbox, retrying", topic, m.errstr());
  failed_deliveries_.push_back({id, SteadyMs() + kRetryDeliveryAfterMs});
}

void Outbox::RetryFailedDeliveries() {
  if (failed_deliveries_.empty()) return;
  const int64_t now = SteadyMs();
  std::vector<FailedDelivery> waiting;
  std::vector<state::OutboxId> due;
  for (const FailedDelivery& f : failed_deliveries_) (f.retry_at_ms <= now ? due.push_back(f.id) : waiting.push_back(f));
  failed_deliveries_.swap(waiting);
  for (const state::OutboxId& id : due) {
    auto it = unconfirmed_.find(id);
    if (it != unconfirmed_.end()) Produce(state::OutboxEntry(it->second));
  }
}

void Outbox::Poll(int timeout_ms) { producer_->poll(timeout_ms); }

void Outbox::AwaitConfirmations(std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!unconfirmed_.empty() && std::chrono::steady_clock::now() < deadline) producer_->poll(50);
}

void Outbox::Park(const state::OutboxEntry& entry, const std::string& reason) {
  spdlog::error("output {}/{}/{} to {} (key {}, {} bytes) parked: {}; it will not be retried, `alertd parked` shows "
                "it",
                entry.source_partition, entry.epoch, entry.seq, entry.topic, entry.key.substr(0, 64), entry.value.size(), reason);
  metrics_.CountParked(entry.topic);
  window_.PutParked({entry, reason, clock_.Now().ms});
  unconfirmed_.erase(entry.id());
}

}  // namespace alertd::app
