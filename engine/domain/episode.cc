// The episode lifecycle: open, retrigger, climb, re-notify, snooze and resolve, and the events and
// referrals that tell people about it.
#include "engine/domain/episode.h"

#include "engine/domain/event_id.h"
#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

// Said of every event and referral of a worker without a profile: nobody to address it to.
constexpr const char* kNoProfileWords = " (no worker profile on file: route to the on-call health desk)";

void RemoveOpen(WorkerState& s, Rule rule) {
  std::erase_if(s.open, [rule](const OpenEpisode& e) { return e.rule == rule; });
}

EscalationLevel LevelAbove(EscalationLevel l) {
  return l == EscalationLevel::kWorker ? EscalationLevel::kHealthManager : EscalationLevel::kUnitSupervisor;
}

// Fills the routing fields of an event from the worker's profile.
void Address(Escalation& ev, const WorkerId& worker, const WorkerState& state) {
  ev.worker = worker;
  if (!state.profile) {
    ev.reason += kNoProfileWords;
    return;
  }
  const WorkerProfile& p = *state.profile;
  ev.worker_name = p.name;
  ev.unit_id = p.unit_id;
  ev.grid_id = p.grid_id;
  ev.unit_name = p.unit_name;
  ev.grid_name = p.grid_name;
  switch (ev.level) {
    case EscalationLevel::kWorker:
      ev.recipients.push_back({p.worker.value, p.name, RecipientRole::kWorker});
      break;
    case EscalationLevel::kHealthManager:
      ev.recipients.push_back({p.health_manager.id, p.health_manager.name, RecipientRole::kHealthManager});
      break;
    case EscalationLevel::kUnitSupervisor:
      ev.recipients.push_back({p.health_manager.id, p.health_manager.name, RecipientRole::kHealthManager});
      ev.recipients.push_back({p.unit_supervisor.id, p.unit_supervisor.name, RecipientRole::kUnitSupervisor});
      break;
  }
  for (const auto& extra : p.policy.extra_recipients) {
    ev.recipients.push_back({extra.id, extra.name, RecipientRole::kExtra});
  }
}

}  // namespace

OpenEpisode* FindOpen(WorkerState& s, Rule rule) {
  for (auto& e : s.open) {
    if (e.rule == rule) return &e;
  }
  return nullptr;
}

const OpenEpisode* FindOpen(const WorkerState& s, Rule rule) {
  for (const auto& e : s.open) {
    if (e.rule == rule) return &e;
  }
  return nullptr;
}

void Retrigger(OpenEpisode& e, EventTime at) {
  e.trigger_count += 1;
  e.last_trigger_at = std::max(e.last_trigger_at, at);
}

void AddEvidence(OpenEpisode& e, const BpSample& s, std::size_t max_evidence) {
  InsertByEventTime(e.evidence, s);
  KeepNewest(e.evidence, max_evidence);
}

void AddEvidence(OpenEpisode& e, const GlucoseSample& s, std::size_t max_evidence) {
  InsertByEventTime(e.glucose_evidence, s);
  KeepNewest(e.glucose_evidence, max_evidence);
}

void RememberStep(OpenEpisode& e, const Escalation& told, std::size_t max_history) {
  e.history.push_back(EpisodeStep{told.sequence, told.state, told.level, told.severity, told.emitted_at, told.recipients});
  // The first step stays: who was told when it opened is what a manager asks about first.
  if (e.history.size() > max_history + 1) {
    e.history.erase(e.history.begin() + 1, e.history.end() - static_cast<std::ptrdiff_t>(max_history));
  }
}

std::optional<int64_t> ClimbDelayMs(const Policy& p, const OpenEpisode& e) {
  if (e.level == EscalationLevel::kUnitSupervisor) return std::nullopt;
  switch (e.rule) {
    case Rule::kR1CriticalBp: return p.r1_ack_timeout_ms;
    case Rule::kR2SustainedHypertension: return p.r2_ack_timeout_ms;
    case Rule::kR3SelfTestMissed:
      return e.level == EscalationLevel::kWorker ? p.r3_level2_delay_ms : p.r3_level3_delay_ms - p.r3_level2_delay_ms;
    case Rule::kR4PreShiftFitness: return p.r4_ack_timeout_ms;
    case Rule::kR5Glucose: return e.severity >= Severity::kUrgent ? p.r5_hypo_ack_timeout_ms : p.r5_high_ack_timeout_ms;
    case Rule::kR6FocusTracking: return p.r6_ack_timeout_ms;
  }
  return std::nullopt;
}

std::optional<ProcessingTime> NextClimb(const Policy& p, const OpenEpisode& e, ProcessingTime from) {
  const std::optional<int64_t> delay = ClimbDelayMs(p, e);
  if (!delay) return std::nullopt;
  return ProcessingTime{from.ms + *delay};
}

OpenEpisode& EpisodeEmitter::Open(Rule rule, Severity severity, EscalationLevel level, EventTime at,
                                  std::vector<BpSample> evidence, std::optional<WindowStats> window,
                                  std::string reason, std::vector<GlucoseSample> glucose_evidence) {
  state_.episodes_opened += 1;
  OpenEpisode e;
  e.rule = rule;
  e.episode_id = EpisodeId(worker_, rule, state_.episodes_opened);
  e.last_sequence = 1;
  e.severity = severity;
  e.level = level;
  e.opened_at = at;
  e.last_trigger_at = at;
  e.trigger_count = 1;
  e.evidence = std::move(evidence);
  e.glucose_evidence = std::move(glucose_evidence);
  e.next_deadline = NextClimb(policy_, e, now_);
  OpenEpisode& opened = state_.open.emplace_back(std::move(e));
  RememberStep(opened,
               Emit(opened, EscalationState::kOpen, at, std::move(window), std::move(reason), opened.evidence,
                    opened.glucose_evidence),
               policy_.max_history);
  return opened;
}

const ReferralSent* HeldBackBy(const WorkerState& s, Rule rule, ReferralUrgency urgency, EventTime at,
                               int64_t cooldown_ms) {
  if (cooldown_ms <= 0) return nullptr;
  for (const ReferralSent& sent : s.referrals_sent) {
    if (sent.rule == rule && sent.urgency == urgency && at.ms < sent.at.ms + cooldown_ms) return &sent;
  }
  return nullptr;
}

void EpisodeEmitter::Refer(const OpenEpisode& e, ReferralUrgency urgency, std::string reason,
                           std::optional<WindowStats> window) {
  const EventTime at = e.last_trigger_at;
  if (const ReferralSent* sent = HeldBackBy(state_, e.rule, urgency, at, policy_.referral_cooldown_ms)) {
    for (auto ev = out_.escalations.rbegin(); ev != out_.escalations.rend(); ++ev) {
      if (ev->episode_id != e.episode_id || ev->state != EscalationState::kOpen) continue;
      ev->reason += "; no new clinic referral: one went out for a reading at " + LocalTimeText(sent->at, policy_) +
                    " (referral cool-down " + DurationText(policy_.referral_cooldown_ms) + ")";
      break;
    }
    return;
  }
  auto same = std::find_if(state_.referrals_sent.begin(), state_.referrals_sent.end(),
                           [&](const ReferralSent& s) { return s.rule == e.rule && s.urgency == urgency; });
  if (same == state_.referrals_sent.end()) {
    state_.referrals_sent.push_back(ReferralSent{e.rule, urgency, at});
  } else {
    same->at = std::max(same->at, at);
  }
  Referral r;
  r.referral_id = ReferralId(e.episode_id);
  r.episode_id = e.episode_id;
  r.worker = worker_;
  if (state_.profile) {
    const WorkerProfile& p = *state_.profile;
    r.worker_name = p.name;
    r.unit_id = p.unit_id;
    r.unit_name = p.unit_name;
    r.grid_id = p.grid_id;
    r.grid_name = p.grid_name;
    r.health_manager = p.health_manager;
    r.diagnosed_hypertension_grade = p.diagnosed_hypertension_grade;
    r.coronary_heart_disease = p.coronary_heart_disease;
    r.diabetes = p.diabetes;
  } else {
    reason += kNoProfileWords;
  }
  r.rule = e.rule;
  r.urgency = urgency;
  r.reason = std::move(reason);
  r.evidence = e.evidence;
  r.glucose_evidence = e.glucose_evidence;
  r.window = std::move(window);
  r.trigger_at = e.last_trigger_at;
  r.emitted_at = now_;
  out_.referrals.push_back(std::move(r));
}

void EpisodeEmitter::Update(OpenEpisode& e, EscalationState st, std::string reason) {
  e.last_sequence += 1;
  RememberStep(e, Emit(e, st, e.last_trigger_at, std::nullopt, std::move(reason), e.evidence, e.glucose_evidence),
               policy_.max_history);
}

void EpisodeEmitter::Raise(OpenEpisode& e, Severity severity, EscalationLevel level, std::string reason) {
  e.severity = std::max(e.severity, severity);
  e.level = std::max(e.level, level);
  e.acknowledged = false;
  e.acked_by = Person{};
  e.acked_at = ProcessingTime{};
  e.snoozed_until.reset();
  e.next_deadline = NextClimb(policy_, e, now_);
  Update(e, EscalationState::kEscalated, std::move(reason));
}

void EpisodeEmitter::Resolve(const OpenEpisode& open, EventTime trigger_at, std::optional<WindowStats> window,
                             std::string reason, const std::vector<BpSample>& evidence,
                             const std::vector<GlucoseSample>& glucose_evidence) {
  OpenEpisode e = open;
  e.last_sequence += 1;
  Emit(e, EscalationState::kResolved, trigger_at, std::move(window), std::move(reason), evidence, glucose_evidence);
  RemoveOpen(state_, e.rule);
}

void EpisodeEmitter::Climb(OpenEpisode& e, ProcessingTime from) {
  const int64_t waited = ClimbDelayMs(policy_, e).value_or(0);
  e.level = LevelAbove(e.level);
  e.next_deadline = NextClimb(policy_, e, from);
  std::string reason = e.rule == Rule::kR3SelfTestMissed
                           ? MissedSelfTestClimbWords(e, from, now_)
                           : std::string("Not acknowledged within ") + DurationText(waited) + ": escalated to " +
                                 Text(e.level) + " (" + Name(e.rule) + " open since " +
                                 LocalTimeText(e.opened_at, policy_) + ")";
  Update(e, EscalationState::kEscalated, std::move(reason));
}

void EpisodeEmitter::Renotify(OpenEpisode& e) {
  e.next_deadline = ProcessingTime{now_.ms + policy_.renotify_interval_ms};
  Update(e, EscalationState::kRenotified,
         "Still open: acknowledged by " + PersonWords(e.acked_by) + " at " +
             LocalTimeText(EventTime{e.acked_at.ms}, policy_) + " and the condition persists");
}

void EpisodeEmitter::EndSnooze(OpenEpisode& e) {
  e.snoozed_until.reset();
  e.next_deadline = e.acknowledged ? std::optional(ProcessingTime{now_.ms + policy_.renotify_interval_ms})
                                   : NextClimb(policy_, e, now_);
  Update(e, EscalationState::kRenotified, "Snooze ended and the condition persists");
}

const Escalation& EpisodeEmitter::Emit(const OpenEpisode& e, EscalationState st, EventTime trigger_at,
                                       std::optional<WindowStats> window, std::string reason,
                                       const std::vector<BpSample>& evidence,
                                       const std::vector<GlucoseSample>& glucose_evidence) {
  Escalation ev;
  ev.episode_id = e.episode_id;
  ev.sequence = e.last_sequence;
  ev.event_id = EventId(e.episode_id, e.last_sequence);
  ev.rule = e.rule;
  ev.severity = e.severity;
  ev.level = e.level;
  ev.state = st;
  ev.reason = std::move(reason);
  ev.evidence = evidence;
  ev.glucose_evidence = glucose_evidence;
  ev.window = std::move(window);
  ev.opened_at = e.opened_at;
  ev.trigger_at = trigger_at;
  ev.emitted_at = now_;
  Address(ev, worker_, state_);
  return out_.escalations.emplace_back(std::move(ev));
}

void Acknowledge(OpenEpisode& e, const Person& by, ProcessingTime at, const Policy& p, ProcessingTime now) {
  e.acknowledged = true;
  e.acked_by = by;
  e.acked_at = at;
  if (!e.snoozed_until) e.next_deadline = ProcessingTime{now.ms + p.renotify_interval_ms};
}

void Snooze(OpenEpisode& e, ProcessingTime until) {
  e.snoozed_until = until;
  e.next_deadline = until;
}

}  // namespace alertd::domain
