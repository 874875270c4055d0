// The rulebook: validates each input, keeps the worker's windows, and dispatches to the rules
// (rules/*.cc) and the episode lifecycle (episode.cc), deriving timer requests from the state.
#include "engine/domain/rulebook.h"

#include <algorithm>
#include <array>
#include <string>

#include "engine/domain/episode.h"
#include "engine/domain/pending_timers.h"
#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"
#include "engine/domain/worker_policy.h"

namespace alertd::domain {
namespace {

// The reading rules in the order they run, which is the order their events come out in. R6 comes last:
// it adds to whatever the others made of the reading.
constexpr std::array<BpRule, 5> kBpRules = {ApplyR1, ApplyR2, ApplyR3, ApplyR4, ApplyR6};
constexpr std::array<GlucoseRule, 2> kGlucoseRules = {ApplyR5, ApplyR6};

// A copy of `sample` sharing the ids of the window's newest samples (most often they are the same).
template <typename Sample>
Sample SharingIds(const Sample& sample, const std::vector<Sample>& window) {
  Sample copy = sample;
  ShareIds(copy, window);
  return copy;
}

// Adds an accepted blood-pressure reading to the worker's window, which keeps the R2 window of event
// time before the newest reading, at most max_window_samples.
void RememberBp(const BpSample& sample, const Policy& policy, WorkerState& state) {
  state.bp_readings += 1;
  state.newest_bp_at = std::max(state.newest_bp_at.value_or(sample.measured_at), sample.measured_at);
  InsertByEventTime(state.bp_window, SharingIds(sample, state.bp_window));
  const EventTime newest = *state.newest_bp_at;
  DropMeasuredAtOrBefore(state.bp_window, EventTime{newest.ms - policy.r2_window_ms});
  KeepNewest(state.bp_window, policy.max_window_samples);
}

// Adds an accepted glucose reading to the worker's window, which keeps the R5 window of event time
// before the newest reading, at most max_glucose_samples.
void RememberGlucose(const GlucoseSample& sample, const Policy& policy, WorkerState& state) {
  InsertByEventTime(state.glucose_window, SharingIds(sample, state.glucose_window));
  const EventTime newest = state.glucose_window.back().measured_at;
  DropMeasuredAtOrBefore(state.glucose_window, EventTime{newest.ms - policy.r5_high_window_ms});
  KeepNewest(state.glucose_window, policy.max_glucose_samples);
}

Outcome Ignored(std::string why) {
  Outcome out;
  out.ignored = true;
  out.ignored_reason = std::move(why);
  return out;
}

}  // namespace

Rulebook::Rulebook(Policy policy) : policy_(std::move(policy)) {}

std::optional<Rejection> Rulebook::Validate(const Reading& reading, ProcessingTime now) const {
  return ValidateReading(reading, policy_, now);
}

ReadingOutcome Rulebook::OnReading(const Reading& reading, WorkerState& state, ProcessingTime now) const {
  ReadingOutcome out;
  if (auto rejection = Validate(reading, now)) {
    out.rejected = std::move(rejection);
    return out;
  }
  state.readings_accepted += 1;
  const auto* glucose = std::get_if<Glucose>(&reading.measurement);
  const auto* bp = std::get_if<BloodPressure>(&reading.measurement);
  if (glucose == nullptr && bp == nullptr) return out;  // body readings: BMI is for dashboards, not escalations

  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  if (glucose != nullptr) {
    // Glucose does not count as a blood-pressure self-test (R3).
    const GlucoseSample sample{reading.measured_at, glucose->mmol_per_l, glucose->timing,
                               reading.station_id,  reading.device_id,   reading.context};
    RememberGlucose(sample, policy, state);
    const PendingTimers timers_before = Pending(state);
    EpisodeEmitter emit(policy, reading.worker, state, now, out);
    const RuleContext context{policy, policy_, state, emit, now};
    for (GlucoseRule rule : kGlucoseRules) rule(sample, context);
    DiffTimers(timers_before, Pending(state), out);
    return out;
  }

  const BpClassification cls = ClassifyBp(bp->systolic_mmhg, bp->diastolic_mmhg, policy.bp);
  out.bp = cls;
  const BpSample sample{reading.measured_at, bp->systolic_mmhg, bp->diastolic_mmhg, bp->pulse_bpm, cls.category,
                        reading.station_id,  reading.device_id,  reading.context};
  RememberBp(sample, policy, state);
  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy, reading.worker, state, now, out);
  const RuleContext context{policy, policy_, state, emit, now};
  const BpInput input{sample, cls};
  out.pre_shift_fit = PreShiftFit(input, context);
  for (BpRule rule : kBpRules) rule(input, context);
  SyncSelfTest(context);
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnWorkerProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                  WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  if (profile) {
    state.profile = *profile;
    state.profile->worker = worker;
  }
  // The new profile's overrides apply from here on; open episodes keep their pending deadlines.
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, worker, state, now, out);
  const RuleContext context{policy, policy_, state, emit, now};
  if (profile) {
    EndFocusTrackingIfDropped(context);
    SyncSelfTest(context);
  } else {
    // Copy: Resolve removes each episode from state.open as it goes.
    const std::vector<OpenEpisode> open = state.open;
    for (const auto& e : open) {
      emit.Resolve(e, e.last_trigger_at, std::nullopt, "Worker removed from the health programme; episode closed",
                   e.evidence, e.glucose_evidence);
    }
    state.self_test_due.reset();
    state.self_test_since.reset();
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnShift(const ShiftEvent& shift, WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, shift.worker, state, now, out);
  ApplyR4AtClockIn(shift, RuleContext{policy, policy_, state, emit, now});
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnAck(const EscalationAck& ack, WorkerState& state, ProcessingTime now) const {
  // An ack without an episode id acts on whatever episode of its rule is open (an app button "ack the
  // worker's glucose alert"); one with an id must name the open episode, so an ack of an episode that
  // has since closed does not touch its successor.
  OpenEpisode* e = FindOpen(state, ack.rule);
  if (e == nullptr || (!ack.episode_id.empty() && e->episode_id != ack.episode_id)) {
    return Ignored("no open " + std::string(Name(ack.rule)) + " episode" +
                   (ack.episode_id.empty() ? std::string() : " " + ack.episode_id));
  }
  const std::string episode_id = e->episode_id;
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, ack.worker, state, now, out);
  switch (ack.action) {
    case EscalationAck::Action::kAcknowledge:
      if (e->acknowledged) {  // a redelivered ack must not push the re-notify time back
        return Ignored("episode " + episode_id + " already acknowledged by " + PersonWords(e->acked_by));
      }
      Acknowledge(*e, ack.by, ack.at, policy, now);
      break;
    case EscalationAck::Action::kResolve: {
      const Rule rule = e->rule;
      emit.Resolve(*e, e->last_trigger_at, std::nullopt, "Resolved by " + PersonWords(ack.by), e->evidence,
                   e->glucose_evidence);
      // A manually resolved reminder restarts the weekly clock now; otherwise it would reopen at once.
      if (rule == Rule::kR3SelfTestMissed && state.self_test_since) state.self_test_since = now;
      SyncSelfTest(RuleContext{policy, policy_, state, emit, now});
      break;
    }
    case EscalationAck::Action::kSnooze:
      if (!ack.snooze_until || *ack.snooze_until <= now) {
        return Ignored("snooze of episode " + episode_id + " without a snooze_until in the future");
      }
      Snooze(*e, *ack.snooze_until);
      break;
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnTimer(const Timer& timer, WorkerState& state, ProcessingTime now) const {
  auto stale = [&](const std::string& why) {
    return Ignored("stale " + std::string(Name(timer.rule)) + " timer: " + why);
  };
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, timer.worker, state, now, out);

  if (timer.kind == TimerKind::kSelfTestDue) {
    if (timer.rule != Rule::kR3SelfTestMissed || !OpenMissedSelfTest(RuleContext{policy, policy_, state, emit, now})) {
      return stale("no self-test due");
    }
    DiffTimers(timers_before, Pending(state), out);
    return out;
  }

  OpenEpisode* e = FindOpen(state, timer.rule);
  const std::optional<TimerRequest> pending = e != nullptr ? PendingTimer(*e) : std::nullopt;
  if (!pending) return stale("nothing pending");
  if (pending->kind != timer.kind) return stale("the episode waits for another kind of deadline");
  if (now < pending->fire_at) return stale("the deadline moved later");
  switch (timer.kind) {
    case TimerKind::kAckTimeout: emit.Climb(*e, pending->fire_at); break;
    case TimerKind::kRenotify: emit.Renotify(*e); break;
    case TimerKind::kSnoozeEnd: emit.EndSnooze(*e); break;
    default: return stale("unknown timer kind " + std::to_string(TimerKindCode(timer.kind)));
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

}  // namespace alertd::domain
