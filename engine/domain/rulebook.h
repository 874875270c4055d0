// The rules: given a record, the worker's state and the time, decide what to remember and emit.
//
// Pure and deterministic: no I/O, no clock reads. Processing time arrives as an argument and is used
// only for validation bounds and `emitted_at`, so ids and decisions depend on the input history alone.
// Thread-compatible: a Rulebook is immutable after construction and may be shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/blood_pressure.h"
#include "engine/domain/policy.h"
#include "engine/domain/timer.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// A deadline the rules ask the engine to keep: it adds the worker and partition to make a Timer and
// calls OnTimer once processing time reaches fire_at.
struct TimerRequest {
  ProcessingTime fire_at;
  Rule rule = Rule::kR3SelfTestMissed;
  TimerKind kind{};
  friend bool operator==(const TimerRequest&, const TimerRequest&) = default;
};

// What one input did, for the caller to persist, emit and count. Cancelling is an optimisation, not
// a correctness requirement: OnTimer re-reads the state, so a timer that fires after the state moved
// on does nothing. The caller should still delete cancelled timers to keep the index small.
struct Outcome {
  std::vector<Escalation> escalations;       // events to emit, in order
  std::vector<TimerRequest> timers_set;      // deadlines to store
  std::vector<TimerRequest> timers_cancel;   // deadlines no longer wanted
  std::vector<Referral> referrals;           // clinic referrals to emit, in order
  bool ignored = false;                      // the input changed nothing (stale timer, unknown episode)
  std::string ignored_reason;                // why, for logs; metrics count `ignored`
};

// What one reading did.
struct ReadingOutcome : Outcome {
  std::optional<Rejection> rejected;   // set: nothing else happened, state untouched
  std::optional<BpClassification> bp;  // set for an accepted blood-pressure reading
  // Set for a PRE_SHIFT blood-pressure reading of a worker in a high-risk post: true if fit for duty.
  std::optional<bool> pre_shift_fit;
};

class Rulebook {
 public:
  explicit Rulebook(Policy policy);

  const Policy& policy() const { return policy_; }

  // Why a reading is refused before it may touch any state (physiologically impossible, no time,
  // too far in the future or past), or nullopt. OnReading applies the same check.
  std::optional<Rejection> Validate(const Reading& reading, ProcessingTime now) const;

  // Validates, classifies and applies R1 (critical BP), R2 (sustained hypertension), R3 (a reading
  // resolves a missed self-test and restarts the weekly clock), R4 (pre-shift fitness), R5 (glucose)
  // and R6 (focus tracking), under the worker's effective policy (EffectivePolicy). Referrals come
  // with the events that open R1, R2 and R5 high-glucose episodes.
  ReadingOutcome OnReading(const Reading& reading, WorkerState& state, ProcessingTime now) const;

  // Applies a profile update: it may enrol or release the worker from R3 and move the self-test due
  // time. `profile == nullopt` is a tombstone: every open episode is resolved ("removed from the
  // programme"), every timer cancelled, and the caller must delete the worker's state afterwards.
  Outcome OnWorkerProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                          WorkerState& state, ProcessingTime now) const;

  // R4 at clock-in: NO_PRE_SHIFT_CHECK without a PRE_SHIFT reading in the window before it,
  // UNFIT_CLOCKED_IN while an unfit reading has no fit retest.
  Outcome OnShift(const ShiftEvent& shift, WorkerState& state, ProcessingTime now) const;

  // Acknowledge, resolve or snooze an open episode: the one named by ack.episode_id, or when that is
  // empty the worker's open episode of ack.rule. An ack for an unknown or closed episode, or by rule
  // with nothing of that rule open (or a snooze without a future snooze_until) changes nothing and
  // comes back `ignored`.
  Outcome OnAck(const EscalationAck& ack, WorkerState& state, ProcessingTime now) const;

  // A stored deadline came due (`timer.fire_at <= now`). Re-checks the state: a timer that no longer
  // matches what the state is waiting for comes back `ignored`.
  Outcome OnTimer(const Timer& timer, WorkerState& state, ProcessingTime now) const;

 private:
  Policy policy_;
};

// R2's window statistics over the samples with measured_at in (end - window_ms, end]. `samples` must be in
// ascending measured_at, as WorkerState::bp_window is.
WindowStats ComputeWindow(const std::vector<BpSample>& samples, EventTime end, int64_t window_ms,
                          const Policy& policy);

}  // namespace alertd::domain
