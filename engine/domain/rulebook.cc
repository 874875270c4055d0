// Rules R1-R6, clinic referrals and the episode lifecycle: open, climb, acknowledge, re-notify,
// snooze, resolve.
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

// `t` in the grid's local time. Times from time clocks and acks reach the rules as any int64 (a
// clock-in is only checked for being set): clamped to 100 000 years either side of the epoch, far from
// any real time, the local-time arithmetic here cannot overflow.
int64_t LocalMs(EventTime t, const Policy& p) {
  constexpr int64_t kFarthestMs = 100'000 * 366 * kDayMs;
  return std::clamp(t.ms, -kFarthestMs, kFarthestMs) + int64_t{p.day_offset_minutes} * kMinuteMs;
}

int64_t LocalDay(EventTime t, const Policy& p) {
  const int64_t local = LocalMs(t, p);
  return local >= 0 ? local / kDayMs : (local - kDayMs + 1) / kDayMs;
}

// "2026-11-29 08:12" in the grid's local time: the words health managers read.
std::string LocalTimeText(EventTime t, const Policy& p) {
  using namespace std::chrono;
  sys_time<milliseconds> local{milliseconds{LocalMs(t, p)}};
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

const char* TimingWords(GlucoseTiming t) {
  switch (t) {
    case GlucoseTiming::kFasting: return "fasting";
    case GlucoseTiming::kRandom: return "random";
    case GlucoseTiming::kPostprandial2h: return "2-h";
  }
  return "unknown timing";
}

// "12.3 mmol/L (random)"
std::string GlucoseText(const GlucoseSample& s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f mmol/L (%s)", s.mmol_per_l, TimingWords(s.timing));
  return buf;
}

std::string MmolText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f mmol/L", v);
  return buf;
}

// Whole mmHg, rounded down: the bounds are whole numbers, so the text never contradicts the category
// (a mean of 99.9 shows as 99, not as a grade-2 looking 100).
std::string MeanText(const WindowStats& w) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f/%.0f mmHg", std::floor(w.mean_systolic_mmhg), std::floor(w.mean_diastolic_mmhg));
  return buf;
}

// Lower bounds (systolic, diastolic) of a blood-pressure category.
std::pair<int, int> CategoryFloor(const BpThresholds& t, BpCategory c) {
  switch (c) {
    case BpCategory::kNormal: return {0, 0};
    case BpCategory::kHighNormal: return {t.high_normal_systolic, t.high_normal_diastolic};
    case BpCategory::kGrade1: return {t.grade1_systolic, t.grade1_diastolic};
    case BpCategory::kGrade2: return {t.grade2_systolic, t.grade2_diastolic};
    case BpCategory::kGrade3: return {t.grade3_systolic, t.grade3_diastolic};
  }
  return {0, 0};
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
template <typename Sample>
void InsertByEventTime(std::vector<Sample>& samples, Sample sample) {
  auto at = std::upper_bound(samples.begin(), samples.end(), sample.measured_at,
                             [](EventTime t, const Sample& s) { return t < s.measured_at; });
  samples.insert(at, std::move(sample));
}

template <typename Sample>
void KeepNewest(std::vector<Sample>& samples, std::size_t n) {
  if (samples.size() > n) samples.erase(samples.begin(), samples.end() - static_cast<std::ptrdiff_t>(n));
}

// Another trigger of an open episode: counted, and the newest trigger time kept (by event time, so a
// late trigger does not move it back).
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
// Said of every event and referral of a worker without a profile: nobody to address it to.
constexpr const char* kNoProfileWords = " (no worker profile on file: route to the on-call health desk)";

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
  EpisodeEmitter(const Policy& policy, const WorkerId& worker, WorkerState& state, ProcessingTime now, Outcome& out)
      : policy_(policy), worker_(worker), state_(state), now_(now), out_(out) {}

  // Opens a new episode for `rule`, emits its OPEN event and starts its ack timeout. `at` is the event
  // time of what triggered it.
  OpenEpisode& Open(Rule rule, Severity severity, EscalationLevel level, EventTime at,
                    std::vector<BpSample> evidence, std::optional<WindowStats> window, std::string reason,
                    std::vector<GlucoseSample> glucose_evidence = {}) {
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
    state_.open.push_back(e);
    Emit(e, EscalationState::kOpen, at, std::move(window), std::move(reason), e.evidence, e.glucose_evidence);
    return state_.open.back();
  }

  // The clinic referral of an episode, sent once, in the call that opens it. It quotes the episode's
  // evidence as it stands at opening.
  void Refer(const OpenEpisode& e, ReferralUrgency urgency, std::string reason, std::optional<WindowStats> window) {
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

  // Emits the next event of a still-open episode (ESCALATED or RENOTIFIED) with its current severity,
  // level and evidence.
  void Update(OpenEpisode& e, EscalationState st, std::string reason) {
    e.last_sequence += 1;
    Emit(e, st, e.last_trigger_at, std::nullopt, std::move(reason), e.evidence, e.glucose_evidence);
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

  // Emits RESOLVED for `rule`'s open episode and forgets it. The evidence is what resolved it.
  void Resolve(const OpenEpisode& open, EventTime trigger_at, std::optional<WindowStats> window,
               std::string reason, const std::vector<BpSample>& evidence,
               const std::vector<GlucoseSample>& glucose_evidence = {}) {
    OpenEpisode e = open;
    e.last_sequence += 1;
    Emit(e, EscalationState::kResolved, trigger_at, std::move(window), std::move(reason), evidence, glucose_evidence);
    RemoveOpen(state_, e.rule);
  }

 private:
  void Emit(const OpenEpisode& e, EscalationState st, EventTime trigger_at, std::optional<WindowStats> window,
            std::string reason, const std::vector<BpSample>& evidence,
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
    out_.escalations.push_back(std::move(ev));
  }

  const Policy& policy_;
  const WorkerId& worker_;
  WorkerState& state_;
  ProcessingTime now_;
  Outcome& out_;
};

// The policy of one worker: the global policy, or a copy with the worker's own overrides when its
// profile sets any. Most workers set none, and for them nothing is copied. Built from the state at
// each input, so a profile update takes effect on the worker's next reading, ack or timer.
class WorkerPolicy {
 public:
  WorkerPolicy(const Policy& global, const WorkerState& s) {
    if (s.profile && OverridesPolicy(s.profile->policy)) own_ = EffectivePolicy(global, s.profile->policy);
    policy_ = own_ ? &*own_ : &global;
  }
  WorkerPolicy(const WorkerPolicy&) = delete;
  WorkerPolicy& operator=(const WorkerPolicy&) = delete;
  const Policy& get() const { return *policy_; }

 private:
  std::optional<Policy> own_;
  const Policy* policy_ = nullptr;
};

// --- R3 enrolment and the weekly self-test clock ---------------------------------------------------

// `p` is the worker's effective policy: a (sensible) self_test_interval_days is already in it.
bool EnrolledInSelfTests(const Policy& p, const WorkerState& s) {
  if (s.profile && !s.profile->active) return false;
  if (FindOpen(s, Rule::kR2SustainedHypertension) != nullptr) return true;
  if (!s.profile) return false;
  return s.profile->diagnosed_hypertension_grade >= p.r3_min_diagnosed_grade ||
         s.profile->policy.self_test_interval_days.value_or(0) > 0 || s.profile->policy.self_test_enrolled;
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
  return "Individual policy (self-test every " + DurationText(p.self_test_interval_ms) + ")";
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
  s.self_test_due = ProcessingTime{SelfTestBasisMs(s) + p.self_test_interval_ms};
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

// --- R5 glucose -----------------------------------------------------------------------------------

bool HighGlucose(const GlucoseSample& s, const Policy& p) {
  return s.mmol_per_l >= (s.timing == GlucoseTiming::kFasting ? p.glucose_fasting_high : p.glucose_random_high);
}
bool Hypoglycaemia(const GlucoseSample& s, const Policy& p) { return s.mmol_per_l < p.glucose_hypo; }
bool SevereHypoglycaemia(const GlucoseSample& s, const Policy& p) { return s.mmol_per_l < p.glucose_severe_hypo; }

// The high readings of the glucose window, which holds only the R5 window (newest reading's event time
// minus r5_high_window_ms, exclusive, up to it).
std::vector<GlucoseSample> HighGlucoseSamples(const std::vector<GlucoseSample>& window, const Policy& p) {
  std::vector<GlucoseSample> out;
  for (const GlucoseSample& s : window) {
    if (HighGlucose(s, p)) out.push_back(s);
  }
  return out;
}

std::string TimesWords(std::size_t n) {
  return n == 1 ? "once" : n == 2 ? "twice" : std::to_string(n) + " times";
}

// "7.4 mmol/L (fasting) at 2024-03-05 07:40 and 12.3 mmol/L (random) at 2024-03-20 19:05", oldest first.
std::string GlucoseListText(const std::vector<GlucoseSample>& samples, const Policy& p) {
  std::string out;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) out += i + 1 == samples.size() ? " and " : ", ";
    out += GlucoseText(samples[i]) + " at " + LocalTimeText(samples[i].measured_at, p);
  }
  return out;
}

std::string SevereHypoWords(const GlucoseSample& s, const Policy& p) {
  return "Severe hypoglycaemia: " + GlucoseText(s) + " at " + LocalTimeText(s.measured_at, p) +
         (s.station_id.empty() ? "" : ", station " + s.station_id) +
         ": retest and treat now; urgent follow-up by the health manager";
}

// R5 keeps one episode per worker (one open escalation per (worker, rule), DESIGN §4) whose severity
// names the finding: HIGH = high glucose r5_high_min_readings times within r5_high_window_ms, URGENT =
// severe hypoglycaemia. Choices:
// - A severe hypoglycaemia opens URGENT at once (no referral: it is treated on the spot). On an open
//   high-glucose episode it raises it to URGENT and restarts the ack (Raise); the referral already sent
//   stands.
// - High glucose opens HIGH with a routine referral when a high reading brings the window's count of
//   high readings to r5_high_min_readings (a normal reading never opens it, even if the window still
//   holds enough highs after a manual resolve). Further highs update the evidence silently.
// - An URGENT (hypoglycaemia) episode resolves on a glucose reading at or above glucose_hypo measured
//   after its last severe reading; a mild hypoglycaemia keeps it open. If that reading is high and
//   makes the high count, a new HIGH episode (with its own referral) opens in the same call: the
//   worker's problem changed, and the clinic hears of it.
// - A HIGH episode resolves on a reading that is not high, measured after its last high one, once fewer
//   than r5_high_min_readings high readings remain in the window (like R2, it ends when the window
//   slides past the highs).
void ApplyR5(const GlucoseSample& sample, const Policy& p, WorkerState& state, EpisodeEmitter& emit) {
  const bool severe = SevereHypoglycaemia(sample, p);
  const bool high = HighGlucose(sample, p);
  const auto high_count = static_cast<std::size_t>(
      std::count_if(state.glucose_window.begin(), state.glucose_window.end(),
                    [&](const GlucoseSample& s) { return HighGlucose(s, p); }));
  const bool high_finding = high_count >= static_cast<std::size_t>(std::max(p.r5_high_min_readings, 1));
  auto high_evidence = [&] {
    std::vector<GlucoseSample> highs = HighGlucoseSamples(state.glucose_window, p);
    KeepNewest(highs, p.max_evidence);
    return highs;
  };

  if (OpenEpisode* r5 = FindOpen(state, Rule::kR5Glucose)) {
    if (r5->severity >= Severity::kUrgent) {  // severe hypoglycaemia
      if (severe) {
        Retrigger(*r5, sample.measured_at);
        AddEvidence(*r5, sample, p.max_evidence);
        return;
      }
      if (Hypoglycaemia(sample, p) || sample.measured_at <= r5->last_trigger_at) return;
      emit.Resolve(*r5, sample.measured_at, std::nullopt,
                   "Glucose back above " + MmolText(p.glucose_hypo) + ": " + GlucoseText(sample) + " at " +
                       LocalTimeText(sample.measured_at, p) + " after severe hypoglycaemia",
                   {}, {sample});
      // Falls through: this reading may itself open a high-glucose episode.
    } else {  // high glucose
      if (severe) {
        Retrigger(*r5, sample.measured_at);
        AddEvidence(*r5, sample, p.max_evidence);
        emit.Raise(*r5, Severity::kUrgent, EscalationLevel::kHealthManager, SevereHypoWords(sample, p));
      } else if (high) {
        Retrigger(*r5, sample.measured_at);
        r5->glucose_evidence = high_evidence();
      } else if (sample.measured_at > r5->last_trigger_at && !high_finding) {
        emit.Resolve(*r5, sample.measured_at, std::nullopt,
                     "Glucose no longer high: " + GlucoseText(sample) + " at " + LocalTimeText(sample.measured_at, p) +
                         "; " + std::to_string(high_count) + " high reading" + (high_count == 1 ? "" : "s") +
                         " in the last " + DurationText(p.r5_high_window_ms),
                     {}, {sample});
      }
      return;
    }
  }

  if (severe) {
    emit.Open(Rule::kR5Glucose, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at, {},
              std::nullopt, SevereHypoWords(sample, p), {sample});
  } else if (high && high_finding) {
    std::vector<GlucoseSample> evidence = high_evidence();
    const std::string finding = "High glucose " + TimesWords(high_count) + " in " + DurationText(p.r5_high_window_ms) +
                                ": " + GlucoseListText(evidence, p);
    OpenEpisode& e = emit.Open(Rule::kR5Glucose, Severity::kHigh, EscalationLevel::kHealthManager, sample.measured_at,
                               {}, std::nullopt, finding + ": follow-up by the health manager and a routine clinic referral",
                               std::move(evidence));
    emit.Refer(e, ReferralUrgency::kRoutine, finding + ": routine clinic review of glucose control", std::nullopt);
  }
}

// --- R6 focus tracking ----------------------------------------------------------------------------

bool FocusTracked(const WorkerState& s) { return s.profile && s.profile->policy.focus_tracking; }

bool AbnormalBpForFocus(int systolic, int diastolic, const Policy& p) {
  return systolic >= p.r6_abnormal_systolic || diastolic >= p.r6_abnormal_diastolic ||
         systolic < p.bp.hypotension_systolic || diastolic < p.bp.hypotension_diastolic;
}

bool AbnormalGlucoseForFocus(const GlucoseSample& s, const Policy& p) {
  return HighGlucose(s, p) || Hypoglycaemia(s, p);
}

// Whether every kind of reading the episode found abnormal has since been measured normal: the newest
// reading of that kind (by event time) is newer than the kind's newest abnormal one and normal for the
// worker, by the worker's current policy.
bool FocusRecovered(const OpenEpisode& e, const WorkerState& s, const Policy& p) {
  if (!e.evidence.empty()) {
    if (s.bp_window.empty()) return false;
    const BpSample& newest = s.bp_window.back();
    if (newest.measured_at <= e.evidence.back().measured_at ||
        AbnormalBpForFocus(newest.systolic_mmhg, newest.diastolic_mmhg, p)) {
      return false;
    }
  }
  if (!e.glucose_evidence.empty()) {
    if (s.glucose_window.empty()) return false;
    const GlucoseSample& newest = s.glucose_window.back();
    if (newest.measured_at <= e.glucose_evidence.back().measured_at || AbnormalGlucoseForFocus(newest, p)) {
      return false;
    }
  }
  return true;
}

// R6 ("one person, one policy"): for a focus-tracked worker every abnormal reading escalates, on top of
// whatever R1/R2/R5 make of it. One episode per worker: HIGH to the health manager; later abnormal
// readings of either kind join its evidence without a new event. It resolves once every kind it found
// abnormal (blood pressure, glucose) has a later normal reading (FocusRecovered), and is withdrawn
// when the worker's policy stops focus tracking. Exactly one of `bp` and `glucose` is set.
void ApplyR6(const BpSample* bp, const GlucoseSample* glucose, const Policy& p, WorkerState& state,
             EpisodeEmitter& emit) {
  if (!FocusTracked(state)) return;
  const EventTime at = bp != nullptr ? bp->measured_at : glucose->measured_at;
  const bool abnormal = bp != nullptr ? AbnormalBpForFocus(bp->systolic_mmhg, bp->diastolic_mmhg, p)
                                      : AbnormalGlucoseForFocus(*glucose, p);
  OpenEpisode* r6 = FindOpen(state, Rule::kR6FocusTracking);
  if (abnormal && r6 != nullptr) {
    Retrigger(*r6, at);
    if (bp != nullptr) AddEvidence(*r6, *bp, p.max_evidence);
    if (glucose != nullptr) AddEvidence(*r6, *glucose, p.max_evidence);
  } else if (abnormal) {
    std::string what;
    if (bp != nullptr) {
      const bool low = bp->systolic_mmhg < p.bp.hypotension_systolic || bp->diastolic_mmhg < p.bp.hypotension_diastolic;
      // Name the value that crossed: "127/87 mmHg at or above 135/85" would read as both.
      const bool sys = bp->systolic_mmhg >= p.r6_abnormal_systolic;
      const bool dia = bp->diastolic_mmhg >= p.r6_abnormal_diastolic;
      const std::string limit =
          sys && dia ? "systolic and diastolic at or above the worker's limits of " +
                           std::to_string(p.r6_abnormal_systolic) + "/" + std::to_string(p.r6_abnormal_diastolic) + " mmHg"
          : sys      ? "systolic at or above the worker's limit of " + std::to_string(p.r6_abnormal_systolic) + " mmHg"
                     : "diastolic at or above the worker's limit of " + std::to_string(p.r6_abnormal_diastolic) + " mmHg";
      what = low ? "low blood pressure " + BpText(*bp) : "blood pressure " + BpText(*bp) + ", " + limit;
    } else {
      what = (HighGlucose(*glucose, p) ? "high glucose " : "low glucose ") + GlucoseText(*glucose);
    }
    std::string reason = "Focus tracking: " + what + " at " + LocalTimeText(at, p) +
                         ": follow-up by the health manager (individual policy)";
    emit.Open(Rule::kR6FocusTracking, Severity::kHigh, EscalationLevel::kHealthManager, at,
              bp != nullptr ? std::vector<BpSample>{*bp} : std::vector<BpSample>{}, std::nullopt, std::move(reason),
              glucose != nullptr ? std::vector<GlucoseSample>{*glucose} : std::vector<GlucoseSample>{});
  } else if (r6 != nullptr && FocusRecovered(*r6, state, p)) {
    const std::string what = bp != nullptr ? BpText(*bp) : GlucoseText(*glucose);
    emit.Resolve(*r6, at, std::nullopt,
                 "Focus tracking: back within the worker's limits: " + what + " at " + LocalTimeText(at, p),
                 bp != nullptr ? std::vector<BpSample>{*bp} : std::vector<BpSample>{},
                 glucose != nullptr ? std::vector<GlucoseSample>{*glucose} : std::vector<GlucoseSample>{});
  }
}

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
  if (const auto* glucose = std::get_if<Glucose>(&reading.measurement)) {
    OnGlucose(reading, *glucose, state, now, out);
    return out;
  }
  const auto* bp = std::get_if<BloodPressure>(&reading.measurement);
  if (bp == nullptr) return out;  // body readings: counted; BMI is dashboard information, not an escalation

  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  const BpClassification cls = ClassifyBp(bp->systolic_mmhg, bp->diastolic_mmhg, policy.bp);
  out.bp = cls;
  BpSample sample{reading.measured_at, bp->systolic_mmhg, bp->diastolic_mmhg, bp->pulse_bpm, cls.category,
                  reading.station_id,  reading.device_id,  reading.context};

  state.bp_readings += 1;
  state.newest_bp_at = std::max(state.newest_bp_at.value_or(reading.measured_at), reading.measured_at);
  InsertByEventTime(state.bp_window, sample);
  const EventTime newest = *state.newest_bp_at;
  std::erase_if(state.bp_window,
                [&](const BpSample& s) { return s.measured_at.ms <= newest.ms - policy.r2_window_ms; });
  KeepNewest(state.bp_window, policy.max_window_samples);

  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy, reading.worker, state, now, out);

  // R1: a critical reading pages the health manager once per episode, with an urgent referral. The
  // thresholds are the worker's own when its policy sets them.
  const int critical_sys = policy.r1_critical_systolic;
  const int critical_dia = policy.r1_critical_diastolic;
  const bool individual = critical_sys != policy_.r1_critical_systolic || critical_dia != policy_.r1_critical_diastolic;
  const bool critical = bp->systolic_mmhg >= critical_sys || bp->diastolic_mmhg >= critical_dia;
  if (OpenEpisode* r1 = FindOpen(state, Rule::kR1CriticalBp)) {
    if (critical) {
      Retrigger(*r1, sample.measured_at);
      AddEvidence(*r1, sample, policy.max_evidence);
    } else if (sample.measured_at > r1->last_trigger_at) {
      emit.Resolve(*r1, sample.measured_at, std::nullopt,
                   "Blood pressure back below the critical threshold: " + BpText(sample) + " at " +
                       LocalTimeText(sample.measured_at, policy) + " (" + std::to_string(r1->trigger_count) +
                       " critical reading" + (r1->trigger_count == 1 ? "" : "s") + " in this episode)",
                   {sample});
    }
  } else if (critical) {
    std::string what = individual ? "Blood pressure " + BpText(sample) + " at or above the individual critical threshold " +
                                        std::to_string(critical_sys) + "/" + std::to_string(critical_dia) + " mmHg"
                                  : std::string(cls.category == BpCategory::kGrade3 ? "Grade-3 blood pressure " : "Blood pressure ") +
                                        BpText(sample);
    std::string finding = what + (bp->pulse_bpm ? ", pulse " + std::to_string(bp->pulse_bpm) : std::string()) +
                          " at " + LocalTimeText(sample.measured_at, policy) +
                          (sample.station_id.empty() ? "" : ", station " + sample.station_id);
    OpenEpisode& e = emit.Open(Rule::kR1CriticalBp, Severity::kUrgent, EscalationLevel::kHealthManager,
                               sample.measured_at, {sample}, std::nullopt,
                               finding + ": urgent follow-up by the health manager");
    emit.Refer(e, ReferralUrgency::kUrgent, finding + ": see a doctor today", std::nullopt);
  }

  // R2: the 7-day event-time window ending at the newest reading.
  const WindowStats w = ComputeWindow(state.bp_window, newest, policy.r2_window_ms, policy);
  const bool high_mean = w.mean_category >= policy.r2_min_category;
  const bool enough = w.readings >= policy.r2_min_readings && w.days >= policy.r2_min_days;
  // Built only when an event needs it: most readings change nothing worth saying.
  auto stats = [&] {
    return MeanText(w) + " over " + std::to_string(w.readings) + " reading" + (w.readings == 1 ? "" : "s") + " on " +
           std::to_string(w.days) + " day" + (w.days == 1 ? "" : "s") + " to " + LocalTimeText(w.end, policy);
  };
  if (OpenEpisode* r2 = FindOpen(state, Rule::kR2SustainedHypertension)) {
    const auto [floor_sys, floor_dia] = CategoryFloor(policy.bp, policy.r2_min_category);
    const int margin = policy.r2_resolve_margin_mmhg;
    const bool clearly_below = !high_mean && w.mean_systolic_mmhg < floor_sys - margin &&
                               w.mean_diastolic_mmhg < floor_dia - margin;
    if (clearly_below) {
      emit.Resolve(*r2, sample.measured_at, w,
                   std::string("7-day mean back below ") + CategoryWords(policy.r2_min_category) + ": " + stats(),
                   NewestSamples(state.bp_window, w.start, policy.max_evidence));
    } else if (high_mean) {
      Retrigger(*r2, sample.measured_at);
      AssignNewestSamples(state.bp_window, w.start, policy.max_evidence, r2->evidence);
    } else {
      // Within the margin below the bound: still open, with the evidence kept current.
      AssignNewestSamples(state.bp_window, w.start, policy.max_evidence, r2->evidence);
    }
  } else if (high_mean && enough) {
    const std::string finding =
        std::string("Sustained ") + CategoryWords(w.mean_category) + " hypertension: 7-day mean " + stats();
    OpenEpisode& e = emit.Open(Rule::kR2SustainedHypertension, Severity::kHigh, EscalationLevel::kHealthManager,
                               sample.measured_at, NewestSamples(state.bp_window, w.start, policy.max_evidence), w,
                               finding + ": follow-up by the health manager and a routine clinic referral");
    emit.Refer(e, ReferralUrgency::kRoutine, finding + ": routine clinic review of blood-pressure control", w);
  }

  // R3: a reading newer than the one the missed deadline was counted from resolves the reminder. One
  // measured before the deadline proves the deadline was met: the escalation was wrong and is retracted.
  // (R3 episodes keep the deadline in opened_at and the clock's start in last_trigger_at.)
  if (OpenEpisode* r3 = FindOpen(state, Rule::kR3SelfTestMissed)) {
    if (sample.measured_at > r3->last_trigger_at) {
      const EventTime deadline = r3->opened_at;
      std::string reason =
          sample.measured_at < deadline
              ? "Reading measured on time at " + LocalTimeText(sample.measured_at, policy) + " (due " +
                    LocalTimeText(deadline, policy) + "), uploaded late: the missed self-test escalation is retracted"
              : "Self-test received: " + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy);
      emit.Resolve(*r3, sample.measured_at, std::nullopt, std::move(reason), {sample});
    }
  }

  // R4: pre-shift readings decide fitness for duty.
  if (sample.context == ReadingContext::kPreShift) {
    const bool unfit = UnfitForDuty(cls, policy);
    if (HoldsHighRiskPost(state)) out.pre_shift_fit = !unfit;
    const std::string unfit_words = "unfit for duty: " + BpText(sample) + " before shift; " +
                                    policy.r4_retest_advice + " (measured " +
                                    LocalTimeText(sample.measured_at, policy) + ")";
    if (OpenEpisode* r4 = FindOpen(state, Rule::kR4PreShiftFitness)) {
      if (unfit) {
        Retrigger(*r4, sample.measured_at);
        AddEvidence(*r4, sample, policy.max_evidence);
        if (!UnfitFinding(*r4)) emit.Raise(*r4, Severity::kUrgent, EscalationLevel::kHealthManager, unfit_words);
      } else if (UnfitFinding(*r4) ? sample.measured_at > r4->last_trigger_at
                                   : sample.measured_at.ms >= r4->last_trigger_at.ms - policy.pre_shift_window_ms) {
        // A fit check answers "no pre-shift check" even when measured just before the clock-in it
        // missed (uploaded late); an unfit finding needs a retest after the unfit reading.
        const char* what = UnfitFinding(*r4) ? "Fit for duty on retest: " : "Pre-shift check done, fit for duty: ";
        emit.Resolve(*r4, sample.measured_at, std::nullopt,
                     what + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy), {sample});
      }
    } else if (unfit && HoldsHighRiskPost(state)) {
      emit.Open(Rule::kR4PreShiftFitness, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at,
                {sample}, std::nullopt, unfit_words);
    }
  }

  // R6: on top of the rules above, a focus-tracked worker's abnormal reading escalates.
  ApplyR6(&sample, nullptr, policy, state, emit);

  SyncSelfTest(policy, state, now, emit);
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

// R5 and R6 for a valid glucose reading. Glucose does not count as a blood-pressure self-test (R3).
void Rulebook::OnGlucose(const Reading& reading, const Glucose& glucose, WorkerState& state, ProcessingTime now,
                         ReadingOutcome& out) const {
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  const GlucoseSample sample{reading.measured_at, glucose.mmol_per_l, glucose.timing,
                             reading.station_id,  reading.device_id,  reading.context};
  InsertByEventTime(state.glucose_window, sample);
  const EventTime newest = state.glucose_window.back().measured_at;
  std::erase_if(state.glucose_window,
                [&](const GlucoseSample& s) { return s.measured_at.ms <= newest.ms - policy.r5_high_window_ms; });
  KeepNewest(state.glucose_window, policy.max_glucose_samples);

  const PendingTimers timers_before = Pending(state);
  EpisodeEmitter emit(policy, reading.worker, state, now, out);
  ApplyR5(sample, policy, state, emit);
  ApplyR6(nullptr, &sample, policy, state, emit);
  DiffTimers(timers_before, Pending(state), out);
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
  if (profile) {
    if (const OpenEpisode* r6 = FindOpen(state, Rule::kR6FocusTracking); r6 != nullptr && !FocusTracked(state)) {
      emit.Resolve(*r6, r6->last_trigger_at, std::nullopt,
                   "Focus tracking ended by the worker's individual policy: the follow-up is closed", r6->evidence,
                   r6->glucose_evidence);
    }
    SyncSelfTest(policy, state, now, emit);
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

std::vector<Escalation> Rulebook::OnProfile(const WorkerId& worker, const std::optional<WorkerProfile>& profile,
                                            WorkerState& state, ProcessingTime now) const {
  return OnWorkerProfile(worker, profile, state, now).escalations;
}

Outcome Rulebook::OnShift(const ShiftEvent& shift, WorkerState& state, ProcessingTime now) const {
  Outcome out;
  const PendingTimers timers_before = Pending(state);
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, shift.worker, state, now, out);
  const EventTime t = shift.clock_in_at;
  const std::string where = std::string(PostWords(shift.post)) + (shift.site.empty() ? "" : " at " + shift.site) +
                            " at " + LocalTimeText(t, policy);

  // The newest PRE_SHIFT reading measured in [t - window, t]. bp_window covers 7 days of event time,
  // far more than the pre-shift window.
  const BpSample* check = nullptr;
  for (const BpSample& s : state.bp_window) {
    if (s.context == ReadingContext::kPreShift && s.measured_at.ms >= t.ms - policy.pre_shift_window_ms &&
        s.measured_at <= t) {
      check = &s;  // ascending measured_at: the last match is the newest
    }
  }
  const bool check_unfit = check != nullptr && UnfitForDuty(ClassifyBp(check->systolic_mmhg, check->diastolic_mmhg,
                                                                       policy.bp), policy);
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
                    DurationText(policy.pre_shift_window_ms));
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
  // An ack without an episode id acts on whatever episode of its rule is open (an app button "ack the
  // worker's glucose alert"); one with an id must name the open episode, so an ack of an episode that
  // has since closed does not touch its successor.
  OpenEpisode* e = FindOpen(state, ack.rule);
  if (e == nullptr || (!ack.episode_id.empty() && e->episode_id != ack.episode_id)) {
    out.ignored = true;
    out.ignored_reason = "no open " + std::string(Name(ack.rule)) + " episode" +
                         (ack.episode_id.empty() ? std::string() : " " + ack.episode_id);
    return out;
  }
  const std::string episode_id = e->episode_id;
  const PendingTimers timers_before = Pending(state);
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, ack.worker, state, now, out);
  switch (ack.action) {
    case EscalationAck::Action::kAcknowledge:
      if (e->acknowledged) {
        out.ignored = true;  // a redelivered ack must not push the re-notify time back
        out.ignored_reason = "episode " + episode_id + " already acknowledged by " + PersonWords(e->acked_by);
        return out;
      }
      e->acknowledged = true;
      e->acked_by = ack.by;
      e->acked_at = ack.at;
      if (!e->snoozed_until) e->next_deadline = ProcessingTime{now.ms + policy.renotify_interval_ms};
      break;
    case EscalationAck::Action::kResolve: {
      const Rule rule = e->rule;
      emit.Resolve(*e, e->last_trigger_at, std::nullopt, "Resolved by " + PersonWords(ack.by), e->evidence,
                   e->glucose_evidence);
      // A manually resolved reminder restarts the weekly clock now; otherwise it would reopen at once.
      if (rule == Rule::kR3SelfTestMissed && state.self_test_since) state.self_test_since = now;
      SyncSelfTest(policy, state, now, emit);
      break;
    }
    case EscalationAck::Action::kSnooze:
      if (!ack.snooze_until || *ack.snooze_until <= now) {
        out.ignored = true;
        out.ignored_reason = "snooze of episode " + episode_id + " without a snooze_until in the future";
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
  const WorkerPolicy worker_policy(policy_, state);
  const Policy& policy = worker_policy.get();
  EpisodeEmitter emit(policy, timer.worker, state, now, out);
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
                                  ? "last reading " + LocalTimeText(*state.newest_bp_at, policy)
                                  : "enrolled " + LocalTimeText(EventTime{basis}, policy);
    state.self_test_due.reset();
    OpenEpisode& e = emit.Open(Rule::kR3SelfTestMissed, Severity::kHigh, EscalationLevel::kWorker, EventTime{due.ms},
                               std::move(evidence), std::nullopt,
                               EnrolmentWords(policy, state) + ", no self-test for " + DurationText(due.ms - basis) +
                                   " (" + since + "): reminder to the worker");
    e.last_trigger_at = EventTime{basis};
    e.next_deadline = NextClimb(policy, e, due);  // the ladder counts from the due time, not from now
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
      const int64_t waited = ClimbDelayMs(policy, *e).value_or(0);
      e->level = LevelAbove(e->level);
      e->next_deadline = NextClimb(policy, *e, from);
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
                 LocalTimeText(e->opened_at, policy) + ")";
      }
      emit.Update(*e, EscalationState::kEscalated, std::move(reason));
      break;
    }
    case kTimerRenotify:
      e->next_deadline = ProcessingTime{now.ms + policy.renotify_interval_ms};
      emit.Update(*e, EscalationState::kRenotified,
                  "Still open: acknowledged by " + PersonWords(e->acked_by) + " at " +
                      LocalTimeText(EventTime{e->acked_at.ms}, policy) + " and the condition persists");
      break;
    case kTimerSnoozeEnd:
      // Climbing and re-notifying resume from now, as if the level had just been entered.
      e->snoozed_until.reset();
      e->next_deadline = e->acknowledged ? std::optional(ProcessingTime{now.ms + policy.renotify_interval_ms})
                                         : NextClimb(policy, *e, now);
      emit.Update(*e, EscalationState::kRenotified, "Snooze ended and the condition persists");
      break;
    default:
      return stale("unknown timer kind " + std::to_string(timer.kind));
  }
  DiffTimers(timers_before, Pending(state), out);
  return out;
}

}  // namespace alertd::domain
