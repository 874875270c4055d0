// The global clinical policy: every number a rule uses, with the health grid's defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/domain/types.h"

namespace alertd::domain {

// Lower bounds of each blood-pressure category, China hypertension guideline 2018 (mmHg).
struct BpThresholds {
  int high_normal_systolic = 120;
  int high_normal_diastolic = 80;
  int grade1_systolic = 140;
  int grade1_diastolic = 90;
  int grade2_systolic = 160;
  int grade2_diastolic = 100;
  int grade3_systolic = 180;
  int grade3_diastolic = 110;
  // Hypotension: systolic below this or diastolic below the next (mmHg).
  int hypotension_systolic = 90;
  int hypotension_diastolic = 60;
  friend bool operator==(const BpThresholds&, const BpThresholds&) = default;
};

// Values outside these ranges are physiologically impossible: the reading is dead-lettered.
struct PlausibleRanges {
  int systolic_min = 50, systolic_max = 300;    // mmHg
  int diastolic_min = 20, diastolic_max = 200;  // mmHg
  int pulse_min = 20, pulse_max = 250;          // bpm (0 means not measured)
  double glucose_min = 0.5, glucose_max = 50;   // mmol/L
  double weight_min = 20, weight_max = 350;     // kg
  double height_min = 100, height_max = 250;    // cm (0 means not measured)
  friend bool operator==(const PlausibleRanges&, const PlausibleRanges&) = default;
};

struct Policy {
  BpThresholds bp;
  PlausibleRanges plausible;
  int64_t max_future_skew_ms = 10 * kMinuteMs;  // device clocks run ahead by at most this
  int64_t retention_horizon_ms = 30 * kDayMs;   // older readings are refused as TOO_OLD

  // R1 critical blood pressure: a reading at or above either value (defaults: the grade-3 bounds).
  int r1_critical_systolic = 180;
  int r1_critical_diastolic = 110;

  // R2 sustained hypertension: mean of the window is at least this category, with enough data.
  int64_t r2_window_ms = 7 * kDayMs;
  int r2_min_readings = 3;
  int r2_min_days = 2;
  BpCategory r2_min_category = BpCategory::kGrade2;
  // Hysteresis: an open episode resolves only once both means are this far below the category's lower
  // bounds, so a mean hovering at the boundary does not open and resolve (with a new referral each
  // time) on alternate readings.
  int r2_resolve_margin_mmhg = 2;

  // Escalation lifecycle (DESIGN.md §4): an unacknowledged episode climbs one level after its rule's
  // ack timeout; an acknowledged one is re-sent every renotify interval while it stays open. R3 climbs
  // on its own ladder (below), measured from the due time, so it has no ack timeout here.
  int64_t r1_ack_timeout_ms = 30 * kMinuteMs;  // health manager -> unit supervisor
  int64_t r2_ack_timeout_ms = 24 * kHourMs;
  int64_t r4_ack_timeout_ms = 15 * kMinuteMs;
  int64_t renotify_interval_ms = 24 * kHourMs;

  // Referral cool-down: after a clinic referral for a worker, rule and urgency, another for the same
  // three is held back until this much event time has passed since the one sent (0: never held back),
  // so readings hovering at a threshold do not refer the worker again at every crossing. The
  // episode's escalations still go to the health manager.
  int64_t referral_cooldown_ms = 7 * kDayMs;

  // R3 weekly self-test: who is enrolled, how often, and the reminder ladder after the due time.
  int r3_min_diagnosed_grade = 2;              // diagnosed hypertension grade that enrols a worker
  int64_t self_test_interval_ms = 7 * kDayMs;  // IndividualPolicy::self_test_interval_days overrides
  int64_t r3_level2_delay_ms = 24 * kHourMs;   // after due: the health manager is told
  int64_t r3_level3_delay_ms = 72 * kHourMs;   // after due: the unit supervisor is told

  // R4 pre-shift fitness of workers in high-risk posts.
  int64_t pre_shift_window_ms = 2 * kHourMs;  // a PRE_SHIFT reading this long before clock-in counts
  BpCategory r4_unfit_min_category = BpCategory::kGrade2;
  bool r4_hypotension_unfit = true;
  std::string r4_retest_advice = "retest after 5 min rest";

  // R5 glucose (mmol/L): severe hypoglycaemia is URGENT at once; high glucose this many times within
  // the window is HIGH with a routine referral.
  double glucose_fasting_high = 7.0;  // FASTING at or above: high
  double glucose_random_high = 11.1;  // RANDOM or POSTPRANDIAL_2H at or above: high
  double glucose_hypo = 3.9;          // below: hypoglycaemia
  double glucose_severe_hypo = 3.0;   // below: severe hypoglycaemia
  int64_t r5_high_window_ms = 30 * kDayMs;
  int r5_high_min_readings = 2;
  int64_t r5_hypo_ack_timeout_ms = 30 * kMinuteMs;  // severe hypoglycaemia: health manager -> unit supervisor
  int64_t r5_high_ack_timeout_ms = 24 * kHourMs;

  // R6 focus tracking ("one person, one policy"): with IndividualPolicy::focus_tracking, every abnormal
  // reading escalates. Abnormal blood pressure: at or above these (the worker's own abnormal_* override
  // them), or hypotension; abnormal glucose: high or hypoglycaemia by the R5 thresholds.
  int r6_abnormal_systolic = 140;
  int r6_abnormal_diastolic = 90;
  int64_t r6_ack_timeout_ms = 4 * kHourMs;

  // Calendar days are local days: offset of local time from UTC (China: UTC+8).
  int day_offset_minutes = 8 * 60;

  // Memory bounds per worker: samples kept for the window, readings quoted as evidence.
  std::size_t max_window_samples = 256;
  std::size_t max_evidence = 5;
  std::size_t max_glucose_samples = 64;  // glucose history kept for R5's window
  std::size_t max_history = 12;          // steps of an open episode's history kept after its OPEN

  // A policy file must load to exactly the policy it prints (engine/config).
  friend bool operator==(const Policy&, const Policy&) = default;
};

// The policy that applies to one worker: the global policy with the worker's individual overrides
// ("one person, one policy") applied. Overrides that make no sense (a non-positive interval) are
// ignored, so the global value stays in force: a non-positive interval or timeout, or a threshold
// outside the plausible range of its reading (PlausibleRanges). focus_tracking, extra_recipients and
// self_test_enrolled are not numbers of the policy: the rules read them from the profile.
Policy EffectivePolicy(const Policy& global, const IndividualPolicy& own);

// Whether `own` sets any number EffectivePolicy reads. False for most workers: they use the global
// policy as is, and the rules need not copy it.
bool OverridesPolicy(const IndividualPolicy& own);

}  // namespace alertd::domain
