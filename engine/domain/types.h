// Vocabulary of the health grid: ids, times, readings, profiles and escalations, as plain values.
//
// Everything in engine/domain is pure C++: no Kafka, no RocksDB, no protobuf. The edges translate
// wire and disk formats to and from these types. Enumerator values match health.proto so that the
// codecs can convert by value.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/domain/shared_text.h"

namespace alertd::domain {

struct WorkerId {
  std::string value;
  friend auto operator<=>(const WorkerId&, const WorkerId&) = default;
};

// Event time: when the device measured (device clock), ms since the Unix epoch, UTC.
struct EventTime {
  int64_t ms = 0;
  friend auto operator<=>(const EventTime&, const EventTime&) = default;
};

// Processing time: the engine's injected clock, ms since the Unix epoch, UTC.
struct ProcessingTime {
  int64_t ms = 0;
  friend auto operator<=>(const ProcessingTime&, const ProcessingTime&) = default;
};

inline constexpr int64_t kSecondMs = 1000;
inline constexpr int64_t kMinuteMs = 60 * kSecondMs;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;

enum class BpCategory : uint8_t { kNormal = 1, kHighNormal = 2, kGrade1 = 3, kGrade2 = 4, kGrade3 = 5 };
enum class ReadingContext : uint8_t { kSelfTest = 1, kPreShift = 2, kCheckup = 3, kClinic = 4 };
enum class GlucoseTiming : uint8_t { kFasting = 1, kRandom = 2, kPostprandial2h = 3 };
enum class HighRiskPost : uint8_t { kDriver = 1, kWorkAtHeight = 2, kHotWork = 3, kConfinedSpace = 4, kElectrical = 5 };

struct BloodPressure {
  int systolic_mmhg = 0;
  int diastolic_mmhg = 0;
  int pulse_bpm = 0;  // 0 = not measured
};

struct Glucose {
  double mmol_per_l = 0;
  GlucoseTiming timing = GlucoseTiming::kRandom;
};

struct BodyMeasurement {
  double weight_kg = 0;
  double height_cm = 0;  // 0 = not measured
};

// std::monostate: the record carried no measurement (rejected by validation).
using Measurement = std::variant<std::monostate, BloodPressure, Glucose, BodyMeasurement>;

struct Reading {
  WorkerId worker;
  std::string device_id;
  std::string station_id;
  EventTime measured_at;
  ReadingContext context = ReadingContext::kSelfTest;
  Measurement measurement;
};

struct Person {
  std::string id;
  std::string name;
  friend bool operator==(const Person&, const Person&) = default;
};

// "One person, one policy": a worker's own overrides. Unset fields fall back to the global policy.
struct IndividualPolicy {
  std::optional<int> critical_systolic_mmhg;
  std::optional<int> critical_diastolic_mmhg;
  std::optional<int> self_test_interval_days;
  bool focus_tracking = false;
  std::vector<Person> extra_recipients;
  std::optional<int> abnormal_systolic_mmhg;   // R6: abnormal at or above
  std::optional<int> abnormal_diastolic_mmhg;  // R6: abnormal at or above
  std::optional<int> ack_timeout_minutes;      // every rule's ack timeout for this worker
  std::optional<int> renotify_interval_hours;
  bool self_test_enrolled = false;  // enrolled in R3 whatever the diagnosis
  friend bool operator==(const IndividualPolicy&, const IndividualPolicy&) = default;
};

struct WorkerProfile {
  WorkerId worker;
  std::string name;
  std::string unit_id;
  std::string unit_name;
  std::string grid_id;
  std::string grid_name;
  Person health_manager;
  Person unit_supervisor;
  std::vector<HighRiskPost> high_risk_posts;
  int diagnosed_hypertension_grade = 0;  // 0..3
  bool coronary_heart_disease = false;
  bool diabetes = false;
  IndividualPolicy policy;
  bool active = true;
  int64_t updated_at_ms = 0;
  friend bool operator==(const WorkerProfile&, const WorkerProfile&) = default;
};

enum class Rule : uint8_t {
  kR1CriticalBp = 1,
  kR2SustainedHypertension = 2,
  kR3SelfTestMissed = 3,
  kR4PreShiftFitness = 4,
  kR5Glucose = 5,
  kR6FocusTracking = 6,
};
enum class Severity : uint8_t { kInfo = 1, kHigh = 2, kUrgent = 3, kCritical = 4 };
enum class EscalationLevel : uint8_t { kWorker = 1, kHealthManager = 2, kUnitSupervisor = 3 };
enum class EscalationState : uint8_t { kOpen = 1, kEscalated = 2, kRenotified = 3, kResolved = 4 };
enum class RecipientRole : uint8_t { kWorker = 1, kHealthManager = 2, kUnitSupervisor = 3, kExtra = 4 };

struct Recipient {
  std::string id;
  std::string name;
  RecipientRole role = RecipientRole::kHealthManager;
  friend bool operator==(const Recipient&, const Recipient&) = default;
};

// A blood-pressure reading quoted as evidence, and the unit of the rolling window.
struct BpSample {
  EventTime measured_at;
  int systolic_mmhg = 0;
  int diastolic_mmhg = 0;
  int pulse_bpm = 0;
  BpCategory category = BpCategory::kNormal;
  SharedText station_id;
  SharedText device_id;
  ReadingContext context = ReadingContext::kSelfTest;
  friend bool operator==(const BpSample&, const BpSample&) = default;
};

// A glucose reading quoted as evidence (R5, R6) and the unit of the worker's glucose history.
struct GlucoseSample {
  EventTime measured_at;
  double mmol_per_l = 0;
  GlucoseTiming timing = GlucoseTiming::kRandom;
  SharedText station_id;
  SharedText device_id;
  ReadingContext context = ReadingContext::kSelfTest;
  friend bool operator==(const GlucoseSample&, const GlucoseSample&) = default;
};

// How many of a window's newest samples a sample's ids are shared with (ShareIds). A station has
// several monitors and a worker reads at home and before shifts, so the newest sample alone often
// holds another id.
inline constexpr std::size_t kIdsSharedWithin = 8;

// Makes `sample`'s station and device ids share the texts of the newest kIdsSharedWithin samples of
// `window` where they are the same: a worker's window then holds each id once, not once per sample
// (SharedText).
template <typename Sample>
void ShareIds(Sample& sample, const std::vector<Sample>& window) {
  const std::size_t from = window.size() > kIdsSharedWithin ? window.size() - kIdsSharedWithin : 0;
  for (auto id : {&Sample::station_id, &Sample::device_id}) {
    for (std::size_t i = window.size(); i-- > from;) {
      if ((sample.*id).ShareWith(window[i].*id)) break;
    }
  }
}

struct WindowStats {
  EventTime start;  // exclusive
  EventTime end;    // inclusive: newest reading in the window
  int readings = 0;
  int days = 0;  // distinct local calendar days
  double mean_systolic_mmhg = 0;
  double mean_diastolic_mmhg = 0;
  BpCategory mean_category = BpCategory::kNormal;
  friend bool operator==(const WindowStats&, const WindowStats&) = default;
};

struct Escalation {
  std::string event_id;    // deterministic, see event_id.h
  std::string episode_id;  // shared by all events of one (worker, rule) episode
  uint32_t sequence = 1;   // 1 = OPEN
  WorkerId worker;
  std::string worker_name;
  std::string unit_id;
  std::string grid_id;
  std::string unit_name;  // display names from the profile, for the messages people read
  std::string grid_name;
  Rule rule = Rule::kR1CriticalBp;
  Severity severity = Severity::kUrgent;
  EscalationLevel level = EscalationLevel::kHealthManager;
  EscalationState state = EscalationState::kOpen;
  std::string reason;
  std::vector<BpSample> evidence;  // newest last
  std::vector<GlucoseSample> glucose_evidence;  // newest last
  std::optional<WindowStats> window;
  std::vector<Recipient> recipients;
  EventTime opened_at;
  EventTime trigger_at;
  ProcessingTime emitted_at;
};

enum class ReferralUrgency : uint8_t { kRoutine = 1, kUrgent = 2 };

// A referral to a clinic (output topic "referrals"), once per episode that asks for one.
struct Referral {
  std::string referral_id;  // deterministic, derived from the episode id
  std::string episode_id;
  WorkerId worker;
  std::string worker_name, unit_id, unit_name, grid_id, grid_name;
  Rule rule = Rule::kR1CriticalBp;
  ReferralUrgency urgency = ReferralUrgency::kRoutine;
  std::string reason;
  std::vector<BpSample> evidence;               // newest last
  std::vector<GlucoseSample> glucose_evidence;  // newest last
  std::optional<WindowStats> window;
  Person health_manager;
  int diagnosed_hypertension_grade = 0;
  bool coronary_heart_disease = false;
  bool diabetes = false;
  EventTime trigger_at;
  ProcessingTime emitted_at;
};

// A worker clocking in to a high-risk post (input topic "shifts").
struct ShiftEvent {
  WorkerId worker;
  HighRiskPost post = HighRiskPost::kDriver;
  EventTime clock_in_at;
  std::string site;
};

// A recipient's answer to an escalation (input topic "escalation-acks").
struct EscalationAck {
  enum class Action : uint8_t { kAcknowledge = 1, kResolve = 2, kSnooze = 3 };
  WorkerId worker;
  std::string episode_id;  // empty: the worker's open episode of `rule`
  Rule rule = Rule::kR1CriticalBp;
  Action action = Action::kAcknowledge;
  std::optional<ProcessingTime> snooze_until;  // required for kSnooze
  Person by;
  ProcessingTime at;
};

// Why an input record was refused. Values match healthgrid.v1.DeadLetterReason.
enum class RejectReason : uint8_t {
  kUndecodable = 1,
  kMissingWorkerId = 2,
  kKeyMismatch = 3,
  kNoMeasurement = 4,
  kImpossibleValue = 5,
  kFutureTimestamp = 6,
  kTooOld = 7,
  kMissingTimestamp = 8,
  kTooLarge = 9,
  kUnknownValue = 10,
};

struct Rejection {
  RejectReason reason = RejectReason::kUndecodable;
  std::string message;  // names the field, the value and what was expected
};

// Each enum's stable name (metrics labels, logs, the policy file) and the words people read
// (escalation reasons, the tail), from its one label table in labels.h.
const char* Name(BpCategory c);
const char* Name(Rule r);
const char* Name(Severity s);
const char* Name(EscalationLevel l);
const char* Name(EscalationState s);
const char* Name(RecipientRole r);
const char* Name(RejectReason r);
const char* Name(ReadingContext c);
const char* Name(HighRiskPost p);
const char* Name(ReferralUrgency u);
const char* Name(GlucoseTiming t);
const char* Text(BpCategory c);
const char* Text(Rule r);
const char* Text(Severity s);
const char* Text(EscalationLevel l);
const char* Text(EscalationState s);
const char* Text(RecipientRole r);
const char* Text(RejectReason r);
const char* Text(ReadingContext c);
const char* Text(HighRiskPost p);
const char* Text(ReferralUrgency u);
const char* Text(GlucoseTiming t);

}  // namespace alertd::domain
