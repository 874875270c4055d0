#include "engine/app/fetch_watch.h"

namespace alertd::app {

std::vector<TopicPartition> FetchWatch::Idle(const std::map<TopicPartition, int64_t>& fetching, int64_t now_ms) {
  const bool gap = last_pass_ms_ >= 0 && now_ms - last_pass_ms_ > stall_ms_ / 2;
  last_pass_ms_ = now_ms;
  std::map<TopicPartition, Progress> next;
  std::vector<TopicPartition> idle;
  for (const auto& [tp, position] : fetching) {
    auto it = progress_.find(tp);
    Progress p{.position = position, .since_ms = now_ms};
    if (it != progress_.end() && it->second.position == position && !gap) {
      p.since_ms = it->second.since_ms;
      if (now_ms - p.since_ms >= stall_ms_) {
        idle.push_back(tp);
        p.since_ms = now_ms;
      }
    }
    next.emplace(tp, p);
  }
  progress_ = std::move(next);
  return idle;
}

bool FetchWatch::Stuck(int64_t cached_high, int64_t position, std::optional<int64_t> assigned_at, int64_t end) {
  if (cached_high < 0) return true;
  if (position >= 0) return end > position;
  return assigned_at.has_value() && end > *assigned_at;
}

}  // namespace alertd::app
