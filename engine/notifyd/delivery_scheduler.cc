// DeliveryScheduler: per-channel queues, in-flight limits, retries and holds.
#include "engine/notifyd/delivery_scheduler.h"

#include <algorithm>

namespace alertd::notifyd {

uint64_t DeliveryScheduler::Add(DeliveryJob job) {
  job.id = next_id_++;
  Lane& lane = lanes_[job.channel];
  lane.waiting.emplace(job.due_ms, job.id);
  if (job.held) ++lane.held;
  const uint64_t id = job.id;
  jobs_.emplace(id, std::move(job));
  return id;
}

std::vector<const DeliveryJob*> DeliveryScheduler::Start(int64_t now_ms) {
  std::vector<const DeliveryJob*> out;
  for (auto& [channel, lane] : lanes_) {
    while (lane.in_flight < options_.max_in_flight_per_channel && !lane.waiting.empty() &&
           lane.waiting.begin()->first <= now_ms) {
      const uint64_t id = lane.waiting.begin()->second;
      lane.waiting.erase(lane.waiting.begin());
      DeliveryJob& job = jobs_.at(id);
      if (job.held) {
        job.held = false;  // quiet hours are over: from now on it is an ordinary send
        --lane.held;
      }
      ++job.attempts;
      ++lane.in_flight;
      in_flight_.emplace(id, true);
      out.push_back(&job);
    }
  }
  return out;
}

std::optional<DeliveryJob> DeliveryScheduler::Finish(uint64_t id, bool ok, const std::string& error, int64_t now_ms,
                                                     const std::function<double()>& uniform, bool retryable) {
  if (in_flight_.erase(id) == 0) return std::nullopt;
  const auto it = jobs_.find(id);
  Lane& lane = lanes_[it->second.channel];
  --lane.in_flight;
  DeliveryJob& job = it->second;
  if (!ok) {
    job.last_error = error;
    const std::optional<int64_t> delay =
        retryable ? notify::RetryDelay(job.attempts, options_.retry, uniform) : std::nullopt;
    if (delay) {
      job.due_ms = now_ms + *delay;
      lane.waiting.emplace(job.due_ms, id);
      return std::nullopt;
    }
  } else {
    job.last_error.clear();
  }
  DeliveryJob done = std::move(job);
  jobs_.erase(it);
  return done;
}

std::vector<uint64_t> DeliveryScheduler::DropPartition(int32_t partition) {
  std::vector<uint64_t> aborted;
  for (auto& [channel, lane] : lanes_) {
    std::erase_if(lane.waiting, [&](const auto& entry) {
      const DeliveryJob& job = jobs_.at(entry.second);
      if (job.partition != partition) return false;
      if (job.held) --lane.held;
      return true;
    });
  }
  std::erase_if(jobs_, [&](const auto& entry) {
    if (entry.second.partition != partition) return false;
    if (in_flight_.erase(entry.first) > 0) {
      --lanes_[entry.second.channel].in_flight;
      aborted.push_back(entry.first);
    }
    return true;
  });
  return aborted;
}

std::size_t DeliveryScheduler::Queued(const std::string& channel) const {
  const auto it = lanes_.find(channel);
  if (it == lanes_.end()) return 0;
  return it->second.waiting.size() - it->second.held + static_cast<std::size_t>(it->second.in_flight);
}

bool DeliveryScheduler::Full() const {
  return std::any_of(lanes_.begin(), lanes_.end(),
                     [&](const auto& entry) { return Queued(entry.first) > options_.max_queued_per_channel; });
}

std::size_t DeliveryScheduler::Held() const {
  std::size_t held = 0;
  for (const auto& [channel, lane] : lanes_) held += lane.held;
  return held;
}

std::size_t DeliveryScheduler::InFlight() const { return in_flight_.size(); }

std::optional<int64_t> DeliveryScheduler::NextDue() const {
  std::optional<int64_t> next;
  for (const auto& [channel, lane] : lanes_) {
    if (lane.waiting.empty() || lane.in_flight >= options_.max_in_flight_per_channel) continue;
    const int64_t due = lane.waiting.begin()->first;
    if (!next || due < *next) next = due;
  }
  return next;
}

std::vector<std::string> DeliveryScheduler::Channels() const {
  std::vector<std::string> out;
  for (const auto& [channel, lane] : lanes_) out.push_back(channel);
  return out;
}

}  // namespace alertd::notifyd
