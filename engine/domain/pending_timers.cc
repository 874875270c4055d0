// The deadlines one worker's state waits for, and the timer requests that move them.
#include "engine/domain/pending_timers.h"

#include <algorithm>

namespace alertd::domain {

std::optional<TimerRequest> PendingTimer(const OpenEpisode& e) {
  if (!e.next_deadline) return std::nullopt;
  const TimerKind kind = e.snoozed_until ? TimerKind::kSnoozeEnd
                         : e.acknowledged ? TimerKind::kRenotify
                                          : TimerKind::kAckTimeout;
  return TimerRequest{*e.next_deadline, e.rule, kind};
}

void PendingTimers::Add(const TimerRequest& t) {
  if (size < items.size()) items[size++] = t;
}

bool PendingTimers::Has(const TimerRequest& t) const {
  const auto end = items.begin() + static_cast<std::ptrdiff_t>(size);
  return std::find(items.begin(), end, t) != end;
}

PendingTimers Pending(const WorkerState& s) {
  PendingTimers out;
  if (s.self_test_due) out.Add({*s.self_test_due, Rule::kR3SelfTestMissed, TimerKind::kSelfTestDue});
  for (const OpenEpisode& e : s.open) {
    if (auto t = PendingTimer(e)) out.Add(*t);
  }
  return out;
}

void DiffTimers(const PendingTimers& before, const PendingTimers& after, Outcome& out) {
  for (std::size_t i = 0; i < before.size; ++i) {
    if (!after.Has(before.items[i])) out.timers_cancel.push_back(before.items[i]);
  }
  for (std::size_t i = 0; i < after.size; ++i) {
    if (!before.Has(after.items[i])) out.timers_set.push_back(after.items[i]);
  }
}

}  // namespace alertd::domain
