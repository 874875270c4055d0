// alertd-tail's words for wire values: enum labels (unknown values as numbers) and bytes made printable.
#include "engine/cli/tail_text.h"

#include <gtest/gtest.h>

#include <string>

namespace alertd::cli {
namespace {

namespace hg = healthgrid::v1;

struct KeyCase {
  std::string key;
  std::string shown;
};

class TailKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(TailKeyTest, AKeyIsShownAsPlainTextOrEscaped) { EXPECT_EQ(KeyText(&GetParam().key), GetParam().shown); }

INSTANTIATE_TEST_SUITE_P(Keys, TailKeyTest,
                         ::testing::Values(KeyCase{"W000123", "W000123"}, KeyCase{"", ""},
                                           KeyCase{std::string("W\x01\xff", 3), "W\\x01\\xff"},
                                           KeyCase{"a\nb", "a\\nb"}, KeyCase{"say \"hi\"", "say \\\"hi\\\""}));

TEST(TailTextTest, ANullKeySaysSo) { EXPECT_EQ(KeyText(nullptr), "(null)"); }

TEST(TailTextTest, ControlCharactersBecomeQuestionMarksAndUtf8Passes) {
  EXPECT_EQ(Printable("Wang Wei"), "Wang Wei");
  EXPECT_EQ(Printable("\x1b[31mred\x7f"), "?[31mred?");
  EXPECT_EQ(Printable("\xe7\x8e\x8b\xe4\xbc\x9f"), "\xe7\x8e\x8b\xe4\xbc\x9f");  // 王伟
}

TEST(TailTextTest, HexPreviewStopsAtItsLimit) {
  EXPECT_EQ(HexPreview("", 4), "");
  EXPECT_EQ(HexPreview(std::string("\x0a\xff", 2), 4), "0a ff");
  EXPECT_EQ(HexPreview("abcde", 4), "61 62 63 64 ...");
  EXPECT_EQ(HexPreview("abcd", 4), "61 62 63 64");
}

TEST(TailTextTest, KnownEnumsHaveTheHealthGridsWordsAndUnknownOnesTheirNumber) {
  EXPECT_EQ(RuleLabel(hg::R3_SELF_TEST_MISSED), "R3 self-test missed");
  EXPECT_EQ(RuleLabel(static_cast<hg::Rule>(99)), "rule 99");
  EXPECT_EQ(SeverityLabel(hg::CRITICAL), "CRITICAL");
  EXPECT_EQ(SeverityLabel(static_cast<hg::Severity>(42)), "SEV-42");
  EXPECT_EQ(StateLabel(hg::RENOTIFIED), "RENOTIFIED");
  EXPECT_EQ(StateLabel(static_cast<hg::EscalationState>(42)), "STATE-42");
  EXPECT_EQ(RoleLabel(hg::ROLE_EXTRA), "policy recipient");
  EXPECT_EQ(RoleLabel(static_cast<hg::RecipientRole>(42)), "role 42");
  EXPECT_EQ(UrgencyLabel(hg::REFERRAL_URGENT), "URGENT");
  EXPECT_EQ(UrgencyLabel(static_cast<hg::ReferralUrgency>(42)), "URGENCY-42");
  EXPECT_EQ(DeadLetterReasonLabel(static_cast<hg::DeadLetterReason>(4242)), "REASON-4242");
}

}  // namespace
}  // namespace alertd::cli
