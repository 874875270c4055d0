// Rules R1 (critical blood pressure) and R2 (sustained hypertension) and the episode lifecycle.
#include "engine/domain/rulebook.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include "engine/domain/event_id.h"

namespace alertd::domain {
namespace {

int64_t LocalDay(EventTime t, const Policy& p) {
  int64_t local = t.ms + int64_t{p.day_offset_minutes} * kMinuteMs;
  return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
}

// "2026-11-29 08:12" in the grid's local time: the words health managers read.
std::string LocalTimeText(EventTime t, const Policy& p) {
  using namespace std::chrono;
  sys_time<milliseconds> local{milliseconds{t.ms + int64_t{p.day_offset_minutes} * kMinuteMs}};
  auto day = floor<days>(local);
  year_month_day ymd{day};
  hh_mm_ss hms{floor<minutes>(local - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return buf;
}

std::string BpText(const BpSample& s) {
  return std::to_string(s.systolic_mmhg) + "/" + std::to_string(s.diastolic_mmhg) + " mmHg";
}

std::string MeanText(const WindowStats& w) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f/%.0f mmHg", w.mean_systolic_mmhg, w.mean_diastolic_mmhg);
  return buf;
}

const char* CategoryWords(BpCategory c) {
  switch (c) {
    case BpCategory::kNormal: return "normal";
    case BpCategory::kHighNormal: return "high-normal";
    case BpCategory::kGrade1: return "grade-1";
    case BpCategory::kGrade2: return "grade-2";
    case BpCategory::kGrade3: return "grade-3";
  }
  return "unknown";
}

OpenEpisode* FindOpen(WorkerState& s, Rule rule) {
  for (auto& e : s.open) {
    if (e.rule == rule) return &e;
  }
  return nullptr;
}

void RemoveOpen(WorkerState& s, Rule rule) {
  std::erase_if(s.open, [rule](const OpenEpisode& e) { return e.rule == rule; });
}

// Keeps `samples` sorted by measured_at; a sample equal in time goes after the existing ones so that
// arrival order breaks ties the same way on every replay.
void InsertByEventTime(std::vector<BpSample>& samples, BpSample sample) {
  auto at = std::upper_bound(samples.begin(), samples.end(), sample.measured_at,
                             [](EventTime t, const BpSample& s) { return t < s.measured_at; });
  samples.insert(at, std::move(sample));
}

void AddEvidence(OpenEpisode& e, const BpSample& s, std::size_t max_evidence) {
  InsertByEventTime(e.evidence, s);
  if (e.evidence.size() > max_evidence) {
    e.evidence.erase(e.evidence.begin(), e.evidence.end() - static_cast<std::ptrdiff_t>(max_evidence));
  }
}

// The newest `n` samples with measured_at after `start`, oldest first, written into `out` (reusing its
// storage: this runs for every reading of a worker with an open R2 episode).
void AssignNewestSamples(const std::vector<BpSample>& window, EventTime start, std::size_t n,
                         std::vector<BpSample>& out) {
  auto first = std::upper_bound(window.begin(), window.end(), start,
                                [](EventTime t, const BpSample& s) { return t < s.measured_at; });
  if (static_cast<std::size_t>(window.end() - first) > n) first = window.end() - static_cast<std::ptrdiff_t>(n);
  out.assign(first, window.end());
}

std::vector<BpSample> NewestSamples(const std::vector<BpSample>& window, EventTime start, std::size_t n) {
  std::vector<BpSample> out;
  AssignNewestSamples(window, start, n, out);
  return out;
}

// Fills the routing fields of an event from the worker's profile.
void Address(Escalation& ev, const WorkerId& worker, const WorkerState& state) {
  ev.worker = worker;
  if (!state.profile) {
    ev.reason += " (no worker profile on file: route to the on-call health desk)";
    return;
  }
  const WorkerProfile& p = *state.profile;
  ev.worker_name = p.name;
  ev.unit_id = p.unit_id;
  ev.grid_id = p.grid_id;
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

class EpisodeEmitter {
 public:
  EpisodeEmitter(const WorkerId& worker, WorkerState& state, ProcessingTime now, std::vector<Escalation>& out)
      : worker_(worker), state_(state), now_(now), out_(out) {}

  // Opens a new episode for `rule` and emits its OPEN event.
  OpenEpisode& Open(Rule rule, Severity severity, EscalationLevel level, const BpSample& trigger,
                    std::vector<BpSample> evidence, std::optional<WindowStats> window, std::string reason) {
    state_.episodes_opened += 1;
    OpenEpisode e;
    e.rule = rule;
    e.episode_id = EpisodeId(worker_, rule, state_.episodes_opened);
    e.last_sequence = 1;
    e.severity = severity;
    e.level = level;
    e.opened_at = trigger.measured_at;
    e.last_trigger_at = trigger.measured_at;
    e.trigger_count = 1;
    e.evidence = std::move(evidence);
    state_.open.push_back(e);
    Emit(e, EscalationState::kOpen, trigger.measured_at, std::move(window), std::move(reason), e.evidence);
    return state_.open.back();
  }

  // Emits RESOLVED for `rule`'s open episode and forgets it.
  void Resolve(const OpenEpisode& open, EventTime trigger_at, std::optional<WindowStats> window,
               std::string reason, const std::vector<BpSample>& evidence) {
    OpenEpisode e = open;
    e.last_sequence += 1;
    Emit(e, EscalationState::kResolved, trigger_at, std::move(window), std::move(reason), evidence);
    RemoveOpen(state_, e.rule);
  }

 private:
  void Emit(const OpenEpisode& e, EscalationState st, EventTime trigger_at, std::optional<WindowStats> window,
            std::string reason, const std::vector<BpSample>& evidence) {
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
    ev.window = std::move(window);
    ev.opened_at = e.opened_at;
    ev.trigger_at = trigger_at;
    ev.emitted_at = now_;
    Address(ev, worker_, state_);
    out_.push_back(std::move(ev));
  }

  const WorkerId& worker_;
  WorkerState& state_;
  ProcessingTime now_;
  std::vector<Escalation>& out_;
};

}  // namespace

WindowStats ComputeWindow(const std::vector<BpSample>& samples, EventTime end, int64_t window_ms,
                          const Policy& policy) {
  WindowStats w;
  w.end = end;
  w.start = EventTime{end.ms - window_ms};
  double sum_sys = 0, sum_dia = 0;
  // Samples are sorted by event time, so distinct days are counted by watching the day change.
  int64_t last_day = 0;
  for (const auto& s : samples) {
    if (s.measured_at <= w.start || s.measured_at > end) continue;
    w.readings += 1;
    sum_sys += s.systolic_mmhg;
    sum_dia += s.diastolic_mmhg;
    const int64_t day = LocalDay(s.measured_at, policy);
    if (w.days == 0 || day != last_day) w.days += 1;
    last_day = day;
  }
  if (w.readings > 0) {
    w.mean_systolic_mmhg = sum_sys / w.readings;
    w.mean_diastolic_mmhg = sum_dia / w.readings;
    w.mean_category = ClassifyMeanBp(w.mean_systolic_mmhg, w.mean_diastolic_mmhg, policy.bp);
  }
  return w;
}

Rulebook::Rulebook(Policy policy) : policy_(std::move(policy)) {}

ReadingOutcome Rulebook::OnReading(const Reading& reading, WorkerState& state, ProcessingTime now) const {
  ReadingOutcome out;
  if (auto rejection = ValidateReading(reading, policy_, now)) {
    out.rejected = std::move(rejection);
    return out;
  }
  state.readings_accepted += 1;
  const auto* bp = std::get_if<BloodPressure>(&reading.measurement);
  if (bp == nullptr) return out;  // glucose and body readings: counted; their rules come later

  const BpClassification cls = ClassifyBp(bp->systolic_mmhg, bp->diastolic_mmhg, policy_.bp);
  out.bp = cls;
  BpSample sample{reading.measured_at, bp->systolic_mmhg, bp->diastolic_mmhg, bp->pulse_bpm, cls.category,
                  reading.station_id,  reading.device_id,  reading.context};

  state.bp_readings += 1;
  state.newest_bp_at = std::max(state.newest_bp_at.value_or(reading.measured_at), reading.measured_at);
  InsertByEventTime(state.bp_window, sample);
  const EventTime newest = *state.newest_bp_at;
  std::erase_if(state.bp_window,
                [&](const BpSample& s) { return s.measured_at.ms <= newest.ms - policy_.r2_window_ms; });
  if (state.bp_window.size() > policy_.max_window_samples) {
    state.bp_window.erase(state.bp_window.begin(),
                          state.bp_window.end() - static_cast<std::ptrdiff_t>(policy_.max_window_samples));
  }

  EpisodeEmitter emit(reading.worker, state, now, out.escalations);

  // R1: a critical reading pages the health manager once per episode.
  const IndividualPolicy* own = state.profile ? &state.profile->policy : nullptr;
  const int critical_sys = own && own->critical_systolic_mmhg ? *own->critical_systolic_mmhg : policy_.bp.grade3_systolic;
  const int critical_dia = own && own->critical_diastolic_mmhg ? *own->critical_diastolic_mmhg : policy_.bp.grade3_diastolic;
  const bool individual = critical_sys != policy_.bp.grade3_systolic || critical_dia != policy_.bp.grade3_diastolic;
  const bool critical = bp->systolic_mmhg >= critical_sys || bp->diastolic_mmhg >= critical_dia;
  if (OpenEpisode* r1 = FindOpen(state, Rule::kR1CriticalBp)) {
    if (critical) {
      r1->trigger_count += 1;
      r1->last_trigger_at = std::max(r1->last_trigger_at, sample.measured_at);
      AddEvidence(*r1, sample, policy_.max_evidence);
    } else if (sample.measured_at > r1->last_trigger_at) {
      emit.Resolve(*r1, sample.measured_at, std::nullopt,
                   "Blood pressure back below the critical threshold: " + BpText(sample) + " at " +
                       LocalTimeText(sample.measured_at, policy_) + " (" + std::to_string(r1->trigger_count) +
                       " critical reading" + (r1->trigger_count == 1 ? "" : "s") + " in this episode)",
                   {sample});
    }
  } else if (critical) {
    std::string what = individual ? "Blood pressure " + BpText(sample) + " at or above the individual critical threshold " +
                                        std::to_string(critical_sys) + "/" + std::to_string(critical_dia) + " mmHg"
                                  : std::string(cls.category == BpCategory::kGrade3 ? "Grade-3 blood pressure " : "Blood pressure ") +
                                        BpText(sample);
    std::string reason = what + (bp->pulse_bpm ? ", pulse " + std::to_string(bp->pulse_bpm) : std::string()) +
                         " at " + LocalTimeText(sample.measured_at, policy_) +
                         (sample.station_id.empty() ? "" : ", station " + sample.station_id) +
                         ": urgent follow-up by the health manager";
    emit.Open(Rule::kR1CriticalBp, Severity::kUrgent, EscalationLevel::kHealthManager, sample, {sample},
              std::nullopt, std::move(reason));
  }

  // R2: the 7-day event-time window ending at the newest reading.
  const WindowStats w = ComputeWindow(state.bp_window, newest, policy_.r2_window_ms, policy_);
  const bool high_mean = w.mean_category >= policy_.r2_min_category;
  const bool enough = w.readings >= policy_.r2_min_readings && w.days >= policy_.r2_min_days;
  // Built only when an event needs it: most readings change nothing worth saying.
  auto stats = [&] {
    return MeanText(w) + " over " + std::to_string(w.readings) + " reading" + (w.readings == 1 ? "" : "s") + " on " +
           std::to_string(w.days) + " day" + (w.days == 1 ? "" : "s") + " to " + LocalTimeText(w.end, policy_);
  };
  if (OpenEpisode* r2 = FindOpen(state, Rule::kR2SustainedHypertension)) {
    if (!high_mean) {
      emit.Resolve(*r2, sample.measured_at, w,
                   std::string("7-day mean back below ") + CategoryWords(policy_.r2_min_category) + ": " + stats(),
                   NewestSamples(state.bp_window, w.start, policy_.max_evidence));
    } else {
      r2->trigger_count += 1;
      r2->last_trigger_at = std::max(r2->last_trigger_at, sample.measured_at);
      AssignNewestSamples(state.bp_window, w.start, policy_.max_evidence, r2->evidence);
    }
  } else if (high_mean && enough) {
    emit.Open(Rule::kR2SustainedHypertension, Severity::kHigh, EscalationLevel::kHealthManager, sample,
              NewestSamples(state.bp_window, w.start, policy_.max_evidence), w,
              std::string("Sustained ") + CategoryWords(w.mean_category) + " hypertension: 7-day mean " + stats() +
                  ": follow-up by the health manager and a routine clinic referral");
  }
  return out;
}

std::vector<Escalation> Rulebook::OnProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                            WorkerState& state, ProcessingTime now) const {
  std::vector<Escalation> out;
  if (profile) {
    state.profile = *profile;
    state.profile->worker = worker;
    return out;
  }
  EpisodeEmitter emit(worker, state, now, out);
  // Copy: Resolve removes each episode from state.open as it goes.
  const std::vector<OpenEpisode> open = state.open;
  for (const auto& e : open) {
    emit.Resolve(e, e.last_trigger_at, std::nullopt, "Worker removed from the health programme; episode closed",
                 e.evidence);
  }
  return out;
}

}  // namespace alertd::domain
