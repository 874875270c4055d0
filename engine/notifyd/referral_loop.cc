// The FHIR loop of alertd-notify: consume referrals, POST and produce Bundles, record, commit (see referral_loop.h).
#include "engine/notifyd/referral_loop.h"

#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/notifyd/deliveries_log.h"
#include "engine/notifyd/delivery_loop.h"
#include "engine/notifyd/referral_delivery.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

LoopSetup SetupOf(const ReferralLoopOptions& o) {
  LoopSetup s = CommonSetup(o);
  s.input_flag = "--referrals-topic";
  s.input_topic = o.referrals_topic;
  s.changelog_flag = "--referral-deliveries-topic";
  s.changelog_topic = o.referral_deliveries_topic;
  if (!o.referrals_fhir_topic.empty()) s.also_needed.emplace_back("--referrals-fhir-topic", o.referrals_fhir_topic);
  return s;
}

// A POST waiting in the scheduler: what it sends and what its outcome names.
struct Post {
  int32_t partition = 0;
  pb::Referral referral;  // evidence and names stay in memory only, never in a log line
  notify::HttpRequest request;
};

class ReferralLoop : public DeliveryLoop {
 public:
  ReferralLoop(const ReferralLoopOptions& options, NotifyMetrics& metrics)
      : DeliveryLoop(SetupOf(options), metrics), options_(options) {}

 private:
  void Handle(RdKafka::Message& message, Owned& owned) override;
  void StartSends() override;
  void FinishSends(int wait_ms) override;
  void Dropped(int32_t partition, const std::vector<uint64_t>& aborted) override;
  void OnInterval() override { metrics_.SetQueued(kFhirChannel, scheduler_.Queued(kFhirChannel)); }
  void Recorded(const pb::Delivery& outcome) override {
    // The POST's outcome is counted when decided, as the escalation loop does; the topic's once on the broker.
    if (outcome.channel() == kFhirTopicChannel) {
      metrics_.CountDelivery(kFhirTopicChannel, OutcomeLabel(outcome.status()));
    }
  }
  void Record(int32_t partition, const pb::Delivery& outcome, const std::string& worker_id, int64_t settles);

  const ReferralLoopOptions& options_;
  std::map<uint64_t, Post> posts_;  // scheduler job id -> its POST, until its outcome is decided
};

void ReferralLoop::Dropped(int32_t partition, const std::vector<uint64_t>& /*aborted*/) {
  std::erase_if(posts_, [&](const auto& entry) { return entry.second.partition == partition; });
}

void ReferralLoop::Handle(RdKafka::Message& message, Owned& owned) {
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
      job.due_ms = WallClockMs();
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
      // Once the Bundle is on the broker, its outcome record settles the offset (a kill in between
      // produces the Bundle again: its key, the referral id, lets readers drop the repeat).
      auto outcome = std::make_unique<Pending>();
      outcome->topic = options_.referral_deliveries_topic;
      outcome->partition = message.partition();
      outcome->key = work->referral.worker_id();
      outcome->outcome = ReferralOutcome(work->referral, kFhirTopicChannel, pb::DELIVERY_SENT, 1, "", WallClockMs());
      outcome->value = outcome->outcome->SerializeAsString();
      outcome->generation = owned.generation;
      outcome->settles = message.offset();
      bundle->then = std::move(outcome);
      Produce(std::move(bundle));
      ++pending;
    } else {
      metrics_.CountDelivery(kFhirTopicChannel, "duplicate");
    }
  }
  owned.book.Consumed(message.offset(), pending);
}

void ReferralLoop::StartSends() {
  for (const DeliveryJob* job : scheduler_.Start(WallClockMs())) {
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
    const FhirVerdict verdict = result.status.ok() ? FhirVerdict::kAccepted : JudgeFhirAnswer(result.http_status);
    std::string error(result.status.message());
    if (verdict == FhirVerdict::kRefused) error = "the FHIR server refused the Bundle: " + error;
    std::optional<DeliveryJob> done =
        scheduler_.Finish(result.id, verdict == FhirVerdict::kAccepted, error, WallClockMs(),
                          [this] { return Uniform(); }, /*retryable=*/verdict == FhirVerdict::kRetry);
    if (!done) continue;  // to be tried again after its backoff
    const pb::DeliveryStatus status = verdict == FhirVerdict::kAccepted ? pb::DELIVERY_SENT : pb::DELIVERY_FAILED;
    if (status == pb::DELIVERY_FAILED) {
      spdlog::warn("referral {} to the FHIR server failed for good after {} attempts: {}",
                   post->second.referral.referral_id(), done->attempts, done->last_error);
    }
    metrics_.CountDelivery(kFhirChannel, OutcomeLabel(status));
    Record(done->partition,
           ReferralOutcome(post->second.referral, kFhirChannel, status, done->attempts, done->last_error,
                           WallClockMs()),
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

}  // namespace

absl::Status RunReferralLoop(const ReferralLoopOptions& options, NotifyMetrics& metrics, const std::atomic<bool>& stop,
                             std::atomic<bool>* ready, std::atomic<int64_t>* heartbeat_ms) {
  ReferralLoop loop(options, metrics);
  return loop.Run(stop, ready, heartbeat_ms);
}

}  // namespace alertd::notifyd
