// The episode lifecycle: open, retrigger, climb, re-notify, snooze and resolve one (worker, rule)
// episode, and the events and referrals that tell people about it.
//
// Internal to the rulebook: the rules (rules/*.cc) decide, these functions keep the episode's fields,
// event sequence and deadline consistent.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/policy.h"
#include "engine/domain/rulebook.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

OpenEpisode* FindOpen(WorkerState& s, Rule rule);
const OpenEpisode* FindOpen(const WorkerState& s, Rule rule);

// Keeps `samples` sorted by measured_at; a sample equal in time goes after the existing ones so that
// arrival order breaks ties the same way on every replay. A full vector grows by an eighth, not by
// doubling: a window keeps about the same size for as long as its worker reports, decoded in the state
// cache, where doubling would leave up to half of its memory unused.
template <typename Sample>
void InsertByEventTime(std::vector<Sample>& samples, Sample sample) {
  if (samples.size() == samples.capacity()) samples.reserve(samples.size() + samples.size() / 8 + 4);
  auto at = std::upper_bound(samples.begin(), samples.end(), sample.measured_at,
                             [](EventTime t, const Sample& s) { return t < s.measured_at; });
  samples.insert(at, std::move(sample));
}

// Drops the samples measured at or before `cutoff` from a window kept in ascending measured_at (see
// InsertByEventTime): they are its front, found by binary search rather than by testing every sample.
template <typename Sample>
void DropMeasuredAtOrBefore(std::vector<Sample>& samples, EventTime cutoff) {
  auto keep = std::upper_bound(samples.begin(), samples.end(), cutoff,
                               [](EventTime t, const Sample& s) { return t < s.measured_at; });
  samples.erase(samples.begin(), keep);
}

template <typename Sample>
void KeepNewest(std::vector<Sample>& samples, std::size_t n) {
  if (samples.size() > n) samples.erase(samples.begin(), samples.end() - static_cast<std::ptrdiff_t>(n));
}

// Another trigger of an open episode: counted, and the newest trigger time kept (by event time, so a
// late trigger does not move it back).
void Retrigger(OpenEpisode& e, EventTime at);

// Another reading quoted as evidence of an open episode: the newest max_evidence are kept.
void AddEvidence(OpenEpisode& e, const BpSample& s, std::size_t max_evidence);
void AddEvidence(OpenEpisode& e, const GlucoseSample& s, std::size_t max_evidence);

// Remembers an event of an open episode as the newest step of its history, keeping the OPEN step and
// the newest `max_history` after it.
void RememberStep(OpenEpisode& e, const Escalation& told, std::size_t max_history);

// How long an unacknowledged episode waits at its current level before climbing; nullopt at the top
// level or for rules without a ladder. R3's ladder is measured from its due time: level 1 at due,
// level 2 at due + level2 delay, level 3 at due + level3 delay.
std::optional<int64_t> ClimbDelayMs(const Policy& p, const OpenEpisode& e);

// When an episode entering its current level at `from` climbs next, if it does.
std::optional<ProcessingTime> NextClimb(const Policy& p, const OpenEpisode& e, ProcessingTime from);

// Changes one worker's episodes and says so: every event and referral of a call goes through one
// emitter, which numbers the events, addresses them from the worker's profile and adds them to `out`.
class EpisodeEmitter {
 public:
  EpisodeEmitter(const Policy& policy, const WorkerId& worker, WorkerState& state, ProcessingTime now, Outcome& out)
      : policy_(policy), worker_(worker), state_(state), now_(now), out_(out) {}

  // Opens a new episode for `rule`, emits its OPEN event and starts its ack timeout. `at` is the event
  // time of what triggered it.
  OpenEpisode& Open(Rule rule, Severity severity, EscalationLevel level, EventTime at,
                    std::vector<BpSample> evidence, std::optional<WindowStats> window, std::string reason,
                    std::vector<GlucoseSample> glucose_evidence = {});

  // The clinic referral of an episode, sent once, in the call that opens it. It quotes the episode's
  // evidence as it stands at opening. Within the referral cool-down of the last one sent for the
  // worker, rule and urgency it is held back, and the episode's OPEN event says so instead.
  void Refer(const OpenEpisode& e, ReferralUrgency urgency, std::string reason, std::optional<WindowStats> window);

  // Emits the next event of a still-open episode (ESCALATED or RENOTIFIED) with its current severity,
  // level and evidence.
  void Update(OpenEpisode& e, EscalationState st, std::string reason);

  // A more serious finding on an open episode: it must be seen and acknowledged afresh, so any
  // acknowledgement or snooze of the milder finding lapses and the ack timeout restarts.
  void Raise(OpenEpisode& e, Severity severity, EscalationLevel level, std::string reason);

  // Emits RESOLVED for `rule`'s open episode and forgets it. The evidence is what resolved it.
  void Resolve(const OpenEpisode& open, EventTime trigger_at, std::optional<WindowStats> window,
               std::string reason, const std::vector<BpSample>& evidence,
               const std::vector<GlucoseSample>& glucose_evidence = {});

  // Its ack timeout, running since `from`, ran out: the episode climbs one level and says why.
  void Climb(OpenEpisode& e, ProcessingTime from);

  // Acknowledged and still open at its re-notify time: sent again, and again after another interval.
  void Renotify(OpenEpisode& e);

  // Its snooze ran out: it speaks again, and climbing or re-notifying resume from now, as if the level
  // had just been entered.
  void EndSnooze(OpenEpisode& e);

 private:
  // Emits the event and returns it, as addressed.
  const Escalation& Emit(const OpenEpisode& e, EscalationState st, EventTime trigger_at,
                         std::optional<WindowStats> window, std::string reason, const std::vector<BpSample>& evidence,
                         const std::vector<GlucoseSample>& glucose_evidence);

  const Policy& policy_;
  const WorkerId& worker_;
  WorkerState& state_;
  ProcessingTime now_;
  Outcome& out_;
};

// The referral sent for (rule, urgency) whose cool-down still holds back one triggered at `at`, or
// nullptr. A cool-down of 0 holds back nothing; a trigger older than the last referral is held back.
const ReferralSent* HeldBackBy(const WorkerState& s, Rule rule, ReferralUrgency urgency, EventTime at,
                               int64_t cooldown_ms);

// Acknowledges an open episode (the caller has checked it is not acknowledged yet): it stops climbing
// and is re-sent every renotify interval while it stays open, unless snoozed.
void Acknowledge(OpenEpisode& e, const Person& by, ProcessingTime at, const Policy& p, ProcessingTime now);

// Silences an open episode until `until` (in the future): its deadline becomes the snooze's end.
void Snooze(OpenEpisode& e, ProcessingTime until);

}  // namespace alertd::domain
