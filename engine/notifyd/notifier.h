// alertd-notify's delivery loop: escalations in, messages out, outcomes on `deliveries`, commits.
//
// Shaped like a Kafka Streams task whose changelog is `deliveries`: on assignment of escalations
// partition p it reads deliveries[p] to its end (done keys, held deliveries), then consumes p from
// its committed offset. Each event is routed (notify::Route), each delivery not done before is
// queued per channel and sent by the async HTTP sender; every outcome is written to deliveries[p],
// and an escalation offset is committed only once every delivery it made has an outcome the broker
// acknowledged. Records that do not parse go to the dead-letters topic and are committed past.
// One thread runs Run(); healthy() and ready() may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/kafka/clients.h"
#include "engine/notify/notify_config.h"
#include "engine/notify/templates.h"
#include "engine/notifyd/delivery_scheduler.h"
#include "engine/notifyd/http_sender.h"
#include "engine/notifyd/message.h"
#include "engine/notifyd/notify_metrics.h"

namespace alertd::notifyd {

struct NotifierOptions {
  std::string bootstrap;
  kafka::Properties consumer_properties;  // client.id, the user's -X properties
  kafka::Properties producer_properties;
  std::string group = "alertd-notify";
  std::string escalations_topic = "escalations";
  std::string deliveries_topic = "deliveries";
  std::string dead_letters_topic = "dead-letters";
  LinkSettings links;  // where messages link to, and the key that signs the links
  SchedulerOptions scheduler;
  SendTimeouts timeouts;
  int64_t dedupe_horizon_ms = int64_t{7} * 24 * 3600 * 1000;  // a duplicate later than this is sent again
  int commit_interval_ms = 1000;
  int restore_timeout_ms = 60000;  // reading one deliveries partition to its end
  int shutdown_grace_ms = 12000;   // sends in flight at SIGTERM may finish and be recorded
  // Open episodes' Alertmanager alerts are posted again this often (well within Alertmanager's
  // resolve_timeout, 5 min by default); 0: never.
  int64_t alertmanager_repost_ms = 60000;
};

// Runs the loop until `stop`; an error is returned when it cannot go on (a fatal Kafka error, a
// topic that does not exist, a restore that cannot finish).
[[nodiscard]] absl::Status RunNotifier(const NotifierOptions& options, const notify::NotifyConfig& config,
                                       const notify::MessageTemplates& templates, NotifyMetrics& metrics,
                                       const std::atomic<bool>& stop, std::atomic<bool>* ready,
                                       std::atomic<int64_t>* heartbeat_ms);

}  // namespace alertd::notifyd
