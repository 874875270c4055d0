// alertd-notify's FHIR loop: referrals in, transaction Bundles POSTed to the clinic's FHIR base
// and/or produced to referrals-fhir, outcomes on `referral-deliveries`, commits.
//
// A second loop of the same process beside the escalation loop (notifier.h), built from the same
// parts: its own consumer group (<group>-fhir) on `referrals`, a PartitionBook per partition
// restored from the same partition of `referral-deliveries` (its changelog, co-partitioned with
// `referrals`, records of the deliveries shape), the DeliveryScheduler's retries with backoff and
// jitter, the HttpSender, NotifyMetrics by channel and outcome, dead letters for records that do not
// parse or that fhir::ReferralBundle refuses, and a commit only past offsets whose outcomes the
// broker acknowledged. One thread runs it; it shares nothing mutable with the escalation loop but
// the (thread-safe) metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "engine/fhir/referral_bundle.h"
#include "engine/kafka/clients.h"
#include "engine/notifyd/delivery_scheduler.h"
#include "engine/notifyd/http_sender.h"
#include "engine/notifyd/notify_metrics.h"

namespace alertd::notifyd {

struct ReferralLoopOptions {
  std::string bootstrap;
  kafka::Properties consumer_properties;
  kafka::Properties producer_properties;
  std::string group = "alertd-notify-fhir";
  std::string referrals_topic = "referrals";
  std::string referral_deliveries_topic = "referral-deliveries";
  std::string referrals_fhir_topic;  // empty: Bundles are not produced to Kafka
  std::string dead_letters_topic = "dead-letters";
  fhir::FhirOptions fhir;            // fhir.base_url empty: nothing is POSTed
  std::string bearer_token;          // the clinic endpoint's token; empty: none. Never logged.
  SchedulerOptions scheduler;
  SendTimeouts timeouts;
  int64_t dedupe_horizon_ms = int64_t{7} * 24 * 3600 * 1000;
  int commit_interval_ms = 1000;
  int restore_timeout_ms = 60000;
  int shutdown_grace_ms = 12000;
};

// Runs until `stop`; an error when it cannot go on (a fatal Kafka error, a missing or wrongly
// partitioned topic, a restore that cannot finish).
[[nodiscard]] absl::Status RunReferralLoop(const ReferralLoopOptions& options, NotifyMetrics& metrics,
                                           const std::atomic<bool>& stop, std::atomic<bool>* ready,
                                           std::atomic<int64_t>* heartbeat_ms);

}  // namespace alertd::notifyd
