// Stream mode's in-memory index of the owned partitions' pending timers, per partition in fire order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "engine/domain/timer.h"

namespace alertd::app {

// The store's timer index is ordered by fire time across partitions and lags behind by one commit;
// stream mode needs each partition's next deadline now, against that partition's own clock. This
// copy is loaded from the store on assignment and kept in step with every timer the rules set or
// cancel; the store stays the durable copy. Timers of one partition fire in the store's order:
// fire_at, then rule, kind and worker id. Thread-compatible.
class PartitionTimers {
 public:
  void Put(const domain::Timer& t) { partitions_[t.partition].insert(t); }
  void Erase(const domain::Timer& t) {
    auto it = partitions_.find(t.partition);
    if (it != partitions_.end()) it->second.erase(t);
  }
  // Removes and returns the partition's first timer if it fires at or before `at`.
  std::optional<domain::Timer> PopDue(int32_t partition, domain::ProcessingTime at) {
    auto it = partitions_.find(partition);
    if (it == partitions_.end() || it->second.empty() || it->second.begin()->fire_at > at) return std::nullopt;
    auto node = it->second.extract(it->second.begin());
    return std::move(node.value());
  }
  void Clear() { partitions_.clear(); }
  void ErasePartition(int32_t partition) { partitions_.erase(partition); }
  std::size_t size() const {
    std::size_t n = 0;
    for (const auto& [_, timers] : partitions_) n += timers.size();
    return n;
  }

 private:
  struct FireOrder {
    bool operator()(const domain::Timer& a, const domain::Timer& b) const {
      return std::tie(a.fire_at, a.rule, a.kind, a.worker) < std::tie(b.fire_at, b.rule, b.kind, b.worker);
    }
  };
  std::map<int32_t, std::set<domain::Timer, FireOrder>> partitions_;
};

}  // namespace alertd::app
