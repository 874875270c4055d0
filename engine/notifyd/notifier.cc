// The delivery loop of alertd-notify: consume, route, send, record, commit (see notifier.h).
#include "engine/notifyd/notifier.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "engine/kafka/codec.h"
#include "engine/notify/delivery.h"
#include "engine/notify/routing.h"
#include "engine/notifyd/deliveries_log.h"
#include "engine/notifyd/message.h"
#include "engine/notifyd/open_alerts.h"
#include "engine/notifyd/partition_book.h"
#include "engine/tool/kafka_client.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A record on its way to the broker, and what its acknowledgement settles.
struct Pending {
  std::string topic;
  int32_t partition = 0;
  std::string key;
  std::string value;
  uint64_t generation = 0;              // the partition's assignment it belongs to
  int64_t settles = -1;                 // escalation offset it settles; -1: none
  std::optional<pb::Delivery> outcome;  // set for deliveries records
};

class Notifier : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb {
 public:
  Notifier(const NotifierOptions& options, const notify::NotifyConfig& config,
           const notify::MessageTemplates& templates, NotifyMetrics& metrics)
      : options_(options),
        config_(config),
        metrics_(metrics),
        context_{&config, &templates, options.links},
        scheduler_(options.scheduler),
        open_alerts_(options.alertmanager_repost_ms),
        random_(std::random_device{}()) {}

  absl::Status Run(const std::atomic<bool>& stop, std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;
  void dr_cb(RdKafka::Message& message) override;

 private:
  struct Owned {
    uint64_t generation = 0;
    PartitionBook book;
    int64_t committed = -1;
  };

  absl::Status Open();
  void Assign(const std::vector<RdKafka::TopicPartition*>& partitions);
  void Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  void Handle(RdKafka::Message& message);
  void DeadLetter(RdKafka::Message& message, Owned& owned, std::string why);
  void StartSends();
  void FinishSends(int wait_ms);
  void Record(const DeliveryJob& job, pb::DeliveryStatus status, int64_t settles);
  void Produce(std::unique_ptr<Pending> pending);
  void Commit(bool sync, const std::vector<int32_t>& only = {});
  void UpdateGauges();
  void Repost();
  bool Reposting(const std::string& channel) const;
  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

  const NotifierOptions& options_;
  const notify::NotifyConfig& config_;
  NotifyMetrics& metrics_;
  MessageContext context_;
  DeliveryScheduler scheduler_;
  OpenAlerts open_alerts_;
  std::mt19937_64 random_;
  tool::KafkaEventLog events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::KafkaConsumer> restore_reader_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<HttpSender> sender_;
  std::map<int32_t, Owned> owned_;
  std::map<uint64_t, std::string> sending_;      // job id -> channel, while its send is in flight
  std::map<uint64_t, std::string> reposting_;    // re-post id -> channel, while in flight
  uint64_t next_repost_id_ = uint64_t{1} << 62;  // apart from the scheduler's job ids
  std::vector<std::unique_ptr<Pending>> to_retry_;
  absl::Status failure_;  // set in a callback when the loop cannot go on
  uint64_t next_generation_ = 1;
  bool paused_ = false;
};

absl::Status Notifier::Open() {
  kafka::Properties consumer_extra = options_.consumer_properties;
  consumer_extra.try_emplace("partition.assignment.strategy", "cooperative-sticky");
  auto consumer = kafka::NewConsumer(options_.bootstrap, options_.group, consumer_extra, this, &events_);
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  kafka::Properties reader_extra = options_.consumer_properties;
  reader_extra["enable.partition.eof"] = "true";
  auto reader = kafka::NewConsumer(options_.bootstrap, options_.group + "-restore", reader_extra, nullptr, &events_);
  if (!reader.ok()) return reader.status();
  restore_reader_ = std::move(*reader);
  auto producer = kafka::NewProducer(options_.bootstrap, options_.producer_properties, this, &events_);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  auto sender = HttpSender::Create(options_.timeouts);
  if (!sender.ok()) return sender.status();
  sender_ = std::move(*sender);

  // deliveries partition p must exist for every escalations partition p, or outcomes had no home.
  const std::map<std::string, int> counts =
      tool::TopicPartitionCounts(*producer_, options_.bootstrap,
                                 {options_.escalations_topic, options_.deliveries_topic}, std::chrono::seconds(10));
  const auto escalations = counts.find(options_.escalations_topic);
  const auto deliveries = counts.find(options_.deliveries_topic);
  if (escalations == counts.end()) {
    return absl::FailedPreconditionError("--escalations-topic " + options_.escalations_topic + " does not exist");
  }
  if (deliveries == counts.end() || deliveries->second != escalations->second) {
    return absl::FailedPreconditionError(
        "--deliveries-topic " + options_.deliveries_topic + " must exist with the partition count of " +
        options_.escalations_topic + " (" + std::to_string(escalations->second) + "), found " +
        (deliveries == counts.end() ? std::string("no topic") : std::to_string(deliveries->second)));
  }
  const RdKafka::ErrorCode err = consumer_->subscribe({options_.escalations_topic});
  if (err != RdKafka::ERR_NO_ERROR) return absl::UnavailableError("subscribe: " + RdKafka::err2str(err));
  return absl::OkStatus();
}

void Notifier::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
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

void Notifier::Assign(const std::vector<RdKafka::TopicPartition*>& partitions) {
  const int64_t now = NowMs();
  for (const RdKafka::TopicPartition* tp : partitions) {
    const int32_t p = tp->partition();
    Owned owned{next_generation_++, PartitionBook(options_.dedupe_horizon_ms), -1};
    int64_t records = 0;
    int64_t unreadable = 0;
    const auto started = std::chrono::steady_clock::now();
    const absl::Status restored = ReadPartition(
        *restore_reader_, options_.deliveries_topic, p, options_.restore_timeout_ms,
        [&](const pb::Delivery& record) {
          ++records;
          owned.book.Record(record);
          // An Alertmanager alert delivered: re-posted while its episode is open.
          if (record.status() == pb::DELIVERY_SENT && record.has_event()) {
            open_alerts_.Delivered(JobFromRecord(record, p, config_.language), now);
          }
        },
        &unreadable);
    if (!restored.ok()) {
      failure_ = restored;
      return;
    }
    owned.book.Evict(now);
    if (unreadable > 0) {
      spdlog::warn("{}[{}]: {} records did not parse and were skipped", options_.deliveries_topic, p, unreadable);
    }
    const std::vector<pb::Delivery> held = owned.book.Held();
    for (const pb::Delivery& record : held) {
      DeliveryJob job = JobFromRecord(record, p, config_.language);
      job.due_ms = record.held_until_ms();
      job.held = true;
      scheduler_.Add(std::move(job));
    }
    spdlog::info("{}[{}] assigned: restored {} delivery records in {:.2f} s ({} done keys, {} held)",
                 options_.escalations_topic, p, records,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 owned.book.done_keys(), held.size());
    owned_.insert_or_assign(p, std::move(owned));
  }
}

bool Notifier::Reposting(const std::string& channel) const {
  const notify::ChannelConfig* config = config_.FindChannel(channel);
  return options_.alertmanager_repost_ms > 0 && config != nullptr && config->kind == notify::ChannelKind::kAlertmanager;
}

void Notifier::Repost() {
  for (const RepostRequest& repost : RepostRequests(open_alerts_.Due(NowMs()), context_, NowMs())) {
    const uint64_t id = next_repost_id_++;
    reposting_[id] = repost.channel;
    sender_->Start(id, notify::ChannelKind::kAlertmanager, repost.request);
  }
}

void Notifier::Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  std::vector<int32_t> moving;
  for (const RdKafka::TopicPartition* tp : partitions) moving.push_back(tp->partition());
  if (!lost) {
    // Outcomes already decided reach the broker before the next owner reads them, so it sends nothing twice.
    producer_->flush(10000);
    Commit(/*sync=*/true, moving);
  }
  for (int32_t p : moving) {
    for (uint64_t id : scheduler_.DropPartition(p)) {
      sender_->Abort(id);
      sending_.erase(id);
    }
    owned_.erase(p);
    open_alerts_.DropPartition(p);
    metrics_.ClearConsumerLag(p);
    spdlog::info("{}[{}] {}", options_.escalations_topic, p, lost ? "lost" : "revoked");
  }
}

void Notifier::DeadLetter(RdKafka::Message& message, Owned& owned, std::string why) {
  kafka::RawRecord raw;
  raw.topic = options_.escalations_topic;
  raw.partition = message.partition();
  raw.offset = message.offset();
  if (message.key() != nullptr) raw.key = *message.key();
  raw.value = message.payload();
  raw.value_len = message.len();
  domain::Rejection rejection{domain::RejectReason::kUndecodable, std::move(why)};
  auto pending = std::make_unique<Pending>();
  pending->topic = options_.dead_letters_topic;
  pending->partition = RdKafka::Topic::PARTITION_UA;
  pending->key = std::string(raw.key.substr(0, kafka::kDeadLetterKeyBytes));
  pending->value = kafka::EncodeDeadLetter(raw, rejection, domain::ProcessingTime{NowMs()});
  pending->generation = owned.generation;
  pending->settles = message.offset();
  owned.book.Consumed(message.offset(), 1);
  metrics_.CountDeadLetter();
  spdlog::warn("{}[{}]@{}: dead-lettered: {}", options_.escalations_topic, message.partition(), message.offset(),
               rejection.message);
  Produce(std::move(pending));
}

void Notifier::Handle(RdKafka::Message& message) {
  const auto it = owned_.find(message.partition());
  if (it == owned_.end()) return;  // revoked while the message was on its way
  Owned& owned = it->second;
  pb::Escalation event;
  if (message.payload() == nullptr) return DeadLetter(message, owned, "a tombstone is not an escalation");
  if (message.len() > kafka::kMaxProfileBytes) {
    return DeadLetter(message, owned, "escalation of " + std::to_string(message.len()) + " bytes is too large");
  }
  if (!event.ParseFromArray(message.payload(), static_cast<int>(message.len()))) {
    return DeadLetter(message, owned, "not a healthgrid.v1.Escalation");
  }
  if (event.event_id().empty()) return DeadLetter(message, owned, "event_id is empty: nothing to deduplicate by");

  const int64_t now = NowMs();
  int pending = 0;
  for (notify::Delivery& delivery : notify::Route(event, config_, now)) {
    DeliveryJob job;
    job.partition = message.partition();
    job.key = notify::DeliveryKey(event.event_id(), delivery.recipient.id(), delivery.channel);
    job.channel = delivery.channel;
    job.event = event;
    job.recipient = std::move(delivery.recipient);
    job.language = delivery.language;
    if (!owned.book.Claim(job.key)) {
      metrics_.CountDelivery(job.channel, "duplicate");
      continue;
    }
    ++pending;
    if (delivery.held_until_ms > now) {
      job.due_ms = delivery.held_until_ms;
      job.held = true;
      Record(job, pb::DELIVERY_HELD, message.offset());
    } else {
      job.offset = message.offset();
    }
    scheduler_.Add(std::move(job));
  }
  owned.book.Consumed(message.offset(), pending);
}

void Notifier::StartSends() {
  const int64_t now = NowMs();
  for (const DeliveryJob* job : scheduler_.Start(now)) {
    absl::StatusOr<notify::HttpRequest> request = RequestFor(*job, context_, now);
    if (!request.ok()) {
      // It can never be built as it stands (the config or templates changed under a held
      // delivery): recorded as skipped with the reason, not retried.
      const uint64_t id = job->id;
      std::optional<DeliveryJob> done = scheduler_.Finish(id, /*ok=*/true, "", now, [] { return 0.0; });
      done->last_error = std::string(request.status().message());
      spdlog::warn("delivery {} skipped: {}", done->key, done->last_error);
      Record(*done, pb::DELIVERY_SKIPPED, done->offset);
      continue;
    }
    sending_[job->id] = job->channel;
    sender_->Start(job->id, config_.FindChannel(job->channel)->kind, *request);
  }
}

void Notifier::FinishSends(int wait_ms) {
  for (const SendResult& result : sender_->Poll(wait_ms)) {
    if (const auto repost = reposting_.find(result.id); repost != reposting_.end()) {
      metrics_.CountAttempt(repost->second, result.seconds);
      if (!result.status.ok()) {
        spdlog::warn("re-posting open alerts to {}: {}", repost->second, std::string(result.status.message()));
      }
      reposting_.erase(repost);
      continue;
    }
    const auto sent = sending_.find(result.id);
    if (sent == sending_.end()) continue;
    metrics_.CountAttempt(sent->second, result.seconds);
    sending_.erase(sent);
    std::optional<DeliveryJob> done = scheduler_.Finish(
        result.id, result.status.ok(), std::string(result.status.message()), NowMs(), [this] { return Uniform(); });
    if (!done) continue;  // to be tried again after its backoff
    if (!result.status.ok()) {
      spdlog::warn("delivery {} failed for good after {} attempts: {}", done->key, done->attempts, done->last_error);
    }
    Record(*done, result.status.ok() ? pb::DELIVERY_SENT : pb::DELIVERY_FAILED, done->offset);
  }
}

void Notifier::Record(const DeliveryJob& job, pb::DeliveryStatus status, int64_t settles) {
  const auto it = owned_.find(job.partition);
  if (it == owned_.end()) return;
  metrics_.CountDelivery(job.channel, OutcomeLabel(status));
  auto pending = std::make_unique<Pending>();
  pending->topic = options_.deliveries_topic;
  pending->partition = job.partition;
  pending->key = job.event.worker_id();
  pending->outcome = OutcomeRecord(job, status, NowMs());
  if (status == pb::DELIVERY_SENT && Reposting(job.channel)) {
    // The alert stays open in Alertmanager only while it is posted again: the record keeps what
    // to post, so the partition's next owner goes on doing it.
    *pending->outcome->mutable_event() = job.event;
    pending->outcome->set_language(std::string(notify::LanguageTag(job.language)));
    open_alerts_.Delivered(job, NowMs());
  }
  pending->value = pending->outcome->SerializeAsString();
  pending->generation = it->second.generation;
  pending->settles = settles;
  Produce(std::move(pending));
}

void Notifier::Produce(std::unique_ptr<Pending> pending) {
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

void Notifier::dr_cb(RdKafka::Message& message) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(message.msg_opaque()));
  if (message.err() != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("writing to {} failed ({}); trying again", pending->topic, message.errstr());
    to_retry_.push_back(std::move(pending));
    return;
  }
  for (auto& [p, owned] : owned_) {
    if (owned.generation != pending->generation) continue;
    if (pending->outcome) owned.book.Record(*pending->outcome);
    if (pending->settles >= 0) owned.book.Settle(pending->settles);
  }
}

void Notifier::Commit(bool sync, const std::vector<int32_t>& only) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto& [p, owned] : owned_) {
    if (!only.empty() && std::find(only.begin(), only.end(), p) == only.end()) continue;
    const std::optional<int64_t> position = owned.book.CommitPosition();
    if (!position || *position == owned.committed) continue;
    offsets.push_back(RdKafka::TopicPartition::create(options_.escalations_topic, p, *position));
    owned.committed = *position;
  }
  if (offsets.empty()) return;
  const RdKafka::ErrorCode err = sync ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("commit of {} offsets: {}", options_.escalations_topic, RdKafka::err2str(err));
    for (RdKafka::TopicPartition* tp : offsets) {
      if (const auto it = owned_.find(tp->partition()); it != owned_.end()) it->second.committed = -1;
    }
  }
  RdKafka::TopicPartition::destroy(offsets);
}

void Notifier::UpdateGauges() {
  for (const std::string& channel : scheduler_.Channels()) metrics_.SetQueued(channel, scheduler_.Queued(channel));
  metrics_.SetHeld(scheduler_.Held());
  std::vector<RdKafka::TopicPartition*> positions;
  for (const auto& [p, owned] : owned_) {
    positions.push_back(RdKafka::TopicPartition::create(options_.escalations_topic, p));
  }
  if (positions.empty()) return;
  if (consumer_->position(positions) == RdKafka::ERR_NO_ERROR) {
    for (const RdKafka::TopicPartition* tp : positions) {
      int64_t low = 0;
      int64_t high = 0;
      if (tp->offset() < 0 ||
          consumer_->get_watermark_offsets(options_.escalations_topic, tp->partition(), &low, &high) !=
              RdKafka::ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      metrics_.SetConsumerLag(tp->partition(), std::max<int64_t>(0, high - tp->offset()));
    }
  }
  RdKafka::TopicPartition::destroy(positions);
}

absl::Status Notifier::Run(const std::atomic<bool>& stop, std::atomic<bool>* ready,
                           std::atomic<int64_t>* heartbeat_ms) {
  if (absl::Status opened = Open(); !opened.ok()) return opened;
  auto last_commit = std::chrono::steady_clock::now();
  auto last_evict = last_commit;
  while (!stop.load() && failure_.ok() && !events_.fatal()) {
    heartbeat_ms->store(NowMs());
    // Bounded queues: a channel over its bound stops consumption until it drains.
    const bool full = scheduler_.Full();
    if (full != paused_) {
      std::vector<RdKafka::TopicPartition*> assignment;
      consumer_->assignment(assignment);
      (void)(full ? consumer_->pause(assignment) : consumer_->resume(assignment));  // retried next turn if it fails
      RdKafka::TopicPartition::destroy(assignment);
      paused_ = full;
      spdlog::info("consumption {}", full ? "paused: a channel's queue is full" : "resumed");
    }
    const bool busy = sender_->active() > 0;
    for (int i = 0; i < 500; ++i) {
      std::unique_ptr<RdKafka::Message> message(consumer_->consume(i == 0 && !busy ? 20 : 0));
      if (message->err() == RdKafka::ERR__TIMED_OUT) break;
      if (message->err() != RdKafka::ERR_NO_ERROR) {
        events_.Warn("consume: " + message->errstr());
        break;
      }
      Handle(*message);
      if (scheduler_.Full()) break;
    }
    ready->store(!owned_.empty());
    std::vector<std::unique_ptr<Pending>> retry = std::move(to_retry_);
    to_retry_.clear();
    for (auto& pending : retry) Produce(std::move(pending));
    producer_->poll(0);
    StartSends();
    FinishSends(busy ? 20 : 0);
    producer_->poll(0);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_commit >= std::chrono::milliseconds(options_.commit_interval_ms)) {
      Commit(/*sync=*/false);
      UpdateGauges();
      if (options_.alertmanager_repost_ms > 0) Repost();
      last_commit = now;
    }
    if (now - last_evict >= std::chrono::minutes(1)) {
      for (auto& [p, owned] : owned_) owned.book.Evict(NowMs());
      last_evict = now;
    }
  }
  // Sends in flight may finish and be recorded; nothing new starts.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
  while (sender_->active() > 0 && std::chrono::steady_clock::now() < deadline && failure_.ok()) {
    FinishSends(50);
    producer_->poll(0);
  }
  producer_->flush(10000);
  producer_->poll(0);
  Commit(/*sync=*/true);
  consumer_->close();
  if (!failure_.ok()) return failure_;
  if (events_.fatal()) return absl::AbortedError("fatal Kafka client error (see the log)");
  return absl::OkStatus();
}

}  // namespace

absl::Status RunNotifier(const NotifierOptions& options, const notify::NotifyConfig& config,
                         const notify::MessageTemplates& templates, NotifyMetrics& metrics,
                         const std::atomic<bool>& stop, std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms) {
  Notifier notifier(options, config, templates, metrics);
  return notifier.Run(stop, ready, heartbeat_ms);
}

}  // namespace alertd::notifyd
