// OpenAlerts: which Alertmanager alerts to post again, and when.
#include "engine/notifyd/open_alerts.h"

namespace alertd::notifyd {

void OpenAlerts::Delivered(const DeliveryJob& job, int64_t now_ms) {
  const auto key = std::make_tuple(job.event.episode_id(), job.recipient.id(), job.channel);
  const auto it = alerts_.find(key);
  if (it != alerts_.end() && it->second.job.event.sequence() > job.event.sequence()) return;
  if (job.event.state() == healthgrid::v1::RESOLVED) {
    alerts_.erase(key);
    return;
  }
  alerts_.insert_or_assign(key, Alert{job, now_ms + interval_ms_});
}

std::vector<const DeliveryJob*> OpenAlerts::Due(int64_t now_ms) {
  std::vector<const DeliveryJob*> out;
  for (auto& [key, alert] : alerts_) {
    if (alert.due_ms > now_ms) continue;
    alert.due_ms = now_ms + interval_ms_;
    out.push_back(&alert.job);
  }
  return out;
}

void OpenAlerts::DropPartition(int32_t partition) {
  std::erase_if(alerts_, [&](const auto& entry) { return entry.second.job.partition == partition; });
}

}  // namespace alertd::notifyd
