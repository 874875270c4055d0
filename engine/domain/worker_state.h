// Everything the engine remembers about one worker, as a plain value the store persists whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/types.h"

namespace alertd::domain {

// One event of an open episode as it was told: when, at what state, level and severity, and to whom
// (the event's recipients, as addressed then). The reason's words stay on the escalations topic.
struct EpisodeStep {
  uint32_t sequence = 1;  // the event's sequence within the episode
  EscalationState state = EscalationState::kOpen;
  EscalationLevel level = EscalationLevel::kHealthManager;
  Severity severity = Severity::kUrgent;
  ProcessingTime at;  // when alertd decided and sent it (the event's emitted_at)
  std::vector<Recipient> recipients;
  friend bool operator==(const EpisodeStep&, const EpisodeStep&) = default;
};

// One open (worker, rule) episode. At most one per rule: repeated triggers update it in place.
struct OpenEpisode {
  Rule rule = Rule::kR1CriticalBp;
  std::string episode_id;
  uint32_t last_sequence = 1;  // sequence of the last event emitted for this episode
  Severity severity = Severity::kUrgent;
  EscalationLevel level = EscalationLevel::kHealthManager;
  // Event time of the reading or clock-in that opened it, and of the newest one that (still) triggers
  // it. R3 has no triggering reading: opened_at is its due time and last_trigger_at the start of the
  // weekly clock it missed, so a reading newer than that resolves it.
  EventTime opened_at;
  EventTime last_trigger_at;
  uint32_t trigger_count = 1;
  std::vector<BpSample> evidence;  // newest last, bounded by Policy::max_evidence
  std::vector<GlucoseSample> glucose_evidence;  // R5, R6: newest last, bounded by Policy::max_evidence

  // Lifecycle. The episode has at most one pending timer, at `next_deadline`; its kind follows from
  // the fields below (snoozed: kSnoozeEnd, acknowledged: kRenotify, else kAckTimeout; see TimerKind),
  // so the timer needs no payload. Unset: nothing pending (top level, unacknowledged).
  bool acknowledged = false;
  Person acked_by;
  ProcessingTime acked_at;
  std::optional<ProcessingTime> snoozed_until;  // set: silent until then; next_deadline equals it
  std::optional<ProcessingTime> next_deadline;

  // Who was told and when, oldest first: the OPEN step and the newest Policy::max_history after it
  // (a gap in the sequences says steps between were dropped). RESOLVED is never kept: it closes the
  // episode. Acknowledging and snoozing emit no event, so they are the fields above, not steps.
  std::vector<EpisodeStep> history;
  friend bool operator==(const OpenEpisode&, const OpenEpisode&) = default;
};

// The newest clinic referral sent for one (rule, urgency) of a worker: the referral cool-down
// (Policy::referral_cooldown_ms) holds back another within the period.
struct ReferralSent {
  Rule rule = Rule::kR1CriticalBp;
  ReferralUrgency urgency = ReferralUrgency::kRoutine;
  EventTime at;  // event time of the reading that triggered it
  friend bool operator==(const ReferralSent&, const ReferralSent&) = default;
};

struct WorkerState {
  std::optional<WorkerProfile> profile;
  uint64_t readings_accepted = 0;  // every valid reading, any kind; never counts one twice
  uint64_t bp_readings = 0;
  std::optional<EventTime> newest_bp_at;  // newest blood-pressure event time seen
  std::vector<BpSample> bp_window;        // ascending measured_at, within the R2 window
  std::vector<OpenEpisode> open;          // at most one per rule
  // R5: glucose readings within r5_high_window_ms of the newest one, ascending measured_at, at most
  // Policy::max_glucose_samples (the oldest go first).
  std::vector<GlucoseSample> glucose_window;
  uint64_t episodes_opened = 0;           // feeds deterministic episode ids

  // R3 weekly self-test. The clock runs from max(newest_bp_at, self_test_since): `since` is the
  // processing time the worker was enrolled (or an R3 episode was resolved by hand), so a worker who
  // joins without a recent reading gets a full interval. Both unset while not enrolled.
  std::optional<ProcessingTime> self_test_since;
  std::optional<ProcessingTime> self_test_due;  // the pending TimerKind::kSelfTestDue; unset while R3 is open

  // At most one per (rule, urgency), so at most a dozen: the newest referral of each.
  std::vector<ReferralSent> referrals_sent;
  friend bool operator==(const WorkerState&, const WorkerState&) = default;
};

}  // namespace alertd::domain
