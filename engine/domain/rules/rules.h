// The rules R1-R6, one file each, behind the interface the rulebook dispatches to.
//
// A rule sees one accepted reading (or clock-in, or deadline), the worker's state, the worker's
// effective policy and an emitter, and changes episodes only through the emitter (episode.h). The
// rulebook runs the reading rules in a fixed order, which is the order their events come out in.
#pragma once

#include <optional>
#include <string>

#include "engine/domain/episode.h"
#include "engine/domain/policy.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// What every rule is given along with its input.
struct RuleContext {
  const Policy& policy;       // the worker's effective policy (WorkerPolicy)
  const Policy& grid_policy;  // the global policy, for saying when a worker's own threshold applied
  WorkerState& state;
  EpisodeEmitter& emit;
  ProcessingTime now;
};

// An accepted blood-pressure reading, already in the worker's window.
struct BpInput {
  const BpSample& sample;
  const BpClassification& classification;
};

using BpRule = void (*)(const BpInput&, const RuleContext&);
using GlucoseRule = void (*)(const GlucoseSample&, const RuleContext&);

// R1 critical blood pressure (r1_critical_bp.cc).
void ApplyR1(const BpInput& in, const RuleContext& c);

// R2 sustained hypertension over the 7-day window (r2_sustained_hypertension.cc).
void ApplyR2(const BpInput& in, const RuleContext& c);

// R3 weekly self-test (r3_self_test.cc): a reading resolves a missed self-test.
void ApplyR3(const BpInput& in, const RuleContext& c);
// Brings the self-test deadline in line with enrolment, the newest reading and the interval. Runs after
// everything that can move them; an R3 episode whose worker left the programme is withdrawn.
void SyncSelfTest(const RuleContext& c);
// The self-test came due without a reading: opens the reminder to the worker. False if nothing is due.
bool OpenMissedSelfTest(const RuleContext& c);
// Why an R3 reminder climbed to its current level, `from` being when it climbed.
std::string MissedSelfTestClimbWords(const OpenEpisode& e, ProcessingTime from, ProcessingTime now);

// R4 pre-shift fitness (r4_pre_shift_fitness.cc): pre-shift readings and clock-ins.
void ApplyR4(const BpInput& in, const RuleContext& c);
void ApplyR4AtClockIn(const ShiftEvent& shift, const RuleContext& c);
// For a PRE_SHIFT reading of a worker in a high-risk post: whether it is fit for duty.
std::optional<bool> PreShiftFit(const BpInput& in, const RuleContext& c);

// R5 glucose (r5_glucose.cc).
void ApplyR5(const GlucoseSample& sample, const RuleContext& c);

// R6 focus tracking (r6_focus_tracking.cc): on top of the rules above, for focus-tracked workers.
void ApplyR6(const BpInput& in, const RuleContext& c);
void ApplyR6(const GlucoseSample& sample, const RuleContext& c);
// Closes the R6 episode of a worker whose policy no longer asks for focus tracking.
void EndFocusTrackingIfDropped(const RuleContext& c);

}  // namespace alertd::domain
