// Tests of the global policy file: each refusal names file, line and field; valid files land in the
// right Policy fields; the shipped deploy/policy.yaml is exactly the built-in defaults.
#include "engine/config/policy_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

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
     "unknown field; allowed here: blood_pressure, glucose, plausible, time, rules, escalation, referrals, limits"},
    {"UnknownCategory", "blood_pressure:\n  grade_4: {systolic: 200}\n", 2, "blood_pressure.grade_4",
     "allowed here: high_normal, grade_1, grade_2, grade_3, hypotension_below"},
    {"UnknownLeaf", "plausible:\n  pulse_bpm: {min: 20, maximum: 250}\n", 2, "plausible.pulse_bpm.maximum",
     "allowed here: min, max"},
    {"UnknownRule", "rules:\n  r9_something: {}\n", 2, "rules.r9_something",
     "allowed here: r1_critical_bp, r2_sustained_hypertension, r3_self_test_missed, r4_pre_shift_fitness, r5_glucose, "
     "r6_focus_tracking"},
    {"UnknownRuleField", "rules:\n  r3_self_test_missed:\n    level_4_after: 96h\n", 3,
     "rules.r3_self_test_missed.level_4_after",
     "allowed here: min_diagnosed_grade, interval, level_2_after, level_3_after"},
    {"UnknownGlucoseField", "glucose:\n  fasting: 7.0\n", 2, "glucose.fasting",
     "allowed here: severe_hypo_below, hypo_below, fasting_high, random_high"},
    {"UnknownEscalationField", "escalation:\n  renotify: 1d\n", 2, "escalation.renotify",
     "allowed here: renotify_interval"},
    {"UnknownLimit", "limits:\n  max_glucose: 5\n", 2, "limits.max_glucose",
     "allowed here: max_window_samples, max_evidence, max_glucose_samples, max_history"},
    {"RuleFieldAtWrongRule", "rules:\n  r1_critical_bp:\n    window: 7d\n", 3, "rules.r1_critical_bp.window",
     "allowed here: at_or_above, ack_timeout"},
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
    {"ResolveMarginNegative", "rules:\n  r2_sustained_hypertension:\n    resolve_margin: -1\n", 3,
     "rules.r2_sustained_hypertension.resolve_margin", "a whole number of mmHg between 0 and 20"},
    {"ResolveMarginTooWide", "rules:\n  r2_sustained_hypertension:\n    resolve_margin: 21\n", 3,
     "rules.r2_sustained_hypertension.resolve_margin", "a whole number of mmHg between 0 and 20"},
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

    // The rulebook's fields (R1, R3-R6, the lifecycle, glucose): wrong types.
    {"WordForGlucose", "glucose:\n  hypo_below: low\n", 2, "glucose.hypo_below",
     "expected a number of mmol/L above 0 and at most 200, got \"low\""},
    {"QuotedGlucose", "glucose:\n  fasting_high: \"7.0\"\n", 2, "glucose.fasting_high", "got the quoted string \"7.0\""},
    {"ZeroGlucose", "glucose:\n  severe_hypo_below: 0\n", 2, "glucose.severe_hypo_below",
     "expected a number of mmol/L above 0 and at most 200, got 0"},
    {"AckTimeoutWithoutUnit", "rules:\n  r1_critical_bp:\n    ack_timeout: 30\n", 3, "rules.r1_critical_bp.ack_timeout",
     "expected a duration between 1m and 3650d written <whole number><unit>"},
    {"CriticalAsText", "rules:\n  r1_critical_bp:\n    at_or_above: 180/110\n", 3, "rules.r1_critical_bp.at_or_above",
     "expected a mapping with keys systolic, diastolic, got \"180/110\""},
    {"CriticalFraction", "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 180.5}\n", 3,
     "rules.r1_critical_bp.at_or_above.systolic", "expected a whole number of mmHg between 1 and 400, got \"180.5\""},
    {"GradeAsWord", "rules:\n  r3_self_test_missed:\n    min_diagnosed_grade: two\n", 3,
     "rules.r3_self_test_missed.min_diagnosed_grade", "expected a whole number of grades between 1 and 3, got \"two\""},
    {"GradeZero", "rules:\n  r3_self_test_missed:\n    min_diagnosed_grade: 0\n", 3,
     "rules.r3_self_test_missed.min_diagnosed_grade", "between 1 and 3, got 0"},
    {"GradeFour", "rules:\n  r3_self_test_missed:\n    min_diagnosed_grade: 4\n", 3,
     "rules.r3_self_test_missed.min_diagnosed_grade", "between 1 and 3, got 4"},
    {"BooleanAsYes", "rules:\n  r4_pre_shift_fitness:\n    hypotension_unfit: yes\n", 3,
     "rules.r4_pre_shift_fitness.hypotension_unfit", "expected true or false (unquoted), got \"yes\""},
    {"BooleanQuoted", "rules:\n  r4_pre_shift_fitness:\n    hypotension_unfit: \"true\"\n", 3,
     "rules.r4_pre_shift_fitness.hypotension_unfit", "expected true or false (unquoted), got \"true\""},
    {"BooleanAsList", "rules:\n  r4_pre_shift_fitness:\n    hypotension_unfit: [true]\n", 3,
     "rules.r4_pre_shift_fitness.hypotension_unfit", "expected true or false, got a list"},
    {"CategoryUnfitNormal", "rules:\n  r4_pre_shift_fitness:\n    unfit_min_category: normal\n", 3,
     "rules.r4_pre_shift_fitness.unfit_min_category",
     "one of high_normal, grade_1, grade_2, grade_3, got \"normal\""},
    {"CategoryUnfitAsNumber", "rules:\n  r4_pre_shift_fitness:\n    unfit_min_category: 2\n", 3,
     "rules.r4_pre_shift_fitness.unfit_min_category", "got \"2\""},
    {"AdviceEmpty", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: \"\"\n", 3,
     "rules.r4_pre_shift_fitness.retest_advice",
     "expected one line of text of 1 to 200 characters, without control characters, got \"\""},
    {"AdviceBlank", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: \"   \"\n", 3,
     "rules.r4_pre_shift_fitness.retest_advice", "expected one line of text"},
    {"AdviceTwoLines", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: \"rest\\nretest\"\n", 3,
     "rules.r4_pre_shift_fitness.retest_advice", "got \"rest\\nretest\""},
    {"AdviceTooLong", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: " + std::string(201, 'x') + "\n", 3,
     "rules.r4_pre_shift_fitness.retest_advice", "expected one line of text of 1 to 200 characters"},
    {"AdviceMapping", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: {en: rest}\n", 3,
     "rules.r4_pre_shift_fitness.retest_advice", "got a mapping"},
    {"HighMinReadingsWord", "rules:\n  r5_glucose:\n    high_min_readings: twice\n", 3,
     "rules.r5_glucose.high_min_readings", "expected a whole number of readings between 1 and 64, got \"twice\""},
    {"RenotifyAsNumber", "escalation:\n  renotify_interval: 24\n", 2, "escalation.renotify_interval",
     "got \"24\""},
    {"GlucoseSamplesZero", "limits:\n  max_glucose_samples: 0\n", 2, "limits.max_glucose_samples",
     "between 1 and 10000, got 0"},
    {"CooldownAsNumber", "referrals:\n  cooldown: 7\n", 2, "referrals.cooldown", "got \"7\""},
    {"CooldownNegative", "referrals:\n  cooldown: -1d\n", 2, "referrals.cooldown", "between 0s and 3650d"},

    // Durations that must be positive (and an interval of at least an hour).
    {"ZeroR1AckTimeout", "rules:\n  r1_critical_bp:\n    ack_timeout: 0m\n", 3, "rules.r1_critical_bp.ack_timeout",
     "expected a duration between 1m and 3650d"},
    {"ZeroR2AckTimeout", "rules:\n  r2_sustained_hypertension:\n    ack_timeout: 0s\n", 3,
     "rules.r2_sustained_hypertension.ack_timeout", "between 1m and 3650d"},
    {"ShortR4AckTimeout", "rules:\n  r4_pre_shift_fitness:\n    ack_timeout: 30s\n", 3,
     "rules.r4_pre_shift_fitness.ack_timeout", "between 1m and 3650d written <whole number><unit>, unit one of ms s m h d (e.g. 10m, 7d), got \"30s\""},
    {"ZeroR5HypoAckTimeout", "rules:\n  r5_glucose:\n    severe_hypo_ack_timeout: 0m\n", 3,
     "rules.r5_glucose.severe_hypo_ack_timeout", "between 1m and 3650d"},
    {"ZeroR5HighAckTimeout", "rules:\n  r5_glucose:\n    high_ack_timeout: 0h\n", 3,
     "rules.r5_glucose.high_ack_timeout", "between 1m and 3650d"},
    {"ZeroR6AckTimeout", "rules:\n  r6_focus_tracking:\n    ack_timeout: 0m\n", 3, "rules.r6_focus_tracking.ack_timeout",
     "between 1m and 3650d"},
    {"ZeroRenotify", "escalation:\n  renotify_interval: 0s\n", 2, "escalation.renotify_interval",
     "between 1m and 3650d"},
    {"SelfTestIntervalUnderAnHour", "rules:\n  r3_self_test_missed:\n    interval: 30m\n", 3,
     "rules.r3_self_test_missed.interval", "expected a duration between 1h and 3650d"},
    {"ZeroLevel2Delay", "rules:\n  r3_self_test_missed:\n    level_2_after: 0h\n", 3,
     "rules.r3_self_test_missed.level_2_after", "between 1m and 3650d"},
    {"ZeroPreShiftWindow", "rules:\n  r4_pre_shift_fitness:\n    check_within: 0m\n", 3,
     "rules.r4_pre_shift_fitness.check_within", "between 1m and 3650d"},
    {"ZeroHighWindow", "rules:\n  r5_glucose:\n    high_window: 0d\n", 3, "rules.r5_glucose.high_window",
     "between 1m and 3650d"},

    // The R3 ladder climbs.
    {"Level2AtDefaultLevel3", "rules:\n  r3_self_test_missed:\n    level_2_after: 72h\n", 3,
     "rules.r3_self_test_missed.level_2_after",
     "expected below rules.r3_self_test_missed.level_3_after (3d, the default), got 3d"},
    {"Level3BelowLevel2", "rules:\n  r3_self_test_missed:\n    level_2_after: 2d\n    level_3_after: 36h\n", 4,
     "rules.r3_self_test_missed.level_3_after", "expected above rules.r3_self_test_missed.level_2_after (2d), got 36h"},
    {"Level3BelowDefaultLevel2", "rules:\n  r3_self_test_missed:\n    level_3_after: 12h\n", 3,
     "rules.r3_self_test_missed.level_3_after",
     "expected above rules.r3_self_test_missed.level_2_after (1d, the default), got 12h"},

    // Glucose classes in order, inside the plausible range.
    {"SevereHypoAtHypo", "glucose:\n  severe_hypo_below: 3.9\n", 2, "glucose.severe_hypo_below",
     "expected below glucose.hypo_below (3.9, the default), got 3.9"},
    {"HypoAboveFastingHigh", "glucose:\n  hypo_below: 7.5\n", 2, "glucose.hypo_below",
     "expected below glucose.fasting_high (7, the default), got 7.5"},
    {"FastingHighAtHypo", "glucose:\n  hypo_below: 4\n  fasting_high: 4\n", 3, "glucose.fasting_high",
     "expected above glucose.hypo_below (4), got 4"},
    {"RandomBelowFasting", "glucose:\n  random_high: 6.5\n", 2, "glucose.random_high",
     "expected at least glucose.fasting_high (7, the default), got 6.5"},
    {"SevereHypoBelowPlausibleMin", "glucose:\n  severe_hypo_below: 0.4\n", 2, "glucose.severe_hypo_below",
     "expected above plausible.glucose_mmol_per_l.min (0.5, the default), got 0.4"},
    {"RandomHighAbovePlausibleMax", "glucose:\n  random_high: 60\n", 2, "glucose.random_high",
     "expected at most plausible.glucose_mmol_per_l.max (50, the default), got 60"},
    {"PlausibleMaxBelowRandomHigh", "plausible:\n  glucose_mmol_per_l: {max: 10}\n", 2,
     "plausible.glucose_mmol_per_l.max", "expected at least glucose.random_high (11.1, the default), got 10"},

    // R6 abnormal < R1 critical <= plausible maximum; abnormal above hypotension.
    {"CriticalAtAbnormal", "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 140}\n", 3,
     "rules.r1_critical_bp.at_or_above.systolic",
     "expected above rules.r6_focus_tracking.abnormal_at_or_above.systolic (140, the default), got 140"},
    {"AbnormalAtCritical", "rules:\n  r6_focus_tracking:\n    abnormal_at_or_above: {diastolic: 110}\n", 3,
     "rules.r6_focus_tracking.abnormal_at_or_above.diastolic",
     "expected below rules.r1_critical_bp.at_or_above.diastolic (110, the default), got 110"},
    {"CriticalAbovePlausibleMax", "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 310}\n", 3,
     "rules.r1_critical_bp.at_or_above.systolic",
     "expected at most plausible.systolic_mmhg.max (300, the default), got 310"},
    {"CriticalDiastolicZero", "rules:\n  r1_critical_bp:\n    at_or_above: {diastolic: 0}\n", 3,
     "rules.r1_critical_bp.at_or_above.diastolic", "between 1 and 400, got 0"},
    {"AbnormalBelowHypotension", "rules:\n  r6_focus_tracking:\n    abnormal_at_or_above: {systolic: 85}\n", 3,
     "rules.r6_focus_tracking.abnormal_at_or_above.systolic",
     "expected above blood_pressure.hypotension_below.systolic (90, the default), got 85"},
    {"PlausibleMaxBelowCritical",
     "blood_pressure:\n  grade_3: {diastolic: 104}\nplausible:\n  diastolic_mmhg: {max: 105}\n", 4,
     "plausible.diastolic_mmhg.max",
     "expected at least rules.r1_critical_bp.at_or_above.diastolic (110, the default), got 105"},

    // R5 counts what its window and the glucose history can hold.
    {"HighWindowBeyondRetention", "rules:\n  r5_glucose:\n    high_window: 31d\n", 3, "rules.r5_glucose.high_window",
     "expected at most time.retention_horizon (30d, the default), got 31d"},
    {"RetentionShorterThanHighWindow", "time:\n  retention_horizon: 20d\n", 2, "time.retention_horizon",
     "expected at least rules.r5_glucose.high_window (30d, the default), got 20d"},
    {"HighMinReadingsAboveSamples",
     "limits:\n  max_glucose_samples: 5\nrules:\n  r5_glucose:\n    high_min_readings: 6\n", 5,
     "rules.r5_glucose.high_min_readings", "between 1 and 5, got 6"},
    {"GlucoseSamplesBelowDefaultMinReadings", "limits:\n  max_glucose_samples: 1\n", 2, "limits.max_glucose_samples",
     "expected at least rules.r5_glucose.high_min_readings (2, the default), got 1"},

    // Not a policy at all.
    {"YamlSyntaxError", "limits:\n  max_evidence: [5\n  max_window_samples: 10\n", 3, "", "invalid YAML: "},
    {"YamlBadIndentation", "limits:\n  max_evidence: 5\n    max_window_samples: 10\n", 3, "", "invalid YAML: "},
    {"SecondDocument", "limits: {}\n---\nlimits: {}\n", 3, "", "expected one YAML document"},
    // Found by tests/fuzz/fuzz_policy: yaml-cpp 0.7's LoadAll loops on these, allocating without end.
    {"StrayCommaAfterValue", "'',\n", 1, "", "expected one YAML document, found a second one here"},
    {"LoneComma", "\n,\n", 2, "", "expected one YAML document, found a second one here"},
    {"TopLevelList", "- blood_pressure\n", 1, "",
     "expected a mapping with sections blood_pressure, glucose, plausible, time, rules, escalation, referrals, limits, got a list"},
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
glucose:
  severe_hypo_below: 2.8
  hypo_below: 3.5
  fasting_high: 6.5
  random_high: 10
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
  r1_critical_bp:
    at_or_above: {systolic: 175, diastolic: 108}
    ack_timeout: 20m
  r2_sustained_hypertension:
    window: 60h
    min_readings: 4
    min_days: 3
    min_category: grade_1
    resolve_margin: 5
    ack_timeout: 12h
  r3_self_test_missed:
    min_diagnosed_grade: 3
    interval: 3d
    level_2_after: 12h
    level_3_after: 48h
  r4_pre_shift_fitness:
    check_within: 90m
    unfit_min_category: grade_1
    hypotension_unfit: false
    retest_advice: "rest 10 min, then \"retest\" \\ 休息后复测"
    ack_timeout: 10m
  r5_glucose:
    high_window: 14d
    high_min_readings: 3
    severe_hypo_ack_timeout: 15m
    high_ack_timeout: 2d
  r6_focus_tracking:
    abnormal_at_or_above: {systolic: 135, diastolic: 85}
    ack_timeout: 2h
escalation:
  renotify_interval: 12h
referrals:
  cooldown: 3d
limits:
  max_window_samples: 512
  max_evidence: 7
  max_glucose_samples: 32
  max_history: 20
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
  p.r2_window_ms = 60 * kHourMs;
  p.r2_min_readings = 4;
  p.r2_min_days = 3;
  p.r2_min_category = BpCategory::kGrade1;
  p.r2_resolve_margin_mmhg = 5;
  p.max_window_samples = 512;
  p.max_evidence = 7;
  p.glucose_severe_hypo = 2.8;
  p.glucose_hypo = 3.5;
  p.glucose_fasting_high = 6.5;
  p.glucose_random_high = 10;
  p.r1_critical_systolic = 175;
  p.r1_critical_diastolic = 108;
  p.r1_ack_timeout_ms = 20 * kMinuteMs;
  p.r2_ack_timeout_ms = 12 * kHourMs;
  p.r3_min_diagnosed_grade = 3;
  p.self_test_interval_ms = 3 * kDayMs;
  p.r3_level2_delay_ms = 12 * kHourMs;
  p.r3_level3_delay_ms = 48 * kHourMs;
  p.pre_shift_window_ms = 90 * kMinuteMs;
  p.r4_unfit_min_category = BpCategory::kGrade1;
  p.r4_hypotension_unfit = false;
  p.r4_retest_advice = "rest 10 min, then \"retest\" \\ 休息后复测";
  p.r4_ack_timeout_ms = 10 * kMinuteMs;
  p.r5_high_window_ms = 14 * kDayMs;
  p.r5_high_min_readings = 3;
  p.r5_hypo_ack_timeout_ms = 15 * kMinuteMs;
  p.r5_high_ack_timeout_ms = 2 * kDayMs;
  p.r6_abnormal_systolic = 135;
  p.r6_abnormal_diastolic = 85;
  p.r6_ack_timeout_ms = 2 * kHourMs;
  p.renotify_interval_ms = 12 * kHourMs;
  p.referral_cooldown_ms = 3 * kDayMs;
  p.max_glucose_samples = 32;
  p.max_history = 20;
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
  EXPECT_EQ(p.glucose_severe_hypo, want.glucose_severe_hypo);
  EXPECT_EQ(p.glucose_hypo, want.glucose_hypo);
  EXPECT_EQ(p.glucose_fasting_high, want.glucose_fasting_high);
  EXPECT_EQ(p.glucose_random_high, want.glucose_random_high);
  EXPECT_EQ(p.r1_critical_systolic, want.r1_critical_systolic);
  EXPECT_EQ(p.r1_critical_diastolic, want.r1_critical_diastolic);
  EXPECT_EQ(p.r1_ack_timeout_ms, want.r1_ack_timeout_ms);
  EXPECT_EQ(p.r2_ack_timeout_ms, want.r2_ack_timeout_ms);
  EXPECT_EQ(p.r3_min_diagnosed_grade, want.r3_min_diagnosed_grade);
  EXPECT_EQ(p.self_test_interval_ms, want.self_test_interval_ms);
  EXPECT_EQ(p.r3_level2_delay_ms, want.r3_level2_delay_ms);
  EXPECT_EQ(p.r3_level3_delay_ms, want.r3_level3_delay_ms);
  EXPECT_EQ(p.pre_shift_window_ms, want.pre_shift_window_ms);
  EXPECT_EQ(p.r4_unfit_min_category, want.r4_unfit_min_category);
  EXPECT_EQ(p.r4_hypotension_unfit, want.r4_hypotension_unfit);
  EXPECT_EQ(p.r4_retest_advice, want.r4_retest_advice);
  EXPECT_EQ(p.r4_ack_timeout_ms, want.r4_ack_timeout_ms);
  EXPECT_EQ(p.r5_high_window_ms, want.r5_high_window_ms);
  EXPECT_EQ(p.r5_high_min_readings, want.r5_high_min_readings);
  EXPECT_EQ(p.r5_hypo_ack_timeout_ms, want.r5_hypo_ack_timeout_ms);
  EXPECT_EQ(p.r5_high_ack_timeout_ms, want.r5_high_ack_timeout_ms);
  EXPECT_EQ(p.r6_abnormal_systolic, want.r6_abnormal_systolic);
  EXPECT_EQ(p.r6_abnormal_diastolic, want.r6_abnormal_diastolic);
  EXPECT_EQ(p.r6_ack_timeout_ms, want.r6_ack_timeout_ms);
  EXPECT_EQ(p.renotify_interval_ms, want.renotify_interval_ms);
  EXPECT_EQ(p.referral_cooldown_ms, want.referral_cooldown_ms);
  EXPECT_EQ(p.max_glucose_samples, want.max_glucose_samples);
  EXPECT_TRUE(p == want) << "a field is compared by Policy's operator== but not above";
  // Guards the fixture itself: a field left at its default would prove nothing.
  EXPECT_NE(want.bp, defaults.bp);
  EXPECT_NE(want.plausible, defaults.plausible);
}

// Guards the fixture: every value line FormatPolicy prints must differ between the fixture and the
// defaults, so a field added to the schema but left at its default here is caught.
TEST(PolicyFileTest, FixtureChangesEveryPrintedField) {
  auto value_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      const std::string code = line.substr(0, line.find(" #"));
      const size_t first = code.find_first_not_of(' ');
      if (first == std::string::npos || code[first] == '#' || code.back() == ':') continue;  // comment or section
      lines.push_back(code);
    }
    return lines;
  };
  const std::vector<std::string> changed = value_lines(FormatPolicy(EveryFieldChanged()));
  const std::vector<std::string> defaults = value_lines(FormatPolicy(Policy{}));
  ASSERT_EQ(changed.size(), defaults.size());
  for (size_t i = 0; i < changed.size(); ++i) EXPECT_NE(changed[i], defaults[i]) << "left at its default";
}

// Values at the edge of what the schema allows are accepted, not refused.
struct AcceptedCase {
  std::string name;
  std::string yaml;
  std::function<bool(const Policy&)> holds;
};

TEST(PolicyFileTest, EdgesOfEachBoundAreAccepted) {
  const AcceptedCase cases[] = {
      {"FastingEqualsRandom", "glucose:\n  fasting_high: 11.1\n",
       [](const Policy& p) { return p.glucose_fasting_high == 11.1 && p.glucose_random_high == 11.1; }},
      {"RandomHighAtPlausibleMax", "glucose:\n  random_high: 50\n",
       [](const Policy& p) { return p.glucose_random_high == 50; }},
      {"CriticalAtPlausibleMax", "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 300}\n",
       [](const Policy& p) { return p.r1_critical_systolic == 300; }},
      {"CriticalJustAboveAbnormal", "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 141, diastolic: 91}\n",
       [](const Policy& p) { return p.r1_critical_systolic == 141 && p.r1_critical_diastolic == 91; }},
      {"AbnormalJustAboveHypotension",
       "rules:\n  r6_focus_tracking:\n    abnormal_at_or_above: {systolic: 91, diastolic: 61}\n",
       [](const Policy& p) { return p.r6_abnormal_systolic == 91 && p.r6_abnormal_diastolic == 61; }},
      {"Level2JustBelowLevel3", "rules:\n  r3_self_test_missed:\n    level_2_after: 71h\n",
       [](const Policy& p) { return p.r3_level2_delay_ms == 71 * kHourMs; }},
      {"ShortestDurations",
       "rules:\n  r1_critical_bp: {ack_timeout: 1m}\n  r3_self_test_missed: {interval: 1h}\n"
       "escalation: {renotify_interval: 1m}\n",
       [](const Policy& p) {
         return p.r1_ack_timeout_ms == kMinuteMs && p.self_test_interval_ms == kHourMs &&
                p.renotify_interval_ms == kMinuteMs;
       }},
      {"CooldownOff", "referrals:\n  cooldown: 0d\n", [](const Policy& p) { return p.referral_cooldown_ms == 0; }},
      {"HighWindowEqualsRetention", "rules:\n  r5_glucose:\n    high_window: 30d\n",
       [](const Policy& p) { return p.r5_high_window_ms == 30 * kDayMs; }},
      {"HighMinReadingsAtSamples", "limits:\n  max_glucose_samples: 4\nrules:\n  r5_glucose: {high_min_readings: 4}\n",
       [](const Policy& p) { return p.max_glucose_samples == 4 && p.r5_high_min_readings == 4; }},
      {"GradeOneEnrols", "rules:\n  r3_self_test_missed: {min_diagnosed_grade: 1}\n",
       [](const Policy& p) { return p.r3_min_diagnosed_grade == 1; }},
      {"UnfitFromHighNormal", "rules:\n  r4_pre_shift_fitness: {unfit_min_category: high_normal}\n",
       [](const Policy& p) { return p.r4_unfit_min_category == BpCategory::kHighNormal; }},
      {"BooleanTrue", "rules:\n  r4_pre_shift_fitness: {hypotension_unfit: true}\n",
       [](const Policy& p) { return p.r4_hypotension_unfit; }},
      {"AdviceUnquoted", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: sit down, rest, retest\n",
       [](const Policy& p) { return p.r4_retest_advice == "sit down, rest, retest"; }},
      {"AdviceOf200Characters", "rules:\n  r4_pre_shift_fitness:\n    retest_advice: " + std::string(200, 'x') + "\n",
       [](const Policy& p) { return p.r4_retest_advice.size() == 200; }},
  };
  for (const AcceptedCase& c : cases) {
    const absl::StatusOr<Policy> policy = ParsePolicy(c.yaml, kSource);
    ASSERT_TRUE(policy.ok()) << c.name << ": " << policy.status();
    EXPECT_TRUE(c.holds(*policy)) << c.name;
  }
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

domain::WorkerProfile HighRiskProfile() {
  domain::WorkerProfile profile;
  profile.worker = {"W000042"};
  profile.name = "Zhang Wei";
  profile.unit_id = "U03";
  profile.grid_id = "U03-G07";
  profile.policy.critical_systolic_mmhg = 170;
  profile.policy.critical_diastolic_mmhg = 105;
  profile.policy.self_test_interval_days = 3;
  profile.policy.focus_tracking = true;
  profile.policy.extra_recipients = {{"OP-U03", "Li Na"}};
  profile.policy.abnormal_systolic_mmhg = 135;
  profile.policy.ack_timeout_minutes = 60;
  return profile;
}

TEST(WorkerPolicyTest, ParsesBackToTheEffectivePolicy) {
  const domain::WorkerProfile profile = HighRiskProfile();
  for (const Policy& global : {Policy{}, EveryFieldChanged()}) {
    const std::string text = FormatWorkerPolicy(global, profile);
    const absl::StatusOr<Policy> parsed = ParsePolicy(text, "print-policy --worker");
    ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
    EXPECT_TRUE(*parsed == domain::EffectivePolicy(global, profile.policy)) << text;
  }
}

TEST(WorkerPolicyTest, HeaderNamesTheWorkerAndEachOverride) {
  const std::string text = FormatWorkerPolicy(Policy{}, HighRiskProfile());
  EXPECT_THAT(text, ::testing::StartsWith("# Effective policy of worker W000042 (Zhang Wei)"));
  EXPECT_THAT(text, HasSubstr("Unit U03, grid U03-G07"));
  EXPECT_THAT(text, HasSubstr("#   rules.r1_critical_bp.at_or_above.systolic: 170 (global 180)\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r1_critical_bp.at_or_above.diastolic: 105 (global 110)\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r3_self_test_missed.interval: 3d (global 7d)\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r6_focus_tracking.abnormal_at_or_above.systolic: 135 (global 140)\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("abnormal_at_or_above.diastolic: ")));  // not overridden
  // One timeout override replaces every rule's timeout.
  EXPECT_THAT(text, HasSubstr("#   rules.r1_critical_bp.ack_timeout: 1h (global 30m)\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r2_sustained_hypertension.ack_timeout: 1h (global 1d)\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r6_focus_tracking.ack_timeout: 1h (global 4h)\n"));
  EXPECT_THAT(text, HasSubstr("#   focus_tracking: on"));
  EXPECT_THAT(text, HasSubstr("#     OP-U03 (Li Na)\n"));
  EXPECT_THAT(text, HasSubstr("#   self_test_enrolled: no\n"));
  // The body is the effective policy itself.
  EXPECT_THAT(text, HasSubstr("    at_or_above: {systolic: 170, diastolic: 105}"));
  EXPECT_THAT(text, HasSubstr("    interval: 3d "));
}

TEST(WorkerPolicyTest, WorkerWithoutOverridesGetsTheGlobalPolicy) {
  domain::WorkerProfile profile;
  profile.worker = {"W000001"};
  profile.unit_id = "U01";
  profile.grid_id = "U01-G01";
  const std::string text = FormatWorkerPolicy(Policy{}, profile);
  EXPECT_THAT(text, HasSubstr("# Overridden by the worker's own policy: nothing; every number below is the global one."));
  EXPECT_THAT(text, HasSubstr("#   focus_tracking: off\n"));
  EXPECT_THAT(text, HasSubstr("#   extra_recipients: none\n"));
  EXPECT_THAT(text, ::testing::EndsWith(FormatPolicy(Policy{})));
}

TEST(WorkerPolicyTest, ImplausibleOverridesAreShownAsIgnored) {
  domain::WorkerProfile profile;
  profile.worker = {"W000002"};
  profile.policy.critical_systolic_mmhg = 500;  // outside the plausible range: EffectivePolicy ignores it
  profile.policy.self_test_interval_days = 0;
  const std::string text = FormatWorkerPolicy(Policy{}, profile);
  EXPECT_THAT(text, HasSubstr("#   rules.r1_critical_bp.at_or_above.systolic: 500 ignored as implausible; the global "
                              "180 applies\n"));
  EXPECT_THAT(text, HasSubstr("#   rules.r3_self_test_missed.interval: 0s ignored as implausible; the global 7d "
                              "applies\n"));
  const absl::StatusOr<Policy> parsed = ParsePolicy(text, kSource);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(*parsed == Policy{});
}

// Names come from the profiles topic: a line break in one must not end the comment it sits in.
TEST(WorkerPolicyTest, ControlCharactersInNamesStayInTheComment) {
  domain::WorkerProfile profile = HighRiskProfile();
  profile.name = "Zhang\nblood_pressure: 5";
  profile.policy.extra_recipients = {{"OP-U03", "Li\rNa\n---"}};
  const std::string text = FormatWorkerPolicy(Policy{}, profile);
  EXPECT_THAT(text, HasSubstr("(Zhang?blood_pressure: 5)"));
  const absl::StatusOr<Policy> parsed = ParsePolicy(text, kSource);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
}

}  // namespace
}  // namespace alertd::config
