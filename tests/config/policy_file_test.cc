// Tests of the global policy file: each refusal names file, line and field; valid files land in the
// right Policy fields; the shipped deploy/policy.yaml is exactly the built-in defaults.
#include "engine/config/policy_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace alertd::config {
namespace {

using domain::BpCategory;
using domain::kDayMs;
using domain::kHourMs;
using domain::kMinuteMs;
using domain::kSecondMs;
using domain::Policy;
using ::testing::HasSubstr;

constexpr std::string_view kSource = "test.yaml";

struct RefusalCase {
  std::string name;
  std::string yaml;
  int line;            // 1-based line the message must point at
  std::string field;   // dotted path the message must name ("" = none: file-level problems)
  std::string reason;  // what the message must say was expected
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.name; }

class PolicyRefusalTest : public ::testing::TestWithParam<RefusalCase> {};

TEST_P(PolicyRefusalTest, NamesFileLineAndField) {
  const RefusalCase& c = GetParam();
  const absl::StatusOr<Policy> policy = ParsePolicy(c.yaml, kSource);
  ASSERT_FALSE(policy.ok()) << "accepted:\n" << c.yaml;
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(policy.status().message());
  EXPECT_THAT(message, ::testing::StartsWith(std::string(kSource) + ":" + std::to_string(c.line) + ":"));
  if (!c.field.empty()) {
    EXPECT_THAT(message, HasSubstr(": " + c.field + ": "));
  }
  EXPECT_THAT(message, HasSubstr(c.reason));
}

const RefusalCase kRefusals[] = {
    // Unknown keys, at every depth, list what is allowed there.
    {"UnknownSection", "blood_pressure: {}\nblod_pressure:\n  grade_1: {systolic: 140}\n", 2, "blod_pressure",
     "unknown field; allowed here: blood_pressure, plausible, time, rules, limits"},
    {"UnknownCategory", "blood_pressure:\n  grade_4: {systolic: 200}\n", 2, "blood_pressure.grade_4",
     "allowed here: high_normal, grade_1, grade_2, grade_3, hypotension_below"},
    {"UnknownLeaf", "plausible:\n  pulse_bpm: {min: 20, maximum: 250}\n", 2, "plausible.pulse_bpm.maximum",
     "allowed here: min, max"},
    {"UnknownRule", "rules:\n  r9_something: {}\n", 2, "rules.r9_something", "allowed here: r2_sustained_hypertension"},
    {"KeySetTwice", "limits:\n  max_evidence: 5\n  max_evidence: 6\n", 3, "limits.max_evidence",
     "set twice (first on line 2)"},
    {"SectionSetTwice", "limits: {}\ntime: {}\nlimits: {}\n", 3, "limits", "set twice (first on line 1)"},
    {"KeyNotAName", "? [a, b]\n: 1\n", 1, "", "expected a field name, got a list"},

    // Wrong types.
    {"WordForNumber", "rules:\n  r2_sustained_hypertension:\n    min_days: two\n", 3,
     "rules.r2_sustained_hypertension.min_days", "expected a whole number of days between 1 and 7, got \"two\""},
    {"QuotedNumber", "blood_pressure:\n  grade_1: {systolic: \"140\", diastolic: 90}\n", 2,
     "blood_pressure.grade_1.systolic", "got the quoted string \"140\""},
    {"FractionForWholeNumber", "limits:\n  max_evidence: 2.5\n", 2, "limits.max_evidence",
     "expected a whole number of readings between 1 and 100, got \"2.5\""},
    {"ListForNumber", "limits:\n  max_evidence: [5]\n", 2, "limits.max_evidence", "got a list"},
    {"NothingForNumber", "limits:\n  max_evidence:\n  max_window_samples: 10\n", 2, "limits.max_evidence",
     "got nothing"},
    {"NumberTooBigForAnyType", "limits:\n  max_window_samples: 99999999999999999999\n", 2, "limits.max_window_samples",
     "expected a whole number of readings between 1 and 10000"},
    {"WordForDecimal", "plausible:\n  weight_kg: {min: light, max: 350}\n", 2, "plausible.weight_kg.min",
     "expected a number of kg above 0 and at most 1000, got \"light\""},
    {"NotANumberForDecimal", "plausible:\n  weight_kg: {min: .nan, max: 350}\n", 2, "plausible.weight_kg.min",
     "got \".nan\""},
    {"ScalarForSection", "time: 5\n", 1, "time",
     "expected a mapping with keys max_future_skew, retention_horizon, day_offset, got \"5\""},
    {"ScalarForPair", "blood_pressure:\n  grade_2: 160/100\n", 2, "blood_pressure.grade_2",
     "expected a mapping with keys systolic, diastolic, got \"160/100\""},
    {"MappingForCategory", "rules:\n  r2_sustained_hypertension:\n    min_category: {grade: 2}\n", 3,
     "rules.r2_sustained_hypertension.min_category", "got a mapping"},
    {"UnknownCategoryName", "rules:\n  r2_sustained_hypertension:\n    min_category: grade_4\n", 3,
     "rules.r2_sustained_hypertension.min_category",
     "one of normal, high_normal, grade_1, grade_2, grade_3, got \"grade_4\""},

    // Zero or negative where impossible.
    {"ZeroWindowSamples", "limits:\n  max_window_samples: 0\n", 2, "limits.max_window_samples",
     "between 1 and 10000, got 0"},
    {"NegativeThreshold", "blood_pressure:\n  hypotension_below: {systolic: -90}\n", 2,
     "blood_pressure.hypotension_below.systolic", "between 1 and 400, got -90"},
    {"NegativeGlucose", "plausible:\n  glucose_mmol_per_l: {min: -1, max: 50}\n", 2, "plausible.glucose_mmol_per_l.min",
     "above 0 and at most 200, got -1"},
    {"ZeroMinReadings", "rules:\n  r2_sustained_hypertension:\n    min_readings: 0\n", 3,
     "rules.r2_sustained_hypertension.min_readings", "between 1 and 256, got 0"},
    {"ZeroWindow", "rules:\n  r2_sustained_hypertension:\n    window: 0d\n", 3,
     "rules.r2_sustained_hypertension.window", "expected a duration between 1m and 3650d"},

    // Categories out of order; the error names a field the file sets, with the default it clashes with.
    {"GradeAboveNextDefault", "blood_pressure:\n  grade_1: {systolic: 170, diastolic: 90}\n", 2,
     "blood_pressure.grade_1.systolic", "expected below blood_pressure.grade_2.systolic (160, the default), got 170"},
    {"GradeEqualToPrevious", "blood_pressure:\n  grade_1: {systolic: 150}\n  grade_2: {systolic: 150}\n", 3,
     "blood_pressure.grade_2.systolic", "expected above blood_pressure.grade_1.systolic (150), got 150"},
    {"DiastolicOutOfOrder", "blood_pressure:\n  high_normal: {diastolic: 95}\n", 2,
     "blood_pressure.high_normal.diastolic", "expected below blood_pressure.grade_1.diastolic (90, the default)"},
    {"HypotensionAboveHighNormal", "blood_pressure:\n  hypotension_below: {systolic: 125}\n", 2,
     "blood_pressure.hypotension_below.systolic", "expected below blood_pressure.high_normal.systolic (120"},
    {"Grade3AbovePlausibleMax", "blood_pressure:\n  grade_3: {systolic: 320}\n", 2, "blood_pressure.grade_3.systolic",
     "expected at most plausible.systolic_mmhg.max (300, the default), got 320"},
    {"PlausibleMinAboveHypotension", "plausible:\n  diastolic_mmhg: {min: 70}\n", 2, "plausible.diastolic_mmhg.min",
     "expected below blood_pressure.hypotension_below.diastolic (60, the default), got 70"},

    // min > max.
    {"MinAboveMax", "plausible:\n  systolic_mmhg: {min: 200, max: 100}\n", 2, "plausible.systolic_mmhg.max",
     "expected above plausible.systolic_mmhg.min (200), got 100"},
    {"MinAboveDefaultMax", "plausible:\n  pulse_bpm: {min: 260}\n", 2, "plausible.pulse_bpm.min",
     "expected below plausible.pulse_bpm.max (250, the default), got 260"},
    {"DecimalMinEqualsMax", "plausible:\n  height_cm: {min: 150.5, max: 150.5}\n", 2, "plausible.height_cm.max",
     "expected above plausible.height_cm.min (150.5), got 150.5"},

    // Counts a window cannot hold.
    {"MinDaysAboveWindowDays", "rules:\n  r2_sustained_hypertension:\n    window: 3d\n    min_days: 5\n", 4,
     "rules.r2_sustained_hypertension.min_days", "between 1 and 3, got 5"},
    {"WindowShorterThanDefaultMinDays", "rules:\n  r2_sustained_hypertension:\n    window: 1d\n", 3,
     "rules.r2_sustained_hypertension.window",
     "expected at least rules.r2_sustained_hypertension.min_days (2, the default), got 1d"},
    {"MinReadingsAboveSamples",
     "limits:\n  max_window_samples: 10\nrules:\n  r2_sustained_hypertension:\n"
     "    min_readings: 11\n",
     5, "rules.r2_sustained_hypertension.min_readings", "between 1 and 10, got 11"},
    {"SamplesBelowDefaultMinReadings", "limits:\n  max_window_samples: 2\n", 2, "limits.max_window_samples",
     "expected at least rules.r2_sustained_hypertension.min_readings (3, the default), got 2"},
    {"RetentionShorterThanWindow", "time:\n  retention_horizon: 3d\n", 2, "time.retention_horizon",
     "expected at least rules.r2_sustained_hypertension.window (7d, the default), got 3d"},

    // Malformed durations and offsets.
    {"DurationWithoutUnit", "time:\n  max_future_skew: 600\n", 2, "time.max_future_skew",
     "written <whole number><unit>, unit one of ms s m h d (e.g. 10m, 7d), got \"600\""},
    {"DurationFraction", "time:\n  max_future_skew: 1.5h\n", 2, "time.max_future_skew", "got \"1.5h\""},
    {"DurationNegative", "time:\n  max_future_skew: -5m\n", 2, "time.max_future_skew", "got \"-5m\""},
    {"DurationUnknownUnit", "time:\n  retention_horizon: 1y\n", 2, "time.retention_horizon", "got \"1y\""},
    {"DurationInWords", "time:\n  retention_horizon: 30 days\n", 2, "time.retention_horizon", "got \"30 days\""},
    {"DurationOverflow", "time:\n  retention_horizon: 99999999999999999d\n", 2, "time.retention_horizon",
     "got \"99999999999999999d\""},
    {"DurationTooLong", "time:\n  retention_horizon: 3651d\n", 2, "time.retention_horizon", "got \"3651d\""},
    {"DayOffsetWithoutSign", "time:\n  day_offset: \"08:00\"\n", 2, "time.day_offset",
     "expected a UTC offset written +HH:MM or -HH:MM between -12:00 and +14:00, got \"08:00\""},
    {"DayOffsetOutOfRange", "time:\n  day_offset: +15:00\n", 2, "time.day_offset", "got \"+15:00\""},
    {"DayOffsetBadMinutes", "time:\n  day_offset: +08:75\n", 2, "time.day_offset", "got \"+08:75\""},

    // Not a policy at all.
    {"YamlSyntaxError", "limits:\n  max_evidence: [5\n  max_window_samples: 10\n", 3, "", "invalid YAML: "},
    {"YamlBadIndentation", "limits:\n  max_evidence: 5\n    max_window_samples: 10\n", 3, "", "invalid YAML: "},
    {"SecondDocument", "limits: {}\n---\nlimits: {}\n", 3, "", "expected one YAML document"},
    {"TopLevelList", "- blood_pressure\n", 1, "",
     "expected a mapping with sections blood_pressure, plausible, time, rules, limits, got a list"},
    {"TopLevelScalar", "hello\n", 1, "", "got \"hello\""},
};

INSTANTIATE_TEST_SUITE_P(EveryErrorClass, PolicyRefusalTest, ::testing::ValuesIn(kRefusals),
                         [](const ::testing::TestParamInfo<RefusalCase>& row) { return row.param.name; });

TEST(PolicyFileTest, MessageIsFileLineColumnFieldExpectation) {
  const absl::StatusOr<Policy> policy =
      ParsePolicy("rules:\n  r2_sustained_hypertension:\n    min_days: two\n", "deploy/policy.yaml");
  ASSERT_FALSE(policy.ok());
  // Line and column are 1-based and point at the value, as editors and compilers count.
  EXPECT_EQ(policy.status().message(),
            "deploy/policy.yaml:3:15: rules.r2_sustained_hypertension.min_days: expected a whole number of days "
            "between 1 and 7, got \"two\"");
}

TEST(PolicyFileTest, EmptyFileIsRefusedAndSaysSo) {
  for (const char* text : {"", "\n\n", "# every line commented out\n# blood_pressure:\n", "---\n", "~\n"}) {
    const absl::StatusOr<Policy> policy = ParsePolicy(text, kSource);
    ASSERT_FALSE(policy.ok()) << "accepted: " << text;
    EXPECT_THAT(policy.status().message(), HasSubstr("test.yaml: the policy file is empty")) << text;
  }
}

TEST(PolicyFileTest, MissingFileIsRefusedWithItsPath) {
  const absl::StatusOr<Policy> policy = LoadPolicyFile("/nonexistent/alertd/policy.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(policy.status().message(), HasSubstr("/nonexistent/alertd/policy.yaml: cannot open the policy file"));
}

TEST(PolicyFileTest, AbsentKeysAndEmptySectionsKeepTheDefaults) {
  const absl::StatusOr<Policy> policy = ParsePolicy(
      "blood_pressure:\n  # grade_1: {systolic: 140}\ntime:\nrules: {}\nlimits:\n  max_evidence: 6\n", kSource);
  ASSERT_TRUE(policy.ok()) << policy.status();
  Policy expected;
  expected.max_evidence = 6;
  EXPECT_EQ(*policy, expected);
}

struct DurationCase {
  std::string text;
  int64_t ms;
};

TEST(PolicyFileTest, DurationUnits) {
  for (const DurationCase& c :
       {DurationCase{"0s", 0}, DurationCase{"1500ms", 1500}, DurationCase{"90s", 90 * kSecondMs},
        DurationCase{"10m", 10 * kMinuteMs}, DurationCase{"2h", 2 * kHourMs}, DurationCase{"1d", kDayMs},
        DurationCase{"\"15m\"", 15 * kMinuteMs}}) {
    const absl::StatusOr<Policy> policy = ParsePolicy("time:\n  max_future_skew: " + c.text + "\n", kSource);
    ASSERT_TRUE(policy.ok()) << c.text << ": " << policy.status();
    EXPECT_EQ(policy->max_future_skew_ms, c.ms) << c.text;
  }
}

TEST(PolicyFileTest, DayOffsets) {
  for (const auto& [text, minutes] : {std::pair<std::string, int>{"+08:00", 480},
                                      {"-05:30", -330},
                                      {"+00:00", 0},
                                      {"+14:00", 840},
                                      {"-12:00", -720},
                                      {"\"+05:45\"", 345}}) {
    const absl::StatusOr<Policy> policy = ParsePolicy("time:\n  day_offset: " + text + "\n", kSource);
    ASSERT_TRUE(policy.ok()) << text << ": " << policy.status();
    EXPECT_EQ(policy->day_offset_minutes, minutes) << text;
  }
}

// Every field differs from its default, so a value landing in the wrong field cannot go unnoticed.
constexpr std::string_view kEveryFieldChanged = R"(blood_pressure:
  high_normal: {systolic: 125, diastolic: 82}
  grade_1: {systolic: 145, diastolic: 92}
  grade_2: {systolic: 165, diastolic: 102}
  grade_3: {systolic: 185, diastolic: 112}
  hypotension_below: {systolic: 95, diastolic: 65}
plausible:
  systolic_mmhg: {min: 60, max: 290}
  diastolic_mmhg: {min: 30, max: 190}
  pulse_bpm: {min: 25, max: 240}
  glucose_mmol_per_l: {min: 0.6, max: 45.5}
  weight_kg: {min: 15.5, max: 400}
  height_cm: {min: 50, max: 260}
time:
  max_future_skew: 90s
  retention_horizon: 45d
  day_offset: -05:30
rules:
  r2_sustained_hypertension:
    window: 36h
    min_readings: 4
    min_days: 2
    min_category: grade_1
limits:
  max_window_samples: 512
  max_evidence: 7
)";

Policy EveryFieldChanged() {
  Policy p;
  p.bp = {.high_normal_systolic = 125,
          .high_normal_diastolic = 82,
          .grade1_systolic = 145,
          .grade1_diastolic = 92,
          .grade2_systolic = 165,
          .grade2_diastolic = 102,
          .grade3_systolic = 185,
          .grade3_diastolic = 112,
          .hypotension_systolic = 95,
          .hypotension_diastolic = 65};
  p.plausible = {.systolic_min = 60,
                 .systolic_max = 290,
                 .diastolic_min = 30,
                 .diastolic_max = 190,
                 .pulse_min = 25,
                 .pulse_max = 240,
                 .glucose_min = 0.6,
                 .glucose_max = 45.5,
                 .weight_min = 15.5,
                 .weight_max = 400,
                 .height_min = 50,
                 .height_max = 260};
  p.max_future_skew_ms = 90 * kSecondMs;
  p.retention_horizon_ms = 45 * kDayMs;
  p.day_offset_minutes = -(5 * 60 + 30);
  p.r2_window_ms = 36 * kHourMs;
  p.r2_min_readings = 4;
  p.r2_min_days = 2;
  p.r2_min_category = BpCategory::kGrade1;
  p.max_window_samples = 512;
  p.max_evidence = 7;
  return p;
}

TEST(PolicyFileTest, EveryFieldLandsInItsPolicyField) {
  const absl::StatusOr<Policy> parsed = ParsePolicy(kEveryFieldChanged, kSource);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const Policy& p = *parsed;
  const Policy want = EveryFieldChanged();
  const Policy defaults;
  EXPECT_EQ(p.bp.high_normal_systolic, want.bp.high_normal_systolic);
  EXPECT_EQ(p.bp.high_normal_diastolic, want.bp.high_normal_diastolic);
  EXPECT_EQ(p.bp.grade1_systolic, want.bp.grade1_systolic);
  EXPECT_EQ(p.bp.grade1_diastolic, want.bp.grade1_diastolic);
  EXPECT_EQ(p.bp.grade2_systolic, want.bp.grade2_systolic);
  EXPECT_EQ(p.bp.grade2_diastolic, want.bp.grade2_diastolic);
  EXPECT_EQ(p.bp.grade3_systolic, want.bp.grade3_systolic);
  EXPECT_EQ(p.bp.grade3_diastolic, want.bp.grade3_diastolic);
  EXPECT_EQ(p.bp.hypotension_systolic, want.bp.hypotension_systolic);
  EXPECT_EQ(p.bp.hypotension_diastolic, want.bp.hypotension_diastolic);
  EXPECT_EQ(p.plausible.systolic_min, want.plausible.systolic_min);
  EXPECT_EQ(p.plausible.systolic_max, want.plausible.systolic_max);
  EXPECT_EQ(p.plausible.diastolic_min, want.plausible.diastolic_min);
  EXPECT_EQ(p.plausible.diastolic_max, want.plausible.diastolic_max);
  EXPECT_EQ(p.plausible.pulse_min, want.plausible.pulse_min);
  EXPECT_EQ(p.plausible.pulse_max, want.plausible.pulse_max);
  EXPECT_EQ(p.plausible.glucose_min, want.plausible.glucose_min);
  EXPECT_EQ(p.plausible.glucose_max, want.plausible.glucose_max);
  EXPECT_EQ(p.plausible.weight_min, want.plausible.weight_min);
  EXPECT_EQ(p.plausible.weight_max, want.plausible.weight_max);
  EXPECT_EQ(p.plausible.height_min, want.plausible.height_min);
  EXPECT_EQ(p.plausible.height_max, want.plausible.height_max);
  EXPECT_EQ(p.max_future_skew_ms, want.max_future_skew_ms);
  EXPECT_EQ(p.retention_horizon_ms, want.retention_horizon_ms);
  EXPECT_EQ(p.day_offset_minutes, want.day_offset_minutes);
  EXPECT_EQ(p.r2_window_ms, want.r2_window_ms);
  EXPECT_EQ(p.r2_min_readings, want.r2_min_readings);
  EXPECT_EQ(p.r2_min_days, want.r2_min_days);
  EXPECT_EQ(p.r2_min_category, want.r2_min_category);
  EXPECT_EQ(p.max_window_samples, want.max_window_samples);
  EXPECT_EQ(p.max_evidence, want.max_evidence);
  EXPECT_TRUE(p == want) << "a field is compared by Policy's operator== but not above";
  // Guards the fixture itself: a field left at its default would prove nothing.
  EXPECT_NE(want.bp, defaults.bp);
  EXPECT_NE(want.plausible, defaults.plausible);
}

TEST(PolicyFileTest, PrintedDefaultsParseBackToDefaults) {
  const absl::StatusOr<Policy> parsed = ParsePolicy(FormatPolicy(Policy{}), "print-policy");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << FormatPolicy(Policy{});
  EXPECT_TRUE(*parsed == Policy{});
}

TEST(PolicyFileTest, PrintedPolicyParsesBackToItself) {
  const Policy changed = EveryFieldChanged();
  const absl::StatusOr<Policy> parsed = ParsePolicy(FormatPolicy(changed), "print-policy");
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << FormatPolicy(changed);
  EXPECT_TRUE(*parsed == changed) << FormatPolicy(*parsed);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PolicyFileTest, ShippedFileIsTheBuiltInDefaults) {
  const absl::StatusOr<Policy> shipped = LoadPolicyFile(ALERTD_DEPLOY_POLICY_FILE);
  ASSERT_TRUE(shipped.ok()) << shipped.status();
  EXPECT_TRUE(*shipped == Policy{}) << "deploy/policy.yaml differs from engine/domain/policy.h:\n"
                                    << FormatPolicy(*shipped);
}

// The shipped file is print-policy's output, so its comments and the schema cannot drift apart.
TEST(PolicyFileTest, ShippedFileIsWhatPrintPolicyPrints) {
  EXPECT_EQ(ReadFile(ALERTD_DEPLOY_POLICY_FILE), FormatPolicy(Policy{}))
      << "regenerate it: alertd print-policy > deploy/policy.yaml";
}

}  // namespace
}  // namespace alertd::config
