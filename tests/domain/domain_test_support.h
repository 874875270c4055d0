// Builders for readings, profiles and times shared by the domain tests; no clock, no I/O.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine/domain/types.h"

namespace alertd::domain {

// Readable gtest output for the domain's enums and times (found by ADL).
inline void PrintTo(BpCategory v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(Rule v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(Severity v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(EscalationLevel v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(EscalationState v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(RejectReason v, std::ostream* os) { *os << Name(v); }
inline void PrintTo(const EventTime& t, std::ostream* os) { *os << "EventTime{" << t.ms << "}"; }
inline void PrintTo(const ProcessingTime& t, std::ostream* os) { *os << "ProcessingTime{" << t.ms << "}"; }
inline void PrintTo(const WorkerId& w, std::ostream* os) { *os << "WorkerId{" << w.value << "}"; }

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
  return std::tie(e.event_id, e.episode_id, e.sequence, e.worker, e.worker_name, e.unit_id, e.grid_id, e.rule,
                  e.severity, e.level, e.state, e.reason, e.evidence, e.window, e.recipients, e.opened_at,
                  e.trigger_at, e.emitted_at);
}

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

inline bool IsLowerHex32(const std::string& s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace alertd::domain::test_support
