// The `deliveries` topic, alertd-notify's changelog: writing an outcome and reading a partition back.
//
// Record: healthgrid.v1.Delivery (proto/health.proto), key = the escalation's worker id, partition =
// the escalation's partition, so partition p of both topics travel together. Not thread-safe.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/notifyd/delivery_scheduler.h"
#include "health.pb.h"

namespace alertd::notifyd {

// The outcome record of `job` with `status` at `now_ms`. A HELD record carries the event and the
// language, so a restart can send it when quiet hours end without the escalation's offset.
healthgrid::v1::Delivery OutcomeRecord(const DeliveryJob& job, healthgrid::v1::DeliveryStatus status, int64_t now_ms);

// The job a record stands for (a HELD one to send, an Alertmanager alert to re-post): its event,
// recipient (from the event, else the id alone) and language (`fallback` if the record has none).
DeliveryJob JobFromRecord(const healthgrid::v1::Delivery& record, int32_t partition, notify::Language fallback);

// "sent", "failed", "held", "skipped": the outcome label of the metrics.
std::string_view OutcomeLabel(healthgrid::v1::DeliveryStatus status);

// Every record of `topic` partition `partition` from its start to the end it has when called, each
// to `each` in offset order; records that do not parse are counted in `*unreadable` and skipped.
// `reader` is a consumer used by hand (assign, never subscribe or commit). Unavailable if the
// broker does not answer or the end is not reached within `timeout_ms`.
[[nodiscard]] absl::Status ReadPartition(RdKafka::KafkaConsumer& reader, const std::string& topic, int32_t partition,
                                         int timeout_ms,
                                         const std::function<void(const healthgrid::v1::Delivery&)>& each,
                                         int64_t* unreadable);

}  // namespace alertd::notifyd
