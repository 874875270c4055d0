// The Kafka task of alertd-notify's loops: assignment and restore, dead letters, produce, commit (see delivery_loop.h).
#include "engine/notifyd/delivery_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "engine/kafka/codec.h"
#include "engine/notifyd/deliveries_log.h"

namespace alertd::notifyd {

namespace pb = healthgrid::v1;

int64_t WallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

DeliveryLoop::DeliveryLoop(LoopSetup setup, NotifyMetrics& metrics)
    : setup_(std::move(setup)), metrics_(metrics), scheduler_(setup_.scheduler), random_(std::random_device{}()) {}

absl::Status DeliveryLoop::Open() {
  kafka::Properties consumer_extra = setup_.consumer_properties;
  consumer_extra.try_emplace("partition.assignment.strategy", "cooperative-sticky");
  auto consumer = kafka::NewConsumer(setup_.bootstrap, setup_.group, consumer_extra, this, &events_);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  kafka::Properties reader_extra = setup_.consumer_properties;
  reader_extra["enable.partition.eof"] = "true";
  auto reader = kafka::NewConsumer(setup_.bootstrap, setup_.group + "-restore", reader_extra, nullptr, &events_);
  if (!reader.ok()) return reader.status();
  restore_reader_ = std::move(*reader);
  auto producer = kafka::NewProducer(setup_.bootstrap, setup_.producer_properties, this, &events_);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  auto sender = HttpSender::Create(setup_.timeouts);
  if (!sender.ok()) return sender.status();
  sender_ = std::move(*sender);

  // changelog partition p must exist for every input partition p, or outcomes had no home.
  std::vector<std::string> topics = {setup_.input_topic, setup_.changelog_topic};
  for (const auto& [flag, topic] : setup_.also_needed) topics.push_back(topic);
  const std::map<std::string, int> counts =
      tool::TopicPartitionCounts(*producer_, setup_.bootstrap, topics, std::chrono::seconds(10));
  const auto input = counts.find(setup_.input_topic);
  const auto changelog = counts.find(setup_.changelog_topic);
  if (input == counts.end()) {
    return absl::FailedPreconditionError(setup_.input_flag + " " + setup_.input_topic + " does not exist");
  }
  if (changelog == counts.end() || changelog->second != input->second) {
    return absl::FailedPreconditionError(
        setup_.changelog_flag + " " + setup_.changelog_topic + " must exist with the partition count of " +
        setup_.input_topic + " (" + std::to_string(input->second) + "), found " +
        (changelog == counts.end() ? std::string("no topic") : std::to_string(changelog->second)));
  }
  for (const auto& [flag, topic] : setup_.also_needed) {
    if (!counts.contains(topic)) return absl::FailedPreconditionError(flag + " " + topic + " does not exist");
  }
  const RdKafka::ErrorCode err = consumer_->subscribe({setup_.input_topic});
  if (err != RdKafka::ERR_NO_ERROR) return absl::UnavailableError("subscribe: " + RdKafka::err2str(err));
  return absl::OkStatus();
}

void DeliveryLoop::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    Assign(partitions);
    if (!failure_.ok()) return;
    RdKafka::Error* error = consumer->incremental_assign(partitions);
    if (error != nullptr) {
      failure_ = absl::UnavailableError("incremental assign: " + error->str());
      delete error;
      return;
    }
    if (paused_) consumer->pause(partitions);
  } else {
    Revoke(partitions, consumer->assignment_lost());
    RdKafka::Error* error = consumer->incremental_unassign(partitions);
    if (error != nullptr) {
      spdlog::warn("incremental unassign: {}", error->str());
      delete error;
    }
  }
}

void DeliveryLoop::Assign(const std::vector<RdKafka::TopicPartition*>& partitions) {
  const int64_t now = WallClockMs();
  for (const RdKafka::TopicPartition* tp : partitions) {
    const int32_t p = tp->partition();
    Owned owned{next_generation_++, PartitionBook(setup_.dedupe_horizon_ms), -1};
    int64_t records = 0;
    int64_t unreadable = 0;
    const auto started = std::chrono::steady_clock::now();
    const absl::Status restored = ReadPartition(
        *restore_reader_, setup_.changelog_topic, p, setup_.restore_timeout_ms,
        [&](const pb::Delivery& record) {
          ++records;
          owned.book.Record(record);
          Restored(p, record, now);
        },
        &unreadable);
    if (!restored.ok()) {
      failure_ = restored;
      return;
    }
    owned.book.Evict(now);
    if (unreadable > 0) {
      spdlog::warn("{}[{}]: {} records did not parse and were skipped", setup_.changelog_topic, p, unreadable);
    }
    AfterRestore(p, owned);
    spdlog::info("{}[{}] assigned: restored {} records of {} in {:.2f} s ({} done keys)", setup_.input_topic, p,
                 records, setup_.changelog_topic,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 owned.book.done_keys());
    owned_.insert_or_assign(p, std::move(owned));
  }
}

void DeliveryLoop::Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  std::vector<int32_t> moving;
  for (const RdKafka::TopicPartition* tp : partitions) moving.push_back(tp->partition());
  if (!lost) {
    // Outcomes already decided reach the broker before the next owner reads them, so it sends nothing twice.
    producer_->flush(10000);
    Commit(/*sync=*/true, moving);
  }
  for (int32_t p : moving) {
    const std::vector<uint64_t> aborted = scheduler_.DropPartition(p);
    for (uint64_t id : aborted) sender_->Abort(id);
    Dropped(p, aborted);
    owned_.erase(p);
    spdlog::info("{}[{}] {}", setup_.input_topic, p, lost ? "lost" : "revoked");
  }
}

void DeliveryLoop::DeadLetter(RdKafka::Message& message, Owned& owned, const std::string& why) {
  kafka::RawRecord raw;
  raw.topic = setup_.input_topic;
  raw.partition = message.partition();
  raw.offset = message.offset();
  if (message.key() != nullptr) raw.key = *message.key();
  raw.value = message.payload();
  raw.value_len = message.len();
  domain::Rejection rejection{domain::RejectReason::kUndecodable, why};
  auto pending = std::make_unique<Pending>();
  pending->topic = setup_.dead_letters_topic;
  pending->partition = RdKafka::Topic::PARTITION_UA;
  pending->key = std::string(raw.key.substr(0, kafka::kDeadLetterKeyBytes));
  pending->value = kafka::EncodeDeadLetter(raw, rejection, domain::ProcessingTime{WallClockMs()});
  pending->generation = owned.generation;
  pending->settles = message.offset();
  owned.book.Consumed(message.offset(), 1);
  metrics_.CountDeadLetter();
  spdlog::warn("{}[{}]@{}: dead-lettered: {}", setup_.input_topic, message.partition(), message.offset(), why);
  Produce(std::move(pending));
}

void DeliveryLoop::Produce(std::unique_ptr<Pending> pending) {
  Pending* raw = pending.get();
  const RdKafka::ErrorCode err =
      producer_->produce(raw->topic, raw->partition, RdKafka::Producer::RK_MSG_COPY, raw->value.data(),
                         raw->value.size(), raw->key.data(), raw->key.size(), 0, raw);
  if (err == RdKafka::ERR_NO_ERROR) {
    pending.release();  // dr_cb owns it now
    return;
  }
  // A full queue or a broker outage: the record is kept and produced again; nothing it settles commits before.
  to_retry_.push_back(std::move(pending));
}

void DeliveryLoop::ProduceQueued() {
  std::vector<std::unique_ptr<Pending>> queued = std::move(to_retry_);
  to_retry_.clear();
  for (auto& pending : queued) Produce(std::move(pending));
}

void DeliveryLoop::dr_cb(RdKafka::Message& message) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(message.msg_opaque()));
  if (message.err() != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("writing to {} failed ({}); trying again", pending->topic, message.errstr());
    to_retry_.push_back(std::move(pending));
    return;
  }
  if (pending->then) {
    // Produced from the loop, not from inside this callback; dropped if the partition moved away.
    const auto it = owned_.find(pending->then->partition);
    if (it != owned_.end() && it->second.generation == pending->then->generation) {
      to_retry_.push_back(std::move(pending->then));
    }
    return;
  }
  if (pending->outcome) Recorded(*pending->outcome);
  for (auto& [p, owned] : owned_) {
    if (owned.generation != pending->generation) continue;
    if (pending->outcome) owned.book.Record(*pending->outcome);
    if (pending->settles >= 0) owned.book.Settle(pending->settles);
  }
}

void DeliveryLoop::Commit(bool sync, const std::vector<int32_t>& only) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto& [p, owned] : owned_) {
    if (!only.empty() && std::find(only.begin(), only.end(), p) == only.end()) continue;
    const std::optional<int64_t> position = owned.book.CommitPosition();
    if (!position || *position == owned.committed) continue;
    offsets.push_back(RdKafka::TopicPartition::create(setup_.input_topic, p, *position));
    owned.committed = *position;
  }
  if (offsets.empty()) return;
  const RdKafka::ErrorCode err = sync ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("commit of {} offsets: {}", setup_.input_topic, RdKafka::err2str(err));
    for (RdKafka::TopicPartition* tp : offsets) {
      if (const auto it = owned_.find(tp->partition()); it != owned_.end()) it->second.committed = -1;
    }
  }
  RdKafka::TopicPartition::destroy(offsets);
}

absl::Status DeliveryLoop::Run(const std::atomic<bool>& stop, std::atomic<bool>* ready,
                               std::atomic<int64_t>* heartbeat_ms) {
  if (absl::Status opened = Open(); !opened.ok()) return opened;
  auto last_commit = std::chrono::steady_clock::now();
  auto last_evict = last_commit;
  while (!stop.load() && failure_.ok() && !events_.fatal()) {
    heartbeat_ms->store(WallClockMs());
    // Bounded queues: a channel over its bound stops consumption until it drains.
    const bool full = scheduler_.Full();
    if (full != paused_) {
      std::vector<RdKafka::TopicPartition*> assignment;
      consumer_->assignment(assignment);
      (void)(full ? consumer_->pause(assignment) : consumer_->resume(assignment));  // retried next turn if it fails
      RdKafka::TopicPartition::destroy(assignment);
      paused_ = full;
      spdlog::info("consumption of {} {}", setup_.input_topic, full ? "paused: a channel's queue is full" : "resumed");
    }
    const bool busy = sender_->active() > 0;
    for (int i = 0; i < 500; ++i) {
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(i == 0 && !busy ? 20 : 0));
      if (message->err() == RdKafka::ERR__TIMED_OUT) break;
      if (message->err() != RdKafka::ERR_NO_ERROR) {
        events_.Warn("consume: " + message->errstr());
        break;
      }
      const auto it = owned_.find(message->partition());
      if (it != owned_.end()) Handle(*message, it->second);  // else revoked while on its way
      if (scheduler_.Full()) break;
    }
    ready->store(!owned_.empty());
    ProduceQueued();
    producer_->poll(0);
    StartSends();
    FinishSends(busy ? 20 : 0);
    producer_->poll(0);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_commit >= std::chrono::milliseconds(setup_.commit_interval_ms)) {
      Commit(/*sync=*/false);
      OnInterval();
      last_commit = now;
    }
    if (now - last_evict >= std::chrono::minutes(1)) {
      for (auto& [p, owned] : owned_) owned.book.Evict(WallClockMs());
      last_evict = now;
    }
  }
  // Sends in flight may finish and be recorded; nothing new starts.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(setup_.shutdown_grace_ms);
  while (sender_->active() > 0 && std::chrono::steady_clock::now() < deadline && failure_.ok()) {
    FinishSends(50);
    producer_->poll(0);
  }
  // Records queued by delivery reports (a retry, a follow-up outcome) go out before the last commit.
  for (int round = 0; round < 3 && failure_.ok(); ++round) {
    ProduceQueued();
    producer_->flush(10000);
    producer_->poll(0);
  }
  Commit(/*sync=*/true);
  consumer_->close();
  if (!failure_.ok()) return failure_;
  if (events_.fatal()) return absl::AbortedError("fatal Kafka client error (see the log)");
  return absl::OkStatus();
}

}  // namespace alertd::notifyd
