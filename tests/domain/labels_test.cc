// The label tables: every enumerator has one entry, with a name and words, and names stay unique.
#include "engine/domain/labels.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

namespace alertd::domain {
namespace {

// Walks every value from 1 to the largest enumerator (each domain enum numbers its enumerators from 1
// without gaps, as health.proto does) and checks the table against Name and Text.
template <typename Enum>
void ExpectEveryEnumeratorLabelled(Enum largest, std::size_t enumerators) {
  using Number = std::underlying_type_t<Enum>;
  const auto& table = LabelsOf(largest);
  EXPECT_EQ(table.size(), enumerators);
  std::set<std::string> names;
  for (Number n = 1; n <= static_cast<Number>(largest); ++n) {
    const auto value = static_cast<Enum>(n);
    SCOPED_TRACE(testing::Message() << "value " << static_cast<int>(n));
    EXPECT_STRNE(Name(value), "unknown");
    EXPECT_STRNE(Text(value), "unknown");
    EXPECT_NE(std::string(Name(value)), "");
    EXPECT_NE(std::string(Text(value)), "");
    EXPECT_TRUE(names.insert(Name(value)).second) << "name " << Name(value) << " twice";
  }
  EXPECT_STREQ(Name(static_cast<Enum>(0)), "unknown");
  EXPECT_STREQ(Text(static_cast<Enum>(static_cast<Number>(largest) + 1)), "unknown");
}

TEST(LabelsTest, EveryRuleHasALabel) { ExpectEveryEnumeratorLabelled(Rule::kR6FocusTracking, 6); }
TEST(LabelsTest, EveryBpCategoryHasALabel) { ExpectEveryEnumeratorLabelled(BpCategory::kGrade3, 5); }
TEST(LabelsTest, EverySeverityHasALabel) { ExpectEveryEnumeratorLabelled(Severity::kCritical, 4); }
TEST(LabelsTest, EveryEscalationLevelHasALabel) { ExpectEveryEnumeratorLabelled(EscalationLevel::kUnitSupervisor, 3); }
TEST(LabelsTest, EveryEscalationStateHasALabel) { ExpectEveryEnumeratorLabelled(EscalationState::kResolved, 4); }
TEST(LabelsTest, EveryRecipientRoleHasALabel) { ExpectEveryEnumeratorLabelled(RecipientRole::kExtra, 4); }
TEST(LabelsTest, EveryReferralUrgencyHasALabel) { ExpectEveryEnumeratorLabelled(ReferralUrgency::kUrgent, 2); }
TEST(LabelsTest, EveryRejectReasonHasALabel) { ExpectEveryEnumeratorLabelled(RejectReason::kUnknownValue, 10); }
TEST(LabelsTest, EveryReadingContextHasALabel) { ExpectEveryEnumeratorLabelled(ReadingContext::kClinic, 4); }
TEST(LabelsTest, EveryHighRiskPostHasALabel) { ExpectEveryEnumeratorLabelled(HighRiskPost::kElectrical, 5); }
TEST(LabelsTest, EveryGlucoseTimingHasALabel) { ExpectEveryEnumeratorLabelled(GlucoseTiming::kPostprandial2h, 3); }

// Names are what dashboards and policy files hold; a changed one breaks them silently.
TEST(LabelsTest, NamesThatMetricsAndPolicyFilesUseAreUnchanged) {
  EXPECT_STREQ(Name(Rule::kR2SustainedHypertension), "R2_sustained_hypertension");
  EXPECT_STREQ(Name(BpCategory::kHighNormal), "high_normal");
  EXPECT_STREQ(Name(EscalationLevel::kUnitSupervisor), "unit_supervisor");
  EXPECT_STREQ(Name(RejectReason::kMissingTimestamp), "missing_timestamp");
  EXPECT_STREQ(Name(ReferralUrgency::kRoutine), "routine");
}

}  // namespace
}  // namespace alertd::domain
