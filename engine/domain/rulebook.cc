// Rules R1-R4 and the episode lifecycle: open, climb, acknowledge, re-notify, snooze, resolve.
#include "engine/domain/rulebook.h"

#include <algorithm>
#include <array>
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

// "30 min", "24 h", "3 days": the largest whole unit, as people say deadlines (a day is "24 h").
std::string DurationText(int64_t ms) {
  if (ms >= 2 * kDayMs && ms % kDayMs == 0) return std::to_string(ms / kDayMs) + " days";
  if (ms >= kHourMs && ms % kHourMs == 0) return std::to_string(ms / kHourMs) + " h";
  if (ms >= kMinuteMs && ms % kMinuteMs == 0) return std::to_string(ms / kMinuteMs) + " min";
  return std::to_string(ms / kSecondMs) + " s";
}

const char* PostWords(HighRiskPost p) {
  switch (p) {
    case HighRiskPost::kDriver: return "driving";
    case HighRiskPost::kWorkAtHeight: return "work at height";
    case HighRiskPost::kHotWork: return "hot work";
    case HighRiskPost::kConfinedSpace: return "confined-space work";
    case HighRiskPost::kElectrical: return "electrical work";
  }
  return "a high-risk post";
}

const char* LevelWords(EscalationLevel l) {
  switch (l) {
    case EscalationLevel::kWorker: return "the worker";
    case EscalationLevel::kHealthManager: return "the health manager";
    case EscalationLevel::kUnitSupervisor: return "the unit supervisor";
  }
  return "the on-call health desk";
}

std::string PersonWords(const Person& p) { return p.name.empty() ? p.id : p.name; }

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

// How long an unacknowledged episode waits at its current level before climbing; nullopt at the top
// level or for rules without a ladder. R3's ladder is measured from its due time: level 1 at due,
// level 2 at due + level2 delay, level 3 at due + level3 delay.
std::optional<int64_t> ClimbDelayMs(const Policy& p, const OpenEpisode& e) {
  if (e.level == EscalationLevel::kUnitSupervisor) return std::nullopt;
  switch (e.rule) {
    case Rule::kR1CriticalBp: return p.r1_ack_timeout_ms;
    case Rule::kR2SustainedHypertension: return p.r2_ack_timeout_ms;
    case Rule::kR3SelfTestMissed:
      return e.level == EscalationLevel::kWorker ? p.r3_level2_delay_ms : p.r3_level3_delay_ms - p.r3_level2_delay_ms;
    case Rule::kR4PreShiftFitness: return p.r4_ack_timeout_ms;
    case Rule::kR5Glucose:
    case Rule::kR6FocusTracking: return std::nullopt;
  }
  return std::nullopt;
}

std::optional<ProcessingTime> NextClimb(const Policy& p, const OpenEpisode& e, ProcessingTime from) {
  const std::optional<int64_t> delay = ClimbDelayMs(p, e);
  if (!delay) return std::nullopt;
  return ProcessingTime{from.ms + *delay};
}

EscalationLevel LevelAbove(EscalationLevel l) {
  return l == EscalationLevel::kWorker ? EscalationLevel::kHealthManager : EscalationLevel::kUnitSupervisor;
}

// The one timer an episode waits for, if any; its kind follows from the episode's lifecycle fields.
std::optional<TimerRequest> PendingTimer(const OpenEpisode& e) {
  if (!e.next_deadline) return std::nullopt;
  const uint32_t kind = e.snoozed_until ? kTimerSnoozeEnd : e.acknowledged ? kTimerRenotify : kTimerAckTimeout;
  return TimerRequest{*e.next_deadline, e.rule, kind};
}

// Every deadline one worker's state waits for: one per open episode (at most one per rule) plus the
// self-test due. Fixed capacity: this is taken twice for every reading.
struct PendingTimers {
  std::array<TimerRequest, 8> items{};
  std::size_t size = 0;
  void Add(const TimerRequest& t) {
    if (size < items.size()) items[size++] = t;
  }
  bool Has(const TimerRequest& t) const {
    return std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(size), t) !=
           items.begin() + static_cast<std::ptrdiff_t>(size);
  }
};

PendingTimers Pending(const WorkerState& s) {
  PendingTimers out;
  if (s.self_test_due) out.Add({*s.self_test_due, Rule::kR3SelfTestMissed, kTimerSelfTestDue});
  for (const OpenEpisode& e : s.open) {
    if (auto t = PendingTimer(e)) out.Add(*t);
  }
  return out;
}

// The timer requests that turn `before` into `after`. Deriving them from the state, rather than having
// every rule remember to ask, means no code path can leave a deadline behind or forget to set one.
void DiffTimers(const PendingTimers& before, const PendingTimers& after, Outcome& out) {
  for (std::size_t i = 0; i < before.size; ++i) {
    if (!after.Has(before.items[i])) out.timers_cancel.push_back(before.items[i]);
  }
  for (std::size_t i = 0; i < after.size; ++i) {
    if (!before.Has(after.items[i])) out.timers_set.push_back(after.items[i]);
  }
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
  EpisodeEmitter(const Policy& policy, const WorkerId& worker, WorkerState& state, ProcessingTime now,
                 std::vector<Escalation>& out)
      : policy_(policy), worker_(worker), state_(state), now_(now), out_(out) {}

  // Opens a new episode for `rule`, emits its OPEN event and starts its ack timeout. `at` is the event
  // time of what triggered it.
  OpenEpisode& Open(Rule rule, Severity severity, EscalationLevel level, EventTime at,
                    std::vector<BpSample> evidence, std::optional<WindowStats> window, std::string reason) {
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
    e.next_deadline = NextClimb(policy_, e, now_);
    state_.open.push_back(e);
    Emit(e, EscalationState::kOpen, at, std::move(window), std::move(reason), e.evidence);
    return state_.open.back();
  }

  // Emits the next event of a still-open episode (ESCALATED or RENOTIFIED) with its current severity,
  // level and evidence.
  void Update(OpenEpisode& e, EscalationState st, std::string reason) {
    e.last_sequence += 1;
    Emit(e, st, e.last_trigger_at, std::nullopt, std::move(reason), e.evidence);
  }

  // A more serious finding on an open episode: it must be seen and acknowledged afresh, so any
  // acknowledgement or snooze of the milder finding lapses and the ack timeout restarts.
  void Raise(OpenEpisode& e, Severity severity, EscalationLevel level, std::string reason) {
    e.severity = std::max(e.severity, severity);
    e.level = std::max(e.level, level);
    e.acknowledged = false;
    e.acked_by = Person{};
    e.acked_at = ProcessingTime{};
    e.snoozed_until.reset();
    e.next_deadline = NextClimb(policy_, e, now_);
    Update(e, EscalationState::kEscalated, std::move(reason));
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

  const Policy& policy_;
  const WorkerId& worker_;
  WorkerState& state_;
  ProcessingTime now_;
  std::vector<Escalation>& out_;
};

// --- R3 enrolment and the weekly self-test clock ---------------------------------------------------

bool EnrolledInSelfTests(const Policy& p, const WorkerState& s) {
  if (s.profile && !s.profile->active) return false;
  if (FindOpen(s, Rule::kR2SustainedHypertension) != nullptr) return true;
  if (!s.profile) return false;
  return s.profile->diagnosed_hypertension_grade >= p.r3_min_diagnosed_grade ||
         s.profile->policy.self_test_interval_days.value_or(0) > 0;
}

// A non-positive override would make the reminder fire continuously: it falls back to the global one.
int64_t SelfTestIntervalMs(const Policy& p, const WorkerState& s) {
  const int days = s.profile ? s.profile->policy.self_test_interval_days.value_or(0) : 0;
  return days > 0 ? int64_t{days} * kDayMs : p.self_test_interval_ms;
}

// Where the weekly clock starts: the newest reading's event time, read as processing time (a device
// clock is as good a clock as any for a 7-day deadline), or enrolment if that is later.
int64_t SelfTestBasisMs(const WorkerState& s) {
  int64_t basis = s.self_test_since ? s.self_test_since->ms : 0;
  if (s.newest_bp_at) basis = std::max(basis, s.newest_bp_at->ms);
  return basis;
}

std::string EnrolmentWords(const Policy& p, const WorkerState& s) {
  if (s.profile && s.profile->diagnosed_hypertension_grade >= p.r3_min_diagnosed_grade) {
    return "Grade-" + std::to_string(s.profile->diagnosed_hypertension_grade) + " hypertension";
  }
  if (FindOpen(s, Rule::kR2SustainedHypertension) != nullptr) return "Sustained hypertension";
  return "Individual policy (self-test every " + DurationText(SelfTestIntervalMs(p, s)) + ")";
}

// Brings the self-test deadline in line with enrolment, the newest reading and the interval. Runs after
// everything that can move them; an R3 episode whose worker left the programme is withdrawn.
void SyncSelfTest(const Policy& p, WorkerState& s, ProcessingTime now, EpisodeEmitter& emit) {
  OpenEpisode* r3 = FindOpen(s, Rule::kR3SelfTestMissed);
  if (!EnrolledInSelfTests(p, s)) {
    s.self_test_since.reset();
    s.self_test_due.reset();
    if (r3 != nullptr) {
      emit.Resolve(*r3, r3->last_trigger_at, std::nullopt,
                   "No longer enrolled in weekly self-tests: the reminder is withdrawn", r3->evidence);
    }
    return;
  }
  if (!s.self_test_since) s.self_test_since = now;
  if (r3 != nullptr) {
    s.self_test_due.reset();  // the open episode's own ladder runs until a reading resolves it
    return;
  }
  s.self_test_due = ProcessingTime{SelfTestBasisMs(s) + SelfTestIntervalMs(p, s)};
}

// --- R4 -------------------------------------------------------------------------------------------

bool HoldsHighRiskPost(const WorkerState& s) { return s.profile && !s.profile->high_risk_posts.empty(); }

bool UnfitForDuty(const BpClassification& c, const Policy& p) {
  return c.category >= p.r4_unfit_min_category || (p.r4_hypotension_unfit && c.hypotension);
}

// R4 keeps one episode per worker whose severity names the finding, so a worse finding escalates the
// open episode instead of opening a second one (one open escalation per (worker, rule), DESIGN §4):
// HIGH = no pre-shift check, URGENT = unfit for duty, CRITICAL = unfit and clocked in.
bool UnfitFinding(const OpenEpisode& e) { return e.severity >= Severity::kUrgent; }

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

  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy_, reading.worker, state, now, out.escalations);

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
    emit.Open(Rule::kR1CriticalBp, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at, {sample},
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
    emit.Open(Rule::kR2SustainedHypertension, Severity::kHigh, EscalationLevel::kHealthManager, sample.measured_at,
              NewestSamples(state.bp_window, w.start, policy_.max_evidence), w,
              std::string("Sustained ") + CategoryWords(w.mean_category) + " hypertension: 7-day mean " + stats() +
                  ": follow-up by the health manager and a routine clinic referral");
  }

  // R3: a reading newer than the one the missed deadline was counted from resolves the reminder. One
  // measured before the deadline proves the deadline was met: the escalation was wrong and is retracted.
  // (R3 episodes keep the deadline in opened_at and the clock's start in last_trigger_at.)
  if (OpenEpisode* r3 = FindOpen(state, Rule::kR3SelfTestMissed)) {
    if (sample.measured_at > r3->last_trigger_at) {
      const EventTime deadline = r3->opened_at;
      std::string reason =
          sample.measured_at < deadline
              ? "Reading measured on time at " + LocalTimeText(sample.measured_at, policy_) + " (due " +
                    LocalTimeText(deadline, policy_) + "), uploaded late: the missed self-test escalation is retracted"
              : "Self-test received: " + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy_);
      emit.Resolve(*r3, sample.measured_at, std::nullopt, std::move(reason), {sample});
    }
  }

  // R4: pre-shift readings decide fitness for duty.
  if (sample.context == ReadingContext::kPreShift) {
    const bool unfit = UnfitForDuty(cls, policy_);
    const std::string unfit_words = "unfit for duty: " + BpText(sample) + " before shift; " +
                                    policy_.r4_retest_advice + " (measured " +
                                    LocalTimeText(sample.measured_at, policy_) + ")";
    if (OpenEpisode* r4 = FindOpen(state, Rule::kR4PreShiftFitness)) {
      if (unfit) {
        r4->trigger_count += 1;
        r4->last_trigger_at = std::max(r4->last_trigger_at, sample.measured_at);
        AddEvidence(*r4, sample, policy_.max_evidence);
        if (!UnfitFinding(*r4)) emit.Raise(*r4, Severity::kUrgent, EscalationLevel::kHealthManager, unfit_words);
      } else if (UnfitFinding(*r4) ? sample.measured_at > r4->last_trigger_at
                                   : sample.measured_at.ms >= r4->last_trigger_at.ms - policy_.pre_shift_window_ms) {
        // A fit check answers "no pre-shift check" even when measured just before the clock-in it
        // missed (uploaded late); an unfit finding needs a retest after the unfit reading.
        const char* what = UnfitFinding(*r4) ? "Fit for duty on retest: " : "Pre-shift check done, fit for duty: ";
        emit.Resolve(*r4, sample.measured_at, std::nullopt,
                     what + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy_), {sample});
      }
    } else if (unfit && HoldsHighRiskPost(state)) {
      emit.Open(Rule::kR4PreShiftFitness, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at,
                {sample}, std::nullopt, unfit_words);
    }
  }

  SyncSelfTest(policy_, state, now, emit);
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnWorkerProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                  WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy_, worker, state, now, out.escalations);
  if (profile) {
    state.profile = *profile;
    state.profile->worker = worker;
    SyncSelfTest(policy_, state, now, emit);
  } else {
    // Copy: Resolve removes each episode from state.open as it goes.
    const std::vector<OpenEpisode> open = state.open;
    for (const auto& e : open) {
      emit.Resolve(e, e.last_trigger_at, std::nullopt, "Worker removed from the health programme; episode closed",
                   e.evidence);
    }
    state.self_test_due.reset();
    state.self_test_since.reset();
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

std::vector<Escalation> Rulebook::OnProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                            WorkerState& state, ProcessingTime now) const {
  return OnWorkerProfile(worker, profile, state, now).escalations;
}

Outcome Rulebook::OnShift(const ShiftEvent& shift, WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy_, shift.worker, state, now, out.escalations);
  const EventTime t = shift.clock_in_at;
  const std::string where = std::string(PostWords(shift.post)) + (shift.site.empty() ? "" : " at " + shift.site) +
                            " at " + LocalTimeText(t, policy_);

  // The newest PRE_SHIFT reading measured in [t - window, t]. bp_window covers 7 days of event time,
  // far more than the pre-shift window.
  const BpSample* check = nullptr;
  for (const BpSample& s : state.bp_window) {
    if (s.context == ReadingContext::kPreShift && s.measured_at.ms >= t.ms - policy_.pre_shift_window_ms &&
        s.measured_at <= t) {
      check = &s;  // ascending measured_at: the last match is the newest
    }
  }
  const bool check_unfit = check != nullptr && UnfitForDuty(ClassifyBp(check->systolic_mmhg, check->diastolic_mmhg,
                                                                       policy_.bp), policy_);
  OpenEpisode* r4 = FindOpen(state, Rule::kR4PreShiftFitness);
  // Unfit and clocked in: an open unfit finding from a reading at or before clock-in (no fit retest has
  // resolved it), or the newest check in the window was unfit (the retest came only after clock-in).
  const bool unfit_open = r4 != nullptr && UnfitFinding(*r4) && r4->last_trigger_at <= t;
  if (unfit_open || check_unfit) {
    std::string reason = "Unfit clocked in: started " + where + " after an unfit pre-shift reading" +
                         (check_unfit ? " of " + BpText(*check) : std::string()) + " with no fit retest";
    if (r4 == nullptr) {
      OpenEpisode& e = emit.Open(Rule::kR4PreShiftFitness, Severity::kCritical, EscalationLevel::kUnitSupervisor, t,
                                 {*check}, std::nullopt, std::move(reason));
      e.last_trigger_at = check->measured_at;
    } else if (r4->severity < Severity::kCritical) {
      r4->trigger_count += 1;
      emit.Raise(*r4, Severity::kCritical, EscalationLevel::kUnitSupervisor, std::move(reason));
    } else {
      r4->trigger_count += 1;  // already known to be on duty unfit: no second page
    }
  } else if (check == nullptr) {
    if (r4 == nullptr) {
      emit.Open(Rule::kR4PreShiftFitness, Severity::kHigh, EscalationLevel::kHealthManager, t, {}, std::nullopt,
                "No pre-shift check: clocked in to " + where +
                    " with no pre-shift blood-pressure reading in the previous " +
                    DurationText(policy_.pre_shift_window_ms));
    } else {
      r4->trigger_count += 1;
      if (!UnfitFinding(*r4)) r4->last_trigger_at = std::max(r4->last_trigger_at, t);
    }
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnAck(const EscalationAck& ack, WorkerState& state, ProcessingTime now) const {
  Outcome out;
  OpenEpisode* e = FindOpen(state, ack.rule);
  if (e == nullptr || e->episode_id != ack.episode_id) {
    out.ignored = true;
    out.ignored_reason = "no open " + std::string(Name(ack.rule)) + " episode " + ack.episode_id;
    return out;
  }
  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy_, ack.worker, state, now, out.escalations);
  switch (ack.action) {
    case EscalationAck::Action::kAcknowledge:
      if (e->acknowledged) {
        out.ignored = true;  // a redelivered ack must not push the re-notify time back
        out.ignored_reason = "episode " + ack.episode_id + " already acknowledged by " + PersonWords(e->acked_by);
        return out;
      }
      e->acknowledged = true;
      e->acked_by = ack.by;
      e->acked_at = ack.at;
      if (!e->snoozed_until) e->next_deadline = ProcessingTime{now.ms + policy_.renotify_interval_ms};
      break;
    case EscalationAck::Action::kResolve: {
      const Rule rule = e->rule;
      emit.Resolve(*e, e->last_trigger_at, std::nullopt, "Resolved by " + PersonWords(ack.by), e->evidence);
      // A manually resolved reminder restarts the weekly clock now; otherwise it would reopen at once.
      if (rule == Rule::kR3SelfTestMissed && state.self_test_since) state.self_test_since = now;
      SyncSelfTest(policy_, state, now, emit);
      break;
    }
    case EscalationAck::Action::kSnooze:
      if (!ack.snooze_until || *ack.snooze_until <= now) {
        out.ignored = true;
        out.ignored_reason = "snooze of episode " + ack.episode_id + " without a snooze_until in the future";
        return out;
      }
      e->snoozed_until = *ack.snooze_until;
      e->next_deadline = *ack.snooze_until;
      break;
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

Outcome Rulebook::OnTimer(const Timer& timer, WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy_, timer.worker, state, now, out.escalations);
  auto stale = [&](std::string why) {
    out.ignored = true;
    out.ignored_reason = "stale " + std::string(Name(timer.rule)) + " timer: " + std::move(why);
    return out;
  };

  if (timer.kind == kTimerSelfTestDue) {
    if (timer.rule != Rule::kR3SelfTestMissed || !state.self_test_due || now < *state.self_test_due) {
      return stale("no self-test due");
    }
    const ProcessingTime due = *state.self_test_due;
    const int64_t basis = SelfTestBasisMs(state);
    std::vector<BpSample> evidence;
    if (!state.bp_window.empty()) evidence.push_back(state.bp_window.back());
    const std::string since = state.newest_bp_at && state.newest_bp_at->ms == basis
                                  ? "last reading " + LocalTimeText(*state.newest_bp_at, policy_)
                                  : "enrolled " + LocalTimeText(EventTime{basis}, policy_);
    state.self_test_due.reset();
    OpenEpisode& e = emit.Open(Rule::kR3SelfTestMissed, Severity::kHigh, EscalationLevel::kWorker, EventTime{due.ms},
                               std::move(evidence), std::nullopt,
                               EnrolmentWords(policy_, state) + ", no self-test for " + DurationText(due.ms - basis) +
                                   " (" + since + "): reminder to the worker");
    e.last_trigger_at = EventTime{basis};
    e.next_deadline = NextClimb(policy_, e, due);  // the ladder counts from the due time, not from now
    DiffTimers(timers_before, Pending(state), out);
    return out;
  }

  OpenEpisode* e = FindOpen(state, timer.rule);
  const std::optional<TimerRequest> pending = e != nullptr ? PendingTimer(*e) : std::nullopt;
  if (!pending) return stale("nothing pending");
  if (pending->kind != timer.kind) return stale("the episode waits for another kind of deadline");
  if (now < pending->fire_at) return stale("the deadline moved later");

  switch (timer.kind) {
    case kTimerAckTimeout: {
      const ProcessingTime from = pending->fire_at;
      const int64_t waited = ClimbDelayMs(policy_, *e).value_or(0);
      e->level = LevelAbove(e->level);
      e->next_deadline = NextClimb(policy_, *e, from);
      std::string reason;
      if (e->rule == Rule::kR3SelfTestMissed) {
        const int64_t days = (now.ms - e->last_trigger_at.ms) / kDayMs;
        reason = "No self-test for " + std::to_string(days) + (days == 1 ? " day" : " days") + "; reminder sent " +
                 DurationText(from.ms - e->opened_at.ms) + " ago: " +
                 (e->level == EscalationLevel::kUnitSupervisor ? "escalated to the unit supervisor"
                                                               : "follow-up by the health manager");
      } else {
        reason = std::string("Not acknowledged within ") + DurationText(waited) + ": escalated to " +
                 LevelWords(e->level) + " (" + Name(e->rule) + " open since " +
                 LocalTimeText(e->opened_at, policy_) + ")";
      }
      emit.Update(*e, EscalationState::kEscalated, std::move(reason));
      break;
    }
    case kTimerRenotify:
      e->next_deadline = ProcessingTime{now.ms + policy_.renotify_interval_ms};
      emit.Update(*e, EscalationState::kRenotified,
                  "Still open: acknowledged by " + PersonWords(e->acked_by) + " at " +
                      LocalTimeText(EventTime{e->acked_at.ms}, policy_) + " and the condition persists");
      break;
    case kTimerSnoozeEnd:
      // Climbing and re-notifying resume from now, as if the level had just been entered.
      e->snoozed_until.reset();
      e->next_deadline = e->acknowledged ? std::optional(ProcessingTime{now.ms + policy_.renotify_interval_ms})
                                         : NextClimb(policy_, *e, now);
      emit.Update(*e, EscalationState::kRenotified, "Snooze ended and the condition persists");
      break;
    default:
      return stale("unknown timer kind " + std::to_string(timer.kind));
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

}  // namespace alertd::domain
