// The delivery loop of alertd-notify: consume, route, send, record, commit (see notifier.h).
#include "engine/notifyd/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "engine/kafka/codec.h"
#include "engine/notify/delivery.h"
#include "engine/notify/routing.h"
#include "engine/notifyd/deliveries_log.h"
#include "engine/notifyd/delivery_loop.h"
#include "engine/notifyd/message.h"
#include "engine/notifyd/open_alerts.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

LoopSetup SetupOf(const NotifierOptions& o) {
  LoopSetup s = CommonSetup(o);
  s.input_flag = "--escalations-topic";
  s.input_topic = o.escalations_topic;
  s.changelog_flag = "--deliveries-topic";
  s.changelog_topic = o.deliveries_topic;
  return s;
}

class Notifier : public DeliveryLoop {
 public:
  Notifier(const NotifierOptions& options, const notify::NotifyConfig& config,
           const notify::MessageTemplates& templates, NotifyMetrics& metrics)
      : DeliveryLoop(SetupOf(options), metrics),
        options_(options),
        config_(config),
        context_{&config, &templates, options.links},
        open_alerts_(options.alertmanager_repost_ms) {}

 private:
  void Handle(RdKafka::Message& message, Owned& owned) override;
  void StartSends() override;
  void FinishSends(int wait_ms) override;
  void Restored(int32_t partition, const pb::Delivery& record, int64_t now_ms) override;
  void AfterRestore(int32_t partition, Owned& owned) override;
  void Dropped(int32_t partition, const std::vector<uint64_t>& aborted) override;
  void OnInterval() override;
  void Record(const DeliveryJob& job, pb::DeliveryStatus status, int64_t settles);
  void UpdateGauges();
  void Repost();
  bool Reposting(const std::string& channel) const;

  const NotifierOptions& options_;
  const notify::NotifyConfig& config_;
  MessageContext context_;
  OpenAlerts open_alerts_;
  std::map<uint64_t, std::string> sending_;      // job id -> channel, while its send is in flight
  std::map<uint64_t, std::string> reposting_;    // re-post id -> channel, while in flight
  uint64_t next_repost_id_ = uint64_t{1} << 62;  // apart from the scheduler's job ids
};

void Notifier::Restored(int32_t partition, const pb::Delivery& record, int64_t now_ms) {
  // An Alertmanager alert delivered: re-posted while its episode is open.
  if (record.status() == pb::DELIVERY_SENT && record.has_event()) {
    open_alerts_.Delivered(JobFromRecord(record, partition, config_.language), now_ms);
  }
}

void Notifier::AfterRestore(int32_t partition, Owned& owned) {
  const std::vector<pb::Delivery> held = owned.book.Held();
  for (const pb::Delivery& record : held) {
    DeliveryJob job = JobFromRecord(record, partition, config_.language);
    job.due_ms = record.held_until_ms();
    job.held = true;
    scheduler_.Add(std::move(job));
  }
  if (!held.empty()) {
    spdlog::info("{}[{}]: {} held deliveries wait for quiet hours to end", options_.escalations_topic, partition,
                 held.size());
  }
}

bool Notifier::Reposting(const std::string& channel) const {
  const notify::ChannelConfig* config = config_.FindChannel(channel);
  return options_.alertmanager_repost_ms > 0 && config != nullptr && config->kind == notify::ChannelKind::kAlertmanager;
}

void Notifier::Repost() {
  for (const RepostRequest& repost : RepostRequests(open_alerts_.Due(WallClockMs()), context_, WallClockMs())) {
    const uint64_t id = next_repost_id_++;
    reposting_[id] = repost.channel;
    sender_->Start(id, notify::ChannelKind::kAlertmanager, repost.request);
  }
}

void Notifier::Dropped(int32_t partition, const std::vector<uint64_t>& aborted) {
  for (uint64_t id : aborted) sending_.erase(id);
  open_alerts_.DropPartition(partition);
  metrics_.ClearConsumerLag(partition);
}

void Notifier::Handle(RdKafka::Message& message, Owned& owned) {
  pb::Escalation event;
  if (message.payload() == nullptr) return DeadLetter(message, owned, "a tombstone is not an escalation");
  if (message.len() > kafka::kMaxProfileBytes) {
    return DeadLetter(message, owned, "escalation of " + std::to_string(message.len()) + " bytes is too large");
  }
  if (!event.ParseFromArray(message.payload(), static_cast<int>(message.len()))) {
    return DeadLetter(message, owned, "not a healthgrid.v1.Escalation");
  }
  if (event.event_id().empty()) return DeadLetter(message, owned, "event_id is empty: nothing to deduplicate by");

  const int64_t now = WallClockMs();
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
  const int64_t now = WallClockMs();
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
        result.id, result.status.ok(), std::string(result.status.message()), WallClockMs(), [this] { return Uniform(); });
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
  pending->outcome = OutcomeRecord(job, status, WallClockMs());
  if (status == pb::DELIVERY_SENT && Reposting(job.channel)) {
    // The alert stays open in Alertmanager only while it is posted again: the record keeps what
    // to post, so the partition's next owner goes on doing it.
    *pending->outcome->mutable_event() = job.event;
    pending->outcome->set_language(std::string(notify::LanguageTag(job.language)));
    open_alerts_.Delivered(job, WallClockMs());
  }
  pending->value = pending->outcome->SerializeAsString();
  pending->generation = it->second.generation;
  pending->settles = settles;
  Produce(std::move(pending));
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

void Notifier::OnInterval() {
  UpdateGauges();
  if (options_.alertmanager_repost_ms > 0) Repost();
}

}  // namespace

absl::Status RunNotifier(const NotifierOptions& options, const notify::NotifyConfig& config,
                         const notify::MessageTemplates& templates, NotifyMetrics& metrics,
                         const std::atomic<bool>& stop, std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms) {
  Notifier notifier(options, config, templates, metrics);
  return notifier.Run(stop, ready, heartbeat_ms);
}

}  // namespace alertd::notifyd
