// The policy of one worker, built at each input from the global policy and the worker's profile.
#pragma once

#include <optional>

#include "engine/domain/policy.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// The global policy, or a copy with the worker's own overrides when its profile sets any. Most workers
// set none, and for them nothing is copied. Built from the state at each input, so a profile update
// takes effect on the worker's next reading, ack or timer.
class WorkerPolicy {
 public:
  WorkerPolicy(const Policy& global, const WorkerState& s) {
    if (s.profile && OverridesPolicy(s.profile->policy)) own_ = EffectivePolicy(global, s.profile->policy);
    policy_ = own_ ? &*own_ : &global;
  }
  WorkerPolicy(const WorkerPolicy&) = delete;
  WorkerPolicy& operator=(const WorkerPolicy&) = delete;
  const Policy& get() const { return *policy_; }

 private:
  std::optional<Policy> own_;
  const Policy* policy_ = nullptr;
};

}  // namespace alertd::domain
