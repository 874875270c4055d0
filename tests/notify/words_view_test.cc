// The view model: codes in words, times on the grid's clock, the same keys for every event.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/notify/view_model.h"
#include "engine/notify/words.h"
#include "escalation_samples.h"

namespace alertd::notify {
namespace {

using testing::SampleEscalation;
namespace pb = healthgrid::v1;

struct LocalTimeCase {
  int64_t ms;
  int offset_minutes;
  const char* expected;

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const LocalTimeCase& c, std::ostream* os) {
    *os << c.ms << " ms at " << c.offset_minutes << " min";
  }
};

class LocalTimeTest : public ::testing::TestWithParam<LocalTimeCase> {};

TEST_P(LocalTimeTest, ReadsOnTheGridsClock) {
  EXPECT_EQ(LocalTimeText(GetParam().ms, GetParam().offset_minutes), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, LocalTimeTest,
    ::testing::Values(LocalTimeCase{testing::kMorningMs, 8 * 60, "2026-11-24 07:30"},  // +08:00 crosses the date
                      LocalTimeCase{testing::kMorningMs, 0, "2026-11-23 23:30"},
                      LocalTimeCase{1795449600000, 8 * 60, "2026-11-24 00:00"},  // 16:00 UTC = local midnight
                      LocalTimeCase{1795449599999, 8 * 60, "2026-11-23 23:59"},
                      LocalTimeCase{1795449600000, -(5 * 60 + 30), "2026-11-23 10:30"},
                      LocalTimeCase{-60000, 0, "1969-12-31 23:59"},  // before the epoch
                      LocalTimeCase{0, 8 * 60, ""}),
    [](const auto& tc) {
      return testing::CaseName(tc.param.expected[0] ? tc.param.expected : "unset", tc.index);
    });  // unset stays empty

TEST(UtcOffsetText, SignsAndPads) {
  EXPECT_EQ(UtcOffsetText(480), "+08:00");
  EXPECT_EQ(UtcOffsetText(-330), "-05:30");
  EXPECT_EQ(UtcOffsetText(0), "+00:00");
}

std::set<std::string> KeysOf(const nlohmann::json& view) {
  std::set<std::string> keys;
  for (const auto& [key, value] : view.items()) keys.insert(key);
  return keys;
}

TEST(BuildView, EveryEventHasTheSpecimensKeysSoTemplatesCheckedAgainstItFitAll) {
  const std::set<std::string> specimen = KeysOf(SpecimenView(Language::kZhCN));
  for (int rule = pb::R1_CRITICAL_BP; rule <= pb::R6_FOCUS_TRACKING; ++rule) {
    pb::Escalation bare;  // nothing set at all: still every key
    bare.set_rule(static_cast<pb::Rule>(rule));
    for (const pb::Escalation& event : {SampleEscalation(static_cast<pb::Rule>(rule)), bare}) {
      const nlohmann::json view = BuildView(event, event.recipients_size() ? event.recipients(0) : pb::Recipient{},
                                            MessageLinks{}, MessagePlace{}, Language::kEn);
      EXPECT_EQ(KeysOf(view), specimen) << "rule " << rule;
      EXPECT_EQ(KeysOf(view["latest_blood_pressure"]), KeysOf(SpecimenView(Language::kEn)["blood_pressure"][0]));
      EXPECT_EQ(KeysOf(view["latest_glucose"]), KeysOf(SpecimenView(Language::kEn)["glucose"][0]));
    }
  }
}

TEST(BuildView, PutsTheEvidenceInWordsOnTheGridsClock) {
  pb::Escalation event = SampleEscalation(pb::R4_PRE_SHIFT_FITNESS);
  const MessageLinks links{"https://ack", "", "", "https://worker"};
  const nlohmann::json zh =
      BuildView(event, event.recipients(0), links, MessagePlace{"钻井公司", "钻井三队", 480}, Language::kZhCN);
  EXPECT_EQ(zh["rule"], "班前适岗检测");
  EXPECT_EQ(zh["rule_code"], "R4");
  EXPECT_EQ(zh["severity"], "紧急");
  EXPECT_EQ(zh["severity_code"], "URGENT");
  EXPECT_EQ(zh["is_urgent"], true);
  EXPECT_EQ(zh["state"], "新发");
  EXPECT_EQ(zh["level"], "健康管理员");
  EXPECT_EQ(zh["recipient_name"], "周波");
  EXPECT_EQ(zh["grid_name"], "钻井三队");
  EXPECT_EQ(zh["unit_name"], "钻井公司");
  EXPECT_EQ(zh["trigger_at"], "2026-11-24 07:30");
  EXPECT_EQ(zh["latest_blood_pressure"]["systolic"], "168");
  EXPECT_EQ(zh["latest_blood_pressure"]["diastolic"], "104");
  EXPECT_EQ(zh["latest_blood_pressure"]["pulse"], "88");
  EXPECT_EQ(zh["latest_blood_pressure"]["category"], "2级高血压");
  EXPECT_EQ(zh["latest_blood_pressure"]["context"], "班前检测");
  EXPECT_EQ(zh["has_acknowledge_url"], true);
  EXPECT_EQ(zh["has_resolve_url"], false);
  EXPECT_EQ(zh["worker_url"], "https://worker");
  EXPECT_NE(zh["action"].get<std::string>().find("请在15分钟内复测并确认"), std::string::npos);

  const nlohmann::json en = BuildView(event, event.recipients(0), links, MessagePlace{}, Language::kEn);
  EXPECT_EQ(en["rule"], "pre-shift fitness");
  EXPECT_EQ(en["latest_blood_pressure"]["category"], "grade 2 hypertension");
  EXPECT_EQ(en["grid_name"], "U08-G02");  // no name known: the id stands in
}

TEST(BuildView, GlucoseInMmolPerLitreWithOneDecimal) {
  const pb::Escalation event = SampleEscalation(pb::R5_GLUCOSE);
  const nlohmann::json view = BuildView(event, event.recipients(0), {}, {}, Language::kZhCN);
  EXPECT_EQ(view["latest_glucose"]["mmol_per_l"], "2.6");
  EXPECT_EQ(view["latest_glucose"]["timing"], "随机");
  EXPECT_EQ(view["has_latest_blood_pressure"], false);
}

TEST(BuildView, AWorkerWithoutAProfileIsNamedById) {
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  event.clear_worker_name();
  EXPECT_EQ(BuildView(event, event.recipients(0), {}, {}, Language::kZhCN)["worker_name"], "W000155");
}

TEST(BuildView, UnknownEnumValuesReadAsUnknownInsteadOfFailing) {
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  event.set_rule(static_cast<pb::Rule>(99));
  event.set_severity(static_cast<pb::Severity>(42));
  event.set_state(static_cast<pb::EscalationState>(7));
  const nlohmann::json view = BuildView(event, event.recipients(0), {}, {}, Language::kEn);
  EXPECT_EQ(view["rule"], "unknown");
  EXPECT_EQ(view["severity_code"], "UNKNOWN");
  EXPECT_EQ(view["state"], "unknown");
}

struct ActionCase {
  pb::Rule rule;
  pb::Severity severity;
  pb::EscalationLevel level;
  double glucose;  // 0: no glucose quoted
  const char* zh_contains;

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const ActionCase& c, std::ostream* os) {
    *os << RuleCode(c.rule) << " " << healthgrid::v1::Severity_Name(c.severity) << " "
        << healthgrid::v1::EscalationLevel_Name(c.level);
  }
};

class ActionWordsTest : public ::testing::TestWithParam<ActionCase> {};

TEST_P(ActionWordsTest, SaysWhatToDoForTheRuleLevelAndFinding) {
  const ActionCase& c = GetParam();
  pb::Escalation event = SampleEscalation(c.rule);
  event.set_severity(c.severity);
  event.set_level(c.level);
  event.clear_glucose_evidence();
  if (c.glucose > 0) event.add_glucose_evidence()->set_mmol_per_l(c.glucose);
  const std::string words = ActionWords(event, Language::kZhCN);
  EXPECT_NE(words.find(c.zh_contains), std::string::npos) << words;
  EXPECT_FALSE(ActionWords(event, Language::kEn).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Ladder, ActionWordsTest,
    ::testing::Values(ActionCase{pb::R4_PRE_SHIFT_FITNESS, pb::URGENT, pb::HEALTH_MANAGER, 0, "请在15分钟内复测并确认"},
                      ActionCase{pb::R4_PRE_SHIFT_FITNESS, pb::URGENT, pb::WORKER, 0, "复测合格前不得上岗"},
                      ActionCase{pb::R4_PRE_SHIFT_FITNESS, pb::CRITICAL, pb::UNIT_SUPERVISOR, 0, "停止作业"},
                      ActionCase{pb::R4_PRE_SHIFT_FITNESS, pb::HIGH, pb::HEALTH_MANAGER, 0, "班前血压检测"},
                      ActionCase{pb::R1_CRITICAL_BP, pb::URGENT, pb::HEALTH_MANAGER, 0, "30分钟内确认"},
                      ActionCase{pb::R3_SELF_TEST_MISSED, pb::HIGH, pb::WORKER, 0, "自测"},
                      ActionCase{pb::R5_GLUCOSE, pb::URGENT, pb::HEALTH_MANAGER, 2.6, "低血糖"},
                      ActionCase{pb::R5_GLUCOSE, pb::URGENT, pb::HEALTH_MANAGER, 3.8, "低血糖"},  // just below 3.9
                      ActionCase{pb::R5_GLUCOSE, pb::HIGH, pb::HEALTH_MANAGER, 3.9, "复查血糖"},  // 3.9 is not low
                      ActionCase{pb::R5_GLUCOSE, pb::HIGH, pb::HEALTH_MANAGER, 12.4, "复查血糖"}),
    [](const auto& tc) {
      return testing::CaseName(std::string(RuleCode(tc.param.rule)) + " " + pb::Severity_Name(tc.param.severity) + " " +
                                   pb::EscalationLevel_Name(tc.param.level),
                               tc.index);
    });

TEST(ActionWords, AResolvedEventAsksForNothing) {
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP, pb::RESOLVED);
  EXPECT_EQ(ActionWords(event, Language::kZhCN), "无需进一步处理");
  EXPECT_EQ(ActionWords(event, Language::kEn), "No further action needed");
}

TEST(Language, TagsRoundTripAndUnknownTagsAreRefused) {
  EXPECT_EQ(ParseLanguage(LanguageTag(Language::kZhCN)), Language::kZhCN);
  EXPECT_EQ(ParseLanguage(LanguageTag(Language::kEn)), Language::kEn);
  EXPECT_EQ(ParseLanguage("zh"), std::nullopt);
  EXPECT_EQ(ParseLanguage("EN"), std::nullopt);
}

}  // namespace
}  // namespace alertd::notify
