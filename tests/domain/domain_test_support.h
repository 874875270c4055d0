// Builders for readings, profiles and times shared by the domain tests; no clock, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/domain/clock.h"
#include "engine/domain/policy.h"
#include "engine/domain/rulebook.h"
#include "engine/domain/timer.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::domain {

// Readable gtest output for the domain's enums and times (found by ADL).
inline void PrintTo(BpCategory v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(Rule v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(Severity v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(EscalationLevel v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(EscalationState v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(RejectReason v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(ReferralUrgency v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(const EventTime& t, std::ostream* os) { *os << "EventTime{" << t.ms << "}"; }
inline void PrintTo(const ProcessingTime& t, std::ostream* os) { *os << "ProcessingTime{" << t.ms << "}"; }
inline void PrintTo(const WorkerId& w, std::ostream* os) { *os << "WorkerId{" << w.value << "}"; }
inline void PrintTo(const Escalation& e, std::ostream* os) {
  *os << "Escalation{" << e.event_id << " " << Name(e.rule) << " " << Name(e.state) << " " << Name(e.severity) << " "
      << Name(e.level) << "}";
}
inline void PrintTo(const OpenEpisode& e, std::ostream* os) {
  *os << "OpenEpisode{" << e.episode_id << " " << Name(e.rule) << " " << Name(e.severity) << " " << Name(e.level)
      << "}";
}

}  // namespace alertd::domain

namespace alertd::domain::test_support {

// 2024-03-04T00:00:00Z, which is 08:00 on 4 March in China (UTC+8). Local midnight is 16:00 UTC.
inline constexpr int64_t kMar4UtcMs = 1709510400000;

// Event time `day` days after 2024-03-04 at the given UTC wall time.
inline EventTime Utc(int day, int hour, int minute = 0, int second = 0, int millis = 0) {
  return EventTime{kMar4UtcMs + day * kDayMs + hour * kHourMs + minute * kMinuteMs + second * kSecondMs +
                   millis};
}

inline EventTime Plus(EventTime t, int64_t ms) { return EventTime{t.ms + ms}; }

// The injected processing time for rulebook scenarios: every scenario reading lies in
// [kNow - 30 days, kNow], so validation accepts it.
inline constexpr ProcessingTime kNow{kMar4UtcMs + 20 * kDayMs};

inline const WorkerId kWorker{"w-1001"};

inline Reading BpReading(EventTime at, int systolic, int diastolic, int pulse = 72,
                         const WorkerId& worker = kWorker) {
  Reading r;
  r.worker = worker;
  r.device_id = "omron-hbp-9020-0042";
  r.station_id = "station-east-gate";
  r.measured_at = at;
  r.context = ReadingContext::kSelfTest;
  r.measurement = BloodPressure{systolic, diastolic, pulse};
  return r;
}

inline Reading GlucoseReading(EventTime at, double mmol, const WorkerId& worker = kWorker) {
  Reading r = BpReading(at, 120, 80, 72, worker);
  r.measurement = Glucose{mmol, GlucoseTiming::kFasting};
  return r;
}

inline Reading GlucoseReading(EventTime at, double mmol, GlucoseTiming timing, const WorkerId& worker = kWorker) {
  Reading r = GlucoseReading(at, mmol, worker);
  r.measurement = Glucose{mmol, timing};
  return r;
}

inline Reading BodyReading(EventTime at, double weight_kg, double height_cm, const WorkerId& worker = kWorker) {
  Reading r = BpReading(at, 120, 80, 72, worker);
  r.measurement = BodyMeasurement{weight_kg, height_cm};
  return r;
}

inline WorkerProfile MakeProfile(const WorkerId& worker = kWorker) {
  WorkerProfile p;
  p.worker = worker;
  p.name = "Zhang Wei";
  p.unit_id = "unit-07";
  p.unit_name = "Rolling mill";
  p.grid_id = "grid-03";
  p.grid_name = "East district";
  p.health_manager = Person{"hm-31", "Li Na"};
  p.unit_supervisor = Person{"sup-12", "Chen Jun"};
  p.diagnosed_hypertension_grade = 1;
  p.updated_at_ms = kMar4UtcMs;
  return p;
}

// Every field of an escalation, for whole-value comparison (Escalation has no operator==).
inline auto Fields(const Escalation& e) {
  return std::tie(e.event_id, e.episode_id, e.sequence, e.worker, e.worker_name, e.unit_id, e.grid_id, e.unit_name,
                  e.grid_name, e.rule, e.severity, e.level, e.state, e.reason, e.evidence, e.glucose_evidence, e.window,
                  e.recipients, e.opened_at, e.trigger_at, e.emitted_at);
}

// The parts of an escalation (or open episode) a test cares about; unset parts are not checked.
struct EscalationFields {
  std::optional<Rule> rule = std::nullopt;
  std::optional<EscalationState> state = std::nullopt;
  std::optional<Severity> severity = std::nullopt;
  std::optional<EscalationLevel> level = std::nullopt;
};

// One matcher for the field-by-field checks of an escalation or an open episode: names every part
// that differs, e.g. EXPECT_THAT(e, IsEscalation({.state = EscalationState::kOpen, .level = ...})).
MATCHER_P(HasEscalationFields, expected, "") {
  bool ok = true;
  auto check = [&](const char* field, const auto& want, const auto& got) {
    if (want && *want != got) {
      *result_listener << field << " is " << Name(got) << ", expected " << Name(*want) << "; ";
      ok = false;
    }
  };
  check("rule", expected.rule, arg.rule);
  if constexpr (requires { arg.state; }) check("state", expected.state, arg.state);
  check("severity", expected.severity, arg.severity);
  check("level", expected.level, arg.level);
  return ok;
}
inline void PrintTo(const EscalationFields& f, std::ostream* os) {
  if (f.rule) *os << "rule " << Name(*f.rule) << " ";
  if (f.state) *os << "state " << Name(*f.state) << " ";
  if (f.severity) *os << "severity " << Name(*f.severity) << " ";
  if (f.level) *os << "level " << Name(*f.level);
}
inline auto IsEscalation(const EscalationFields& expected) { return HasEscalationFields(expected); }

inline bool SameEscalation(const Escalation& a, const Escalation& b) { return Fields(a) == Fields(b); }

inline std::vector<const Escalation*> OfRule(const std::vector<Escalation>& events, Rule rule) {
  std::vector<const Escalation*> out;
  for (const Escalation& e : events) {
    if (e.rule == rule) out.push_back(&e);
  }
  return out;
}

// Names each parameterised case after its table row's `name`.
struct RowName {
  template <typename Row>
  std::string operator()(const ::testing::TestParamInfo<Row>& param) const {
    return param.param.name;
  }
};

// Processing time and event time share one scale in these timelines: a reading "at" t is measured at t.
inline constexpr ProcessingTime kStart{kMar4UtcMs + kDayMs};
inline ProcessingTime At(int64_t offset_ms) { return ProcessingTime{kStart.ms + offset_ms}; }
inline EventTime Ev(ProcessingTime t) { return EventTime{t.ms}; }

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline const Person kManager{"hm-31", "Li Na"};

// One worker driven the way the engine drives the rulebook: outcomes' timer requests go into an
// ordered timer index, and moving the clock fires every due timer at its own fire time.
struct Timeline {
  explicit Timeline(Policy p = Policy{}) : book(std::move(p)), clock(kStart) {}

  void Apply(const Outcome& out) {
    events.insert(events.end(), out.escalations.begin(), out.escalations.end());
    referrals.insert(referrals.end(), out.referrals.begin(), out.referrals.end());
    for (const TimerRequest& t : out.timers_cancel) timers.erase(ToTimer(t));
    for (const TimerRequest& t : out.timers_set) timers.insert(ToTimer(t));
    if (out.ignored) ignored += 1;
  }
  static Timer ToTimer(const TimerRequest& t) { return Timer{t.fire_at, 0, kWorker, t.rule, t.kind}; }

  // Fires the due timers in fire-time order up to and including `t`, then leaves the clock at `t`.
  void RunUntil(ProcessingTime t) {
    while (!timers.empty() && timers.begin()->fire_at <= t) {
      const Timer timer = *timers.begin();
      timers.erase(timers.begin());
      if (clock.Now() < timer.fire_at) clock.Set(timer.fire_at);
      Apply(book.OnTimer(timer, state, clock.Now()));
    }
    if (clock.Now() < t) clock.Set(t);
  }

  ReadingOutcome Bp(ProcessingTime measured, int sys, int dia, ReadingContext context = ReadingContext::kSelfTest) {
    Reading r = test_support::BpReading(Ev(measured), sys, dia);
    r.context = context;
    ReadingOutcome out = book.OnReading(r, state, clock.Now());
    EXPECT_FALSE(out.rejected.has_value()) << out.rejected->message;
    Apply(out);
    return out;
  }
  ReadingOutcome Glucose(ProcessingTime measured, double mmol, GlucoseTiming timing = GlucoseTiming::kFasting) {
    ReadingOutcome out = book.OnReading(test_support::GlucoseReading(Ev(measured), mmol, timing), state, clock.Now());
    EXPECT_FALSE(out.rejected.has_value()) << out.rejected->message;
    Apply(out);
    return out;
  }
  ReadingOutcome GlucoseNow(double mmol, GlucoseTiming timing = GlucoseTiming::kFasting) {
    return Glucose(clock.Now(), mmol, timing);
  }
  // An ack that names no episode: it acts on the worker's open episode of `rule`.
  Outcome AckByRule(Rule rule, EscalationAck::Action action = EscalationAck::Action::kAcknowledge) {
    Outcome out = book.OnAck(EscalationAck{kWorker, "", rule, action, std::nullopt, kManager, clock.Now()}, state,
                             clock.Now());
    Apply(out);
    return out;
  }
  // A reading measured now.
  ReadingOutcome BpNow(int sys, int dia, ReadingContext context = ReadingContext::kSelfTest) {
    return Bp(clock.Now(), sys, dia, context);
  }
  Outcome Profile(const WorkerProfile& p) {
    Outcome out = book.OnWorkerProfile(kWorker, p, state, clock.Now());
    Apply(out);
    return out;
  }
  Outcome Shift(ProcessingTime clock_in, HighRiskPost post = HighRiskPost::kDriver) {
    Outcome out = book.OnShift(ShiftEvent{kWorker, post, Ev(clock_in), "well pad 12"}, state, clock.Now());
    Apply(out);
    return out;
  }
  Outcome Ack(Rule rule, EscalationAck::Action action, std::optional<ProcessingTime> until = std::nullopt,
              std::string episode = "") {
    const OpenEpisode* e = Open(rule);
    if (episode.empty() && e != nullptr) episode = e->episode_id;
    Outcome out = book.OnAck(EscalationAck{kWorker, episode, rule, action, until, kManager, clock.Now()}, state,
                             clock.Now());
    Apply(out);
    return out;
  }
  const OpenEpisode* Open(Rule rule) const {
    for (const OpenEpisode& e : state.open) {
      if (e.rule == rule) return &e;
    }
    return nullptr;
  }
  bool HasTimer(ProcessingTime at, Rule rule, TimerKind kind) const {
    return timers.count(Timer{at, 0, kWorker, rule, kind}) == 1;
  }
  // Events emitted since the previous call.
  std::vector<Escalation> Take() {
    std::vector<Escalation> out(events.begin() + static_cast<std::ptrdiff_t>(taken), events.end());
    taken = events.size();
    return out;
  }

  Rulebook book;
  ManualClock clock;
  WorkerState state;
  std::set<Timer> timers;
  std::vector<Escalation> events;
  std::vector<Referral> referrals;
  std::size_t taken = 0;
  int ignored = 0;
};

inline bool IsLowerHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace alertd::domain::test_support
