// The notification config: the shipped file parses; every refusal names file, line, field and what was expected.
#include "engine/notify/notify_config.h"

#include <gtest/gtest.h>

#include <string>

#include "escalation_samples.h"

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(ShippedNotifyConfig, ParsesWithItsChannelsRoutesAndQuietHours) {
  const absl::StatusOr<NotifyConfig> config = LoadNotifyConfig(ALERTD_NOTIFY_CONFIG);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->language, Language::kZhCN);
  EXPECT_EQ(config->utc_offset_minutes, 480);
  ASSERT_TRUE(config->quiet_hours.has_value());
  EXPECT_EQ(*config->quiet_hours, (QuietHours{22 * 60, 7 * 60}));
  ASSERT_NE(config->FindChannel("unit-dingtalk"), nullptr);
  EXPECT_EQ(config->FindChannel("unit-dingtalk")->kind, ChannelKind::kDingTalk);
  EXPECT_FALSE(config->FindChannel("unit-dingtalk")->secret.empty());
  ASSERT_NE(config->FindChannel("clinic-desk"), nullptr);
  EXPECT_EQ(config->FindChannel("clinic-desk")->body_escape, TemplateEscape::kJsonString);
  EXPECT_EQ(config->FindChannel("nope"), nullptr);
  ASSERT_EQ(config->recipients.size(), 6u);
  const RecipientRoute& on_call = config->recipients[3];
  EXPECT_EQ(on_call.role, pb::RECIPIENT_ROLE_UNSPECIFIED);
  EXPECT_FALSE(on_call.quiet_hours.has_value());                      // quiet_hours: off
  EXPECT_EQ(config->recipients[0].quiet_hours, config->quiet_hours);  // inherited
  EXPECT_EQ(config->recipients[4].person_id, "HM0042");
  EXPECT_EQ(config->recipients[4].language, Language::kEn);
  EXPECT_EQ(config->recipients[5].rules,
            (std::set<pb::Rule>{pb::R1_CRITICAL_BP, pb::R2_SUSTAINED_HYPERTENSION, pb::R4_PRE_SHIFT_FITNESS}));
  EXPECT_EQ(config->recipients[1].min_severity, pb::HIGH);
}

constexpr const char* kChannels = "channels:\n  hm:\n    kind: wecom\n    url: https://h.example/x\n";

struct BadConfigCase {
  const char* name;
  std::string yaml;
  const char* error;  // expected inside the message, from the file name on

  // gtest names the case by this, not by its bytes.
  friend void PrintTo(const BadConfigCase& c, std::ostream* os) { *os << c.name; }
};

class BadNotifyConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadNotifyConfigTest, IsRefusedWithFileLineFieldAndWhatWasExpected) {
  const absl::StatusOr<NotifyConfig> config = ParseNotifyConfig(GetParam().yaml, "notify.yaml");
  ASSERT_FALSE(config.ok()) << GetParam().name;
  EXPECT_TRUE(Contains(std::string(config.status().message()), GetParam().error))
      << GetParam().name << ": " << config.status().message();
}

const std::string kRoute = "recipients:\n  - role: health_manager\n    channels: [hm]\n";

INSTANTIATE_TEST_SUITE_P(
    Refusals, BadNotifyConfigTest,
    ::testing::Values(
        BadConfigCase{"empty", "", "notify.yaml: the notification config is empty"},
        BadConfigCase{"not YAML", "channels: [", "notify.yaml:1:"},
        BadConfigCase{"unknown top key", std::string("langauge: en\n") + kChannels + kRoute,
                      "notify.yaml:1:1: langauge: unknown field; allowed here: language, utc_offset, quiet_hours, "
                      "channels, recipients"},
        BadConfigCase{"bad language", std::string("language: fr\n") + kChannels + kRoute,
                      "notify.yaml:1:11: language: expected zh-CN or en, got \"fr\""},
        BadConfigCase{"bad offset", std::string("utc_offset: 8\n") + kChannels + kRoute,
                      "notify.yaml:1:13: utc_offset: expected an offset"},
        BadConfigCase{"offset off Earth", std::string("utc_offset: \"+15:00\"\n") + kChannels + kRoute,
                      "utc_offset: expected an offset"},
        BadConfigCase{
            "bad quiet time", std::string("quiet_hours:\n  from: \"24:00\"\n  until: \"07:00\"\n") + kChannels + kRoute,
            "notify.yaml:2:9: quiet_hours.from: expected a local time \"HH:MM\" (00:00..23:59), got \"24:00\""},
        BadConfigCase{"empty quiet span",
                      std::string("quiet_hours:\n  from: \"07:00\"\n  until: \"07:00\"\n") + kChannels + kRoute,
                      "quiet_hours: from and until are equal"},
        BadConfigCase{"quiet hours without until",
                      std::string("quiet_hours:\n  from: \"22:00\"\n") + kChannels + kRoute,
                      "quiet_hours.until: missing"},
        BadConfigCase{"no channels", kRoute, "channels: missing"},
        BadConfigCase{"unknown kind", "channels:\n  hm:\n    kind: sms\n    url: https://h\n" + kRoute,
                      "notify.yaml:3:11: channels.hm.kind: expected alertmanager, wecom, dingtalk, feishu or webhook, "
                      "got \"sms\""},
        BadConfigCase{"no url", "channels:\n  hm:\n    kind: wecom\n" + kRoute,
                      "notify.yaml:2:3: channels.hm.url: missing"},
        BadConfigCase{"not http", "channels:\n  hm:\n    kind: wecom\n    url: ftp://h\n" + kRoute,
                      "notify.yaml:4:10: channels.hm.url: expected an http:// or https:// URL"},
        BadConfigCase{
            "unknown channel key", "channels:\n  hm:\n    kind: wecom\n    url: https://h\n    token: x\n" + kRoute,
            "notify.yaml:5:5: channels.hm.token: unknown field; allowed here: kind, url, secret, body, content_type"},
        BadConfigCase{"secret on wecom",
                      "channels:\n  hm:\n    kind: wecom\n    url: https://h\n    secret: s\n" + kRoute,
                      "notify.yaml:5:5: channels.hm.secret: only dingtalk and feishu channels sign requests"},
        BadConfigCase{"body on dingtalk",
                      "channels:\n  hm:\n    kind: dingtalk\n    url: https://h\n    body: x\n" + kRoute,
                      "channels.hm.body: only webhook channels take a body template"},
        BadConfigCase{"webhook without body", "channels:\n  hm:\n    kind: webhook\n    url: https://h\n" + kRoute,
                      "channels.hm.body: missing"},
        BadConfigCase{"webhook body with unknown key",
                      "channels:\n  hm:\n    kind: webhook\n    url: https://h\n    body: |\n      {\"a\": "
                      "\"{{title}}\",\n       \"b\": \"{{worker}}\"}\n" +
                          kRoute,
                      "notify.yaml:5:11: channels.hm.body (template line):2: {{worker}}: unknown key"},
        BadConfigCase{"bad channel name", "channels:\n  \"h m\":\n    kind: wecom\n    url: https://h\n" + kRoute,
                      "channels.h m: expected a channel name of letters, digits, - and _"},
        BadConfigCase{"no recipients", kChannels, "recipients: missing"},
        BadConfigCase{"person and role",
                      std::string(kChannels) + "recipients:\n  - role: worker\n    person: W1\n    channels: [hm]\n",
                      "notify.yaml:6:5: recipients[0]: expected exactly one of person"},
        BadConfigCase{"neither person nor role", std::string(kChannels) + "recipients:\n  - channels: [hm]\n",
                      "recipients[0]: expected exactly one of person"},
        BadConfigCase{"unknown role", std::string(kChannels) + "recipients:\n  - role: doctor\n    channels: [hm]\n",
                      "notify.yaml:6:11: recipients[0].role: expected worker, health_manager, unit_supervisor, extra "
                      "or on_call, got \"doctor\""},
        BadConfigCase{
            "undefined channel", std::string(kChannels) + "recipients:\n  - role: worker\n    channels: [hm, sms]\n",
            "notify.yaml:7:20: recipients[0].channels: expected a channel defined under channels (hm), got \"sms\""},
        BadConfigCase{"channel twice",
                      std::string(kChannels) + "recipients:\n  - role: worker\n    channels: [hm, hm]\n",
                      "channel hm listed twice"},
        BadConfigCase{"no channels in route", std::string(kChannels) + "recipients:\n  - role: worker\n",
                      "recipients[0].channels: missing"},
        BadConfigCase{"two routes for one role",
                      std::string(kChannels) +
                          "recipients:\n  - role: worker\n    channels: [hm]\n  - role: worker\n    channels: [hm]\n",
                      "notify.yaml:8:5: recipients[1]: role worker already has a route (line 6)"},
        BadConfigCase{"bad rule",
                      std::string(kChannels) + "recipients:\n  - role: worker\n    channels: [hm]\n    rules: [R7]\n",
                      "notify.yaml:8:13: recipients[0].rules: expected one of R1, R2, R3, R4, R5, R6, got \"R7\""},
        BadConfigCase{
            "bad severity",
            std::string(kChannels) + "recipients:\n  - role: worker\n    channels: [hm]\n    min_severity: LOW\n",
            "notify.yaml:8:19: recipients[0].min_severity: expected INFO, HIGH, URGENT or CRITICAL, got \"LOW\""},
        BadConfigCase{"unknown route key",
                      std::string(kChannels) + "recipients:\n  - role: worker\n    channels: [hm]\n    lang: en\n",
                      "notify.yaml:8:5: recipients[0].lang: unknown field"},
        BadConfigCase{"second document", std::string(kChannels) + kRoute + "---\nlanguage: en\n",
                      "notify.yaml:9:1: expected one YAML document, found a second one here"},
        BadConfigCase{"content after the end marker", std::string(kChannels) + kRoute + "...\n# c\nlanguage: en\n",
                      "notify.yaml:10:1: expected one YAML document"},
        BadConfigCase{"key set twice", std::string("language: en\nlanguage: zh-CN\n") + kChannels + kRoute,
                      "notify.yaml:2:1: language: set twice"}),
    [](const auto& tc) { return testing::CaseName(tc.param.name, tc.index); });

TEST(NotifyConfig, ARouteWithoutItsOwnQuietHoursTakesTheDeploymentsAndOffMeansNone) {
  const std::string yaml =
      std::string("quiet_hours:\n  from: \"22:00\"\n  until: \"07:00\"\n") + kChannels +
      "recipients:\n  - role: worker\n    channels: [hm]\n"
      "  - role: extra\n    channels: [hm]\n    quiet_hours: off\n"
      "  - person: HM1\n    channels: [hm]\n    quiet_hours:\n      from: \"12:00\"\n      until: \"13:30\"\n";
  const absl::StatusOr<NotifyConfig> config = ParseNotifyConfig(yaml, "n.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->recipients[0].quiet_hours, (QuietHours{22 * 60, 7 * 60}));
  EXPECT_FALSE(config->recipients[1].quiet_hours.has_value());
  EXPECT_EQ(config->recipients[2].quiet_hours, (QuietHours{12 * 60, 13 * 60 + 30}));
}

TEST(NotifyConfig, AWebhookWithAPlainTextContentTypeDoesNotJsonEscape) {
  const std::string yaml =
      "channels:\n  desk:\n    kind: webhook\n    url: http://127.0.0.1:1/x\n"
      "    content_type: text/plain\n    body: \"{{title}}\"\n" +
      kRoute.substr(0, kRoute.find("[hm]")) + "[desk]\n";
  const absl::StatusOr<NotifyConfig> config = ParseNotifyConfig(yaml, "n.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->channels[0].body_escape, TemplateEscape::kNone);
  EXPECT_EQ(config->channels[0].content_type, "text/plain");
}

TEST(NotifyConfig, ADocumentMarkerAtTheStartOrAnEndMarkerAtTheEndIsOneDocument) {
  for (const std::string& yaml :
       {"---\n" + std::string(kChannels) + kRoute, "--- # notify\n" + std::string(kChannels) + kRoute,
        std::string(kChannels) + kRoute + "...\n# the end\n",
        // "---" inside a block scalar is indented: text, not a marker
        "channels:\n  d:\n    kind: webhook\n    url: http://x\n    content_type: text/plain\n"
        "    body: |\n      a\n      ---\n      b\n" +
            kRoute.substr(0, kRoute.find("[hm]")) + "[d]\n"}) {
    const absl::StatusOr<NotifyConfig> config = ParseNotifyConfig(yaml, "n.yaml");
    EXPECT_TRUE(config.ok()) << yaml << "\n" << config.status();
  }
}

TEST(NotifyConfig, AMissingFileIsAnErrorNamingIt) {
  const absl::StatusOr<NotifyConfig> config = LoadNotifyConfig("/nonexistent/notify.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(Contains(std::string(config.status().message()), "/nonexistent/notify.yaml"));
}

}  // namespace
}  // namespace alertd::notify
