// Glucose findings by the policy's R5 thresholds, shared by R5 (glucose) and R6 (focus tracking).
#pragma once

#include "engine/domain/policy.h"
#include "engine/domain/types.h"

namespace alertd::domain {

inline bool HighGlucose(const GlucoseSample& s, const Policy& p) {
  return s.mmol_per_l >= (s.timing == GlucoseTiming::kFasting ? p.glucose_fasting_high : p.glucose_random_high);
}
inline bool Hypoglycaemia(const GlucoseSample& s, const Policy& p) { return s.mmol_per_l < p.glucose_hypo; }
inline bool SevereHypoglycaemia(const GlucoseSample& s, const Policy& p) {
  return s.mmol_per_l < p.glucose_severe_hypo;
}

}  // namespace alertd::domain
