// alertd-phone's reading of the bodies the real channel payloads (notify::BuildRequest) produce.
#include "engine/notifyd/phone_text.h"

#include <gtest/gtest.h>

#include "engine/notify/payloads.h"
#include "engine/notify/templates.h"
#include "engine/notify/view_model.h"
#include "tests/notify/escalation_samples.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;
using notify::ChannelKind;

struct PhoneCase {
  ChannelKind kind;
  std::string app;
  friend void PrintTo(const PhoneCase& c, std::ostream* os) { *os << notify::ChannelKindName(c.kind); }
};

class PhoneTextTest : public ::testing::TestWithParam<PhoneCase> {};

TEST_P(PhoneTextTest, ShowsTheTitleTheWordsAndTheLinksOfTheRealPayload) {
  const PhoneCase& c = GetParam();
  absl::StatusOr<notify::MessageTemplates> templates = notify::MessageTemplates::Load(ALERTD_NOTIFY_TEMPLATES);
  ASSERT_TRUE(templates.ok()) << templates.status();
  const pb::Escalation event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  notify::MessageLinks links;
  links.worker_page = "http://grid.example/worker/W000155";
  const nlohmann::json view =
      notify::BuildView(event, event.recipients(0), links, notify::MessagePlace{}, notify::Language::kZhCN);
  absl::StatusOr<notify::RenderedText> text = templates->Render(c.kind, notify::Language::kZhCN, view);
  ASSERT_TRUE(text.ok()) << text.status();
  notify::ChannelConfig channel;
  channel.name = "c";
  channel.kind = c.kind;
  channel.url = "http://127.0.0.1:1/x";
  channel.content_type = "application/json";
  channel.body_template = R"({"title": "{{title}}", "text": "{{body}}"})";
  absl::StatusOr<notify::HttpRequest> request =
      notify::BuildRequest(channel, event, *text, event.recipients(0), links, view, notify::testing::kMorningMs);
  ASSERT_TRUE(request.ok()) << request.status();

  const std::vector<PhoneMessage> messages = ReadPhoneMessages(request->body);
  ASSERT_EQ(messages.size(), 1u);
  const PhoneMessage& m = messages[0];
  EXPECT_EQ(m.app, c.app);
  EXPECT_NE(m.title.find(text->title), std::string::npos) << m.title << " vs " << text->title;
  ASSERT_FALSE(m.lines.empty());
  const std::string shown = PhoneText(m, "07:30:15");
  EXPECT_NE(shown.find("168/104"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("**"), std::string::npos) << "markdown marks are not shown: " << shown;
  EXPECT_NE(shown.find("http://grid.example/worker/W000155"), std::string::npos) << shown;
}

INSTANTIATE_TEST_SUITE_P(
    Channels, PhoneTextTest,
    ::testing::Values(PhoneCase{ChannelKind::kWeCom, "企业微信"}, PhoneCase{ChannelKind::kDingTalk, "钉钉"},
                      PhoneCase{ChannelKind::kFeishu, "飞书"}, PhoneCase{ChannelKind::kAlertmanager, "Alertmanager"}),
    [](const ::testing::TestParamInfo<PhoneCase>& p) { return std::string(notify::ChannelKindName(p.param.kind)); });

TEST(PhoneText, AWebhookBodyWithoutTitleOrTextIsShownRawAndCut) {
  const std::string body(5000, 'x');
  const std::vector<PhoneMessage> messages = ReadPhoneMessages(body);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].app, "Webhook");
  EXPECT_LT(PhoneText(messages[0], "").size(), 2300u);
}

TEST(PhoneText, AResolvedAlertSaysSo) {
  const std::vector<PhoneMessage> messages = ReadPhoneMessages(
      R"([{"labels":{"rule":"R1"},"annotations":{"summary":"血压危急"},"endsAt":"2026-11-24T07:30:14.000Z"}])");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].title, "[已解除 resolved] 血压危急");
}

}  // namespace
}  // namespace alertd::notifyd
