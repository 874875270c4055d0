// The standby plan: owners from announcements, standbys from the ring of live instances (standby_plan.h).
#include "engine/app/standby_plan.h"

#include <algorithm>

namespace alertd::app {

void StandbyPlan::Note(const std::string& instance, const std::set<int32_t>& owned, int64_t at_ms) {
  Member& m = members_[instance];
  if (at_ms < m.heard_ms) return;
  for (int32_t p : m.owned) {
    auto it = owner_.find(p);
    if (!owned.count(p) && it != owner_.end() && it->second == instance) owner_.erase(it);
  }
  for (int32_t p : owned) owner_[p] = instance;
  m.owned = owned;
  m.heard_ms = at_ms;
}

void StandbyPlan::Leave(const std::string& instance) {
  auto it = members_.find(instance);
  if (it == members_.end()) return;
  for (int32_t p : it->second.owned) {
    auto o = owner_.find(p);
    if (o != owner_.end() && o->second == instance) owner_.erase(o);
  }
  members_.erase(it);
}

std::vector<std::string> StandbyPlan::Live(int64_t now_ms) const {
  std::vector<std::string> live;
  for (const auto& [instance, m] : members_) {
    if (now_ms - m.heard_ms < timeout_ms_) live.push_back(instance);
  }
  return live;  // sorted: std::map order
}

std::set<int32_t> StandbyPlan::StandbysOf(const std::string& self, int replicas, int64_t now_ms) const {
  std::set<int32_t> out;
  if (replicas <= 0) return out;
  std::vector<std::string> ring = Live(now_ms);
  if (!std::binary_search(ring.begin(), ring.end(), self)) ring.insert(std::lower_bound(ring.begin(), ring.end(), self), self);
  for (const auto& [partition, owner] : owner_) {
    if (owner == self) continue;
    // The first instance after the owner: the owner's own place when it is live, else where its id sorts.
    auto first = std::upper_bound(ring.begin(), ring.end(), owner);
    std::size_t at = static_cast<std::size_t>(first - ring.begin());
    int picked = 0;
    for (std::size_t step = 0; step < ring.size() && picked < replicas; ++step) {
      const std::string& candidate = ring[(at + step) % ring.size()];
      if (candidate == owner) continue;
      ++picked;
      if (candidate == self) {
        out.insert(partition);
        break;
      }
    }
  }
  return out;
}

}  // namespace alertd::app
