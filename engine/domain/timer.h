// A processing-time deadline of one worker's rule, as a plain value: what the timer index stores.
#pragma once

#include <compare>
#include <cstdint>

#include "engine/domain/types.h"

namespace alertd::domain {

// What a deadline is for. The store writes the kind as a 4-byte number in the timer key
// (TimerKindCode): never renumber one.
enum class TimerKind : uint32_t {
  kSelfTestDue = 1,  // R3: the weekly self-test is due
  kAckTimeout = 2,   // an unacknowledged episode climbs a level
  kRenotify = 3,     // an acknowledged episode that persists is re-sent
  kSnoozeEnd = 4,    // a snoozed episode speaks again
};

// The number a timer key holds for a kind, and back. A number no kind has (a key written by a newer
// build) survives the round trip unchanged, and OnTimer calls such a timer stale.
constexpr uint32_t TimerKindCode(TimerKind kind) { return static_cast<uint32_t>(kind); }
constexpr TimerKind TimerKindFromCode(uint32_t code) { return static_cast<TimerKind>(code); }

// A deadline (weekly self-test due, acknowledgement timeout, re-notify) that fires once processing
// time reaches `fire_at` (DESIGN.md §5). It is identified by all of its fields and carries no
// payload: when it fires, the rule reads the worker's current state to decide what, if anything, is
// still due, so a timer made stale by a later reading is harmless and no state is stored twice.
// Moving a deadline is deleting the old timer and putting a new one, in the same commit as the state
// change that moved it.
//
// The store returns a partition's timers ordered by its key (partition, fire_at, rule, kind, worker
// bytes), and all partitions' merged in the order (fire_at, partition, rule, kind, worker bytes), which
// differs from operator<=> (fire_at, partition, worker, rule, kind) only among timers of one partition
// firing at the same instant; operator<=> is for sets and equality.
struct Timer {
  ProcessingTime fire_at;
  int32_t partition = 0;  // input partition whose state it belongs to (>= 0): it moves with the partition
  WorkerId worker;        // non-empty
  Rule rule = Rule::kR3SelfTestMissed;
  TimerKind kind{};  // zero until set: no kind has that number
  friend auto operator<=>(const Timer&, const Timer&) = default;
};

}  // namespace alertd::domain
