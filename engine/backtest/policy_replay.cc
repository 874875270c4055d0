// One policy's in-memory stream-time replay (see policy_replay.h).
#include "engine/backtest/policy_replay.h"

#include <algorithm>
#include <limits>

namespace alertd::backtest {

PolicyReplay::PolicyReplay(domain::Policy policy, app::Topics topics, OutputSink sink, std::size_t commit_every)
    : rules_(std::move(policy)),
      store_(state::NewMemoryStore()),
      // Every worker's state stays decoded: the store only holds the committed bytes.
      window_(*store_, metrics_, std::numeric_limits<std::size_t>::max(), nullptr),
      collector_(std::move(sink)),
      task_(std::move(topics), rules_, window_, collector_, metrics_, log_limiter_),
      commit_every_(std::max<std::size_t>(commit_every, 1)) {
  window_.MirrorTimers(&timers_);
}

void PolicyReplay::Process(const kafka::RawRecord& raw, int64_t timestamp) {
  if (!status_.ok()) return;
  const auto clock = stream_time_.try_emplace(raw.partition, 0).first;
  if (timestamp > clock->second) {
    FireTimersUpTo(raw.partition, timestamp);
    clock->second = timestamp;
  }
  task_.Process(raw, {clock->second});
  FireTimersUpTo(raw.partition, clock->second);
  if (++since_commit_ >= commit_every_) {
    since_commit_ = 0;
    status_ = window_.CommitNow();
  }
  if (status_.ok()) status_ = window_.error();
}

absl::Status PolicyReplay::status() const { return status_; }

void PolicyReplay::FireTimersUpTo(int32_t partition, int64_t at) {
  int64_t& clock = stream_time_[partition];
  while (auto timer = timers_.PopDue(partition, {at})) {
    clock = std::max(clock, timer->fire_at.ms);
    task_.FireTimer(*timer, {clock});
  }
}

}  // namespace alertd::backtest
