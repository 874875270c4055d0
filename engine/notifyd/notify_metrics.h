// alertd-notify's Prometheus metrics: deliveries by channel and outcome, sends, queues, lag.
//
// Labels are channel names (from the config), outcomes and partitions: never a person or a value.
// Updated from the delivery loop; Exposition() may be called from the HTTP thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace alertd::notifyd {

class NotifyMetrics {
 public:
  NotifyMetrics();

  // outcome: "sent", "failed", "held", "skipped" (the Delivery record's status), or "duplicate" (an
  // event whose delivery was already done or under way).
  void CountDelivery(const std::string& channel, std::string_view outcome);
  void CountAttempt(const std::string& channel, double seconds);
  void SetQueued(const std::string& channel, std::size_t jobs);
  void SetHeld(std::size_t jobs);
  void SetConsumerLag(int32_t partition, int64_t lag);
  void ClearConsumerLag(int32_t partition);
  void CountDeadLetter();
  std::string Exposition() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& deliveries_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Family<prometheus::Histogram>& send_seconds_;
  prometheus::Family<prometheus::Gauge>& queued_;
  prometheus::Gauge& held_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Counter& dead_letters_;
};

}  // namespace alertd::notifyd
