// Channel payloads parsed back field by field; signatures against independently computed HMACs.
#include "engine/notify/payloads.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/notify/signing.h"
#include "escalation_samples.h"

namespace alertd::notify {
namespace {

using nlohmann::json;
using testing::SampleEscalation;
namespace pb = healthgrid::v1;

constexpr int64_t kNowMs = 1700000000123;  // the signing time in the tests
const RenderedText kText{"【紧急】班前适岗检测 · 杨建国",
                         "**杨建国**\n> 血压:**168/104 mmHg**\n[确认收到](https://n/a)"};
const MessageLinks kLinks{"https://n/a", "https://n/r", "https://n/s", "https://n/w/W000155"};

ChannelConfig Channel(ChannelKind kind, std::string url, std::string secret = "") {
  ChannelConfig c;
  c.name = "test";
  c.kind = kind;
  c.url = std::move(url);
  c.secret = std::move(secret);
  return c;
}

// The test's own HMAC-SHA256 + Base64, through OpenSSL's one-shot HMAC() and EVP_EncodeBlock,
// not through the code under test.
std::string IndependentHmacBase64(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), digest, &length);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string Header(const HttpRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

// Fixed vectors computed by hand with the openssl command line:
//   printf '1700000000000\n%s' "$S" | openssl dgst -sha256 -hmac "$S" -binary | base64
//   printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nfeishu-secret-42')" -binary | base64
constexpr const char* kDingTalkSecret = "SEC1b5e3c0f8d2a4e6b9c7d1f3a5b7c9d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3";

TEST(Signatures, DingTalkMatchesTheVectorComputedWithTheOpensslCommandLine) {
  EXPECT_EQ(DingTalkSignature(1700000000000, kDingTalkSecret), "x5uI1/J7MK+xIj7iaQW0Wh/G6hvTG8QX4Wko9uRIJEc=");
  EXPECT_EQ(PercentEncode(DingTalkSignature(1700000000000, kDingTalkSecret)),
            "x5uI1%2FJ7MK%2BxIj7iaQW0Wh%2FG6hvTG8QX4Wko9uRIJEc%3D");
}

TEST(Signatures, FeishuMatchesTheVectorComputedWithTheOpensslCommandLine) {
  EXPECT_EQ(FeishuSignature(1700000000, "feishu-secret-42"), "INMLa6ItJbhwdRZRoTvT3OZMtlY5WjmWq4F2Jscs314=");
}

TEST(Signatures, DingTalkSignsTimestampNewlineSecretWithTheSecret) {
  for (int64_t ts : {int64_t{1}, kNowMs, int64_t{9999999999999}}) {
    for (std::string secret : {"s", "SEC0123456789abcdef", "密钥"}) {
      EXPECT_EQ(DingTalkSignature(ts, secret), IndependentHmacBase64(secret, std::to_string(ts) + "\n" + secret));
    }
  }
}

TEST(Signatures, FeishuSignsAnEmptyMessageWithTimestampNewlineSecretAsTheKey) {
  for (int64_t ts : {int64_t{1}, kNowMs / 1000}) {
    for (std::string secret : {"s", "feishu", "密钥"}) {
      EXPECT_EQ(FeishuSignature(ts, secret), IndependentHmacBase64(std::to_string(ts) + "\n" + secret, ""));
    }
  }
}

TEST(Base64, MatchesRfc4648TestVectors) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(PercentEncode, KeepsUnreservedBytesOnly) {
  EXPECT_EQ(PercentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(PercentEncode("+/= %"), "%2B%2F%3D%20%25");
  EXPECT_EQ(PercentEncode("血"), "%E8%A1%80");
}

TEST(Alertmanager, OneAlertWithIdLabelsTheTextAsAnnotationsAndTheWorkersPage) {
  const pb::Escalation event = SampleEscalation(pb::R4_PRE_SHIFT_FITNESS);
  absl::StatusOr<HttpRequest> request = AlertmanagerRequest(
      Channel(ChannelKind::kAlertmanager, "http://127.0.0.1:9093/"), event, kText, event.recipients(0), kLinks);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "http://127.0.0.1:9093/api/v2/alerts");
  EXPECT_EQ(Header(*request, "Content-Type"), "application/json; charset=utf-8");
  const json body = json::parse(request->body);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 1u);
  const json& alert = body[0];
  EXPECT_EQ(alert["labels"], (json{{"alertname", "HealthEscalation"},
                                   {"episode", "ep-19c2"},
                                   {"unit", "U08"},
                                   {"grid", "U08-G02"},
                                   {"rule", "R4"},
                                   {"level", "health_manager"},
                                   {"severity", "urgent"},
                                   {"recipient", "HM0012"}}));
  EXPECT_EQ(alert["annotations"]["summary"], kText.title);
  EXPECT_EQ(alert["annotations"]["description"], kText.body);
  EXPECT_EQ(alert["startsAt"], "2026-11-23T23:30:14.000Z");
  EXPECT_FALSE(alert.contains("endsAt"));  // firing
  EXPECT_EQ(alert["generatorURL"], "https://n/w/W000155");
}

TEST(Alertmanager, LabelsNeverCarryNamesOrHealthValues) {
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  const std::string labels = AlertLabels(event, event.recipients(0)).dump();
  for (const char* forbidden : {"杨建国", "周波", "168", "104", "W000155"}) {
    EXPECT_EQ(labels.find(forbidden), std::string::npos) << forbidden << " in " << labels;
  }
}

TEST(Alertmanager, AResolvedEventEndsTheAlertWhenAlertdDecidedIt) {
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP, pb::RESOLVED);
  event.set_emitted_at_ms(testing::kMorningMs + 3600000);
  absl::StatusOr<HttpRequest> request = AlertmanagerRequest(Channel(ChannelKind::kAlertmanager, "http://am"), event,
                                                            kText, event.recipients(0), MessageLinks{});
  ASSERT_TRUE(request.ok());
  const json alert = json::parse(request->body)[0];
  EXPECT_EQ(alert["startsAt"], "2026-11-23T23:30:14.000Z");
  EXPECT_EQ(alert["endsAt"], "2026-11-24T00:30:14.000Z");
  EXPECT_FALSE(alert.contains("generatorURL"));  // no page link given: none sent
}

TEST(Rfc3339Utc, Formats) {
  EXPECT_EQ(Rfc3339Utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Rfc3339Utc(kNowMs), "2023-11-14T22:13:20.123Z");
}

TEST(WeCom, MarkdownMessageWithTheTitleAsAHeading) {
  absl::StatusOr<HttpRequest> request =
      WeComRequest(Channel(ChannelKind::kWeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"), kText);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k");
  const json body = json::parse(request->body);
  EXPECT_EQ(body,
            (json{{"msgtype", "markdown"}, {"markdown", {{"content", "### " + kText.title + "\n" + kText.body}}}}));
}

TEST(WeCom, ContentOverTheLimitIsCutAtACharacterBoundary) {
  RenderedText text{"t", ""};
  for (int i = 0; i < 3000; ++i) text.body += "血";  // 3 bytes each
  absl::StatusOr<HttpRequest> request = WeComRequest(Channel(ChannelKind::kWeCom, "https://w"), text);
  ASSERT_TRUE(request.ok());
  const std::string content = json::parse(request->body)["markdown"]["content"];
  EXPECT_LE(content.size(), kWeComMaxContentBytes);
  EXPECT_GT(content.size(), kWeComMaxContentBytes - 6);
  EXPECT_TRUE(content.ends_with("…"));
  EXPECT_NO_THROW(json(content).dump());  // valid UTF-8: dump throws on a cut character
}

TEST(DingTalk, SignedRequestCarriesTimestampAndUrlEncodedSignInTheUrl) {
  absl::StatusOr<HttpRequest> request = DingTalkRequest(
      Channel(ChannelKind::kDingTalk, "https://oapi.dingtalk.com/robot/send?access_token=t", kDingTalkSecret), kText,
      kNowMs);
  ASSERT_TRUE(request.ok());
  const std::string sign =
      PercentEncode(IndependentHmacBase64(kDingTalkSecret, std::to_string(kNowMs) + "\n" + kDingTalkSecret));
  EXPECT_EQ(request->url, "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000123&sign=" + sign);
  const json body = json::parse(request->body);
  EXPECT_EQ(body["msgtype"], "markdown");
  EXPECT_EQ(body["markdown"]["title"], kText.title);
  EXPECT_EQ(body["markdown"]["text"], "### " + kText.title + "\n\n" + kText.body);
  EXPECT_EQ(body["at"]["isAtAll"], false);
}

TEST(DingTalk, UnsignedRobotGetsTheUrlAsConfigured) {
  absl::StatusOr<HttpRequest> request =
      DingTalkRequest(Channel(ChannelKind::kDingTalk, "https://d/robot/send?access_token=t"), kText, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "https://d/robot/send?access_token=t");
}

TEST(Feishu, SignedCardWithTimestampInSeconds) {
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  absl::StatusOr<HttpRequest> request = FeishuRequest(
      Channel(ChannelKind::kFeishu, "https://open.feishu.cn/open-apis/bot/v2/hook/h", "fs"), event, kText, kNowMs);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->url, "https://open.feishu.cn/open-apis/bot/v2/hook/h");
  const json body = json::parse(request->body);
  EXPECT_EQ(body["timestamp"], "1700000000");
  EXPECT_EQ(body["sign"], IndependentHmacBase64("1700000000\nfs", ""));
  EXPECT_EQ(body["msg_type"], "interactive");
  EXPECT_EQ(body["card"]["header"]["title"], (json{{"tag", "plain_text"}, {"content", kText.title}}));
  EXPECT_EQ(body["card"]["header"]["template"], "red");
  EXPECT_EQ(body["card"]["elements"][0]["tag"], "div");
  EXPECT_EQ(body["card"]["elements"][0]["text"], (json{{"tag", "lark_md"}, {"content", kText.body}}));
}

TEST(Feishu, WithoutASecretNoSignatureFields) {
  pb::Escalation event = SampleEscalation(pb::R2_SUSTAINED_HYPERTENSION, pb::RESOLVED);
  absl::StatusOr<HttpRequest> request = FeishuRequest(Channel(ChannelKind::kFeishu, "https://f"), event, kText, kNowMs);
  ASSERT_TRUE(request.ok());
  const json body = json::parse(request->body);
  EXPECT_FALSE(body.contains("timestamp"));
  EXPECT_FALSE(body.contains("sign"));
  EXPECT_EQ(body["card"]["header"]["template"], "green");
}

TEST(Webhook, BodyTemplateOverTheViewWithTitleAndBodyEscapedForJson) {
  ChannelConfig channel = Channel(ChannelKind::kWebhook, "http://127.0.0.1:8088/x");
  channel.content_type = "application/json";
  channel.body_escape = TemplateEscape::kJsonString;
  channel.body_template =
      R"({"event": "{{event_id}}", "rule": "{{rule_code}}", "who": "{{worker_name}}", "title": "{{title}}", "text": "{{body}}"})";
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  event.set_worker_name("Li \"Ming\"");
  const json view = BuildView(event, event.recipients(0), kLinks, {}, Language::kZhCN);
  absl::StatusOr<HttpRequest> request = WebhookRequest(channel, kText, view);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->url, "http://127.0.0.1:8088/x");
  EXPECT_EQ(Header(*request, "Content-Type"), "application/json");
  const json body = json::parse(request->body);
  EXPECT_EQ(body["event"], "ev-7f3a");
  EXPECT_EQ(body["rule"], "R1");
  EXPECT_EQ(body["who"], "Li \"Ming\"");
  EXPECT_EQ(body["title"], kText.title);
  EXPECT_EQ(body["text"], kText.body);
}

TEST(Webhook, ATemplateThatRendersBrokenJsonIsAnErrorNotARequest) {
  ChannelConfig channel = Channel(ChannelKind::kWebhook, "http://x");
  channel.content_type = "application/json";
  channel.body_template = R"({"who": {{worker_name}}})";  // unquoted value
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  const absl::StatusOr<HttpRequest> request =
      WebhookRequest(channel, kText, BuildView(event, event.recipients(0), {}, {}, Language::kEn));
  ASSERT_FALSE(request.ok());
  EXPECT_NE(
      std::string(request.status().message()).find("channel test: the body template rendered text that is not JSON"),
      std::string::npos);
}

TEST(BuildRequest, DispatchesOnTheChannelKind) {
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  const json view = BuildView(event, event.recipients(0), kLinks, {}, Language::kZhCN);
  struct Case {
    ChannelConfig channel;
    const char* url_prefix;
    const char* body_key;
  };
  ChannelConfig webhook = Channel(ChannelKind::kWebhook, "http://hook");
  webhook.body_template = R"({"k": "{{rule_code}}"})";
  for (const Case& c :
       {Case{Channel(ChannelKind::kAlertmanager, "http://am"), "http://am/api/v2/alerts", ""},
        Case{Channel(ChannelKind::kWeCom, "https://w"), "https://w", "msgtype"},
        Case{Channel(ChannelKind::kDingTalk, "https://d", "s"), "https://d?timestamp=", "msgtype"},
        Case{Channel(ChannelKind::kFeishu, "https://f"), "https://f", "msg_type"}, Case{webhook, "http://hook", "k"}}) {
    absl::StatusOr<HttpRequest> request =
        BuildRequest(c.channel, event, kText, event.recipients(0), kLinks, view, kNowMs);
    ASSERT_TRUE(request.ok()) << ChannelKindName(c.channel.kind) << ": " << request.status();
    EXPECT_TRUE(request->url.starts_with(c.url_prefix)) << request->url;
    const json body = json::parse(request->body);
    if (*c.body_key != '\0') {
      EXPECT_TRUE(body.contains(c.body_key)) << request->body;
    }
  }
}

}  // namespace
}  // namespace alertd::notify

namespace alertd::notify {
namespace {

TEST(BuildRequest, InvalidUtf8InANameOrTextIsReplacedInsteadOfAbortingTheDelivery) {
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  event.set_worker_name("Li\xff\xfe");
  const RenderedText text{"t\xc3", "b\xe8\xa1"};  // cut in the middle of a character
  const json view = BuildView(event, event.recipients(0), kLinks, {}, Language::kEn);
  ChannelConfig webhook = Channel(ChannelKind::kWebhook, "http://hook");
  webhook.body_template = R"({"who": "{{worker_name}}", "title": "{{title}}"})";
  for (const ChannelConfig& channel :
       {Channel(ChannelKind::kAlertmanager, "http://am"), Channel(ChannelKind::kWeCom, "https://w"),
        Channel(ChannelKind::kDingTalk, "https://d"), Channel(ChannelKind::kFeishu, "https://f"), webhook}) {
    absl::StatusOr<HttpRequest> request = BuildRequest(channel, event, text, event.recipients(0), kLinks, view, kNowMs);
    ASSERT_TRUE(request.ok()) << ChannelKindName(channel.kind) << ": " << request.status();
    EXPECT_TRUE(json::accept(request->body)) << request->body;
    EXPECT_NE(request->body.find("\xEF\xBF\xBD"), std::string::npos)
        << ChannelKindName(channel.kind) << ": " << request->body;
  }
}

}  // namespace
}  // namespace alertd::notify
