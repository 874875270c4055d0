// The effective policy of one worker: the global policy with the worker's own overrides applied.
#include "engine/domain/policy.h"

namespace alertd::domain {
namespace {

// A threshold override must itself be a plausible reading value: 0 (a producer that meant "unset")
// or 500 mmHg would silence or fire the rule for every reading.
bool PlausibleSystolic(int v, const PlausibleRanges& r) { return v >= r.systolic_min && v <= r.systolic_max; }
bool PlausibleDiastolic(int v, const PlausibleRanges& r) { return v >= r.diastolic_min && v <= r.diastolic_max; }

}  // namespace

bool OverridesPolicy(const IndividualPolicy& own) {
  return own.critical_systolic_mmhg || own.critical_diastolic_mmhg || own.self_test_interval_days ||
         own.abnormal_systolic_mmhg || own.abnormal_diastolic_mmhg || own.ack_timeout_minutes ||
         own.renotify_interval_hours;
}

Policy EffectivePolicy(const Policy& global, const IndividualPolicy& own) {
  Policy p = global;
  const PlausibleRanges& r = global.plausible;
  if (own.critical_systolic_mmhg && PlausibleSystolic(*own.critical_systolic_mmhg, r)) {
    p.r1_critical_systolic = *own.critical_systolic_mmhg;
  }
  if (own.critical_diastolic_mmhg && PlausibleDiastolic(*own.critical_diastolic_mmhg, r)) {
    p.r1_critical_diastolic = *own.critical_diastolic_mmhg;
  }
  if (own.abnormal_systolic_mmhg && PlausibleSystolic(*own.abnormal_systolic_mmhg, r)) {
    p.r6_abnormal_systolic = *own.abnormal_systolic_mmhg;
  }
  if (own.abnormal_diastolic_mmhg && PlausibleDiastolic(*own.abnormal_diastolic_mmhg, r)) {
    p.r6_abnormal_diastolic = *own.abnormal_diastolic_mmhg;
  }
  // Non-positive intervals would make a deadline fire continuously: the global value stays.
  if (own.self_test_interval_days.value_or(0) > 0) {
    p.self_test_interval_ms = int64_t{*own.self_test_interval_days} * kDayMs;
  }
  if (own.ack_timeout_minutes.value_or(0) > 0) {
    const int64_t ms = int64_t{*own.ack_timeout_minutes} * kMinuteMs;
    p.r1_ack_timeout_ms = ms;
    p.r2_ack_timeout_ms = ms;
    p.r4_ack_timeout_ms = ms;
    p.r5_hypo_ack_timeout_ms = ms;
    p.r5_high_ack_timeout_ms = ms;
    p.r6_ack_timeout_ms = ms;
  }
  if (own.renotify_interval_hours.value_or(0) > 0) {
    p.renotify_interval_ms = int64_t{*own.renotify_interval_hours} * kHourMs;
  }
  return p;
}

}  // namespace alertd::domain
