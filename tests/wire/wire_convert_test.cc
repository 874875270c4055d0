// Tests of engine/wire: every enum value both ways, defaults for unknown values, and round trips of
// every message with optional parts empty and set.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "engine/wire/convert.h"

namespace alertd::wire {
namespace {

namespace pb = ::healthgrid::v1;
namespace dm = ::alertd::domain;

using google::protobuf::util::MessageDifferencer;

// --- Comparisons the domain types do not define -------------------------------------------------

void ExpectSameMeasurement(const dm::Measurement& a, const dm::Measurement& b) {
  ASSERT_EQ(a.index(), b.index());
  if (const auto* bp = std::get_if<dm::BloodPressure>(&a)) {
    const auto& other = std::get<dm::BloodPressure>(b);
    EXPECT_EQ(bp->systolic_mmhg, other.systolic_mmhg);
    EXPECT_EQ(bp->diastolic_mmhg, other.diastolic_mmhg);
    EXPECT_EQ(bp->pulse_bpm, other.pulse_bpm);
  } else if (const auto* glucose = std::get_if<dm::Glucose>(&a)) {
    const auto& other = std::get<dm::Glucose>(b);
    EXPECT_EQ(glucose->mmol_per_l, other.mmol_per_l);
    EXPECT_EQ(glucose->timing, other.timing);
  } else if (const auto* body = std::get_if<dm::BodyMeasurement>(&a)) {
    const auto& other = std::get<dm::BodyMeasurement>(b);
    EXPECT_EQ(body->weight_kg, other.weight_kg);
    EXPECT_EQ(body->height_cm, other.height_cm);
  }
}

void ExpectSameReading(const dm::Reading& a, const dm::Reading& b) {
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.device_id, b.device_id);
  EXPECT_EQ(a.station_id, b.station_id);
  EXPECT_EQ(a.measured_at, b.measured_at);
  EXPECT_EQ(a.context, b.context);
  ExpectSameMeasurement(a.measurement, b.measurement);
}

void ExpectSameEscalation(const dm::Escalation& a, const dm::Escalation& b) {
  EXPECT_EQ(a.event_id, b.event_id);
  EXPECT_EQ(a.episode_id, b.episode_id);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_EQ(a.worker, b.worker);
  EXPECT_EQ(a.worker_name, b.worker_name);
  EXPECT_EQ(a.unit_id, b.unit_id);
  EXPECT_EQ(a.grid_id, b.grid_id);
  EXPECT_EQ(a.unit_name, b.unit_name);
  EXPECT_EQ(a.grid_name, b.grid_name);
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.severity, b.severity);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.evidence, b.evidence);
  EXPECT_EQ(a.glucose_evidence, b.glucose_evidence);
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.recipients, b.recipients);
  EXPECT_EQ(a.opened_at, b.opened_at);
  EXPECT_EQ(a.trigger_at, b.trigger_at);
  EXPECT_EQ(a.emitted_at, b.emitted_at);
}

// --- Enumerations -----------------------------------------------------------------------------

// Checks one enum pair: every enumerator round-trips by number, 0 and unknown numbers are refused,
// and a domain value outside the enumerators goes out as 0 (*_UNSPECIFIED).
template <typename Domain, typename Proto>
void CheckEnum(const std::vector<std::pair<Domain, Proto>>& pairs, Proto max) {
  ASSERT_EQ(pairs.size(), static_cast<size_t>(max)) << "every enumerator is listed";
  for (const auto& [domain_value, proto_value] : pairs) {
    SCOPED_TRACE(static_cast<int>(proto_value));
    EXPECT_EQ(static_cast<int>(domain_value), static_cast<int>(proto_value));
    EXPECT_EQ(ToProto(domain_value), proto_value);
    EXPECT_EQ(FromProtoEnum(proto_value), domain_value);
  }
  EXPECT_EQ(FromProtoEnum(static_cast<Proto>(0)), std::nullopt);
  EXPECT_EQ(FromProtoEnum(static_cast<Proto>(static_cast<int>(max) + 1)), std::nullopt);
  EXPECT_EQ(FromProtoEnum(static_cast<Proto>(-1)), std::nullopt);
  EXPECT_EQ(static_cast<int>(ToProto(static_cast<Domain>(0))), 0);
  EXPECT_EQ(static_cast<int>(ToProto(static_cast<Domain>(static_cast<int>(max) + 1))), 0);
}

TEST(EnumTest, BpCategory) {
  CheckEnum<dm::BpCategory, pb::BpCategory>({{dm::BpCategory::kNormal, pb::NORMAL},
                                             {dm::BpCategory::kHighNormal, pb::HIGH_NORMAL},
                                             {dm::BpCategory::kGrade1, pb::GRADE_1},
                                             {dm::BpCategory::kGrade2, pb::GRADE_2},
                                             {dm::BpCategory::kGrade3, pb::GRADE_3}},
                                            pb::BpCategory_MAX);
}

TEST(EnumTest, ReadingContext) {
  CheckEnum<dm::ReadingContext, pb::MeasurementContext>({{dm::ReadingContext::kSelfTest, pb::SELF_TEST},
                                                         {dm::ReadingContext::kPreShift, pb::PRE_SHIFT},
                                                         {dm::ReadingContext::kCheckup, pb::CHECKUP},
                                                         {dm::ReadingContext::kClinic, pb::CLINIC}},
                                                        pb::MeasurementContext_MAX);
}

TEST(EnumTest, GlucoseTiming) {
  CheckEnum<dm::GlucoseTiming, pb::GlucoseTiming>({{dm::GlucoseTiming::kFasting, pb::FASTING},
                                                   {dm::GlucoseTiming::kRandom, pb::RANDOM},
                                                   {dm::GlucoseTiming::kPostprandial2h, pb::POSTPRANDIAL_2H}},
                                                  pb::GlucoseTiming_MAX);
}

TEST(EnumTest, HighRiskPost) {
  CheckEnum<dm::HighRiskPost, pb::HighRiskPost>({{dm::HighRiskPost::kDriver, pb::DRIVER},
                                                 {dm::HighRiskPost::kWorkAtHeight, pb::WORK_AT_HEIGHT},
                                                 {dm::HighRiskPost::kHotWork, pb::HOT_WORK},
                                                 {dm::HighRiskPost::kConfinedSpace, pb::CONFINED_SPACE},
                                                 {dm::HighRiskPost::kElectrical, pb::ELECTRICAL}},
                                                pb::HighRiskPost_MAX);
}

TEST(EnumTest, Rule) {
  CheckEnum<dm::Rule, pb::Rule>({{dm::Rule::kR1CriticalBp, pb::R1_CRITICAL_BP},
                                 {dm::Rule::kR2SustainedHypertension, pb::R2_SUSTAINED_HYPERTENSION},
                                 {dm::Rule::kR3SelfTestMissed, pb::R3_SELF_TEST_MISSED},
                                 {dm::Rule::kR4PreShiftFitness, pb::R4_PRE_SHIFT_FITNESS},
                                 {dm::Rule::kR5Glucose, pb::R5_GLUCOSE},
                                 {dm::Rule::kR6FocusTracking, pb::R6_FOCUS_TRACKING}},
                                pb::Rule_MAX);
}

TEST(EnumTest, Severity) {
  CheckEnum<dm::Severity, pb::Severity>({{dm::Severity::kInfo, pb::INFO},
                                         {dm::Severity::kHigh, pb::HIGH},
                                         {dm::Severity::kUrgent, pb::URGENT},
                                         {dm::Severity::kCritical, pb::CRITICAL}},
                                        pb::Severity_MAX);
}

TEST(EnumTest, EscalationLevel) {
  CheckEnum<dm::EscalationLevel, pb::EscalationLevel>({{dm::EscalationLevel::kWorker, pb::WORKER},
                                                       {dm::EscalationLevel::kHealthManager, pb::HEALTH_MANAGER},
                                                       {dm::EscalationLevel::kUnitSupervisor, pb::UNIT_SUPERVISOR}},
                                                      pb::EscalationLevel_MAX);
}

TEST(EnumTest, EscalationState) {
  CheckEnum<dm::EscalationState, pb::EscalationState>({{dm::EscalationState::kOpen, pb::OPEN},
                                                       {dm::EscalationState::kEscalated, pb::ESCALATED},
                                                       {dm::EscalationState::kRenotified, pb::RENOTIFIED},
                                                       {dm::EscalationState::kResolved, pb::RESOLVED}},
                                                      pb::EscalationState_MAX);
}

TEST(EnumTest, RecipientRole) {
  CheckEnum<dm::RecipientRole, pb::RecipientRole>({{dm::RecipientRole::kWorker, pb::ROLE_WORKER},
                                                   {dm::RecipientRole::kHealthManager, pb::ROLE_HEALTH_MANAGER},
                                                   {dm::RecipientRole::kUnitSupervisor, pb::ROLE_UNIT_SUPERVISOR},
                                                   {dm::RecipientRole::kExtra, pb::ROLE_EXTRA}},
                                                  pb::RecipientRole_MAX);
}

TEST(EnumTest, RejectReason) {
  CheckEnum<dm::RejectReason, pb::DeadLetterReason>({{dm::RejectReason::kUndecodable, pb::UNDECODABLE},
                                                     {dm::RejectReason::kMissingWorkerId, pb::MISSING_WORKER_ID},
                                                     {dm::RejectReason::kKeyMismatch, pb::KEY_MISMATCH},
                                                     {dm::RejectReason::kNoMeasurement, pb::NO_MEASUREMENT},
                                                     {dm::RejectReason::kImpossibleValue, pb::IMPOSSIBLE_VALUE},
                                                     {dm::RejectReason::kFutureTimestamp, pb::FUTURE_TIMESTAMP},
                                                     {dm::RejectReason::kTooOld, pb::TOO_OLD},
                                                     {dm::RejectReason::kMissingTimestamp, pb::MISSING_TIMESTAMP},
                                                     {dm::RejectReason::kTooLarge, pb::TOO_LARGE},
                                                     {dm::RejectReason::kUnknownValue, pb::UNKNOWN_VALUE}},
                                                    pb::DeadLetterReason_MAX);
}

// --- Reading ----------------------------------------------------------------------------------

pb::Reading BpReadingProto() {
  pb::Reading proto;
  proto.set_worker_id("W001");
  proto.set_device_id("omron-17");
  proto.set_station_id("U07-G12-S1");
  proto.set_measured_at_ms(1'717'000'000'000);
  proto.set_context(pb::PRE_SHIFT);
  proto.mutable_blood_pressure()->set_systolic_mmhg(182);
  proto.mutable_blood_pressure()->set_diastolic_mmhg(111);
  proto.mutable_blood_pressure()->set_pulse_bpm(88);
  return proto;
}

TEST(ReadingTest, BloodPressureFromProto) {
  const dm::Reading reading = FromProto(BpReadingProto());
  EXPECT_EQ(reading.worker.value, "W001");
  EXPECT_EQ(reading.device_id, "omron-17");
  EXPECT_EQ(reading.station_id, "U07-G12-S1");
  EXPECT_EQ(reading.measured_at.ms, 1'717'000'000'000);
  EXPECT_EQ(reading.context, dm::ReadingContext::kPreShift);
  const auto* bp = std::get_if<dm::BloodPressure>(&reading.measurement);
  ASSERT_NE(bp, nullptr);
  EXPECT_EQ(bp->systolic_mmhg, 182);
  EXPECT_EQ(bp->diastolic_mmhg, 111);
  EXPECT_EQ(bp->pulse_bpm, 88);
}

TEST(ReadingTest, ContextTable) {
  const std::vector<std::pair<int, dm::ReadingContext>> cases = {
      {pb::MEASUREMENT_CONTEXT_UNSPECIFIED, dm::ReadingContext::kSelfTest},
      {pb::SELF_TEST, dm::ReadingContext::kSelfTest},
      {pb::PRE_SHIFT, dm::ReadingContext::kPreShift},
      {pb::CHECKUP, dm::ReadingContext::kCheckup},
      {pb::CLINIC, dm::ReadingContext::kClinic},
      {99, dm::ReadingContext::kSelfTest},  // a newer producer's value
  };
  for (const auto& [number, expected] : cases) {
    pb::Reading proto = BpReadingProto();
    proto.set_context(static_cast<pb::MeasurementContext>(number));
    EXPECT_EQ(FromProto(proto).context, expected) << "context " << number;
  }
}

TEST(ReadingTest, GlucoseTimingTable) {
  const std::vector<std::pair<int, dm::GlucoseTiming>> cases = {
      {pb::GLUCOSE_TIMING_UNSPECIFIED, dm::GlucoseTiming::kRandom},
      {pb::FASTING, dm::GlucoseTiming::kFasting},
      {pb::RANDOM, dm::GlucoseTiming::kRandom},
      {pb::POSTPRANDIAL_2H, dm::GlucoseTiming::kPostprandial2h},
      {42, dm::GlucoseTiming::kRandom},
  };
  for (const auto& [number, expected] : cases) {
    pb::Reading proto;
    proto.set_worker_id("W002");
    proto.mutable_glucose()->set_mmol_per_l(7.4);
    proto.mutable_glucose()->set_timing(static_cast<pb::GlucoseTiming>(number));
    const dm::Reading reading = FromProto(proto);
    const auto* glucose = std::get_if<dm::Glucose>(&reading.measurement);
    ASSERT_NE(glucose, nullptr);
    EXPECT_EQ(glucose->mmol_per_l, 7.4);
    EXPECT_EQ(glucose->timing, expected) << "timing " << number;
  }
}

TEST(ReadingTest, NoMeasurementIsMonostate) {
  pb::Reading proto;
  proto.set_worker_id("W003");
  const dm::Reading reading = FromProto(proto);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(reading.measurement));
  EXPECT_EQ(ToProto(reading).measurement_case(), pb::Reading::MEASUREMENT_NOT_SET);
}

TEST(ReadingTest, WorkerIdCopiedAsIs) {
  for (const std::string id : {"", " W004 ", "工人-7", "a\tb"}) {
    pb::Reading proto = BpReadingProto();
    proto.set_worker_id(id);
    EXPECT_EQ(FromProto(proto).worker.value, id);
    EXPECT_EQ(ToProto(FromProto(proto)).worker_id(), id);
  }
}

TEST(ReadingTest, IntegersSaturateInsteadOfWrapping) {
  pb::Reading proto = BpReadingProto();
  proto.mutable_blood_pressure()->set_systolic_mmhg(UINT32_MAX);  // would wrap to -1
  const dm::Reading reading = FromProto(proto);
  EXPECT_EQ(std::get<dm::BloodPressure>(reading.measurement).systolic_mmhg, INT_MAX);

  dm::Reading negative;
  negative.measurement = dm::BloodPressure{.systolic_mmhg = -5, .diastolic_mmhg = 80, .pulse_bpm = 0};
  EXPECT_EQ(ToProto(negative).blood_pressure().systolic_mmhg(), 0U);
}

TEST(ReadingTest, DomainRoundTripOfEveryMeasurementKind) {
  std::vector<dm::Measurement> measurements = {
      std::monostate{},
      dm::BloodPressure{.systolic_mmhg = 139, .diastolic_mmhg = 89, .pulse_bpm = 0},
      dm::BodyMeasurement{.weight_kg = 81.5, .height_cm = 0},
      dm::BodyMeasurement{.weight_kg = 64.25, .height_cm = 171.5},
  };
  for (dm::GlucoseTiming timing :
       {dm::GlucoseTiming::kFasting, dm::GlucoseTiming::kRandom, dm::GlucoseTiming::kPostprandial2h}) {
    measurements.push_back(dm::Glucose{.mmol_per_l = 11.1, .timing = timing});
  }
  for (dm::ReadingContext context : {dm::ReadingContext::kSelfTest, dm::ReadingContext::kPreShift,
                                     dm::ReadingContext::kCheckup, dm::ReadingContext::kClinic}) {
    for (const dm::Measurement& measurement : measurements) {
      dm::Reading reading;
      reading.worker = dm::WorkerId{"W005"};
      reading.device_id = "dev";
      reading.station_id = "st";
      reading.measured_at = dm::EventTime{-1};  // before the epoch: still carried exactly
      reading.context = context;
      reading.measurement = measurement;
      SCOPED_TRACE(testing::Message() << "context " << static_cast<int>(context) << " kind " << measurement.index());
      ExpectSameReading(FromProto(ToProto(reading)), reading);
    }
  }
}

TEST(ReadingTest, ProtoRoundTripLosesOnlyReadingId) {
  pb::Reading proto = BpReadingProto();
  proto.set_reading_id("dev-assigned-77");  // informational; the domain does not keep it
  pb::Reading back = ToProto(FromProto(proto));
  EXPECT_EQ(back.reading_id(), "");
  proto.clear_reading_id();
  EXPECT_TRUE(MessageDifferencer::Equals(back, proto)) << back.DebugString();
}

// --- WorkerProfile ----------------------------------------------------------------------------

dm::WorkerProfile FullProfile() {
  dm::WorkerProfile profile;
  profile.worker = dm::WorkerId{"W010"};
  profile.name = "李明";
  profile.unit_id = "U07";
  profile.unit_name = "Seventh Oil Production Plant";
  profile.grid_id = "U07-G12";
  profile.grid_name = "Well team 12";
  profile.health_manager = dm::Person{.id = "HM-3", .name = "王芳"};
  profile.unit_supervisor = dm::Person{.id = "US-1", .name = "Zhang Wei"};
  profile.high_risk_posts = {dm::HighRiskPost::kElectrical, dm::HighRiskPost::kDriver, dm::HighRiskPost::kWorkAtHeight,
                             dm::HighRiskPost::kHotWork, dm::HighRiskPost::kConfinedSpace};
  profile.diagnosed_hypertension_grade = 3;
  profile.coronary_heart_disease = true;
  profile.diabetes = true;
  profile.policy.critical_systolic_mmhg = 170;
  profile.policy.critical_diastolic_mmhg = 105;
  profile.policy.self_test_interval_days = 3;
  profile.policy.focus_tracking = true;
  profile.policy.extra_recipients = {{.id = "DR-9", .name = "Dr. Liu"}, {.id = "N-2", .name = "Nurse Chen"}};
  profile.policy.abnormal_systolic_mmhg = 135;
  profile.policy.abnormal_diastolic_mmhg = 85;
  profile.policy.ack_timeout_minutes = 20;
  profile.policy.renotify_interval_hours = 6;
  profile.policy.self_test_enrolled = true;
  profile.active = false;
  profile.updated_at_ms = 1'716'000'000'123;
  return profile;
}

TEST(WorkerProfileTest, FullRoundTrip) {
  const dm::WorkerProfile profile = FullProfile();
  EXPECT_EQ(FromProto(ToProto(profile)), profile);
}

TEST(WorkerProfileTest, EmptyRoundTripKeepsOptionalsUnset) {
  const dm::WorkerProfile profile;
  const pb::WorkerProfile proto = ToProto(profile);
  EXPECT_FALSE(proto.policy().has_critical_systolic_mmhg());
  EXPECT_FALSE(proto.policy().has_critical_diastolic_mmhg());
  EXPECT_FALSE(proto.policy().has_self_test_interval_days());
  EXPECT_FALSE(proto.policy().has_abnormal_systolic_mmhg());
  EXPECT_FALSE(proto.policy().has_abnormal_diastolic_mmhg());
  EXPECT_FALSE(proto.policy().has_ack_timeout_minutes());
  EXPECT_FALSE(proto.policy().has_renotify_interval_hours());
  EXPECT_FALSE(proto.policy().self_test_enrolled());
  EXPECT_EQ(FromProto(proto), profile);
}

TEST(WorkerProfileTest, EachOptionalOnItsOwn) {
  for (int field = 0; field < 7; ++field) {
    dm::WorkerProfile profile;
    std::optional<int>* slots[] = {&profile.policy.critical_systolic_mmhg,  &profile.policy.critical_diastolic_mmhg,
                                   &profile.policy.self_test_interval_days, &profile.policy.abnormal_systolic_mmhg,
                                   &profile.policy.abnormal_diastolic_mmhg, &profile.policy.ack_timeout_minutes,
                                   &profile.policy.renotify_interval_hours};
    *slots[field] = 0;  // zero is a value, not "unset"
    const pb::WorkerProfile proto = ToProto(profile);
    EXPECT_EQ(FromProto(proto), profile) << "field " << field;
    // Exactly one optional is present on the wire.
    const pb::IndividualPolicy& p = proto.policy();
    EXPECT_EQ(p.has_critical_systolic_mmhg() + p.has_critical_diastolic_mmhg() + p.has_self_test_interval_days() +
                  p.has_abnormal_systolic_mmhg() + p.has_abnormal_diastolic_mmhg() + p.has_ack_timeout_minutes() +
                  p.has_renotify_interval_hours(),
              1)
        << "field " << field;
  }
}

TEST(WorkerProfileTest, NewPolicyFieldsLandOnTheirWireFields) {
  const pb::IndividualPolicy proto = ToProto(FullProfile()).policy();
  EXPECT_EQ(proto.abnormal_systolic_mmhg(), 135U);
  EXPECT_EQ(proto.abnormal_diastolic_mmhg(), 85U);
  EXPECT_EQ(proto.ack_timeout_minutes(), 20U);
  EXPECT_EQ(proto.renotify_interval_hours(), 6U);
  EXPECT_TRUE(proto.self_test_enrolled());
}

TEST(WorkerProfileTest, NegativeOverridesGoOutAsZero) {
  dm::WorkerProfile profile;
  profile.policy.ack_timeout_minutes = -5;
  const pb::WorkerProfile proto = ToProto(profile);
  ASSERT_TRUE(proto.policy().has_ack_timeout_minutes());
  EXPECT_EQ(proto.policy().ack_timeout_minutes(), 0U);
}

TEST(WorkerProfileTest, UnknownPostsAreSkipped) {
  pb::WorkerProfile proto;
  proto.add_high_risk_posts(pb::HIGH_RISK_POST_UNSPECIFIED);
  proto.add_high_risk_posts(pb::HOT_WORK);
  proto.add_high_risk_posts(static_cast<pb::HighRiskPost>(77));
  proto.add_high_risk_posts(pb::DRIVER);
  EXPECT_EQ(FromProto(proto).high_risk_posts,
            (std::vector<dm::HighRiskPost>{dm::HighRiskPost::kHotWork, dm::HighRiskPost::kDriver}));
}

TEST(WorkerProfileTest, AProfileThatSaysNothingOfEnrolmentIsEnrolled) {
  // The zero value is the safe reading: a producer that forgets the field takes no one out.
  EXPECT_TRUE(FromProto(pb::WorkerProfile()).active);
  pb::WorkerProfile left;
  left.set_enrolment(pb::LEFT_PROGRAMME);
  EXPECT_FALSE(FromProto(left).active);
  pb::WorkerProfile newer;
  newer.set_enrolment(static_cast<pb::Enrolment>(7));  // a value this build does not know
  EXPECT_TRUE(FromProto(newer).active);
  EXPECT_EQ(ToProto(FromProto(left)).enrolment(), pb::LEFT_PROGRAMME);
  EXPECT_EQ(ToProto(FromProto(pb::WorkerProfile())).enrolment(), pb::ENROLLED);
}

TEST(WorkerProfileTest, ProtoRoundTripIsEquivalent) {
  const pb::WorkerProfile proto = ToProto(FullProfile());
  EXPECT_TRUE(MessageDifferencer::Equivalent(ToProto(FromProto(proto)), proto));
}

// --- Evidence, window, escalation -------------------------------------------------------------

TEST(BpSampleTest, EveryCategoryAndContextRoundTrips) {
  for (int category = 1; category <= pb::BpCategory_MAX; ++category) {
    for (int context = 1; context <= pb::MeasurementContext_MAX; ++context) {
      dm::BpSample sample{.measured_at = dm::EventTime{1'700'000'000'000 + category},
                          .systolic_mmhg = 100 + category,
                          .diastolic_mmhg = 60 + context,
                          .pulse_bpm = context == 2 ? 0 : 70,
                          .category = static_cast<dm::BpCategory>(category),
                          .station_id = "S",
                          .device_id = "D",
                          .context = static_cast<dm::ReadingContext>(context)};
      const pb::EvidenceReading proto = ToProto(sample);
      EXPECT_EQ(static_cast<int>(proto.category()), category);
      EXPECT_EQ(static_cast<int>(proto.context()), context);
      EXPECT_EQ(FromProto(proto), sample);
    }
  }
}

TEST(BpSampleTest, UnspecifiedEnumsGetDefaults) {
  const dm::BpSample sample = FromProto(pb::EvidenceReading());
  EXPECT_EQ(sample.category, dm::BpCategory::kNormal);
  EXPECT_EQ(sample.context, dm::ReadingContext::kSelfTest);
}

TEST(WindowStatsTest, RoundTrip) {
  const dm::WindowStats stats{.start = dm::EventTime{1'000},
                              .end = dm::EventTime{604'801'000},
                              .readings = 4,
                              .days = 3,
                              .mean_systolic_mmhg = 162.25,
                              .mean_diastolic_mmhg = 101.5,
                              .mean_category = dm::BpCategory::kGrade2};
  EXPECT_EQ(FromProto(ToProto(stats)), stats);
  EXPECT_EQ(FromProto(pb::WindowStats()), dm::WindowStats());
}

TEST(RecipientTest, EveryRoleRoundTripsAndAnUnknownOneReadsAsHealthManager) {
  for (dm::RecipientRole role : {dm::RecipientRole::kWorker, dm::RecipientRole::kHealthManager,
                                 dm::RecipientRole::kUnitSupervisor, dm::RecipientRole::kExtra}) {
    const dm::Recipient recipient{.id = "HM-3", .name = "王芳", .role = role};
    pb::Recipient proto;
    ToProto(recipient, proto);
    EXPECT_EQ(proto.role(), ToProto(role));
    EXPECT_EQ(FromProto(proto), recipient);
  }
  pb::Recipient unknown;
  unknown.set_id("X");
  unknown.set_role(static_cast<pb::RecipientRole>(9));
  EXPECT_EQ(FromProto(unknown), (dm::Recipient{.id = "X", .name = "", .role = dm::RecipientRole::kHealthManager}));
}

// --- Glucose evidence ---------------------------------------------------------------------------

TEST(GlucoseSampleTest, EveryTimingAndContextRoundTrips) {
  for (int timing = 1; timing <= pb::GlucoseTiming_MAX; ++timing) {
    for (int context = 1; context <= pb::MeasurementContext_MAX; ++context) {
      const dm::GlucoseSample sample{.measured_at = dm::EventTime{1'717'000'000'000},
                                     .mmol_per_l = 12.3,
                                     .timing = static_cast<dm::GlucoseTiming>(timing),
                                     .station_id = "S1",
                                     .device_id = "accu-chek-3",
                                     .context = static_cast<dm::ReadingContext>(context)};
      const pb::EvidenceGlucose proto = ToProto(sample);
      EXPECT_EQ(proto.measured_at_ms(), 1'717'000'000'000);
      EXPECT_EQ(proto.mmol_per_l(), 12.3);
      EXPECT_EQ(static_cast<int>(proto.timing()), timing);
      EXPECT_EQ(static_cast<int>(proto.context()), context);
      EXPECT_EQ(FromProto(proto), sample);
    }
  }
}

TEST(GlucoseSampleTest, UnspecifiedEnumsGetDefaults) {
  const dm::GlucoseSample sample = FromProto(pb::EvidenceGlucose());
  EXPECT_EQ(sample.timing, dm::GlucoseTiming::kRandom);
  EXPECT_EQ(sample.context, dm::ReadingContext::kSelfTest);
}

dm::Escalation FullEscalation() {
  dm::Escalation escalation;
  escalation.event_id = "e1";
  escalation.episode_id = "ep1";
  escalation.sequence = 3;
  escalation.worker = dm::WorkerId{"W020"};
  escalation.worker_name = "Li";
  escalation.unit_id = "U07";
  escalation.grid_id = "U07-G12";
  escalation.unit_name = "Seventh Oil Production Plant";
  escalation.grid_name = "Well team 12";
  escalation.rule = dm::Rule::kR2SustainedHypertension;
  escalation.severity = dm::Severity::kHigh;
  escalation.level = dm::EscalationLevel::kUnitSupervisor;
  escalation.state = dm::EscalationState::kEscalated;
  escalation.reason = "7-day mean 165/102 mmHg (grade 2) over 4 readings on 3 days";
  escalation.evidence = {
      dm::BpSample{.measured_at = dm::EventTime{10},
                   .systolic_mmhg = 170,
                   .diastolic_mmhg = 104,
                   .pulse_bpm = 80,
                   .category = dm::BpCategory::kGrade2,
                   .station_id = "S1",
                   .device_id = "D1",
                   .context = dm::ReadingContext::kSelfTest},
      dm::BpSample{.measured_at = dm::EventTime{20},
                   .systolic_mmhg = 181,
                   .diastolic_mmhg = 99,
                   .pulse_bpm = 0,
                   .category = dm::BpCategory::kGrade3,
                   .station_id = "S2",
                   .device_id = "D2",
                   .context = dm::ReadingContext::kClinic},
  };
  escalation.glucose_evidence = {
      dm::GlucoseSample{.measured_at = dm::EventTime{12},
                        .mmol_per_l = 7.4,
                        .timing = dm::GlucoseTiming::kFasting,
                        .station_id = "S1",
                        .device_id = "G1",
                        .context = dm::ReadingContext::kSelfTest},
      dm::GlucoseSample{.measured_at = dm::EventTime{18},
                        .mmol_per_l = 2.6,
                        .timing = dm::GlucoseTiming::kPostprandial2h,
                        .station_id = "S2",
                        .device_id = "G2",
                        .context = dm::ReadingContext::kCheckup},
  };
  escalation.window = dm::WindowStats{.start = dm::EventTime{0},
                                      .end = dm::EventTime{20},
                                      .readings = 4,
                                      .days = 3,
                                      .mean_systolic_mmhg = 165,
                                      .mean_diastolic_mmhg = 102,
                                      .mean_category = dm::BpCategory::kGrade2};
  escalation.recipients = {{.id = "W020", .name = "Li", .role = dm::RecipientRole::kWorker},
                           {.id = "HM-3", .name = "Wang", .role = dm::RecipientRole::kHealthManager},
                           {.id = "US-1", .name = "Zhang", .role = dm::RecipientRole::kUnitSupervisor},
                           {.id = "DR-9", .name = "Liu", .role = dm::RecipientRole::kExtra}};
  escalation.opened_at = dm::EventTime{10};
  escalation.trigger_at = dm::EventTime{20};
  escalation.emitted_at = dm::ProcessingTime{30};
  return escalation;
}

TEST(EscalationTest, FullRoundTrip) {
  const dm::Escalation escalation = FullEscalation();
  const pb::Escalation proto = ToProto(escalation);
  EXPECT_TRUE(proto.has_window());
  ExpectSameEscalation(FromProto(proto), escalation);
}

TEST(EscalationTest, WindowSetIffPresent) {
  dm::Escalation escalation = FullEscalation();
  escalation.window.reset();
  const pb::Escalation proto = ToProto(escalation);
  EXPECT_FALSE(proto.has_window());
  EXPECT_FALSE(FromProto(proto).window.has_value());

  // A window of all zeros is still a window.
  escalation.window = dm::WindowStats{};
  EXPECT_TRUE(ToProto(escalation).has_window());
  EXPECT_EQ(FromProto(ToProto(escalation)).window, dm::WindowStats{});
}

TEST(EscalationTest, EveryRuleSeverityLevelAndStateRoundTrips) {
  for (int rule = 1; rule <= pb::Rule_MAX; ++rule) {
    for (int severity = 1; severity <= pb::Severity_MAX; ++severity) {
      for (int level = 1; level <= pb::EscalationLevel_MAX; ++level) {
        for (int state = 1; state <= pb::EscalationState_MAX; ++state) {
          dm::Escalation escalation = FullEscalation();
          escalation.rule = static_cast<dm::Rule>(rule);
          escalation.severity = static_cast<dm::Severity>(severity);
          escalation.level = static_cast<dm::EscalationLevel>(level);
          escalation.state = static_cast<dm::EscalationState>(state);
          const dm::Escalation back = FromProto(ToProto(escalation));
          EXPECT_EQ(back.rule, escalation.rule);
          EXPECT_EQ(back.severity, escalation.severity);
          EXPECT_EQ(back.level, escalation.level);
          EXPECT_EQ(back.state, escalation.state);
        }
      }
    }
  }
}

TEST(EscalationTest, UnspecifiedEnumsGetDomainDefaults) {
  pb::Escalation proto;
  proto.add_recipients()->set_id("X");
  const dm::Escalation escalation = FromProto(proto);
  const dm::Escalation defaults;
  EXPECT_EQ(escalation.rule, defaults.rule);
  EXPECT_EQ(escalation.severity, defaults.severity);
  EXPECT_EQ(escalation.level, defaults.level);
  EXPECT_EQ(escalation.state, defaults.state);
  ASSERT_EQ(escalation.recipients.size(), 1U);
  EXPECT_EQ(escalation.recipients[0].role, dm::Recipient().role);
  EXPECT_TRUE(escalation.evidence.empty());
  EXPECT_FALSE(escalation.window.has_value());
}

TEST(EscalationTest, ProtoRoundTripIsExact) {
  const pb::Escalation proto = ToProto(FullEscalation());
  EXPECT_TRUE(MessageDifferencer::Equals(ToProto(FromProto(proto)), proto));
}

TEST(EscalationTest, GlucoseEvidenceGoesToField19) {
  const pb::Escalation proto = ToProto(FullEscalation());
  ASSERT_EQ(proto.glucose_evidence_size(), 2);
  EXPECT_EQ(proto.glucose_evidence(1).mmol_per_l(), 2.6);
  EXPECT_EQ(proto.glucose_evidence(1).timing(), pb::POSTPRANDIAL_2H);
}

// --- Referral ---------------------------------------------------------------------------------

TEST(EnumTest, ReferralUrgency) {
  CheckEnum<dm::ReferralUrgency, pb::ReferralUrgency>(
      {{dm::ReferralUrgency::kRoutine, pb::REFERRAL_ROUTINE}, {dm::ReferralUrgency::kUrgent, pb::REFERRAL_URGENT}},
      pb::ReferralUrgency_MAX);
}

dm::Referral FullReferral() {
  const dm::Escalation escalation = FullEscalation();
  dm::Referral referral;
  referral.referral_id = "r1";
  referral.episode_id = "ep1";
  referral.worker = dm::WorkerId{"W020"};
  referral.worker_name = "李明";
  referral.unit_id = "U07";
  referral.unit_name = "Seventh Oil Production Plant";
  referral.grid_id = "U07-G12";
  referral.grid_name = "Well team 12";
  referral.rule = dm::Rule::kR5Glucose;
  referral.urgency = dm::ReferralUrgency::kUrgent;
  referral.reason = "High glucose twice in 30 days";
  referral.evidence = escalation.evidence;
  referral.glucose_evidence = escalation.glucose_evidence;
  referral.window = escalation.window;
  referral.health_manager = dm::Person{.id = "HM-3", .name = "王芳"};
  referral.diagnosed_hypertension_grade = 2;
  referral.coronary_heart_disease = true;
  referral.diabetes = true;
  referral.trigger_at = dm::EventTime{20};
  referral.emitted_at = dm::ProcessingTime{30};
  return referral;
}

auto ReferralFields(const dm::Referral& r) {
  return std::tie(r.referral_id, r.episode_id, r.worker, r.worker_name, r.unit_id, r.unit_name, r.grid_id, r.grid_name,
                  r.rule, r.urgency, r.reason, r.evidence, r.glucose_evidence, r.window, r.health_manager,
                  r.diagnosed_hypertension_grade, r.coronary_heart_disease, r.diabetes, r.trigger_at, r.emitted_at);
}

TEST(ReferralTest, FullRoundTrip) {
  const dm::Referral referral = FullReferral();
  const pb::Referral proto = ToProto(referral);
  EXPECT_EQ(proto.referral_id(), "r1");
  EXPECT_EQ(proto.worker_id(), "W020");
  EXPECT_EQ(proto.rule(), pb::R5_GLUCOSE);
  EXPECT_EQ(proto.urgency(), pb::REFERRAL_URGENT);
  EXPECT_EQ(proto.evidence_size(), 2);
  EXPECT_EQ(proto.glucose_evidence_size(), 2);
  EXPECT_TRUE(proto.has_window());
  EXPECT_EQ(proto.health_manager().name(), "王芳");
  EXPECT_EQ(proto.conditions().hypertension_grade(), 2U);
  EXPECT_TRUE(proto.conditions().coronary_heart_disease());
  EXPECT_TRUE(proto.conditions().diabetes());
  EXPECT_EQ(proto.trigger_at_ms(), 20);
  EXPECT_EQ(proto.emitted_at_ms(), 30);
  EXPECT_TRUE(ReferralFields(FromProto(proto)) == ReferralFields(referral));
}

TEST(ReferralTest, WindowSetIffPresentAndUrgencyBothWays) {
  dm::Referral referral = FullReferral();
  referral.window.reset();
  referral.urgency = dm::ReferralUrgency::kRoutine;
  const pb::Referral proto = ToProto(referral);
  EXPECT_FALSE(proto.has_window());
  EXPECT_EQ(proto.urgency(), pb::REFERRAL_ROUTINE);
  EXPECT_TRUE(ReferralFields(FromProto(proto)) == ReferralFields(referral));
}

TEST(ReferralTest, UnspecifiedUrgencyIsRoutine) {
  EXPECT_EQ(FromProto(pb::Referral()).urgency, dm::ReferralUrgency::kRoutine);
}

TEST(ReferralTest, ProtoRoundTripIsExact) {
  const pb::Referral proto = ToProto(FullReferral());
  EXPECT_TRUE(MessageDifferencer::Equals(ToProto(FromProto(proto)), proto));
}

// --- UTF-8 ------------------------------------------------------------------------------------

TEST(Utf8Test, Table) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"", true},
      {"W001", true},
      {"李明", true},
      {"\xF0\x9F\x98\x80", true},      // U+1F600, four bytes
      {"\xF4\x8F\xBF\xBF", true},      // U+10FFFF, the last code point
      {"\xED\x9F\xBF", true},          // U+D7FF, just below the surrogates
      {std::string("a\0b", 3), true},  // NUL is a character
      {"\xFF", false},                 // never valid
      {"\x80", false},                 // stray continuation byte
      {"\xC0\xAF", false},             // overlong '/'
      {"\xE0\x80\xAF", false},         // overlong '/'
      {"\xED\xA0\x80", false},         // U+D800, a surrogate
      {"\xF4\x90\x80\x80", false},     // above U+10FFFF
      {"\xE6\x9D", false},             // truncated three-byte sequence
      {"ok\xE6", false},               // truncated at the end
      {"\xC3\x28", false},             // bad continuation
  };
  for (const auto& [text, valid] : cases) {
    EXPECT_EQ(IsValidUtf8(text), valid) << testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace alertd::wire
