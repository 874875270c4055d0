// Blood-pressure classification (China 2018 categories) and plausibility checks of readings.
#pragma once

#include <optional>

#include "engine/domain/policy.h"
#include "engine/domain/types.h"

namespace alertd::domain {

struct BpClassification {
  BpCategory category = BpCategory::kNormal;
  bool isolated_systolic = false;  // systolic >= grade 1 and diastolic below grade 1
  bool hypotension = false;        // systolic or diastolic below the hypotension bound
  friend bool operator==(const BpClassification&, const BpClassification&) = default;
};

// The higher of the systolic and diastolic categories applies.
BpClassification ClassifyBp(int systolic_mmhg, int diastolic_mmhg, const BpThresholds& t);

// Category of a (possibly fractional) mean pair, e.g. a window mean of 159.6/99.2 is grade 1.
BpCategory ClassifyMeanBp(double systolic_mmhg, double diastolic_mmhg, const BpThresholds& t);

// Returns why the reading must not be graded, or nullopt if it is plausible. `now` is processing
// time: it bounds how far in the future and how old measured_at may be.
std::optional<Rejection> ValidateReading(const Reading& r, const Policy& p, ProcessingTime now);

}  // namespace alertd::domain
