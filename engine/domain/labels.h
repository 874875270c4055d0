// The one label table of each domain enum: its stable name and the words people read.
//
// `name` is what metrics labels, logs and the policy file carry: never change one, dashboards and
// policy files depend on it. `text` is what people read in escalation reasons and the tail. Name()
// and Text() (types.h) look values up here; a value outside its table reads "unknown".
#pragma once

#include <array>

#include "engine/domain/types.h"

namespace alertd::domain {

template <typename Enum>
struct Label {
  Enum value;
  const char* name;
  const char* text;
};

inline constexpr std::array<Label<Rule>, 6> kRuleLabels = {{
    {Rule::kR1CriticalBp, "R1_critical_bp", "R1 critical BP"},
    {Rule::kR2SustainedHypertension, "R2_sustained_hypertension", "R2 sustained hypertension"},
    {Rule::kR3SelfTestMissed, "R3_self_test_missed", "R3 self-test missed"},
    {Rule::kR4PreShiftFitness, "R4_pre_shift_fitness", "R4 pre-shift fitness"},
    {Rule::kR5Glucose, "R5_glucose", "R5 glucose"},
    {Rule::kR6FocusTracking, "R6_focus_tracking", "R6 focus tracking"},
}};

inline constexpr std::array<Label<BpCategory>, 5> kBpCategoryLabels = {{
    {BpCategory::kNormal, "normal", "normal"},
    {BpCategory::kHighNormal, "high_normal", "high-normal"},
    {BpCategory::kGrade1, "grade_1", "grade-1"},
    {BpCategory::kGrade2, "grade_2", "grade-2"},
    {BpCategory::kGrade3, "grade_3", "grade-3"},
}};

inline constexpr std::array<Label<Severity>, 4> kSeverityLabels = {{
    {Severity::kInfo, "info", "INFO"},
    {Severity::kHigh, "high", "HIGH"},
    {Severity::kUrgent, "urgent", "URGENT"},
    {Severity::kCritical, "critical", "CRITICAL"},
}};

// The text is who the level addresses, as a reason says it ("escalated to the unit supervisor").
inline constexpr std::array<Label<EscalationLevel>, 3> kEscalationLevelLabels = {{
    {EscalationLevel::kWorker, "worker", "the worker"},
    {EscalationLevel::kHealthManager, "health_manager", "the health manager"},
    {EscalationLevel::kUnitSupervisor, "unit_supervisor", "the unit supervisor"},
}};

inline constexpr std::array<Label<EscalationState>, 4> kEscalationStateLabels = {{
    {EscalationState::kOpen, "open", "OPEN"},
    {EscalationState::kEscalated, "escalated", "ESCALATED"},
    {EscalationState::kRenotified, "renotified", "RENOTIFIED"},
    {EscalationState::kResolved, "resolved", "RESOLVED"},
}};

inline constexpr std::array<Label<RecipientRole>, 4> kRecipientRoleLabels = {{
    {RecipientRole::kWorker, "worker", "worker"},
    {RecipientRole::kHealthManager, "health_manager", "health manager"},
    {RecipientRole::kUnitSupervisor, "unit_supervisor", "unit supervisor"},
    {RecipientRole::kExtra, "extra", "policy recipient"},
}};

inline constexpr std::array<Label<ReferralUrgency>, 2> kReferralUrgencyLabels = {{
    {ReferralUrgency::kRoutine, "routine", "ROUTINE"},
    {ReferralUrgency::kUrgent, "urgent", "URGENT"},
}};

inline constexpr std::array<Label<RejectReason>, 10> kRejectReasonLabels = {{
    {RejectReason::kUndecodable, "undecodable", "undecodable"},
    {RejectReason::kMissingWorkerId, "missing_worker_id", "missing worker id"},
    {RejectReason::kKeyMismatch, "key_mismatch", "key mismatch"},
    {RejectReason::kNoMeasurement, "no_measurement", "no measurement"},
    {RejectReason::kImpossibleValue, "impossible_value", "impossible value"},
    {RejectReason::kFutureTimestamp, "future_timestamp", "future timestamp"},
    {RejectReason::kTooOld, "too_old", "too old"},
    {RejectReason::kMissingTimestamp, "missing_timestamp", "missing timestamp"},
    {RejectReason::kTooLarge, "too_large", "too large"},
    {RejectReason::kUnknownValue, "unknown_value", "unknown value"},
}};

inline constexpr std::array<Label<ReadingContext>, 4> kReadingContextLabels = {{
    {ReadingContext::kSelfTest, "self_test", "self-test"},
    {ReadingContext::kPreShift, "pre_shift", "pre-shift"},
    {ReadingContext::kCheckup, "checkup", "check-up"},
    {ReadingContext::kClinic, "clinic", "clinic"},
}};

// The text is the work the post does, as a reason says it ("clocked in to work at height").
inline constexpr std::array<Label<HighRiskPost>, 5> kHighRiskPostLabels = {{
    {HighRiskPost::kDriver, "driver", "driving"},
    {HighRiskPost::kWorkAtHeight, "work_at_height", "work at height"},
    {HighRiskPost::kHotWork, "hot_work", "hot work"},
    {HighRiskPost::kConfinedSpace, "confined_space", "confined-space work"},
    {HighRiskPost::kElectrical, "electrical", "electrical work"},
}};

// The text is how a glucose reading's timing is quoted ("12.3 mmol/L (2-h)").
inline constexpr std::array<Label<GlucoseTiming>, 3> kGlucoseTimingLabels = {{
    {GlucoseTiming::kFasting, "fasting", "fasting"},
    {GlucoseTiming::kRandom, "random", "random"},
    {GlucoseTiming::kPostprandial2h, "postprandial_2h", "2-h"},
}};

// The table of an enum, for code that handles every enum alike (Name, Text, the coverage test).
constexpr const auto& LabelsOf(Rule) { return kRuleLabels; }
constexpr const auto& LabelsOf(BpCategory) { return kBpCategoryLabels; }
constexpr const auto& LabelsOf(Severity) { return kSeverityLabels; }
constexpr const auto& LabelsOf(EscalationLevel) { return kEscalationLevelLabels; }
constexpr const auto& LabelsOf(EscalationState) { return kEscalationStateLabels; }
constexpr const auto& LabelsOf(RecipientRole) { return kRecipientRoleLabels; }
constexpr const auto& LabelsOf(ReferralUrgency) { return kReferralUrgencyLabels; }
constexpr const auto& LabelsOf(RejectReason) { return kRejectReasonLabels; }
constexpr const auto& LabelsOf(ReadingContext) { return kReadingContextLabels; }
constexpr const auto& LabelsOf(HighRiskPost) { return kHighRiskPostLabels; }
constexpr const auto& LabelsOf(GlucoseTiming) { return kGlucoseTimingLabels; }

}  // namespace alertd::domain
