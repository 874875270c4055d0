// Outcome records of the deliveries topic and the restore read of one of its partitions.
#include "engine/notifyd/deliveries_log.h"

#include <chrono>
#include <memory>
#include <vector>

namespace alertd::notifyd {

namespace pb = healthgrid::v1;

pb::Delivery OutcomeRecord(const DeliveryJob& job, pb::DeliveryStatus status, int64_t now_ms) {
  pb::Delivery record;
  record.set_delivery_key(job.key);
  record.set_event_id(job.event.event_id());
  record.set_episode_id(job.event.episode_id());
  record.set_recipient_id(job.recipient.id());
  record.set_channel(job.channel);
  record.set_status(status);
  record.set_attempts(status == pb::DELIVERY_SKIPPED ? 0 : job.attempts);
  record.set_error(job.last_error);
  record.set_at_ms(now_ms);
  if (status == pb::DELIVERY_HELD) {
    record.set_held_until_ms(job.due_ms);
    *record.mutable_event() = job.event;
    record.set_language(std::string(notify::LanguageTag(job.language)));
  }
  return record;
}

DeliveryJob JobFromRecord(const pb::Delivery& record, int32_t partition, notify::Language fallback) {
  DeliveryJob job;
  job.partition = partition;
  job.key = record.delivery_key();
  job.channel = record.channel();
  job.event = record.event();
  job.language = notify::ParseLanguage(record.language()).value_or(fallback);
  job.recipient.set_id(record.recipient_id());
  for (const pb::Recipient& recipient : record.event().recipients()) {
    if (recipient.id() == record.recipient_id()) job.recipient = recipient;
  }
  return job;
}

std::string_view OutcomeLabel(pb::DeliveryStatus status) {
  switch (status) {
    case pb::DELIVERY_SENT:
      return "sent";
    case pb::DELIVERY_FAILED:
      return "failed";
    case pb::DELIVERY_HELD:
      return "held";
    case pb::DELIVERY_SKIPPED:
      return "skipped";
    default:
      return "unknown";
  }
}

absl::Status ReadPartition(RdKafka::KafkaConsumer& reader, const std::string& topic, int32_t partition, int timeout_ms,
                           const std::function<void(const pb::Delivery&)>& each, int64_t* unreadable) {
  int64_t low = 0;
  int64_t high = 0;
  RdKafka::ErrorCode err = reader.query_watermark_offsets(topic, partition, &low, &high, timeout_ms);
  if (err != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError("watermarks of " + topic + "[" + std::to_string(partition) +
                                  "]: " + RdKafka::err2str(err));
  }
  if (high <= low) return absl::OkStatus();
  std::vector<RdKafka::TopicPartition*> assignment = {RdKafka::TopicPartition::create(topic, partition, low)};
  err = reader.assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (err != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError("assign " + topic + "[" + std::to_string(partition) + "]: " + RdKafka::err2str(err));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int64_t next = low;
  while (next < high) {
    if (std::chrono::steady_clock::now() > deadline) {
      (void)reader.unassign();  // the error below is what matters; a failed unassign changes nothing
      return absl::UnavailableError("reading " + topic + "[" + std::to_string(partition) + "] stopped at offset " +
                                    std::to_string(next) + " of " + std::to_string(high));
    }
    std::unique_ptr<RdKafka::Message> message(reader.consume(100));
    if (message->err() == RdKafka::ERR__TIMED_OUT || message->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (message->err() != RdKafka::ERR_NO_ERROR) continue;  // transient; the deadline bounds the wait
    next = message->offset() + 1;
    pb::Delivery record;
    if (message->payload() == nullptr || !record.ParseFromArray(message->payload(), static_cast<int>(message->len()))) {
      ++*unreadable;
      continue;
    }
    each(record);
  }
  (void)reader.unassign();  // the next partition's assign replaces it anyway
  return absl::OkStatus();
}

}  // namespace alertd::notifyd
