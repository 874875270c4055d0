// The message templates: every rule, state and level renders in both languages with every tag known.
#include "engine/notify/templates.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/notify/view_model.h"
#include "escalation_samples.h"

namespace alertd::notify {
namespace {

using testing::SampleEscalation;
namespace pb = healthgrid::v1;
namespace fs = std::filesystem;

MessageTemplates ShippedTemplates() {
  absl::StatusOr<MessageTemplates> templates = MessageTemplates::Load(ALERTD_NOTIFY_TEMPLATES);
  EXPECT_TRUE(templates.ok()) << templates.status();
  return templates.ok() ? *std::move(templates) : MessageTemplates{};
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every rule x state x level x language x channel kind: the shipped templates load (so each tag is
// a view key: Load checks them against SpecimenView), render without a leftover tag, and say who,
// which rule, which state and what to do.
TEST(ShippedTemplates, EveryRuleStateAndLevelRendersInBothLanguagesWithNothingUnfilled) {
  const MessageTemplates templates = ShippedTemplates();
  const MessageLinks links{"https://n.example/a?t=1", "https://n.example/r?t=1", "https://n.example/s?t=1",
                           "https://n.example/w/W000155"};
  int rendered = 0;
  for (int rule = pb::R1_CRITICAL_BP; rule <= pb::R6_FOCUS_TRACKING; ++rule) {
    for (int state = pb::OPEN; state <= pb::RESOLVED; ++state) {
      for (int level = pb::WORKER; level <= pb::UNIT_SUPERVISOR; ++level) {
        const pb::Escalation event =
            SampleEscalation(static_cast<pb::Rule>(rule), static_cast<pb::EscalationState>(state),
                             static_cast<pb::EscalationLevel>(level));
        for (Language language : {Language::kZhCN, Language::kEn}) {
          const nlohmann::json view =
              BuildView(event, event.recipients(0), links, MessagePlace{"钻井公司", "钻井三队", 480}, language);
          for (ChannelKind kind : kChannelKinds) {
            const std::string where = ::testing::PrintToString(
                std::tuple(rule, state, level, std::string(LanguageTag(language)), std::string(ChannelKindName(kind))));
            absl::StatusOr<RenderedText> text = templates.Render(kind, language, view);
            ASSERT_TRUE(text.ok()) << where << ": " << text.status();
            for (const std::string* part : {&text->title, &text->body}) {
              EXPECT_FALSE(Contains(*part, "{{")) << where << "\n" << *part;
              EXPECT_FALSE(Contains(*part, "}}")) << where << "\n" << *part;
            }
            EXPECT_TRUE(Contains(text->title, view["rule"].get<std::string>())) << where << "\n" << text->title;
            EXPECT_TRUE(Contains(text->title, "杨建国")) << where;
            EXPECT_TRUE(Contains(text->body, view["state"].get<std::string>())) << where << "\n" << text->body;
            EXPECT_TRUE(Contains(text->body, view["action"].get<std::string>())) << where << "\n" << text->body;
            EXPECT_TRUE(Contains(text->body, view["level"].get<std::string>())) << where;
            EXPECT_TRUE(Contains(text->body, "钻井三队")) << where;
            EXPECT_TRUE(Contains(text->body, "2026-11-24 07:30")) << where;
            EXPECT_EQ(Contains(text->body, links.acknowledge), state != pb::RESOLVED) << where << "\n" << text->body;
            if (rule == pb::R5_GLUCOSE) {
              EXPECT_TRUE(Contains(text->body, "2.6 mmol/L")) << where;
            }
            if (rule == pb::R1_CRITICAL_BP || rule == pb::R4_PRE_SHIFT_FITNESS) {
              EXPECT_TRUE(Contains(text->body, "168/104 mmHg")) << where;
            }
            if (rule == pb::R2_SUSTAINED_HYPERTENSION) {
              EXPECT_TRUE(Contains(text->body, "166/101 mmHg")) << where;
            }
            EXPECT_EQ(text->title.find('\n'), std::string::npos) << where;
            EXPECT_FALSE(Contains(text->body, "\n\n\n")) << where << ": a left-out section left empty lines\n"
                                                         << text->body;
            EXPECT_FALSE(text->body.starts_with("\n")) << where;
            ++rendered;
          }
        }
      }
    }
  }
  EXPECT_EQ(rendered, 6 * 4 * 3 * 2 * 5);
}

TEST(ShippedTemplates, AChineseMessageForAnUnfitDriverSaysWhatToDoInChinese) {
  const MessageTemplates templates = ShippedTemplates();
  const pb::Escalation event = SampleEscalation(pb::R4_PRE_SHIFT_FITNESS);
  const nlohmann::json view = BuildView(event, event.recipients(0), {}, {}, Language::kZhCN);
  absl::StatusOr<RenderedText> text = templates.Render(ChannelKind::kWeCom, Language::kZhCN, view);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->title, "【紧急】班前适岗检测 · 杨建国 · U08-G02 · 168/104");
  EXPECT_TRUE(Contains(text->body, "请在15分钟内复测并确认")) << text->body;
  EXPECT_TRUE(Contains(text->body, "脉搏 88 次/分")) << text->body;
}

struct BadTemplateCase {
  const char* name;
  const char* text;
  const char* error;  // expected inside the error message

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const BadTemplateCase& c, std::ostream* os) { *os << c.name; }
};

class CheckTemplateTest : public ::testing::TestWithParam<BadTemplateCase> {};

TEST_P(CheckTemplateTest, RefusesWithTheFileLineAndTag) {
  const absl::Status st = CheckTemplate(GetParam().text, SpecimenView(Language::kZhCN), "zh-CN/wecom.body.mustache");
  ASSERT_FALSE(st.ok()) << GetParam().name;
  EXPECT_TRUE(Contains(std::string(st.message()), GetParam().error)) << st.message();
}

INSTANTIATE_TEST_SUITE_P(
    Refusals, CheckTemplateTest,
    ::testing::Values(
        BadTemplateCase{"misspelt key", "x\n{{worker_nmae}}",
                        "zh-CN/wecom.body.mustache:2: {{worker_nmae}}: unknown key \"worker_nmae\""},
        BadTemplateCase{"misspelt section", "{{#has_windw}}x{{/has_windw}}", ":1: {{#has_windw}}: unknown key"},
        BadTemplateCase{"element key outside its list", "{{systolic}}", "unknown key \"systolic\""},
        BadTemplateCase{"misspelt dotted key", "{{latest_blood_pressure.systolik}}", "unknown key"},
        BadTemplateCase{"a list as a value", "{{blood_pressure}}", "is a list; open it as a section"},
        BadTemplateCase{"a group as a value", "{{window}}", "is a group of keys"},
        BadTemplateCase{"unclosed section", "a\nb\n{{#is_open}}x", "zh-CN/wecom.body.mustache:3: Unclosed section"},
        BadTemplateCase{"unclosed tag", "{{worker_name", "zh-CN/wecom.body.mustache:1: Unclosed tag"},
        BadTemplateCase{"mismatched close", "{{#is_open}}x{{/is_resolved}}", "zh-CN/wecom.body.mustache"},
        BadTemplateCase{"partial", "{{> footer}}", "partial tags are not supported"},
        BadTemplateCase{"delimiter change", "{{=<% %>=}}<%worker_name%>", "set-delimiter tags are not supported"}),
    [](const auto& tc) { return testing::CaseName(tc.param.name, tc.index); });

TEST(CheckTemplate, AcceptsSectionsThatResolveInTheirOwnContextAndOuterKeysInside) {
  const nlohmann::json specimen = SpecimenView(Language::kEn);
  for (const char* ok :
       {"{{#blood_pressure}}{{systolic}}/{{diastolic}} for {{worker_name}}{{/blood_pressure}}",
        "{{#window}}{{mean_systolic}}{{/window}}", "{{#has_window}}{{window.days}}{{/has_window}}",
        "{{^has_glucose}}none{{/has_glucose}}", "{{{reason}}} {{&action}} {{! a comment }}", "{{ worker_name }}"}) {
    EXPECT_TRUE(CheckTemplate(ok, specimen, "t").ok()) << ok << ": " << CheckTemplate(ok, specimen, "t");
  }
}

TEST(RenderTemplate, JsonEscapingKeepsAHostileNameInsideItsString) {
  nlohmann::json view = SpecimenView(Language::kEn);
  view["worker_name"] = "Li \"Ming\"\n\\ </script>";
  absl::StatusOr<std::string> body =
      RenderTemplate(R"({"name": "{{worker_name}}"})", view, TemplateEscape::kJsonString);
  ASSERT_TRUE(body.ok()) << body.status();
  const nlohmann::json parsed = nlohmann::json::parse(*body);
  EXPECT_EQ(parsed["name"], "Li \"Ming\"\n\\ </script>");
}

TEST(RenderTemplate, ALineHoldingOnlyASectionTagLeavesNoLineBehind) {
  nlohmann::json view = SpecimenView(Language::kEn);
  view["is_resolved"] = false;
  view["is_open"] = true;
  absl::StatusOr<std::string> text = RenderTemplate(
      "{{! a comment line }}\na\n  {{#is_resolved}}\nresolved\n{{/is_resolved}}\n{{#is_open}}\nopen {{rule_code}}\n  "
      "{{/is_open}}  \nb",
      view, TemplateEscape::kNone);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "a\nopen R1\nb");
}

TEST(RenderTemplate, TextIsNotHtmlEscapedBecauseChatClientsWouldShowTheEntities) {
  nlohmann::json view = SpecimenView(Language::kEn);
  view["reason"] = "BP 168/104 & rising <retest>";
  absl::StatusOr<std::string> text = RenderTemplate("{{reason}}", view, TemplateEscape::kNone);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "BP 168/104 & rising <retest>");
}

// Templates are files read at start: a programme's edit shows in the next message, no rebuild; a
// broken edit stops the start with the file's name.
class EditedTemplatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::path("alertd-notify-templates-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(ALERTD_NOTIFY_TEMPLATES, dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& relative, const std::string& text) {
    std::ofstream(dir_ / relative, std::ios::trunc) << text;
  }
  fs::path dir_;
};

TEST_F(EditedTemplatesTest, AnEditedWordingIsUsedWithoutARebuild) {
  Write("zh-CN/dingtalk.title.mustache", "健康提醒:{{worker_name}} {{rule}}");
  absl::StatusOr<MessageTemplates> templates = MessageTemplates::Load(dir_.string());
  ASSERT_TRUE(templates.ok()) << templates.status();
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  absl::StatusOr<RenderedText> text = templates->Render(ChannelKind::kDingTalk, Language::kZhCN,
                                                        BuildView(event, event.recipients(0), {}, {}, Language::kZhCN));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->title, "健康提醒:杨建国 危急血压");
}

TEST_F(EditedTemplatesTest, ATemplateThatDoesNotParseIsAnErrorNamingTheFile) {
  Write("en/feishu.body.mustache", "line 1\n{{#is_open}}never closed");
  const absl::StatusOr<MessageTemplates> templates = MessageTemplates::Load(dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_TRUE(Contains(std::string(templates.status().message()), "en/feishu.body.mustache:2: Unclosed section"))
      << templates.status();
}

TEST_F(EditedTemplatesTest, AnUnknownKeyIsAnErrorNamingTheFileAndLine) {
  Write("zh-CN/alertmanager.title.mustache", "{{rule}}\n{{grid}}");
  const absl::StatusOr<MessageTemplates> templates = MessageTemplates::Load(dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_TRUE(
      Contains(std::string(templates.status().message()), "zh-CN/alertmanager.title.mustache:2: {{grid}}: unknown key"))
      << templates.status();
}

TEST_F(EditedTemplatesTest, AMissingTemplateIsAnErrorNamingIt) {
  fs::remove(dir_ / "en/webhook.body.mustache");
  const absl::StatusOr<MessageTemplates> templates = MessageTemplates::Load(dir_.string());
  ASSERT_FALSE(templates.ok());
  EXPECT_TRUE(Contains(std::string(templates.status().message()), "en/webhook.body.mustache: cannot read"))
      << templates.status();
}

TEST(MessageTemplates, RenderingWithoutLoadingIsAnErrorNotACrash) {
  const MessageTemplates empty;
  EXPECT_FALSE(empty.Render(ChannelKind::kWeCom, Language::kZhCN, SpecimenView(Language::kZhCN)).ok());
}

}  // namespace
}  // namespace alertd::notify
