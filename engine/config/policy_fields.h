// The policy file's schema: one row per field (YAML path, type, bounds, unit, help, Policy member).
//
// The reader, the printer (`alertd print-policy`, deploy/policy.yaml) and the per-worker override list
// are all driven by kPolicyFields: adding a field is one row here (and its member and default in
// domain::Policy). Rows are in file order; a mapping whose keys are a pair of bounds (systolic and
// diastolic, min and max) prints on one line. Relations between fields (order of bounds, one field
// bounding another) are checked by the reader.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "engine/domain/policy.h"

namespace alertd::config {

// Caps that keep a typo from becoming an outage: well beyond any clinical setting, far from overflow.
inline constexpr int64_t kMaxMmhgOrBpm = 400;                     // above any reading a body can produce
inline constexpr int64_t kMaxDurationMs = 3650 * domain::kDayMs;  // ten years
inline constexpr int64_t kMaxWindowSamples = 10000;               // per worker, times tens of thousands of workers
inline constexpr int64_t kMaxEvidence = 100;                      // quoted in every escalation message
inline constexpr int64_t kMaxGlucoseSamples = 10000;              // per worker, like kMaxWindowSamples
inline constexpr int64_t kMaxHistory = 100;                       // per open episode, stored with the worker
inline constexpr double kMaxMmolPerL = 200;                       // above any glucose a body can produce
inline constexpr size_t kMaxAdviceChars = 200;                    // one line of a notification
inline constexpr int kMinDayOffsetMinutes = -12 * 60;             // UTC-12:00 .. UTC+14:00: every zone on Earth
inline constexpr int kMaxDayOffsetMinutes = 14 * 60;

// How a field is written in the file.
enum class FieldType {
  kWholeNumber,  // 120; between lo and hi (or the bound hi_of reads from fields read before it)
  kDecimal,      // 0.5; above 0 and at most hi
  kMmol,         // a decimal printed with a decimal point even when whole (7.0, as clinicians write it)
  kDuration,     // 30m; at least lo (ms) and at most kMaxDurationMs
  kDayOffset,    // +08:00
  kCategory,     // grade_2; `lowest` or above
  kBoolean,      // true or false
  kText,         // one line of text
};

// Where a field's value lives in a Policy.
using FieldRef = std::variant<int*, int64_t*, std::size_t*, double*, bool*, std::string*, domain::BpCategory*>;

template <auto Member>
FieldRef At(domain::Policy& p) {
  return &(p.*Member);
}
template <auto Group, auto Member>
FieldRef At(domain::Policy& p) {
  return &((p.*Group).*Member);
}

struct PolicyField {
  std::string_view path;
  FieldType type;
  FieldRef (*ref)(domain::Policy&);
  std::string_view unit = {};  // whole numbers and decimals: the unit an error message names
  int64_t lo = 0;              // whole numbers: the least value; durations: the shortest, in ms
  double hi = 0;               // whole numbers and decimals: the largest value
  // Whole numbers bounded by another setting: the largest value, from the fields read before this one.
  int64_t (*hi_of)(const domain::Policy&) = nullptr;
  domain::BpCategory lowest = domain::BpCategory::kNormal;  // categories: the lowest accepted
  std::string_view help = {};  // the comment the printed file gives it; a pair's is on its first field
};

namespace fields {
using domain::BpCategory;
using domain::BpThresholds;
using domain::PlausibleRanges;
using domain::Policy;
using enum FieldType;

// The window keeps at most max_window_samples readings (and the glucose history max_glucose_samples):
// more could never be counted. A window of N days (rounded up) has readings on at most N days.
inline int64_t WindowSamples(const Policy& p) { return static_cast<int64_t>(p.max_window_samples); }
inline int64_t GlucoseSamples(const Policy& p) { return static_cast<int64_t>(p.max_glucose_samples); }
inline int64_t WindowDays(const Policy& p) { return (p.r2_window_ms + domain::kDayMs - 1) / domain::kDayMs; }

constexpr std::string_view kClimbs = "health manager -> unit supervisor";
constexpr int64_t kMinute = domain::kMinuteMs;
constexpr double kMmhg = kMaxMmhgOrBpm;

// One row of each type; a whole number's `hi_of` reads its bound from fields read before it.
constexpr PolicyField Whole(std::string_view path, FieldRef (*ref)(Policy&), std::string_view unit, int64_t lo,
                            double hi, std::string_view help = {}) {
  return {.path = path, .type = kWholeNumber, .ref = ref, .unit = unit, .lo = lo, .hi = hi, .help = help};
}
constexpr PolicyField WholeUpTo(std::string_view path, FieldRef (*ref)(Policy&), std::string_view unit,
                                int64_t (*hi_of)(const Policy&), std::string_view help) {
  return {.path = path, .type = kWholeNumber, .ref = ref, .unit = unit, .lo = 1, .hi_of = hi_of, .help = help};
}
constexpr PolicyField Decimal(std::string_view path, FieldRef (*ref)(Policy&), std::string_view unit, double hi,
                              std::string_view help = {}) {
  return {.path = path, .type = kDecimal, .ref = ref, .unit = unit, .hi = hi, .help = help};
}
constexpr PolicyField Mmol(std::string_view path, FieldRef (*ref)(Policy&), std::string_view help) {
  return {.path = path, .type = kMmol, .ref = ref, .unit = "mmol/L", .hi = kMaxMmolPerL, .help = help};
}
constexpr PolicyField Duration(std::string_view path, FieldRef (*ref)(Policy&), int64_t shortest_ms,
                               std::string_view help) {
  return {.path = path, .type = kDuration, .ref = ref, .lo = shortest_ms, .help = help};
}
constexpr PolicyField DayOffset(std::string_view path, FieldRef (*ref)(Policy&), std::string_view help) {
  return {.path = path, .type = kDayOffset, .ref = ref, .help = help};
}
constexpr PolicyField Category(std::string_view path, FieldRef (*ref)(Policy&), BpCategory lowest,
                               std::string_view help) {
  return {.path = path, .type = kCategory, .ref = ref, .lowest = lowest, .help = help};
}
constexpr PolicyField Boolean(std::string_view path, FieldRef (*ref)(Policy&), std::string_view help) {
  return {.path = path, .type = kBoolean, .ref = ref, .help = help};
}
constexpr PolicyField Text(std::string_view path, FieldRef (*ref)(Policy&), std::string_view help) {
  return {.path = path, .type = kText, .ref = ref, .help = help};
}

inline constexpr auto kPolicyFields = std::to_array<PolicyField>({
    Whole("blood_pressure.high_normal.systolic", At<&Policy::bp, &BpThresholds::high_normal_systolic>, "mmHg", 1, kMmhg,
          "high-normal from here"),
    Whole("blood_pressure.high_normal.diastolic", At<&Policy::bp, &BpThresholds::high_normal_diastolic>, "mmHg", 1,
          kMmhg),
    Whole("blood_pressure.grade_1.systolic", At<&Policy::bp, &BpThresholds::grade1_systolic>, "mmHg", 1, kMmhg,
          "grade 1; also isolated systolic (systolic here, diastolic below)"),
    Whole("blood_pressure.grade_1.diastolic", At<&Policy::bp, &BpThresholds::grade1_diastolic>, "mmHg", 1, kMmhg),
    Whole("blood_pressure.grade_2.systolic", At<&Policy::bp, &BpThresholds::grade2_systolic>, "mmHg", 1, kMmhg,
          "grade 2"),
    Whole("blood_pressure.grade_2.diastolic", At<&Policy::bp, &BpThresholds::grade2_diastolic>, "mmHg", 1, kMmhg),
    Whole("blood_pressure.grade_3.systolic", At<&Policy::bp, &BpThresholds::grade3_systolic>, "mmHg", 1, kMmhg,
          "grade 3"),
    Whole("blood_pressure.grade_3.diastolic", At<&Policy::bp, &BpThresholds::grade3_diastolic>, "mmHg", 1, kMmhg),
    Whole("blood_pressure.hypotension_below.systolic", At<&Policy::bp, &BpThresholds::hypotension_systolic>, "mmHg", 1,
          kMmhg, "hypotension: systolic or diastolic below this"),
    Whole("blood_pressure.hypotension_below.diastolic", At<&Policy::bp, &BpThresholds::hypotension_diastolic>, "mmHg",
          1, kMmhg),
    Mmol("glucose.severe_hypo_below", At<&Policy::glucose_severe_hypo>, "severe hypoglycaemia below: URGENT at once"),
    Mmol("glucose.hypo_below", At<&Policy::glucose_hypo>, "hypoglycaemia below"),
    Mmol("glucose.fasting_high", At<&Policy::glucose_fasting_high>, "FASTING at or above: high"),
    Mmol("glucose.random_high", At<&Policy::glucose_random_high>, "RANDOM or POSTPRANDIAL_2H at or above: high"),
    Whole("plausible.systolic_mmhg.min", At<&Policy::plausible, &PlausibleRanges::systolic_min>, "mmHg", 1, kMmhg,
          "mmHg"),
    Whole("plausible.systolic_mmhg.max", At<&Policy::plausible, &PlausibleRanges::systolic_max>, "mmHg", 1, kMmhg),
    Whole("plausible.diastolic_mmhg.min", At<&Policy::plausible, &PlausibleRanges::diastolic_min>, "mmHg", 1, kMmhg,
          "mmHg; a diastolic not below the systolic is refused too"),
    Whole("plausible.diastolic_mmhg.max", At<&Policy::plausible, &PlausibleRanges::diastolic_max>, "mmHg", 1, kMmhg),
    Whole("plausible.pulse_bpm.min", At<&Policy::plausible, &PlausibleRanges::pulse_min>, "beats per minute", 1, kMmhg,
          "beats per minute; a pulse of 0 means not measured"),
    Whole("plausible.pulse_bpm.max", At<&Policy::plausible, &PlausibleRanges::pulse_max>, "beats per minute", 1, kMmhg),
    Decimal("plausible.glucose_mmol_per_l.min", At<&Policy::plausible, &PlausibleRanges::glucose_min>, "mmol/L",
            kMaxMmolPerL, "mmol/L"),
    Decimal("plausible.glucose_mmol_per_l.max", At<&Policy::plausible, &PlausibleRanges::glucose_max>, "mmol/L",
            kMaxMmolPerL),
    Decimal("plausible.weight_kg.min", At<&Policy::plausible, &PlausibleRanges::weight_min>, "kg", 1000, "kg"),
    Decimal("plausible.weight_kg.max", At<&Policy::plausible, &PlausibleRanges::weight_max>, "kg", 1000),
    Decimal("plausible.height_cm.min", At<&Policy::plausible, &PlausibleRanges::height_min>, "cm", 300,
            "cm; a height of 0 means not measured"),
    Decimal("plausible.height_cm.max", At<&Policy::plausible, &PlausibleRanges::height_max>, "cm", 300),
    Duration("time.max_future_skew", At<&Policy::max_future_skew_ms>, 0,
             "measured further ahead of the engine's clock: refused"),
    Duration("time.retention_horizon", At<&Policy::retention_horizon_ms>, kMinute,
             "measured longer ago: refused as too old; >= rule windows"),
    DayOffset("time.day_offset", At<&Policy::day_offset_minutes>,
              "local time - UTC, +HH:MM: the calendar day of a reading"),
    Whole("rules.r1_critical_bp.at_or_above.systolic", At<&Policy::r1_critical_systolic>, "mmHg", 1, kMmhg,
          "mmHg; above R6's abnormal bounds, at most plausible max"),
    Whole("rules.r1_critical_bp.at_or_above.diastolic", At<&Policy::r1_critical_diastolic>, "mmHg", 1, kMmhg),
    Duration("rules.r1_critical_bp.ack_timeout", At<&Policy::r1_ack_timeout_ms>, kMinute, kClimbs),
    Duration("rules.r2_sustained_hypertension.window", At<&Policy::r2_window_ms>, kMinute,
             "event time the mean looks back over"),
    WholeUpTo("rules.r2_sustained_hypertension.min_readings", At<&Policy::r2_min_readings>, "readings", WindowSamples,
              "readings; at most limits.max_window_samples"),
    WholeUpTo("rules.r2_sustained_hypertension.min_days", At<&Policy::r2_min_days>, "days", WindowDays,
              "days with a reading; at most the window's days"),
    Category("rules.r2_sustained_hypertension.min_category", At<&Policy::r2_min_category>, BpCategory::kNormal,
             "normal, high_normal, grade_1, grade_2 or grade_3"),
    Whole("rules.r2_sustained_hypertension.resolve_margin", At<&Policy::r2_resolve_margin_mmhg>, "mmHg", 0, 20,
          "mmHg 0..20: resolves when both means are this far below"),
    Duration("rules.r2_sustained_hypertension.ack_timeout", At<&Policy::r2_ack_timeout_ms>, kMinute, kClimbs),
    // Diagnosed grades run 1..3: 0 is "none", which would enrol everyone.
    Whole("rules.r3_self_test_missed.min_diagnosed_grade", At<&Policy::r3_min_diagnosed_grade>, "grades", 1, 3,
          "diagnosed hypertension grade 1..3 that enrols"),
    Duration("rules.r3_self_test_missed.interval", At<&Policy::self_test_interval_ms>, domain::kHourMs,
             "at least 1h; self_test_interval_days overrides"),
    Duration("rules.r3_self_test_missed.level_2_after", At<&Policy::r3_level2_delay_ms>, kMinute,
             "after due: the health manager; < level_3_after"),
    Duration("rules.r3_self_test_missed.level_3_after", At<&Policy::r3_level3_delay_ms>, kMinute,
             "after due: the unit supervisor"),
    Duration("rules.r4_pre_shift_fitness.check_within", At<&Policy::pre_shift_window_ms>, kMinute,
             "before clock-in, a PRE_SHIFT reading counts"),
    // "normal" as the unfit category would send every worker home.
    Category("rules.r4_pre_shift_fitness.unfit_min_category", At<&Policy::r4_unfit_min_category>,
             BpCategory::kHighNormal, "high_normal, grade_1, grade_2 or grade_3"),
    Boolean("rules.r4_pre_shift_fitness.hypotension_unfit", At<&Policy::r4_hypotension_unfit>,
            "true or false: hypotension is unfit too"),
    Text("rules.r4_pre_shift_fitness.retest_advice", At<&Policy::r4_retest_advice>,
         "told to an unfit worker; one line"),
    Duration("rules.r4_pre_shift_fitness.ack_timeout", At<&Policy::r4_ack_timeout_ms>, kMinute, kClimbs),
    Duration("rules.r5_glucose.high_window", At<&Policy::r5_high_window_ms>, kMinute,
             "event time; at most time.retention_horizon"),
    WholeUpTo("rules.r5_glucose.high_min_readings", At<&Policy::r5_high_min_readings>, "readings", GlucoseSamples,
              "readings; at most limits.max_glucose_samples"),
    Duration("rules.r5_glucose.severe_hypo_ack_timeout", At<&Policy::r5_hypo_ack_timeout_ms>, kMinute, kClimbs),
    Duration("rules.r5_glucose.high_ack_timeout", At<&Policy::r5_high_ack_timeout_ms>, kMinute, kClimbs),
    Whole("rules.r6_focus_tracking.abnormal_at_or_above.systolic", At<&Policy::r6_abnormal_systolic>, "mmHg", 1, kMmhg,
          "mmHg; above hypotension, below R1's bounds"),
    Whole("rules.r6_focus_tracking.abnormal_at_or_above.diastolic", At<&Policy::r6_abnormal_diastolic>, "mmHg", 1,
          kMmhg),
    Duration("rules.r6_focus_tracking.ack_timeout", At<&Policy::r6_ack_timeout_ms>, kMinute, kClimbs),
    Duration("escalation.renotify_interval", At<&Policy::renotify_interval_ms>, kMinute,
             "acknowledged, still open: re-sent this often"),
    Duration("referrals.cooldown", At<&Policy::referral_cooldown_ms>, 0,
             "per worker, rule and urgency; 0d: every one is sent"),
    Whole("limits.max_window_samples", At<&Policy::max_window_samples>, "readings", 1, kMaxWindowSamples,
          "readings kept for rule windows; the oldest go first"),
    Whole("limits.max_evidence", At<&Policy::max_evidence>, "readings", 1, kMaxEvidence,
          "readings quoted as evidence in an escalation"),
    Whole("limits.max_glucose_samples", At<&Policy::max_glucose_samples>, "readings", 1, kMaxGlucoseSamples,
          "glucose readings kept for R5's window"),
    Whole("limits.max_history", At<&Policy::max_history>, "steps", 1, kMaxHistory,
          "steps of an open episode's history (who was told, when) kept after its first"),
});

}  // namespace fields

using fields::kPolicyFields;

// The comment lines above a section of the printed file ("" = the head of the file), in file order.
struct SectionNote {
  std::string_view section;
  std::string_view lines;  // '\n'-separated
};

inline constexpr auto kSectionNotes = std::to_array<SectionNote>({
    {"",
     "alertd global clinical policy (alertd --policy FILE). Every key is optional: a key left out\n"
     "keeps its built-in default. `alertd print-policy [--policy FILE]` prints the policy in effect.\n"
     "Per-worker overrides (\"one person, one policy\") arrive with worker profiles, not here;\n"
     "`alertd print-policy --worker ID --db DIR` prints one worker's policy with them."},
    {"blood_pressure",
     "Blood-pressure categories by their lower bounds, mmHg (China hypertension guideline 2018; grades\n"
     "unchanged in 2024). A reading takes the higher of its systolic and its diastolic category.\n"
     "Each bound must be above the one before it."},
    {"glucose",
     "Glucose classes, mmol/L (rule R5; focus tracking counts high and low values as abnormal).\n"
     "Each bound must be above the one before it (random_high may equal fasting_high)."},
    {"plausible",
     "Physiologically impossible input: a reading outside [min, max] goes to dead-letters, never graded.\n"
     "Blood-pressure and glucose bounds above must lie inside these ranges."},
    {"time", "Durations are <whole number><unit>, unit one of ms s m h d."},
    {"rules",
     "An unacknowledged episode climbs one level (health manager -> unit supervisor) after its rule's\n"
     "ack_timeout. Durations: at least 1m."},
    {"rules.r1_critical_bp",
     "R1 critical blood pressure: a reading at or above either bound is URGENT to the health manager\n"
     "at once, with an urgent clinic referral. A worker's own critical_* override the bounds."},
    {"rules.r2_sustained_hypertension",
     "R2 sustained hypertension: the mean of the window's readings is at least min_category, from at\n"
     "least min_readings readings on at least min_days local calendar days."},
    {"rules.r3_self_test_missed",
     "R3 weekly self-test: an enrolled worker (diagnosed at min_diagnosed_grade or worse, R2 open, or\n"
     "enrolled by their own policy) with no blood-pressure reading for `interval` is reminded when due;\n"
     "then the ladder climbs by itself, measured from the due time."},
    {"rules.r4_pre_shift_fitness",
     "R4 pre-shift fitness of workers in high-risk posts: a PRE_SHIFT reading at unfit_min_category or\n"
     "above (or hypotension) is UNFIT_FOR_DUTY; a clock-in needs a reading within check_within."},
    {"rules.r5_glucose",
     "R5 glucose: severe hypoglycaemia is URGENT at once; high glucose high_min_readings times within\n"
     "high_window is HIGH with a routine clinic referral."},
    {"rules.r6_focus_tracking",
     "R6 focus tracking (\"one person, one policy\"): for a worker whose own policy turns it on, every\n"
     "abnormal reading escalates: blood pressure at or above these (the worker's abnormal_* override\n"
     "them) or hypotension; glucose high or low by the glucose bounds."},
    {"escalation", "Escalation lifecycle, every rule."},
    {"referrals",
     "Clinic referrals (R1 urgent; R2 and R5 high glucose routine). After one is sent for a worker,\n"
     "another of the same rule and urgency waits until `cooldown` of event time has passed; the\n"
     "episode's escalations still reach the health manager."},
    {"limits", "Memory bounds per worker."},
});

}  // namespace alertd::config
