// The deadlines one worker's state waits for, and the timer requests that move them.
//
// Deriving timer requests from the state before and after an input, rather than having every rule
// remember to ask, means no code path can leave a deadline behind or forget to set one.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "engine/domain/rulebook.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// The one timer an episode waits for, if any; its kind follows from the episode's lifecycle fields.
std::optional<TimerRequest> PendingTimer(const OpenEpisode& e);

// Every deadline one worker's state waits for: one per open episode (at most one per rule) plus the
// self-test due. Fixed capacity: this is taken twice for every reading.
struct PendingTimers {
  std::array<TimerRequest, 8> items{};
  std::size_t size = 0;
  void Add(const TimerRequest& t);
  bool Has(const TimerRequest& t) const;
};

PendingTimers Pending(const WorkerState& s);

// Adds to `out` the timer requests that turn `before` into `after`.
void DiffTimers(const PendingTimers& before, const PendingTimers& after, Outcome& out);

}  // namespace alertd::domain
