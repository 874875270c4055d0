// Stable short names of domain enums, used in metrics labels, logs and readable output.
#include "engine/domain/types.h"

namespace alertd::domain {

const char* Name(BpCategory c) {
  switch (c) {
    case BpCategory::kNormal: return "normal";
    case BpCategory::kHighNormal: return "high_normal";
    case BpCategory::kGrade1: return "grade_1";
    case BpCategory::kGrade2: return "grade_2";
    case BpCategory::kGrade3: return "grade_3";
  }
  return "unknown";
}

const char* Name(Rule r) {
  switch (r) {
    case Rule::kR1CriticalBp: return "R1_critical_bp";
    case Rule::kR2SustainedHypertension: return "R2_sustained_hypertension";
    case Rule::kR3SelfTestMissed: return "R3_self_test_missed";
    case Rule::kR4PreShiftFitness: return "R4_pre_shift_fitness";
    case Rule::kR5Glucose: return "R5_glucose";
    case Rule::kR6FocusTracking: return "R6_focus_tracking";
  }
  return "unknown";
}

const char* Name(Severity s) {
  switch (s) {
    case Severity::kInfo: return "info";
    case Severity::kHigh: return "high";
    case Severity::kUrgent: return "urgent";
    case Severity::kCritical: return "critical";
  }
  return "unknown";
}

const char* Name(EscalationLevel l) {
  switch (l) {
    case EscalationLevel::kWorker: return "worker";
    case EscalationLevel::kHealthManager: return "health_manager";
    case EscalationLevel::kUnitSupervisor: return "unit_supervisor";
  }
  return "unknown";
}

const char* Name(EscalationState s) {
  switch (s) {
    case EscalationState::kOpen: return "open";
    case EscalationState::kEscalated: return "escalated";
    case EscalationState::kRenotified: return "renotified";
    case EscalationState::kResolved: return "resolved";
  }
  return "unknown";
}

const char* Name(RejectReason r) {
  switch (r) {
    case RejectReason::kUndecodable: return "undecodable";
    case RejectReason::kMissingWorkerId: return "missing_worker_id";
    case RejectReason::kKeyMismatch: return "key_mismatch";
    case RejectReason::kNoMeasurement: return "no_measurement";
    case RejectReason::kImpossibleValue: return "impossible_value";
    case RejectReason::kFutureTimestamp: return "future_timestamp";
    case RejectReason::kTooOld: return "too_old";
    case RejectReason::kMissingTimestamp: return "missing_timestamp";
    case RejectReason::kTooLarge: return "too_large";
    case RejectReason::kUnknownValue: return "unknown_value";
  }
  return "unknown";
}

const char* Name(ReadingContext c) {
  switch (c) {
    case ReadingContext::kSelfTest: return "self_test";
    case ReadingContext::kPreShift: return "pre_shift";
    case ReadingContext::kCheckup: return "checkup";
    case ReadingContext::kClinic: return "clinic";
  }
  return "unknown";
}

const char* Name(HighRiskPost p) {
  switch (p) {
    case HighRiskPost::kDriver: return "driver";
    case HighRiskPost::kWorkAtHeight: return "work_at_height";
    case HighRiskPost::kHotWork: return "hot_work";
    case HighRiskPost::kConfinedSpace: return "confined_space";
    case HighRiskPost::kElectrical: return "electrical";
  }
  return "unknown";
}

const char* Name(ReferralUrgency u) {
  switch (u) {
    case ReferralUrgency::kRoutine: return "routine";
    case ReferralUrgency::kUrgent: return "urgent";
  }
  return "unknown";
}

}  // namespace alertd::domain
