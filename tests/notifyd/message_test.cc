// The delivery's request: the Idempotency-Key header, the worker page's link, and the robots' answers.
#include "engine/notifyd/message.h"

#include <gtest/gtest.h>

#include <optional>

#include "engine/notify/ack_link.h"
#include "engine/notifyd/http_sender.h"
#include "tests/notify/escalation_samples.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;
using notify::ChannelKind;

TEST(LinksFor, WithoutASecretOnlyTheUnsignedWorkerPageIsOffered) {
  const pb::Escalation event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  const notify::MessageLinks links = LinksFor(event, event.recipients(0), {.page_base_url = "https://alertd.example/"}, 0);
  EXPECT_EQ(links.worker_page, "https://alertd.example/worker/W000155");
  EXPECT_TRUE(links.acknowledge.empty());
  EXPECT_TRUE(LinksFor(event, event.recipients(0), {}, 0).worker_page.empty());
}

TEST(LinksFor, WithASecretEachActionIsASignedLinkForThisRecipientAndEpisodeThatExpires) {
  const pb::Escalation event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  const int64_t now = 1'764'460'800'000;
  const LinkSettings settings{.page_base_url = "https://alertd.example", .secret = "k3y", .ttl_ms = 3'600'000};
  const notify::MessageLinks links = LinksFor(event, event.recipients(0), settings, now);
  const std::string prefix = "https://alertd.example/act?t=";
  ASSERT_EQ(links.acknowledge.rfind(prefix, 0), 0u) << links.acknowledge;
  const absl::StatusOr<notify::LinkClaims> claims =
      notify::VerifyLink(links.acknowledge.substr(prefix.size()), "k3y", now + 1000);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->action, notify::LinkAction::kAcknowledge);
  EXPECT_EQ(claims->episode_id, event.episode_id());
  EXPECT_EQ(claims->person_id, event.recipients(0).id());
  EXPECT_FALSE(notify::VerifyLink(links.acknowledge.substr(prefix.size()), "k3y", now + 3'600'001).ok())
      << "expired an hour after sending";
  EXPECT_FALSE(notify::VerifyLink(links.acknowledge.substr(prefix.size()), "other", now + 1000).ok());
  EXPECT_NE(links.resolve, links.acknowledge);
  EXPECT_NE(links.snooze, links.acknowledge);
  EXPECT_EQ(links.worker_page.rfind("https://alertd.example/worker/W000155?t=", 0), 0u) << links.worker_page;
}

// A config with one channel `c` of `kind` for health managers, and the shipped templates.
class MessageTest : public ::testing::Test {
 protected:
  void Use(const std::string& kind, const std::string& url) {
    absl::StatusOr<notify::NotifyConfig> config =
        notify::ParseNotifyConfig("channels:\n  c:\n    kind: " + kind + "\n    url: " + url +
                                      "\nrecipients:\n  - role: health_manager\n    channels: [c]\n",
                                  "test.yaml");
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *std::move(config);
    absl::StatusOr<notify::MessageTemplates> templates = notify::MessageTemplates::Load(ALERTD_NOTIFY_TEMPLATES);
    ASSERT_TRUE(templates.ok()) << templates.status();
    templates_ = *std::move(templates);
  }
  MessageContext Context(const std::string& page_base_url = "") {
    return MessageContext{&config_, &*templates_, {.page_base_url = page_base_url}};
  }

  notify::NotifyConfig config_;
  std::optional<notify::MessageTemplates> templates_;
};

TEST_F(MessageTest, RequestForCarriesTheDeliveryKeyAsIdempotencyKey) {
  Use("wecom", "http://127.0.0.1:1/send");
  DeliveryJob job;
  job.key = "ev-7f3a/HM0001/c";
  job.channel = "c";
  job.event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  job.recipient = job.event.recipients(0);
  const MessageContext context = Context("http://pages");
  absl::StatusOr<notify::HttpRequest> request = RequestFor(job, context, 0);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->url, "http://127.0.0.1:1/send");
  const auto header = std::find(request->headers.begin(), request->headers.end(),
                                std::pair<std::string, std::string>{"Idempotency-Key", job.key});
  EXPECT_NE(header, request->headers.end());
  EXPECT_NE(request->body.find("http://pages/worker/W000155"), std::string::npos) << request->body;

  job.channel = "gone";
  EXPECT_FALSE(RequestFor(job, context, 0).ok()) << "a channel the config no longer has cannot be sent";
}

TEST_F(MessageTest, TheMessageNamesTheUnitAndGridTheEscalationCarries) {
  Use("wecom", "http://127.0.0.1:1/send");
  DeliveryJob job;
  job.key = "k";
  job.channel = "c";
  job.event = notify::testing::SampleEscalation(pb::R4_PRE_SHIFT_FITNESS);
  job.event.set_unit_name("第七采油厂");
  job.event.set_grid_name("井队12");
  job.recipient = job.event.recipients(0);
  absl::StatusOr<notify::HttpRequest> request = RequestFor(job, Context(), 0);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_NE(request->body.find("第七采油厂"), std::string::npos) << request->body;
  EXPECT_NE(request->body.find("井队12"), std::string::npos) << request->body;
}

TEST_F(MessageTest, RepostRequestsMakeOneListOfAlertsPerAlertmanagerChannelCutAtTheBatchSize) {
  Use("alertmanager", "http://127.0.0.1:9093/");
  std::vector<DeliveryJob> jobs(kAlertsPerRepost + 1);
  std::vector<const DeliveryJob*> due;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    jobs[i].channel = i == 3 ? "gone" : "c";
    jobs[i].event = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
    jobs[i].event.set_episode_id("ep-" + std::to_string(i));
    jobs[i].recipient = jobs[i].event.recipients(0);
    due.push_back(&jobs[i]);
  }
  const std::vector<RepostRequest> reposts = RepostRequests(due, Context(), 0);
  ASSERT_EQ(reposts.size(), 1u) << "the job of a channel no longer configured is left out: 200 alerts, one request";
  EXPECT_EQ(reposts[0].channel, "c");
  EXPECT_EQ(reposts[0].request.url, "http://127.0.0.1:9093/api/v2/alerts");
  const nlohmann::json alerts = nlohmann::json::parse(reposts[0].request.body);
  ASSERT_EQ(alerts.size(), kAlertsPerRepost);
  EXPECT_EQ(alerts[0]["labels"]["episode"], "ep-0");

  jobs[3].channel = "c";
  EXPECT_EQ(RepostRequests(due, Context(), 0).size(), 2u) << "201 alerts: two requests";
}

struct AnswerCase {
  ChannelKind kind;
  long status;
  std::string body;
  bool accepted;
  friend void PrintTo(const AnswerCase& c, std::ostream* os) {
    *os << notify::ChannelKindName(c.kind) << " " << c.status << " " << c.body;
  }
};

class JudgeResponseTest : public ::testing::TestWithParam<AnswerCase> {};

TEST_P(JudgeResponseTest, AcceptsOnlyWhatTheChannelSaysItTook) {
  const AnswerCase& c = GetParam();
  EXPECT_EQ(JudgeResponse(c.kind, c.status, c.body).ok(), c.accepted)
      << notify::ChannelKindName(c.kind) << " " << c.status << " " << c.body;
}

INSTANTIATE_TEST_SUITE_P(
    Answers, JudgeResponseTest,
    ::testing::Values(
        AnswerCase{ChannelKind::kWeCom, 200, R"({"errcode":0,"errmsg":"ok"})", true},
        AnswerCase{ChannelKind::kWeCom, 200, R"({"errcode":93000,"errmsg":"invalid webhook url"})", false},
        AnswerCase{ChannelKind::kWeCom, 200, "<html>gateway</html>", false},
        AnswerCase{ChannelKind::kWeCom, 200, R"({"errmsg":"ok"})", false},
        AnswerCase{ChannelKind::kDingTalk, 200, R"({"errcode":0})", true},
        AnswerCase{ChannelKind::kDingTalk, 200, R"({"errcode":310000,"errmsg":"sign not match"})", false},
        AnswerCase{ChannelKind::kFeishu, 200, R"({"code":0,"msg":"success"})", true},
        AnswerCase{ChannelKind::kFeishu, 200, R"({"StatusCode":0,"StatusMessage":"success"})", true},
        AnswerCase{ChannelKind::kFeishu, 200, R"({"code":19021,"msg":"sign match fail"})", false},
        AnswerCase{ChannelKind::kAlertmanager, 200, "", true},
        AnswerCase{ChannelKind::kAlertmanager, 400, "bad alert", false},
        AnswerCase{ChannelKind::kWebhook, 204, "", true}, AnswerCase{ChannelKind::kWebhook, 199, "", false},
        AnswerCase{ChannelKind::kWebhook, 300, "", false}, AnswerCase{ChannelKind::kWebhook, 500, "", false},
        AnswerCase{ChannelKind::kWeCom, 503, R"({"errcode":0})", false}));

}  // namespace
}  // namespace alertd::notifyd
