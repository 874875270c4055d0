// NotifyMetrics on prometheus-cpp, exposed as text by the HTTP endpoint.
#include "engine/notifyd/notify_metrics.h"

#include "engine/metrics/process_metrics.h"

namespace alertd::notifyd {

NotifyMetrics::NotifyMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      deliveries_(prometheus::BuildCounter()
                      .Name("alertd_notify_deliveries_total")
                      .Help("Deliveries by channel and outcome (sent, failed, held, skipped, duplicate)")
                      .Register(*registry_)),
      attempts_(prometheus::BuildCounter()
                    .Name("alertd_notify_attempts_total")
                    .Help("HTTP sends to a channel, retries included")
                    .Register(*registry_)),
      send_seconds_(prometheus::BuildHistogram()
                        .Name("alertd_notify_send_seconds")
                        .Help("Time from a send's start to the channel's answer or the failure")
                        .Register(*registry_)),
      queued_(prometheus::BuildGauge()
                  .Name("alertd_notify_queued")
                  .Help("Deliveries waiting or in flight per channel (held ones excluded)")
                  .Register(*registry_)),
      held_(prometheus::BuildGauge()
                .Name("alertd_notify_held")
                .Help("Deliveries waiting for quiet hours to end")
                .Register(*registry_)
                .Add({})),
      lag_(prometheus::BuildGauge()
               .Name("alertd_notify_consumer_lag")
               .Help("Escalations not yet consumed per owned partition")
               .Register(*registry_)),
      dead_letters_(prometheus::BuildCounter()
                        .Name("alertd_notify_dead_letters_total")
                        .Help("Escalation records that did not parse, sent to the dead-letters topic")
                        .Register(*registry_)
                        .Add({})) {}

void NotifyMetrics::CountDelivery(const std::string& channel, std::string_view outcome) {
  deliveries_.Add({{"channel", channel}, {"outcome", std::string(outcome)}}).Increment();
}

void NotifyMetrics::CountAttempt(const std::string& channel, double seconds) {
  attempts_.Add({{"channel", channel}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  send_seconds_.Add({{"channel", channel}}, kBuckets).Observe(seconds);
}

void NotifyMetrics::SetQueued(const std::string& channel, std::size_t jobs) {
  queued_.Add({{"channel", channel}}).Set(static_cast<double>(jobs));
}

void NotifyMetrics::SetHeld(std::size_t jobs) { held_.Set(static_cast<double>(jobs)); }

void NotifyMetrics::SetConsumerLag(int32_t partition, int64_t lag) {
  lag_.Add({{"partition", std::to_string(partition)}}).Set(static_cast<double>(lag));
}

void NotifyMetrics::ClearConsumerLag(int32_t partition) {
  lag_.Remove(&lag_.Add({{"partition", std::to_string(partition)}}));
}

void NotifyMetrics::CountDeadLetter() { dead_letters_.Increment(); }

std::string NotifyMetrics::Exposition() const { return metrics::ExpositionWithProcess(*registry_); }

}  // namespace alertd::notifyd
