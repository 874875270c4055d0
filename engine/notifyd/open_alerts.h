// The Alertmanager alerts of open episodes, re-posted before Alertmanager's resolve_timeout ends them.
//
// Alertmanager ends an alert posted without endsAt after its resolve_timeout (5 min by default)
// unless it is posted again, as Prometheus re-sends firing alerts every evaluation. alertd decides an
// event far less often, so alertd-notify keeps the newest event of each (episode, recipient,
// Alertmanager channel) it delivered and re-posts them every interval until a RESOLVED event is
// delivered. Pure bookkeeping, the time an argument; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "engine/notifyd/delivery_scheduler.h"

namespace alertd::notifyd {

class OpenAlerts {
 public:
  explicit OpenAlerts(int64_t interval_ms) : interval_ms_(interval_ms) {}

  // `job` was delivered to an Alertmanager channel at `now_ms`: its episode's alert is open until a
  // RESOLVED event is delivered. An older event of the same episode (restore order) replaces nothing.
  void Delivered(const DeliveryJob& job, int64_t now_ms);
  // The alerts due to be posted again at `now_ms`, each due again one interval later.
  std::vector<const DeliveryJob*> Due(int64_t now_ms);
  void DropPartition(int32_t partition);
  std::size_t size() const { return alerts_.size(); }

 private:
  struct Alert {
    DeliveryJob job;
    int64_t due_ms = 0;
  };
  int64_t interval_ms_;
  std::map<std::tuple<std::string, std::string, std::string>, Alert> alerts_;  // episode, recipient, channel
};

}  // namespace alertd::notifyd
