// The rules: given a record, the worker's state and the time, decide what to remember and emit.
//
// Pure and deterministic: no I/O, no clock reads. Processing time arrives as an argument and is used
// only for validation bounds and `emitted_at`, so ids and decisions depend on the input history alone.
// Thread-compatible: a Rulebook is immutable after construction and may be shared.
#pragma once

#include <optional>
#include <vector>

#include "engine/domain/blood_pressure.h"
#include "engine/domain/policy.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// What one reading did, for the caller to persist, emit and count.
struct ReadingOutcome {
  std::optional<Rejection> rejected;        // set: nothing else happened, state untouched
  std::optional<BpClassification> bp;       // set for an accepted blood-pressure reading
  std::vector<Escalation> escalations;      // events to emit, in order
};

class Rulebook {
 public:
  explicit Rulebook(Policy policy);

  const Policy& policy() const { return policy_; }

  // Validates, classifies and applies rules R1 (critical BP) and R2 (sustained hypertension).
  ReadingOutcome OnReading(const Reading& reading, WorkerState& state, ProcessingTime now) const;

  // Applies a profile update. `profile == nullopt` is a tombstone: every open episode is resolved
  // ("removed from the programme") and the caller must delete the worker's state afterwards.
  std::vector<Escalation> OnProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                    WorkerState& state, ProcessingTime now) const;

 private:
  Policy policy_;
};

// Window statistics over the samples with measured_at in (end - window_ms, end]. `samples` must be in
// ascending measured_at, as WorkerState::bp_window is.
WindowStats ComputeWindow(const std::vector<BpSample>& samples, EventTime end, int64_t window_ms,
                          const Policy& policy);

}  // namespace alertd::domain
