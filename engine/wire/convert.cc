// Conversions between health.proto messages and domain values; see convert.h for the rules.
#include "engine/wire/convert.h"

#include <climits>
#include <cstdint>
#include <type_traits>
#include <variant>

namespace alertd::wire {
namespace {

namespace pb = ::healthgrid::v1;
namespace dm = ::alertd::domain;

// The codecs convert enums by number: these keep the two vocabularies in step. If a proto enum
// grows, its _MAX check fails here until the domain enum and this file learn the new value.
static_assert(static_cast<int>(dm::BpCategory::kNormal) == pb::NORMAL);
static_assert(static_cast<int>(dm::BpCategory::kHighNormal) == pb::HIGH_NORMAL);
static_assert(static_cast<int>(dm::BpCategory::kGrade1) == pb::GRADE_1);
static_assert(static_cast<int>(dm::BpCategory::kGrade2) == pb::GRADE_2);
static_assert(static_cast<int>(dm::BpCategory::kGrade3) == pb::GRADE_3);
static_assert(pb::BpCategory_MAX == pb::GRADE_3);

static_assert(static_cast<int>(dm::ReadingContext::kSelfTest) == pb::SELF_TEST);
static_assert(static_cast<int>(dm::ReadingContext::kPreShift) == pb::PRE_SHIFT);
static_assert(static_cast<int>(dm::ReadingContext::kCheckup) == pb::CHECKUP);
static_assert(static_cast<int>(dm::ReadingContext::kClinic) == pb::CLINIC);
static_assert(pb::MeasurementContext_MAX == pb::CLINIC);

static_assert(static_cast<int>(dm::GlucoseTiming::kFasting) == pb::FASTING);
static_assert(static_cast<int>(dm::GlucoseTiming::kRandom) == pb::RANDOM);
static_assert(static_cast<int>(dm::GlucoseTiming::kPostprandial2h) == pb::POSTPRANDIAL_2H);
static_assert(pb::GlucoseTiming_MAX == pb::POSTPRANDIAL_2H);

static_assert(static_cast<int>(dm::HighRiskPost::kDriver) == pb::DRIVER);
static_assert(static_cast<int>(dm::HighRiskPost::kWorkAtHeight) == pb::WORK_AT_HEIGHT);
static_assert(static_cast<int>(dm::HighRiskPost::kHotWork) == pb::HOT_WORK);
static_assert(static_cast<int>(dm::HighRiskPost::kConfinedSpace) == pb::CONFINED_SPACE);
static_assert(static_cast<int>(dm::HighRiskPost::kElectrical) == pb::ELECTRICAL);
static_assert(pb::HighRiskPost_MAX == pb::ELECTRICAL);

static_assert(static_cast<int>(dm::Rule::kR1CriticalBp) == pb::R1_CRITICAL_BP);
static_assert(static_cast<int>(dm::Rule::kR2SustainedHypertension) == pb::R2_SUSTAINED_HYPERTENSION);
static_assert(static_cast<int>(dm::Rule::kR3SelfTestMissed) == pb::R3_SELF_TEST_MISSED);
static_assert(static_cast<int>(dm::Rule::kR4PreShiftFitness) == pb::R4_PRE_SHIFT_FITNESS);
static_assert(static_cast<int>(dm::Rule::kR5Glucose) == pb::R5_GLUCOSE);
static_assert(static_cast<int>(dm::Rule::kR6FocusTracking) == pb::R6_FOCUS_TRACKING);
static_assert(pb::Rule_MAX == pb::R6_FOCUS_TRACKING);

static_assert(static_cast<int>(dm::Severity::kInfo) == pb::INFO);
static_assert(static_cast<int>(dm::Severity::kHigh) == pb::HIGH);
static_assert(static_cast<int>(dm::Severity::kUrgent) == pb::URGENT);
static_assert(static_cast<int>(dm::Severity::kCritical) == pb::CRITICAL);
static_assert(pb::Severity_MAX == pb::CRITICAL);

static_assert(static_cast<int>(dm::EscalationLevel::kWorker) == pb::WORKER);
static_assert(static_cast<int>(dm::EscalationLevel::kHealthManager) == pb::HEALTH_MANAGER);
static_assert(static_cast<int>(dm::EscalationLevel::kUnitSupervisor) == pb::UNIT_SUPERVISOR);
static_assert(pb::EscalationLevel_MAX == pb::UNIT_SUPERVISOR);

static_assert(static_cast<int>(dm::EscalationState::kOpen) == pb::OPEN);
static_assert(static_cast<int>(dm::EscalationState::kEscalated) == pb::ESCALATED);
static_assert(static_cast<int>(dm::EscalationState::kRenotified) == pb::RENOTIFIED);
static_assert(static_cast<int>(dm::EscalationState::kResolved) == pb::RESOLVED);
static_assert(pb::EscalationState_MAX == pb::RESOLVED);

static_assert(static_cast<int>(dm::RecipientRole::kWorker) == pb::ROLE_WORKER);
static_assert(static_cast<int>(dm::RecipientRole::kHealthManager) == pb::ROLE_HEALTH_MANAGER);
static_assert(static_cast<int>(dm::RecipientRole::kUnitSupervisor) == pb::ROLE_UNIT_SUPERVISOR);
static_assert(static_cast<int>(dm::RecipientRole::kExtra) == pb::ROLE_EXTRA);
static_assert(pb::RecipientRole_MAX == pb::ROLE_EXTRA);

static_assert(static_cast<int>(dm::RejectReason::kUndecodable) == pb::UNDECODABLE);
static_assert(static_cast<int>(dm::RejectReason::kMissingWorkerId) == pb::MISSING_WORKER_ID);
static_assert(static_cast<int>(dm::RejectReason::kKeyMismatch) == pb::KEY_MISMATCH);
static_assert(static_cast<int>(dm::RejectReason::kNoMeasurement) == pb::NO_MEASUREMENT);
static_assert(static_cast<int>(dm::RejectReason::kImpossibleValue) == pb::IMPOSSIBLE_VALUE);
static_assert(static_cast<int>(dm::RejectReason::kFutureTimestamp) == pb::FUTURE_TIMESTAMP);
static_assert(static_cast<int>(dm::RejectReason::kTooOld) == pb::TOO_OLD);
static_assert(static_cast<int>(dm::RejectReason::kMissingTimestamp) == pb::MISSING_TIMESTAMP);
static_assert(static_cast<int>(dm::RejectReason::kTooLarge) == pb::TOO_LARGE);
static_assert(static_cast<int>(dm::RejectReason::kUnknownValue) == pb::UNKNOWN_VALUE);
static_assert(pb::DeadLetterReason_MAX == pb::UNKNOWN_VALUE);

static_assert(static_cast<int>(dm::ReferralUrgency::kRoutine) == pb::REFERRAL_ROUTINE);
static_assert(static_cast<int>(dm::ReferralUrgency::kUrgent) == pb::REFERRAL_URGENT);
static_assert(pb::ReferralUrgency_MAX == pb::REFERRAL_URGENT);

// Every enum here numbers its values 1..max with 0 reserved for *_UNSPECIFIED on the wire.
template <typename Domain, typename Proto>
std::optional<Domain> EnumFromProto(Proto value, Proto max) {
  const int number = static_cast<int>(value);
  if (number < 1 || number > static_cast<int>(max)) return std::nullopt;
  return static_cast<Domain>(number);
}

template <typename Proto, typename Domain>
Proto EnumToProto(Domain value, Proto max) {
  const int number = static_cast<int>(value);
  if (number < 1 || number > static_cast<int>(max)) return static_cast<Proto>(0);
  return static_cast<Proto>(number);
}

int ToInt(uint32_t value) { return value > static_cast<uint32_t>(INT_MAX) ? INT_MAX : static_cast<int>(value); }
uint32_t ToUint32(int value) { return value < 0 ? 0U : static_cast<uint32_t>(value); }

dm::Person PersonFromProto(const pb::Person& proto) { return dm::Person{.id = proto.id(), .name = proto.name()}; }

void FillProto(const dm::Person& person, pb::Person& out) {
  out.set_id(person.id);
  out.set_name(person.name);
}

dm::Recipient RecipientFromProto(const pb::Recipient& proto) {
  dm::Recipient recipient;
  recipient.id = proto.id();
  recipient.name = proto.name();
  recipient.role = FromProtoEnum(proto.role()).value_or(recipient.role);
  return recipient;
}

void FillProto(const dm::Recipient& recipient, pb::Recipient& out) {
  out.set_id(recipient.id);
  out.set_name(recipient.name);
  out.set_role(ToProto(recipient.role));
}

void FillProto(const dm::BpSample& sample, pb::EvidenceReading& out) {
  out.set_measured_at_ms(sample.measured_at.ms);
  out.set_systolic_mmhg(ToUint32(sample.systolic_mmhg));
  out.set_diastolic_mmhg(ToUint32(sample.diastolic_mmhg));
  out.set_pulse_bpm(ToUint32(sample.pulse_bpm));
  out.set_category(ToProto(sample.category));
  out.set_station_id(sample.station_id);
  out.set_device_id(sample.device_id);
  out.set_context(ToProto(sample.context));
}

void FillProto(const dm::GlucoseSample& sample, pb::EvidenceGlucose& out) {
  out.set_measured_at_ms(sample.measured_at.ms);
  out.set_mmol_per_l(sample.mmol_per_l);
  out.set_timing(ToProto(sample.timing));
  out.set_station_id(sample.station_id);
  out.set_device_id(sample.device_id);
  out.set_context(ToProto(sample.context));
}

// An optional<int> override to an optional uint32 field and back.
template <typename Setter>
void SetOptional(const std::optional<int>& value, Setter set) {
  if (value) set(ToUint32(*value));
}

void FillProto(const dm::WindowStats& stats, pb::WindowStats& out) {
  out.set_start_ms(stats.start.ms);
  out.set_end_ms(stats.end.ms);
  out.set_readings(ToUint32(stats.readings));
  out.set_days(ToUint32(stats.days));
  out.set_mean_systolic_mmhg(stats.mean_systolic_mmhg);
  out.set_mean_diastolic_mmhg(stats.mean_diastolic_mmhg);
  out.set_mean_category(ToProto(stats.mean_category));
}

}  // namespace

// --- Messages ---------------------------------------------------------------------------------

dm::Reading FromProto(const pb::Reading& proto) {
  dm::Reading reading;
  reading.worker = dm::WorkerId{proto.worker_id()};
  reading.device_id = proto.device_id();
  reading.station_id = proto.station_id();
  reading.measured_at = dm::EventTime{proto.measured_at_ms()};
  reading.context = FromProtoEnum(proto.context()).value_or(dm::ReadingContext::kSelfTest);
  switch (proto.measurement_case()) {
    case pb::Reading::kBloodPressure: {
      const pb::BloodPressure& bp = proto.blood_pressure();
      reading.measurement = dm::BloodPressure{.systolic_mmhg = ToInt(bp.systolic_mmhg()),
                                              .diastolic_mmhg = ToInt(bp.diastolic_mmhg()),
                                              .pulse_bpm = ToInt(bp.pulse_bpm())};
      break;
    }
    case pb::Reading::kGlucose:
      reading.measurement =
          dm::Glucose{.mmol_per_l = proto.glucose().mmol_per_l(),
                      .timing = FromProtoEnum(proto.glucose().timing()).value_or(dm::GlucoseTiming::kRandom)};
      break;
    case pb::Reading::kBody:
      reading.measurement =
          dm::BodyMeasurement{.weight_kg = proto.body().weight_kg(), .height_cm = proto.body().height_cm()};
      break;
    case pb::Reading::MEASUREMENT_NOT_SET:
      reading.measurement = std::monostate{};
      break;
  }
  return reading;
}

pb::Reading ToProto(const dm::Reading& reading) {
  pb::Reading proto;
  proto.set_worker_id(reading.worker.value);
  proto.set_device_id(reading.device_id);
  proto.set_station_id(reading.station_id);
  proto.set_measured_at_ms(reading.measured_at.ms);
  proto.set_context(ToProto(reading.context));
  std::visit(
      [&proto](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, dm::BloodPressure>) {
          pb::BloodPressure& bp = *proto.mutable_blood_pressure();
          bp.set_systolic_mmhg(ToUint32(m.systolic_mmhg));
          bp.set_diastolic_mmhg(ToUint32(m.diastolic_mmhg));
          bp.set_pulse_bpm(ToUint32(m.pulse_bpm));
        } else if constexpr (std::is_same_v<M, dm::Glucose>) {
          proto.mutable_glucose()->set_mmol_per_l(m.mmol_per_l);
          proto.mutable_glucose()->set_timing(ToProto(m.timing));
        } else if constexpr (std::is_same_v<M, dm::BodyMeasurement>) {
          proto.mutable_body()->set_weight_kg(m.weight_kg);
          proto.mutable_body()->set_height_cm(m.height_cm);
        } else {
          static_assert(std::is_same_v<M, std::monostate>, "unhandled measurement kind");
        }
      },
      reading.measurement);
  return proto;
}

dm::WorkerProfile FromProto(const pb::WorkerProfile& proto) {
  dm::WorkerProfile profile;
  profile.worker = dm::WorkerId{proto.worker_id()};
  profile.name = proto.name();
  profile.unit_id = proto.unit_id();
  profile.unit_name = proto.unit_name();
  profile.grid_id = proto.grid_id();
  profile.grid_name = proto.grid_name();
  profile.health_manager = PersonFromProto(proto.health_manager());
  profile.unit_supervisor = PersonFromProto(proto.unit_supervisor());
  profile.high_risk_posts.reserve(static_cast<size_t>(proto.high_risk_posts_size()));
  for (int raw : proto.high_risk_posts()) {
    if (auto post = FromProtoEnum(static_cast<pb::HighRiskPost>(raw))) profile.high_risk_posts.push_back(*post);
  }
  profile.diagnosed_hypertension_grade = ToInt(proto.conditions().hypertension_grade());
  profile.coronary_heart_disease = proto.conditions().coronary_heart_disease();
  profile.diabetes = proto.conditions().diabetes();
  const pb::IndividualPolicy& policy = proto.policy();
  if (policy.has_critical_systolic_mmhg()) {
    profile.policy.critical_systolic_mmhg = ToInt(policy.critical_systolic_mmhg());
  }
  if (policy.has_critical_diastolic_mmhg()) {
    profile.policy.critical_diastolic_mmhg = ToInt(policy.critical_diastolic_mmhg());
  }
  if (policy.has_self_test_interval_days()) {
    profile.policy.self_test_interval_days = ToInt(policy.self_test_interval_days());
  }
  profile.policy.focus_tracking = policy.focus_tracking();
  profile.policy.extra_recipients.reserve(static_cast<size_t>(policy.extra_recipients_size()));
  for (const pb::Person& person : policy.extra_recipients()) {
    profile.policy.extra_recipients.push_back(PersonFromProto(person));
  }
  if (policy.has_abnormal_systolic_mmhg()) profile.policy.abnormal_systolic_mmhg = ToInt(policy.abnormal_systolic_mmhg());
  if (policy.has_abnormal_diastolic_mmhg()) {
    profile.policy.abnormal_diastolic_mmhg = ToInt(policy.abnormal_diastolic_mmhg());
  }
  if (policy.has_ack_timeout_minutes()) profile.policy.ack_timeout_minutes = ToInt(policy.ack_timeout_minutes());
  if (policy.has_renotify_interval_hours()) {
    profile.policy.renotify_interval_hours = ToInt(policy.renotify_interval_hours());
  }
  profile.policy.self_test_enrolled = policy.self_test_enrolled();
  // Only an explicit LEFT_PROGRAMME takes a worker out: an unknown value (a newer producer) does not.
  profile.active = proto.enrolment() != pb::LEFT_PROGRAMME;
  profile.updated_at_ms = proto.updated_at_ms();
  return profile;
}

pb::WorkerProfile ToProto(const dm::WorkerProfile& profile) {
  pb::WorkerProfile proto;
  proto.set_worker_id(profile.worker.value);
  proto.set_name(profile.name);
  proto.set_unit_id(profile.unit_id);
  proto.set_unit_name(profile.unit_name);
  proto.set_grid_id(profile.grid_id);
  proto.set_grid_name(profile.grid_name);
  FillProto(profile.health_manager, *proto.mutable_health_manager());
  FillProto(profile.unit_supervisor, *proto.mutable_unit_supervisor());
  for (dm::HighRiskPost post : profile.high_risk_posts) proto.add_high_risk_posts(ToProto(post));
  pb::KnownConditions& conditions = *proto.mutable_conditions();
  conditions.set_hypertension_grade(ToUint32(profile.diagnosed_hypertension_grade));
  conditions.set_coronary_heart_disease(profile.coronary_heart_disease);
  conditions.set_diabetes(profile.diabetes);
  pb::IndividualPolicy& policy = *proto.mutable_policy();
  if (profile.policy.critical_systolic_mmhg) {
    policy.set_critical_systolic_mmhg(ToUint32(*profile.policy.critical_systolic_mmhg));
  }
  if (profile.policy.critical_diastolic_mmhg) {
    policy.set_critical_diastolic_mmhg(ToUint32(*profile.policy.critical_diastolic_mmhg));
  }
  if (profile.policy.self_test_interval_days) {
    policy.set_self_test_interval_days(ToUint32(*profile.policy.self_test_interval_days));
  }
  policy.set_focus_tracking(profile.policy.focus_tracking);
  for (const dm::Person& person : profile.policy.extra_recipients) FillProto(person, *policy.add_extra_recipients());
  const dm::IndividualPolicy& own = profile.policy;
  SetOptional(own.abnormal_systolic_mmhg, [&](uint32_t v) { policy.set_abnormal_systolic_mmhg(v); });
  SetOptional(own.abnormal_diastolic_mmhg, [&](uint32_t v) { policy.set_abnormal_diastolic_mmhg(v); });
  SetOptional(own.ack_timeout_minutes, [&](uint32_t v) { policy.set_ack_timeout_minutes(v); });
  SetOptional(own.renotify_interval_hours, [&](uint32_t v) { policy.set_renotify_interval_hours(v); });
  policy.set_self_test_enrolled(own.self_test_enrolled);
  proto.set_enrolment(profile.active ? pb::ENROLLED : pb::LEFT_PROGRAMME);
  proto.set_updated_at_ms(profile.updated_at_ms);
  return proto;
}

dm::BpSample FromProto(const pb::EvidenceReading& proto) {
  dm::BpSample sample;
  sample.measured_at = dm::EventTime{proto.measured_at_ms()};
  sample.systolic_mmhg = ToInt(proto.systolic_mmhg());
  sample.diastolic_mmhg = ToInt(proto.diastolic_mmhg());
  sample.pulse_bpm = ToInt(proto.pulse_bpm());
  sample.category = FromProtoEnum(proto.category()).value_or(sample.category);
  sample.station_id = proto.station_id();
  sample.device_id = proto.device_id();
  sample.context = FromProtoEnum(proto.context()).value_or(dm::ReadingContext::kSelfTest);
  return sample;
}

pb::EvidenceReading ToProto(const dm::BpSample& sample) {
  pb::EvidenceReading proto;
  FillProto(sample, proto);
  return proto;
}

dm::Recipient FromProto(const pb::Recipient& proto) { return RecipientFromProto(proto); }

void ToProto(const dm::Recipient& recipient, pb::Recipient& out) { FillProto(recipient, out); }

dm::GlucoseSample FromProto(const pb::EvidenceGlucose& proto) {
  dm::GlucoseSample sample;
  sample.measured_at = dm::EventTime{proto.measured_at_ms()};
  sample.mmol_per_l = proto.mmol_per_l();
  sample.timing = FromProtoEnum(proto.timing()).value_or(dm::GlucoseTiming::kRandom);
  sample.station_id = proto.station_id();
  sample.device_id = proto.device_id();
  sample.context = FromProtoEnum(proto.context()).value_or(dm::ReadingContext::kSelfTest);
  return sample;
}

pb::EvidenceGlucose ToProto(const dm::GlucoseSample& sample) {
  pb::EvidenceGlucose proto;
  FillProto(sample, proto);
  return proto;
}

dm::WindowStats FromProto(const pb::WindowStats& proto) {
  dm::WindowStats stats;
  stats.start = dm::EventTime{proto.start_ms()};
  stats.end = dm::EventTime{proto.end_ms()};
  stats.readings = ToInt(proto.readings());
  stats.days = ToInt(proto.days());
  stats.mean_systolic_mmhg = proto.mean_systolic_mmhg();
  stats.mean_diastolic_mmhg = proto.mean_diastolic_mmhg();
  stats.mean_category = FromProtoEnum(proto.mean_category()).value_or(stats.mean_category);
  return stats;
}

pb::WindowStats ToProto(const dm::WindowStats& stats) {
  pb::WindowStats proto;
  FillProto(stats, proto);
  return proto;
}

dm::Escalation FromProto(const pb::Escalation& proto) {
  dm::Escalation escalation;
  escalation.event_id = proto.event_id();
  escalation.episode_id = proto.episode_id();
  escalation.sequence = proto.sequence();
  escalation.worker = dm::WorkerId{proto.worker_id()};
  escalation.worker_name = proto.worker_name();
  escalation.unit_id = proto.unit_id();
  escalation.grid_id = proto.grid_id();
  escalation.unit_name = proto.unit_name();
  escalation.grid_name = proto.grid_name();
  escalation.rule = FromProtoEnum(proto.rule()).value_or(escalation.rule);
  escalation.severity = FromProtoEnum(proto.severity()).value_or(escalation.severity);
  escalation.level = FromProtoEnum(proto.level()).value_or(escalation.level);
  escalation.state = FromProtoEnum(proto.state()).value_or(escalation.state);
  escalation.reason = proto.reason();
  escalation.evidence.reserve(static_cast<size_t>(proto.evidence_size()));
  for (const pb::EvidenceReading& evidence : proto.evidence()) escalation.evidence.push_back(FromProto(evidence));
  escalation.glucose_evidence.reserve(static_cast<size_t>(proto.glucose_evidence_size()));
  for (const pb::EvidenceGlucose& evidence : proto.glucose_evidence()) {
    escalation.glucose_evidence.push_back(FromProto(evidence));
  }
  if (proto.has_window()) escalation.window = FromProto(proto.window());
  escalation.recipients.reserve(static_cast<size_t>(proto.recipients_size()));
  for (const pb::Recipient& recipient : proto.recipients())
    escalation.recipients.push_back(RecipientFromProto(recipient));
  escalation.opened_at = dm::EventTime{proto.opened_at_ms()};
  escalation.trigger_at = dm::EventTime{proto.trigger_at_ms()};
  escalation.emitted_at = dm::ProcessingTime{proto.emitted_at_ms()};
  return escalation;
}

pb::Escalation ToProto(const dm::Escalation& escalation) {
  pb::Escalation proto;
  ToProto(escalation, proto);
  return proto;
}

void ToProto(const dm::Escalation& escalation, pb::Escalation& proto) {
  proto.set_event_id(escalation.event_id);
  proto.set_episode_id(escalation.episode_id);
  proto.set_sequence(escalation.sequence);
  proto.set_worker_id(escalation.worker.value);
  proto.set_worker_name(escalation.worker_name);
  proto.set_unit_id(escalation.unit_id);
  proto.set_grid_id(escalation.grid_id);
  proto.set_unit_name(escalation.unit_name);
  proto.set_grid_name(escalation.grid_name);
  proto.set_rule(ToProto(escalation.rule));
  proto.set_severity(ToProto(escalation.severity));
  proto.set_level(ToProto(escalation.level));
  proto.set_state(ToProto(escalation.state));
  proto.set_reason(escalation.reason);
  for (const dm::BpSample& sample : escalation.evidence) FillProto(sample, *proto.add_evidence());
  for (const dm::GlucoseSample& sample : escalation.glucose_evidence) FillProto(sample, *proto.add_glucose_evidence());
  if (escalation.window) FillProto(*escalation.window, *proto.mutable_window());
  for (const dm::Recipient& recipient : escalation.recipients) FillProto(recipient, *proto.add_recipients());
  proto.set_opened_at_ms(escalation.opened_at.ms);
  proto.set_trigger_at_ms(escalation.trigger_at.ms);
  proto.set_emitted_at_ms(escalation.emitted_at.ms);
}

pb::Referral ToProto(const dm::Referral& referral) {
  pb::Referral proto;
  ToProto(referral, proto);
  return proto;
}

void ToProto(const dm::Referral& referral, pb::Referral& proto) {
  proto.set_referral_id(referral.referral_id);
  proto.set_episode_id(referral.episode_id);
  proto.set_worker_id(referral.worker.value);
  proto.set_worker_name(referral.worker_name);
  proto.set_unit_id(referral.unit_id);
  proto.set_unit_name(referral.unit_name);
  proto.set_grid_id(referral.grid_id);
  proto.set_grid_name(referral.grid_name);
  proto.set_rule(ToProto(referral.rule));
  proto.set_urgency(ToProto(referral.urgency));
  proto.set_reason(referral.reason);
  for (const dm::BpSample& sample : referral.evidence) FillProto(sample, *proto.add_evidence());
  for (const dm::GlucoseSample& sample : referral.glucose_evidence) FillProto(sample, *proto.add_glucose_evidence());
  if (referral.window) FillProto(*referral.window, *proto.mutable_window());
  FillProto(referral.health_manager, *proto.mutable_health_manager());
  pb::KnownConditions& conditions = *proto.mutable_conditions();
  conditions.set_hypertension_grade(ToUint32(referral.diagnosed_hypertension_grade));
  conditions.set_coronary_heart_disease(referral.coronary_heart_disease);
  conditions.set_diabetes(referral.diabetes);
  proto.set_trigger_at_ms(referral.trigger_at.ms);
  proto.set_emitted_at_ms(referral.emitted_at.ms);
}

dm::Referral FromProto(const pb::Referral& proto) {
  dm::Referral referral;
  referral.referral_id = proto.referral_id();
  referral.episode_id = proto.episode_id();
  referral.worker = dm::WorkerId{proto.worker_id()};
  referral.worker_name = proto.worker_name();
  referral.unit_id = proto.unit_id();
  referral.unit_name = proto.unit_name();
  referral.grid_id = proto.grid_id();
  referral.grid_name = proto.grid_name();
  referral.rule = FromProtoEnum(proto.rule()).value_or(referral.rule);
  referral.urgency = FromProtoEnum(proto.urgency()).value_or(referral.urgency);
  referral.reason = proto.reason();
  referral.evidence.reserve(static_cast<size_t>(proto.evidence_size()));
  for (const pb::EvidenceReading& evidence : proto.evidence()) referral.evidence.push_back(FromProto(evidence));
  referral.glucose_evidence.reserve(static_cast<size_t>(proto.glucose_evidence_size()));
  for (const pb::EvidenceGlucose& evidence : proto.glucose_evidence()) {
    referral.glucose_evidence.push_back(FromProto(evidence));
  }
  if (proto.has_window()) referral.window = FromProto(proto.window());
  referral.health_manager = PersonFromProto(proto.health_manager());
  referral.diagnosed_hypertension_grade = ToInt(proto.conditions().hypertension_grade());
  referral.coronary_heart_disease = proto.conditions().coronary_heart_disease();
  referral.diabetes = proto.conditions().diabetes();
  referral.trigger_at = dm::EventTime{proto.trigger_at_ms()};
  referral.emitted_at = dm::ProcessingTime{proto.emitted_at_ms()};
  return referral;
}

// --- Enumerations -----------------------------------------------------------------------------

std::optional<dm::BpCategory> FromProtoEnum(pb::BpCategory v) {
  return EnumFromProto<dm::BpCategory>(v, pb::BpCategory_MAX);
}
std::optional<dm::ReadingContext> FromProtoEnum(pb::MeasurementContext v) {
  return EnumFromProto<dm::ReadingContext>(v, pb::MeasurementContext_MAX);
}
std::optional<dm::GlucoseTiming> FromProtoEnum(pb::GlucoseTiming v) {
  return EnumFromProto<dm::GlucoseTiming>(v, pb::GlucoseTiming_MAX);
}
std::optional<dm::HighRiskPost> FromProtoEnum(pb::HighRiskPost v) {
  return EnumFromProto<dm::HighRiskPost>(v, pb::HighRiskPost_MAX);
}
std::optional<dm::Rule> FromProtoEnum(pb::Rule v) { return EnumFromProto<dm::Rule>(v, pb::Rule_MAX); }
std::optional<dm::Severity> FromProtoEnum(pb::Severity v) { return EnumFromProto<dm::Severity>(v, pb::Severity_MAX); }
std::optional<dm::EscalationLevel> FromProtoEnum(pb::EscalationLevel v) {
  return EnumFromProto<dm::EscalationLevel>(v, pb::EscalationLevel_MAX);
}
std::optional<dm::EscalationState> FromProtoEnum(pb::EscalationState v) {
  return EnumFromProto<dm::EscalationState>(v, pb::EscalationState_MAX);
}
std::optional<dm::RecipientRole> FromProtoEnum(pb::RecipientRole v) {
  return EnumFromProto<dm::RecipientRole>(v, pb::RecipientRole_MAX);
}
std::optional<dm::RejectReason> FromProtoEnum(pb::DeadLetterReason v) {
  return EnumFromProto<dm::RejectReason>(v, pb::DeadLetterReason_MAX);
}
std::optional<dm::ReferralUrgency> FromProtoEnum(pb::ReferralUrgency v) {
  return EnumFromProto<dm::ReferralUrgency>(v, pb::ReferralUrgency_MAX);
}

pb::BpCategory ToProto(dm::BpCategory v) { return EnumToProto(v, pb::BpCategory_MAX); }
pb::MeasurementContext ToProto(dm::ReadingContext v) { return EnumToProto(v, pb::MeasurementContext_MAX); }
pb::GlucoseTiming ToProto(dm::GlucoseTiming v) { return EnumToProto(v, pb::GlucoseTiming_MAX); }
pb::HighRiskPost ToProto(dm::HighRiskPost v) { return EnumToProto(v, pb::HighRiskPost_MAX); }
pb::Rule ToProto(dm::Rule v) { return EnumToProto(v, pb::Rule_MAX); }
pb::Severity ToProto(dm::Severity v) { return EnumToProto(v, pb::Severity_MAX); }
pb::EscalationLevel ToProto(dm::EscalationLevel v) { return EnumToProto(v, pb::EscalationLevel_MAX); }
pb::EscalationState ToProto(dm::EscalationState v) { return EnumToProto(v, pb::EscalationState_MAX); }
pb::RecipientRole ToProto(dm::RecipientRole v) { return EnumToProto(v, pb::RecipientRole_MAX); }
pb::DeadLetterReason ToProto(dm::RejectReason v) { return EnumToProto(v, pb::DeadLetterReason_MAX); }
pb::ReferralUrgency ToProto(dm::ReferralUrgency v) { return EnumToProto(v, pb::ReferralUrgency_MAX); }

// --- Text -------------------------------------------------------------------------------------

bool IsValidUtf8(std::string_view text) {
  // Table 3-7 of the Unicode standard: the well-formed byte sequences.
  const size_t size = text.size();
  auto byte = [&text](size_t i) { return static_cast<unsigned char>(text[i]); };
  // Whether the byte at `i` exists and lies in [lo, hi] (by default any continuation byte).
  auto in_range = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < size && byte(i) >= lo && byte(i) <= hi;
  };
  size_t i = 0;
  while (i < size) {
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
      i += 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      if (!in_range(i + 1)) return false;
      i += 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      const unsigned char lo = lead == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
      const unsigned char hi = lead == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
      if (!in_range(i + 1, lo, hi) || !in_range(i + 2)) return false;
      i += 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      const unsigned char lo = lead == 0xF0 ? 0x90 : 0x80;  // no overlong forms
      const unsigned char hi = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
      if (!in_range(i + 1, lo, hi) || !in_range(i + 2) || !in_range(i + 3)) return false;
      i += 4;
    } else {
      return false;  // a stray continuation byte, C0/C1 (overlong) or F5..FF
    }
  }
  return true;
}

dm::ShiftEvent FromProto(const pb::ShiftEvent& proto) {
  dm::ShiftEvent shift;
  shift.worker = dm::WorkerId{proto.worker_id()};
  if (auto post = FromProtoEnum(proto.post())) shift.post = *post;
  shift.clock_in_at = dm::EventTime{proto.clock_in_at_ms()};
  shift.site = proto.site();
  return shift;
}

dm::EscalationAck FromProto(const pb::EscalationAck& proto) {
  dm::EscalationAck ack;
  ack.worker = dm::WorkerId{proto.worker_id()};
  ack.episode_id = proto.episode_id();
  if (auto rule = FromProtoEnum(proto.rule())) ack.rule = *rule;
  switch (proto.action()) {
    case pb::RESOLVE: ack.action = dm::EscalationAck::Action::kResolve; break;
    case pb::SNOOZE: ack.action = dm::EscalationAck::Action::kSnooze; break;
    default: ack.action = dm::EscalationAck::Action::kAcknowledge; break;
  }
  if (proto.snooze_until_ms() != 0) ack.snooze_until = dm::ProcessingTime{proto.snooze_until_ms()};
  ack.by = dm::Person{proto.by().id(), proto.by().name()};
  ack.at = dm::ProcessingTime{proto.at_ms()};
  return ack;
}

}  // namespace alertd::wire
