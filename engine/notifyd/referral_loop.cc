// The FHIR loop of alertd-notify: consume referrals, POST and produce Bundles, record, commit (see referral_loop.h).
#include "engine/notifyd/referral_loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include "engine/kafka/codec.h"
#include "engine/notifyd/deliveries_log.h"
#include "engine/notifyd/partition_book.h"
#include "engine/notifyd/referral_delivery.h"
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
  int64_t settles = -1;                 // referral offset it settles; -1: none
  std::optional<pb::Delivery> outcome;  // a referral-deliveries record: makes its key done
  // A Bundle on referrals-fhir: once acknowledged, this outcome is recorded (and settles instead).
  std::optional<pb::Delivery> then_record;
  int32_t then_partition = 0;
  std::string then_key;
};

// A POST waiting in the scheduler: what it sends and what its outcome names.
struct Post {
  int32_t partition = 0;
  pb::Referral referral;  // evidence and names stay in memory only, never in a log line
  notify::HttpRequest request;
};

class ReferralLoop : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb {
 public:
  ReferralLoop(const ReferralLoopOptions& options, NotifyMetrics& metrics)
      : options_(options), metrics_(metrics), scheduler_(options.scheduler), random_(std::random_device{}()) {}

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
  void DeadLetter(RdKafka::Message& message, Owned& owned, const std::string& why);
  void StartSends();
  void FinishSends(int wait_ms);
  void Record(int32_t partition, const pb::Delivery& outcome, const std::string& worker_id, int64_t settles);
  void Produce(std::unique_ptr<Pending> pending);
  void Commit(bool sync, const std::vector<int32_t>& only = {});
  void UpdateGauges();
  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(random_); }

  const ReferralLoopOptions& options_;
  NotifyMetrics& metrics_;
  DeliveryScheduler scheduler_;
  std::mt19937_64 random_;
  tool::KafkaEventLog events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::KafkaConsumer> restore_reader_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<HttpSender> sender_;
  std::map<int32_t, Owned> owned_;
  std::map<uint64_t, Post> posts_;  // scheduler job id -> its POST, until its outcome is decided
  std::vector<std::unique_ptr<Pending>> to_retry_;
  absl::Status failure_;
  uint64_t next_generation_ = 1;
  bool paused_ = false;
};

absl::Status ReferralLoop::Open() {
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

  std::vector<std::string> topics = {options_.referrals_topic, options_.referral_deliveries_topic};
  if (!options_.referrals_fhir_topic.empty()) topics.push_back(options_.referrals_fhir_topic);
  const std::map<std::string, int> counts =
      tool::TopicPartitionCounts(*producer_, options_.bootstrap, topics, std::chrono::seconds(10));
  const auto referrals = counts.find(options_.referrals_topic);
  const auto outcomes = counts.find(options_.referral_deliveries_topic);
  if (referrals == counts.end()) {
    return absl::FailedPreconditionError("--referrals-topic " + options_.referrals_topic + " does not exist");
  }
  if (outcomes == counts.end() || outcomes->second != referrals->second) {
    return absl::FailedPreconditionError(
        "--referral-deliveries-topic " + options_.referral_deliveries_topic +
        " must exist with the partition count of " + options_.referrals_topic + " (" +
        std::to_string(referrals->second) + "), found " +
        (outcomes == counts.end() ? std::string("no topic") : std::to_string(outcomes->second)));
  }
  if (!options_.referrals_fhir_topic.empty() && !counts.contains(options_.referrals_fhir_topic)) {
    return absl::FailedPreconditionError("--referrals-fhir-topic " + options_.referrals_fhir_topic +
                                         " does not exist");
  }
  const RdKafka::ErrorCode err = consumer_->subscribe({options_.referrals_topic});
  if (err != RdKafka::ERR_NO_ERROR) return absl::UnavailableError("subscribe: " + RdKafka::err2str(err));
  return absl::OkStatus();
}

void ReferralLoop::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
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

void ReferralLoop::Assign(const std::vector<RdKafka::TopicPartition*>& partitions) {
  for (const RdKafka::TopicPartition* tp : partitions) {
    const int32_t p = tp->partition();
    Owned owned{next_generation_++, PartitionBook(options_.dedupe_horizon_ms), -1};
    int64_t records = 0;
    int64_t unreadable = 0;
    const auto started = std::chrono::steady_clock::now();
    const absl::Status restored = ReadPartition(
        *restore_reader_, options_.referral_deliveries_topic, p, options_.restore_timeout_ms,
        [&](const pb::Delivery& record) {
          ++records;
          owned.book.Record(record);
        },
        &unreadable);
    if (!restored.ok()) {
      failure_ = restored;
      return;
    }
    owned.book.Evict(NowMs());
    if (unreadable > 0) {
      spdlog::warn("{}[{}]: {} records did not parse and were skipped", options_.referral_deliveries_topic, p,
                   unreadable);
    }
    spdlog::info("{}[{}] assigned: restored {} referral delivery records in {:.2f} s ({} done keys)",
                 options_.referrals_topic, p, records,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 owned.book.done_keys());
    owned_.insert_or_assign(p, std::move(owned));
  }
}

void ReferralLoop::Revoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  std::vector<int32_t> moving;
  for (const RdKafka::TopicPartition* tp : partitions) moving.push_back(tp->partition());
  if (!lost) {
    // Outcomes already decided reach the broker before the next owner reads them, so it sends nothing twice.
    producer_->flush(10000);
    Commit(/*sync=*/true, moving);
  }
  for (int32_t p : moving) {
    for (uint64_t id : scheduler_.DropPartition(p)) sender_->Abort(id);
    std::erase_if(posts_, [&](const auto& entry) { return entry.second.partition == p; });
    owned_.erase(p);
    spdlog::info("{}[{}] {}", options_.referrals_topic, p, lost ? "lost" : "revoked");
  }
}

void ReferralLoop::DeadLetter(RdKafka::Message& message, Owned& owned, const std::string& why) {
  kafka::RawRecord raw;
  raw.topic = options_.referrals_topic;
  raw.partition = message.partition();
  raw.offset = message.offset();
  if (message.key() != nullptr) raw.key = *message.key();
  raw.value = message.payload();
  raw.value_len = message.len();
  domain::Rejection rejection{domain::RejectReason::kUndecodable, why};
  auto pending = std::make_unique<Pending>();
  pending->topic = options_.dead_letters_topic;
  pending->partition = RdKafka::Topic::PARTITION_UA;
  pending->key = std::string(raw.key.substr(0, kafka::kDeadLetterKeyBytes));
  pending->value = kafka::EncodeDeadLetter(raw, rejection, domain::ProcessingTime{NowMs()});
  pending->generation = owned.generation;
  pending->settles = message.offset();
  owned.book.Consumed(message.offset(), 1);
  metrics_.CountDeadLetter();
  spdlog::warn("{}[{}]@{}: dead-lettered: {}", options_.referrals_topic, message.partition(), message.offset(), why);
  Produce(std::move(pending));
}

void ReferralLoop::Handle(RdKafka::Message& message) {
  const auto it = owned_.find(message.partition());
  if (it == owned_.end()) return;  // revoked while the message was on its way
  Owned& owned = it->second;
  absl::StatusOr<ReferralWork> work =
      ReadReferral(message.payload(), message.len(), options_.fhir, options_.bearer_token);
  if (!work.ok()) return DeadLetter(message, owned, std::string(work.status().message()));

  int pending = 0;
  const std::string& referral_id = work->referral.referral_id();
  if (!options_.fhir.base_url.empty()) {
    if (owned.book.Claim(ReferralDeliveryKey(referral_id, kFhirChannel))) {
      DeliveryJob job;
      job.partition = message.partition();
      job.offset = message.offset();
      job.key = ReferralDeliveryKey(referral_id, kFhirChannel);
      job.channel = kFhirChannel;
      job.due_ms = NowMs();
      const uint64_t id = scheduler_.Add(std::move(job));
      posts_.emplace(id, Post{message.partition(), work->referral, std::move(work->request)});
      ++pending;
    } else {
      metrics_.CountDelivery(kFhirChannel, "duplicate");
    }
  }
  if (!options_.referrals_fhir_topic.empty()) {
    if (owned.book.Claim(ReferralDeliveryKey(referral_id, kFhirTopicChannel))) {
      auto bundle = std::make_unique<Pending>();
      bundle->topic = options_.referrals_fhir_topic;
      bundle->partition = RdKafka::Topic::PARTITION_UA;
      bundle->key = referral_id;
      bundle->value = std::move(work->bundle);
      bundle->generation = owned.generation;
      bundle->then_record = ReferralOutcome(work->referral, kFhirTopicChannel, pb::DELIVERY_SENT, 1, "", NowMs());
      bundle->then_partition = message.partition();
      bundle->then_key = work->referral.worker_id();
      bundle->settles = message.offset();
      Produce(std::move(bundle));
      ++pending;
    } else {
      metrics_.CountDelivery(kFhirTopicChannel, "duplicate");
    }
  }
  owned.book.Consumed(message.offset(), pending);
}

void ReferralLoop::StartSends() {
  for (const DeliveryJob* job : scheduler_.Start(NowMs())) {
    const auto post = posts_.find(job->id);
    if (post == posts_.end()) continue;
    sender_->Start(job->id, notify::ChannelKind::kWebhook, post->second.request);
  }
}

void ReferralLoop::FinishSends(int wait_ms) {
  for (const SendResult& result : sender_->Poll(wait_ms)) {
    const auto post = posts_.find(result.id);
    if (post == posts_.end()) continue;
    metrics_.CountAttempt(kFhirChannel, result.seconds);
    const FhirVerdict verdict =
        result.status.ok() ? FhirVerdict::kAccepted : JudgeFhirAnswer(result.http_status);
    std::string error(result.status.message());
    if (verdict == FhirVerdict::kRefused) error = "the FHIR server refused the Bundle: " + error;
    std::optional<DeliveryJob> done = scheduler_.Finish(result.id, verdict == FhirVerdict::kAccepted, error, NowMs(),
                                                        [this] { return Uniform(); }, verdict == FhirVerdict::kRetry);
    if (!done) continue;  // to be tried again after its backoff
    const pb::DeliveryStatus status = verdict == FhirVerdict::kAccepted ? pb::DELIVERY_SENT : pb::DELIVERY_FAILED;
    if (status == pb::DELIVERY_FAILED) {
      spdlog::warn("referral {} to the FHIR server failed for good after {} attempts: {}",
                   post->second.referral.referral_id(), done->attempts, done->last_error);
    }
    metrics_.CountDelivery(kFhirChannel, OutcomeLabel(status));
    Record(done->partition,
           ReferralOutcome(post->second.referral, kFhirChannel, status, done->attempts, done->last_error, NowMs()),
           post->second.referral.worker_id(), done->offset);
    posts_.erase(post);
  }
}

void ReferralLoop::Record(int32_t partition, const pb::Delivery& outcome, const std::string& worker_id,
                          int64_t settles) {
  const auto it = owned_.find(partition);
  if (it == owned_.end()) return;
  auto pending = std::make_unique<Pending>();
  pending->topic = options_.referral_deliveries_topic;
  pending->partition = partition;
  pending->key = worker_id;
  pending->outcome = outcome;
  pending->value = outcome.SerializeAsString();
  pending->generation = it->second.generation;
  pending->settles = settles;
  Produce(std::move(pending));
}

void ReferralLoop::Produce(std::unique_ptr<Pending> pending) {
  Pending* raw = pending.get();
  const RdKafka::ErrorCode err =
      producer_->produce(raw->topic, raw->partition, RdKafka::Producer::RK_MSG_COPY, raw->value.data(),
                         raw->value.size(), raw->key.data(), raw->key.size(), 0, raw);
  if (err == RdKafka::ERR_NO_ERROR) {
    pending.release();  // dr_cb owns it now
    return;
  }
  // A full queue or a broker outage: kept and produced again; nothing it settles commits before.
  to_retry_.push_back(std::move(pending));
}

void ReferralLoop::dr_cb(RdKafka::Message& message) {
  std::unique_ptr<Pending> pending(static_cast<Pending*>(message.msg_opaque()));
  if (message.err() != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("writing to {} failed ({}); trying again", pending->topic, message.errstr());
    to_retry_.push_back(std::move(pending));
    return;
  }
  if (pending->then_record) {
    // The Bundle is on referrals-fhir: its outcome record settles the referral's offset once it is
    // on the broker too (a kill in between produces the Bundle again: its key, the referral id, dedupes it).
    metrics_.CountDelivery(kFhirTopicChannel, OutcomeLabel(pb::DELIVERY_SENT));
    const auto it = owned_.find(pending->then_partition);
    if (it == owned_.end() || it->second.generation != pending->generation) return;
    auto outcome = std::make_unique<Pending>();
    outcome->topic = options_.referral_deliveries_topic;
    outcome->partition = pending->then_partition;
    outcome->key = std::move(pending->then_key);
    outcome->outcome = std::move(pending->then_record);
    outcome->value = outcome->outcome->SerializeAsString();
    outcome->generation = pending->generation;
    outcome->settles = pending->settles;
    to_retry_.push_back(std::move(outcome));  // produced from the loop, not from inside this callback
    return;
  }
  for (auto& [p, owned] : owned_) {
    if (owned.generation != pending->generation) continue;
    if (pending->outcome) owned.book.Record(*pending->outcome);
    if (pending->settles >= 0) owned.book.Settle(pending->settles);
  }
}

void ReferralLoop::Commit(bool sync, const std::vector<int32_t>& only) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (auto& [p, owned] : owned_) {
    if (!only.empty() && std::find(only.begin(), only.end(), p) == only.end()) continue;
    const std::optional<int64_t> position = owned.book.CommitPosition();
    if (!position || *position == owned.committed) continue;
    offsets.push_back(RdKafka::TopicPartition::create(options_.referrals_topic, p, *position));
    owned.committed = *position;
  }
  if (offsets.empty()) return;
  const RdKafka::ErrorCode err = sync ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
  if (err != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("commit of {} offsets: {}", options_.referrals_topic, RdKafka::err2str(err));
    for (RdKafka::TopicPartition* tp : offsets) {
      if (const auto it = owned_.find(tp->partition()); it != owned_.end()) it->second.committed = -1;
    }
  }
  RdKafka::TopicPartition::destroy(offsets);
}

void ReferralLoop::UpdateGauges() {
  metrics_.SetQueued(kFhirChannel, scheduler_.Queued(kFhirChannel));
}

absl::Status ReferralLoop::Run(const std::atomic<bool>& stop, std::atomic<bool>* ready,
                               std::atomic<int64_t>* heartbeat_ms) {
  if (absl::Status opened = Open(); !opened.ok()) return opened;
  auto last_commit = std::chrono::steady_clock::now();
  auto last_evict = last_commit;
  while (!stop.load() && failure_.ok() && !events_.fatal()) {
    heartbeat_ms->store(NowMs());
    // A bounded queue: a clinic endpoint that is down stops consumption until it drains.
    const bool full = scheduler_.Full();
    if (full != paused_) {
      std::vector<RdKafka::TopicPartition*> assignment;
      consumer_->assignment(assignment);
      (void)(full ? consumer_->pause(assignment) : consumer_->resume(assignment));  // retried next turn if it fails
      RdKafka::TopicPartition::destroy(assignment);
      paused_ = full;
      spdlog::info("referral consumption {}", full ? "paused: the FHIR queue is full" : "resumed");
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
      last_commit = now;
    }
    if (now - last_evict >= std::chrono::minutes(1)) {
      for (auto& [p, owned] : owned_) owned.book.Evict(NowMs());
      last_evict = now;
    }
  }
  // POSTs in flight may finish and be recorded; nothing new starts.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
  while (sender_->active() > 0 && std::chrono::steady_clock::now() < deadline && failure_.ok()) {
    FinishSends(50);
    producer_->poll(0);
  }
  // Outcome records queued by delivery reports are produced before the final flush.
  for (int round = 0; round < 3 && failure_.ok(); ++round) {
    std::vector<std::unique_ptr<Pending>> retry = std::move(to_retry_);
    to_retry_.clear();
    for (auto& pending : retry) Produce(std::move(pending));
    producer_->flush(10000);
    producer_->poll(0);
  }
  Commit(/*sync=*/true);
  consumer_->close();
  if (!failure_.ok()) return failure_;
  if (events_.fatal()) return absl::AbortedError("fatal Kafka client error (see the log)");
  return absl::OkStatus();
}

}  // namespace

absl::Status RunReferralLoop(const ReferralLoopOptions& options, NotifyMetrics& metrics, const std::atomic<bool>& stop,
                             std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms) {
  ReferralLoop loop(options, metrics);
  return loop.Run(stop, ready, heartbeat_ms);
}

}  // namespace alertd::notifyd
