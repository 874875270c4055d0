// Boundary tables for blood-pressure classification (China 2018) and reading plausibility checks.
#include "engine/domain/blood_pressure.h"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "domain_test_support.h"
#include "engine/domain/policy.h"
#include "engine/domain/types.h"

namespace alertd::domain {
namespace {

using test_support::kMar4UtcMs;

// ---------------------------------------------------------------------------------------------------
// ClassifyBp

struct ClassifyRow {
  const char* name;
  int systolic;
  int diastolic;
  BpCategory category;
  bool isolated_systolic;
  bool hypotension;
  friend void PrintTo(const ClassifyRow& r, std::ostream* os) { *os << r.name; }
};

class ClassifyBpTest : public ::testing::TestWithParam<ClassifyRow> {};

TEST_P(ClassifyBpTest, CategoryIsTheHigherOfSystolicAndDiastolic) {
  const ClassifyRow& row = GetParam();
  const BpClassification got = ClassifyBp(row.systolic, row.diastolic, BpThresholds{});
  EXPECT_EQ(got.category, row.category) << row.systolic << "/" << row.diastolic;
  EXPECT_EQ(got.isolated_systolic, row.isolated_systolic) << row.systolic << "/" << row.diastolic;
  EXPECT_EQ(got.hypotension, row.hypotension) << row.systolic << "/" << row.diastolic;
}

constexpr BpCategory kN = BpCategory::kNormal;
constexpr BpCategory kHN = BpCategory::kHighNormal;
constexpr BpCategory kG1 = BpCategory::kGrade1;
constexpr BpCategory kG2 = BpCategory::kGrade2;
constexpr BpCategory kG3 = BpCategory::kGrade3;

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ClassifyBpTest,
    ::testing::Values(
        // Systolic boundaries with a low diastolic.
        ClassifyRow{"sys119_normal", 119, 70, kN, false, false},
        ClassifyRow{"sys120_high_normal", 120, 70, kHN, false, false},
        ClassifyRow{"sys139_high_normal", 139, 70, kHN, false, false},
        ClassifyRow{"sys140_grade1_isolated", 140, 70, kG1, true, false},
        ClassifyRow{"sys159_grade1_isolated", 159, 70, kG1, true, false},
        ClassifyRow{"sys160_grade2_isolated", 160, 70, kG2, true, false},
        ClassifyRow{"sys179_grade2_isolated", 179, 70, kG2, true, false},
        ClassifyRow{"sys180_grade3_isolated", 180, 70, kG3, true, false},
        // Diastolic boundaries with a low systolic.
        ClassifyRow{"dia79_normal", 115, 79, kN, false, false},
        ClassifyRow{"dia80_high_normal", 115, 80, kHN, false, false},
        ClassifyRow{"dia89_high_normal", 115, 89, kHN, false, false},
        ClassifyRow{"dia90_grade1", 115, 90, kG1, false, false},
        ClassifyRow{"dia99_grade1", 115, 99, kG1, false, false},
        ClassifyRow{"dia100_grade2", 115, 100, kG2, false, false},
        ClassifyRow{"dia109_grade2", 115, 109, kG2, false, false},
        ClassifyRow{"dia110_grade3", 115, 110, kG3, false, false},
        // Mixed: the higher category wins.
        ClassifyRow{"mixed_150_105_grade2", 150, 105, kG2, false, false},
        ClassifyRow{"mixed_185_70_grade3", 185, 70, kG3, true, false},
        ClassifyRow{"mixed_125_95_grade1", 125, 95, kG1, false, false},
        ClassifyRow{"mixed_165_85_grade2_isolated", 165, 85, kG2, true, false},
        ClassifyRow{"mixed_130_112_grade3", 130, 112, kG3, false, false},
        ClassifyRow{"mixed_139_89_high_normal", 139, 89, kHN, false, false},
        // Isolated systolic: systolic >= 140 and diastolic < 90.
        ClassifyRow{"isolated_140_89", 140, 89, kG1, true, false},
        ClassifyRow{"not_isolated_140_90", 140, 90, kG1, false, false},
        ClassifyRow{"not_isolated_200_120", 200, 120, kG3, false, false},
        // Hypotension: systolic < 90 or diastolic < 60.
        ClassifyRow{"hypotension_sys89", 89, 70, kN, false, true},
        ClassifyRow{"no_hypotension_sys90", 90, 70, kN, false, false},
        ClassifyRow{"hypotension_dia59", 100, 59, kN, false, true},
        ClassifyRow{"no_hypotension_dia60", 100, 60, kN, false, false},
        ClassifyRow{"hypotension_both_85_55", 85, 55, kN, false, true},
        ClassifyRow{"hypotension_with_high_normal_125_55", 125, 55, kHN, false, true}),
    test_support::RowName());

TEST(ClassifyBpThresholdsTest, UsesTheThresholdsItIsGiven) {
  BpThresholds t;
  t.grade3_systolic = 170;
  t.hypotension_systolic = 100;
  EXPECT_EQ(ClassifyBp(170, 70, t).category, BpCategory::kGrade3);
  EXPECT_EQ(ClassifyBp(169, 70, t).category, BpCategory::kGrade2);
  EXPECT_TRUE(ClassifyBp(99, 70, t).hypotension);
  EXPECT_FALSE(ClassifyBp(100, 70, t).hypotension);
}

// ---------------------------------------------------------------------------------------------------
// ClassifyMeanBp

struct MeanRow {
  const char* name;
  double systolic;
  double diastolic;
  BpCategory category;
  friend void PrintTo(const MeanRow& r, std::ostream* os) { *os << r.name; }
};

class ClassifyMeanBpTest : public ::testing::TestWithParam<MeanRow> {};

TEST_P(ClassifyMeanBpTest, SameTableOnFractionalMeans) {
  const MeanRow& row = GetParam();
  EXPECT_EQ(ClassifyMeanBp(row.systolic, row.diastolic, BpThresholds{}), row.category)
      << row.systolic << "/" << row.diastolic;
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, ClassifyMeanBpTest,
    ::testing::Values(MeanRow{"sys119_99_normal", 119.99, 70, kN},
                      MeanRow{"sys120_high_normal", 120.0, 70, kHN},
                      MeanRow{"sys139_99_high_normal", 139.99, 70, kHN},
                      MeanRow{"sys140_grade1", 140.0, 70, kG1},
                      MeanRow{"sys159_9_grade1", 159.9, 70, kG1},
                      MeanRow{"sys160_grade2", 160.0, 70, kG2},
                      MeanRow{"sys179_99_grade2", 179.99, 70, kG2},
                      MeanRow{"sys180_grade3", 180.0, 70, kG3},
                      MeanRow{"dia79_99_normal", 115, 79.99, kN},
                      MeanRow{"dia80_high_normal", 115, 80.0, kHN},
                      MeanRow{"dia89_99_high_normal", 115, 89.99, kHN},
                      MeanRow{"dia90_grade1", 115, 90.0, kG1},
                      MeanRow{"dia99_99_grade1", 115, 99.99, kG1},
                      MeanRow{"dia100_grade2", 115, 100.0, kG2},
                      MeanRow{"dia109_99_grade2", 115, 109.99, kG2},
                      MeanRow{"dia110_grade3", 115, 110.0, kG3},
                      MeanRow{"mixed_159_6_over_99_2_grade1", 159.6, 99.2, kG1},
                      MeanRow{"mixed_150_over_100_grade2", 150.0, 100.0, kG2}),
    test_support::RowName());

// ---------------------------------------------------------------------------------------------------
// ValidateReading

constexpr ProcessingTime kValidationNow{kMar4UtcMs};

Reading ValidBp() { return test_support::BpReading(EventTime{kValidationNow.ms - kHourMs}, 128, 82, 70); }

struct ValidateRow {
  const char* name;
  std::function<void(Reading&)> mutate;  // applied to a plausible BP reading measured an hour ago
  std::optional<RejectReason> expected;
  std::vector<std::string> message_contains;  // only checked when rejected
  friend void PrintTo(const ValidateRow& r, std::ostream* os) { *os << r.name; }
};

class ValidateReadingTest : public ::testing::TestWithParam<ValidateRow> {};

TEST_P(ValidateReadingTest, AcceptsOrRejectsWithReason) {
  const ValidateRow& row = GetParam();
  Reading r = ValidBp();
  row.mutate(r);
  const std::optional<Rejection> got = ValidateReading(r, Policy{}, kValidationNow);
  if (!row.expected) {
    EXPECT_FALSE(got.has_value()) << "rejected as " << Name(got->reason) << ": " << got->message;
    return;
  }
  ASSERT_TRUE(got.has_value()) << "accepted, expected " << Name(*row.expected);
  EXPECT_EQ(got->reason, *row.expected) << got->message;
  EXPECT_FALSE(got->message.empty());
  for (const std::string& part : row.message_contains) {
    EXPECT_NE(got->message.find(part), std::string::npos) << "message \"" << got->message << "\" lacks \"" << part
                                                          << "\"";
  }
}

auto SetBp(int sys, int dia, int pulse = 70) {
  return [=](Reading& r) { r.measurement = BloodPressure{sys, dia, pulse}; };
}
auto SetGlucose(double mmol) {
  return [=](Reading& r) { r.measurement = Glucose{mmol, GlucoseTiming::kRandom}; };
}
auto SetBody(double weight, double height) {
  return [=](Reading& r) { r.measurement = BodyMeasurement{weight, height}; };
}
auto SetAt(int64_t ms) {
  return [=](Reading& r) { r.measured_at = EventTime{ms}; };
}
auto Both(std::function<void(Reading&)> a, std::function<void(Reading&)> b) {
  return [=](Reading& r) {
    a(r);
    b(r);
  };
}
void NoChange(Reading&) {}
void ClearWorker(Reading& r) { r.worker = WorkerId{""}; }
void ClearMeasurement(Reading& r) { r.measurement = std::monostate{}; }

constexpr int64_t kFutureLimit = kValidationNow.ms + 10 * kMinuteMs;
constexpr int64_t kOldLimit = kValidationNow.ms - 30 * kDayMs;
constexpr std::optional<RejectReason> kOk = std::nullopt;
constexpr RejectReason kImpossible = RejectReason::kImpossibleValue;

INSTANTIATE_TEST_SUITE_P(
    Order, ValidateReadingTest,
    ::testing::Values(
        ValidateRow{"plausible_bp_accepted", NoChange, kOk, {}},
        ValidateRow{"empty_worker", ClearWorker, RejectReason::kMissingWorkerId, {}},
        ValidateRow{"empty_worker_before_missing_timestamp",
                    Both(Both(ClearWorker, SetAt(0)), ClearMeasurement), RejectReason::kMissingWorkerId, {}},
        ValidateRow{"timestamp_zero", SetAt(0), RejectReason::kMissingTimestamp, {}},
        ValidateRow{"timestamp_negative_is_before_1970", SetAt(-1), RejectReason::kImpossibleValue, {}},
        ValidateRow{"missing_timestamp_before_no_measurement", Both(SetAt(0), ClearMeasurement),
                    RejectReason::kMissingTimestamp, {}},
        ValidateRow{"no_measurement", ClearMeasurement, RejectReason::kNoMeasurement, {}},
        ValidateRow{"no_measurement_before_future", Both(ClearMeasurement, SetAt(kFutureLimit + kHourMs)),
                    RejectReason::kNoMeasurement, {}},
        ValidateRow{"impossible_before_future", Both(SetBp(400, 80), SetAt(kFutureLimit + kHourMs)), kImpossible,
                    {"systolic", "400"}},
        ValidateRow{"impossible_before_too_old", Both(SetBp(400, 80), SetAt(kOldLimit - kDayMs)), kImpossible,
                    {"systolic", "400"}}),
    test_support::RowName());

INSTANTIATE_TEST_SUITE_P(
    BloodPressureRanges, ValidateReadingTest,
    ::testing::Values(
        ValidateRow{"systolic_400", SetBp(400, 80), kImpossible, {"systolic", "400"}},
        ValidateRow{"systolic_49", SetBp(49, 30), kImpossible, {"systolic", "49"}},
        ValidateRow{"systolic_50", SetBp(50, 30), kOk, {}},
        ValidateRow{"systolic_300", SetBp(300, 100), kOk, {}},
        ValidateRow{"systolic_301", SetBp(301, 100), kImpossible, {"systolic", "301"}},
        ValidateRow{"diastolic_19", SetBp(100, 19), kImpossible, {"diastolic", "19"}},
        ValidateRow{"diastolic_20", SetBp(100, 20), kOk, {}},
        ValidateRow{"diastolic_200", SetBp(250, 200), kOk, {}},
        ValidateRow{"diastolic_201", SetBp(250, 201), kImpossible, {"diastolic", "201"}},
        ValidateRow{"diastolic_equals_systolic", SetBp(120, 120), kImpossible, {"diastolic", "120"}},
        ValidateRow{"diastolic_above_systolic", SetBp(110, 125), kImpossible, {"diastolic", "125"}},
        ValidateRow{"diastolic_one_below_systolic", SetBp(120, 119), kOk, {}},
        ValidateRow{"pulse_0_not_measured", SetBp(128, 82, 0), kOk, {}},
        ValidateRow{"pulse_negative", SetBp(128, 82, -5), kImpossible, {"pulse", "-5"}},
        ValidateRow{"pulse_19", SetBp(128, 82, 19), kImpossible, {"pulse", "19"}},
        ValidateRow{"pulse_20", SetBp(128, 82, 20), kOk, {}},
        ValidateRow{"pulse_250", SetBp(128, 82, 250), kOk, {}},
        ValidateRow{"pulse_251", SetBp(128, 82, 251), kImpossible, {"pulse", "251"}}),
    test_support::RowName());

INSTANTIATE_TEST_SUITE_P(
    GlucoseAndBodyRanges, ValidateReadingTest,
    ::testing::Values(ValidateRow{"glucose_0_4", SetGlucose(0.4), kImpossible, {"glucose", "0.4"}},
                      ValidateRow{"glucose_0_5", SetGlucose(0.5), kOk, {}},
                      ValidateRow{"glucose_50", SetGlucose(50.0), kOk, {}},
                      ValidateRow{"glucose_50_5", SetGlucose(50.5), kImpossible, {"glucose", "50.5"}},
                      ValidateRow{"weight_19_5", SetBody(19.5, 170), kImpossible, {"weight", "19.5"}},
                      ValidateRow{"weight_20", SetBody(20.0, 170), kOk, {}},
                      ValidateRow{"weight_350", SetBody(350.0, 170), kOk, {}},
                      ValidateRow{"weight_350_5", SetBody(350.5, 170), kImpossible, {"weight", "350.5"}},
                      ValidateRow{"height_0_not_measured", SetBody(70, 0), kOk, {}},
                      ValidateRow{"height_99_5", SetBody(70, 99.5), kImpossible, {"height", "99.5"}},
                      ValidateRow{"height_100", SetBody(70, 100.0), kOk, {}},
                      ValidateRow{"height_250", SetBody(70, 250.0), kOk, {}},
                      ValidateRow{"height_250_5", SetBody(70, 250.5), kImpossible, {"height", "250.5"}}),
    test_support::RowName());

INSTANTIATE_TEST_SUITE_P(
    TimeBounds, ValidateReadingTest,
    ::testing::Values(ValidateRow{"now_accepted", SetAt(kValidationNow.ms), kOk, {}},
                      ValidateRow{"future_exactly_10_min_accepted", SetAt(kFutureLimit), kOk, {}},
                      ValidateRow{"future_10_min_plus_1ms_rejected", SetAt(kFutureLimit + 1),
                                  RejectReason::kFutureTimestamp, {}},
                      ValidateRow{"old_exactly_30_days_accepted", SetAt(kOldLimit), kOk, {}},
                      ValidateRow{"old_30_days_plus_1ms_rejected", SetAt(kOldLimit - 1), RejectReason::kTooOld, {}},
                      ValidateRow{"glucose_future_rejected", Both(SetGlucose(5.5), SetAt(kFutureLimit + 1)),
                                  RejectReason::kFutureTimestamp, {}},
                      ValidateRow{"body_too_old_rejected", Both(SetBody(70, 170), SetAt(kOldLimit - 1)),
                                  RejectReason::kTooOld, {}}),
    test_support::RowName());

TEST(ValidateReadingPolicyTest, UsesThePolicyItIsGiven) {
  Policy p;
  p.plausible.systolic_max = 250;
  p.max_future_skew_ms = kMinuteMs;
  Reading r = ValidBp();
  r.measurement = BloodPressure{260, 90, 70};
  ASSERT_TRUE(ValidateReading(r, p, kValidationNow).has_value());
  EXPECT_EQ(ValidateReading(r, p, kValidationNow)->reason, RejectReason::kImpossibleValue);
  r = ValidBp();
  r.measured_at = EventTime{kValidationNow.ms + 2 * kMinuteMs};
  ASSERT_TRUE(ValidateReading(r, p, kValidationNow).has_value());
  EXPECT_EQ(ValidateReading(r, p, kValidationNow)->reason, RejectReason::kFutureTimestamp);
}

}  // namespace
}  // namespace alertd::domain
