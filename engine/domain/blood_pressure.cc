// Blood-pressure classification and the plausibility checks every reading passes before grading.
#include "engine/domain/blood_pressure.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <type_traits>

namespace alertd::domain {
namespace {

template <typename T>
BpCategory CategoryOf(T systolic, T diastolic, const BpThresholds& t) {
  auto by_systolic = [&] {
    if (systolic >= t.grade3_systolic) return BpCategory::kGrade3;
    if (systolic >= t.grade2_systolic) return BpCategory::kGrade2;
    if (systolic >= t.grade1_systolic) return BpCategory::kGrade1;
    if (systolic >= t.high_normal_systolic) return BpCategory::kHighNormal;
    return BpCategory::kNormal;
  }();
  auto by_diastolic = [&] {
    if (diastolic >= t.grade3_diastolic) return BpCategory::kGrade3;
    if (diastolic >= t.grade2_diastolic) return BpCategory::kGrade2;
    if (diastolic >= t.grade1_diastolic) return BpCategory::kGrade1;
    if (diastolic >= t.high_normal_diastolic) return BpCategory::kHighNormal;
    return BpCategory::kNormal;
  }();
  return std::max(by_systolic, by_diastolic);
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::optional<Rejection> Impossible(const char* field, double value, const char* unit, double lo, double hi) {
  if (value >= lo && value <= hi) return std::nullopt;
  return Rejection{RejectReason::kImpossibleValue,
                   std::string(field) + " " + Num(value) + " " + unit + " outside " + Num(lo) + ".." + Num(hi)};
}

std::optional<Rejection> CheckValues(const BloodPressure& bp, const PlausibleRanges& r) {
  if (auto e = Impossible("systolic", bp.systolic_mmhg, "mmHg", r.systolic_min, r.systolic_max)) return e;
  if (auto e = Impossible("diastolic", bp.diastolic_mmhg, "mmHg", r.diastolic_min, r.diastolic_max)) return e;
  if (bp.diastolic_mmhg >= bp.systolic_mmhg) {
    return Rejection{RejectReason::kImpossibleValue, "diastolic " + std::to_string(bp.diastolic_mmhg) +
                                                         " mmHg not below systolic " +
                                                         std::to_string(bp.systolic_mmhg) + " mmHg"};
  }
  if (bp.pulse_bpm != 0) return Impossible("pulse", bp.pulse_bpm, "bpm", r.pulse_min, r.pulse_max);
  return std::nullopt;
}

std::optional<Rejection> CheckValues(const Glucose& g, const PlausibleRanges& r) {
  return Impossible("glucose", g.mmol_per_l, "mmol/L", r.glucose_min, r.glucose_max);
}

std::optional<Rejection> CheckValues(const BodyMeasurement& b, const PlausibleRanges& r) {
  if (auto e = Impossible("weight", b.weight_kg, "kg", r.weight_min, r.weight_max)) return e;
  if (b.height_cm != 0) return Impossible("height", b.height_cm, "cm", r.height_min, r.height_max);
  return std::nullopt;
}

}  // namespace

BpClassification ClassifyBp(int systolic_mmhg, int diastolic_mmhg, const BpThresholds& t) {
  BpClassification c;
  c.category = CategoryOf(systolic_mmhg, diastolic_mmhg, t);
  c.isolated_systolic = systolic_mmhg >= t.grade1_systolic && diastolic_mmhg < t.grade1_diastolic;
  c.hypotension = systolic_mmhg < t.hypotension_systolic || diastolic_mmhg < t.hypotension_diastolic;
  return c;
}

BpCategory ClassifyMeanBp(double systolic_mmhg, double diastolic_mmhg, const BpThresholds& t) {
  return CategoryOf(systolic_mmhg, diastolic_mmhg, t);
}

std::optional<Rejection> ValidateReading(const Reading& r, const Policy& p, ProcessingTime now) {
  if (r.worker.value.empty()) return Rejection{RejectReason::kMissingWorkerId, "worker_id is empty"};
  if (r.measured_at.ms == 0) {
    return Rejection{RejectReason::kMissingTimestamp, "measured_at_ms is not set (expected ms since epoch UTC)"};
  }
  if (r.measured_at.ms < 0) {
    return Rejection{RejectReason::kImpossibleValue, "measured_at_ms " + std::to_string(r.measured_at.ms) +
                                                         " is before 1970 (expected ms since epoch UTC)"};
  }
  std::optional<Rejection> bad = std::visit(
      [&](const auto& m) -> std::optional<Rejection> {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, std::monostate>) {
          return Rejection{RejectReason::kNoMeasurement,
                           "reading has no measurement (expected blood_pressure, glucose or body)"};
        } else {
          return CheckValues(m, p.plausible);
        }
      },
      r.measurement);
  if (bad) return bad;
  if (r.measured_at.ms > now.ms + p.max_future_skew_ms) {
    return Rejection{RejectReason::kFutureTimestamp,
                     "measured_at_ms " + std::to_string(r.measured_at.ms) + " is " +
                         std::to_string((r.measured_at.ms - now.ms) / kSecondMs) +
                         " s in the future (device clock wrong?); allowed skew " +
                         std::to_string(p.max_future_skew_ms / kSecondMs) + " s"};
  }
  if (r.measured_at.ms < now.ms - p.retention_horizon_ms) {
    return Rejection{RejectReason::kTooOld,
                     "measured_at_ms " + std::to_string(r.measured_at.ms) + " is " +
                         std::to_string((now.ms - r.measured_at.ms) / kDayMs) +
                         " days old; retention horizon " + std::to_string(p.retention_horizon_ms / kDayMs) +
                         " days"};
  }
  return std::nullopt;
}

}  // namespace alertd::domain
