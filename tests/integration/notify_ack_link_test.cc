// The acknowledge link of a real message, end to end: alertd (stream clock, R1 ack timeout 1 min) decides an
// R1 episode, alertd-notify sends it to the health manager's WeChat Work robot (a local receiver) with links
// signed for alertd, and the link taken out of that message acknowledges the episode: its ladder stops while
// a control episode climbs; the same link again changes nothing, and an altered link is refused.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "tests/integration/harness.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t kMinute = 60 * 1000;
constexpr char kSecret[] = "notify-ack-link-secret";
constexpr char kToken[] = "notify-ack-link-operator-token";
constexpr char kRobotOk[] = R"({"errcode":0,"errmsg":"ok"})";

// The address of the 确认收到 (acknowledge) link in a WeChat Work robot's markdown message, "" if none.
std::string AcknowledgeLinkIn(const ReceivedMessage& message) {
  const json body = json::parse(message.body, nullptr, false);
  if (!body.is_object() || !body.contains("markdown")) return "";
  const std::string content = body["markdown"].value("content", "");
  const std::string label = "[确认收到](";
  const std::size_t at = content.find(label);
  if (at == std::string::npos) return "";
  const std::size_t from = at + label.size();
  const std::size_t end = content.find(')', from);
  return end == std::string::npos ? "" : content.substr(from, end - from);
}

// The path and query of `link` if it points at alertd on 127.0.0.1:`port`.
std::optional<std::string> PathOnAlertd(const std::string& link, int port) {
  const std::string origin = "http://127.0.0.1:" + std::to_string(port);
  if (link.rfind(origin + "/", 0) != 0) return std::nullopt;
  return link.substr(origin.size());
}

// The ESCALATED events of `episode` on the escalations topic, each event id once.
int EscalatedEvents(const std::vector<ConsumedRecord>& out, const std::string& episode) {
  int n = 0;
  for (const pb::Escalation& e : DistinctEventsOfRule(out, pb::R1_CRITICAL_BP)) {
    n += e.episode_id() == episode && e.state() == pb::ESCALATED ? 1 : 0;
  }
  return n;
}

TEST(NotifyAckLinkTest, TheAcknowledgeLinkOfARealMessageStopsThatEpisodesLadder) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 1);  // one partition: one stream clock for every worker
  ASSERT_FALSE(kafka.bootstrap().empty());
  const std::unique_ptr<AlertdProcess> started = StartAlertdWithLinks(dir.path(), kafka.bootstrap(), kToken, kSecret);
  AlertdProcess& alertd = *started;
  ASSERT_GT(alertd.http_port(), 0);

  // The grid's health managers read their WeChat Work group; the robot is a local receiver.
  NotifyReceiver robot([](int, const ReceivedMessage&) { return ReceiverAnswer{200, kRobotOk}; });
  WriteTextFile(dir.path() + "/notify.yaml",
                "channels:\n  grid-wecom:\n    kind: wecom\n    url: " + robot.url("/cgi-bin/webhook/send?key=grid") +
                    "\nrecipients:\n  - role: health_manager\n    channels: [grid-wecom]\n");
  NotifyProcess notify(ALERTD_NOTIFY_BIN, kafka.bootstrap(), dir.path() + "/notify.yaml", ALERTD_NOTIFY_TEMPLATES,
                       dir.path() + "/notify.log",
                       {"--page-base-url", "http://127.0.0.1:" + std::to_string(alertd.http_port()),
                        "--link-secret-file", dir.path() + "/secret"});
  ASSERT_GT(notify.http_port(), 0);

  // W-ACKED's 186/114 is acknowledged from the message; W-CONTROL's 185/112 is not and must climb.
  const int64_t t0 = NowMs() - 30 * 1000;
  TestProducer producer(kafka.bootstrap());
  SendTwoCriticalBpEpisodes(producer, t0, "W-ACKED", "W-CONTROL", "W-CLOCK");

  std::string link;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const ReceivedMessage& m : robot.Received()) {
          if (m.body.find("W-ACKED") != std::string::npos && !AcknowledgeLinkIn(m).empty()) link = AcknowledgeLinkIn(m);
        }
        return !link.empty();
      },
      60s, 200ms))
      << robot.Received().size() << " messages\n" << notify.process().LogTail();
  const std::optional<std::string> path = PathOnAlertd(link, alertd.http_port());
  ASSERT_TRUE(path.has_value()) << link;
  ASSERT_EQ(path->rfind("/act?t=", 0), 0u) << link;
  const std::vector<ConsumedRecord> opened = alertd.ReadOutput("escalations");
  std::string episode;
  for (const pb::Escalation& e : DistinctEventsOfRule(opened, pb::R1_CRITICAL_BP)) {
    if (e.worker_id() == "W-ACKED" && e.state() == pb::OPEN) episode = e.episode_id();
  }
  ASSERT_FALSE(episode.empty());

  // An altered link (one character of its signature) is refused and puts nothing on escalation-acks.
  std::string altered = *path;
  altered[altered.size() - 3] = altered[altered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(HttpGet(alertd.http_port(), altered).status, 401);
  EXPECT_EQ(HttpPostForm(alertd.http_port(), altered, {}).status, 401);

  // Opening the link (or a chat app's preview of it) shows the confirmation page and acts on nothing.
  const HttpAnswer page = HttpGet(alertd.http_port(), *path);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Acknowledge"), std::string::npos) << page.body;
  EXPECT_TRUE(ReadToEnd(kafka.bootstrap(), "escalation-acks").empty()) << "a GET or an altered link acted";

  // The health manager confirms: the link itself, POSTed.
  const HttpAnswer done = HttpPostForm(alertd.http_port(), *path, {});
  EXPECT_TRUE(done.status == 200 || done.status == 202) << done.status << " " << done.body;
  std::vector<ConsumedRecord> acks;
  ASSERT_TRUE(WaitFor([&] { return !(acks = ReadToEnd(kafka.bootstrap(), "escalation-acks")).empty(); }, 10s));
  ASSERT_EQ(acks.size(), 1u);
  pb::EscalationAck ack;
  ASSERT_TRUE(ack.ParseFromString(acks[0].value));
  EXPECT_EQ(acks[0].key, "W-ACKED");
  EXPECT_EQ(ack.worker_id(), "W-ACKED");
  EXPECT_EQ(ack.episode_id(), episode);
  EXPECT_EQ(ack.rule(), pb::R1_CRITICAL_BP);
  EXPECT_EQ(ack.action(), pb::ACKNOWLEDGE);
  EXPECT_EQ(ack.by().id(), "HM-G1") << "the message's recipient acts";
  EXPECT_EQ(ack.by().name(), "Manager of G1");
  EXPECT_GT(ack.at_ms(), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        const HttpAnswer w = HttpGet(alertd.http_port(), "/api/v1/workers/W-ACKED", kToken);
        const json answer = json::parse(w.body, nullptr, false);
        return w.status == 200 && answer.is_object() && !answer["episodes"].empty() &&
               answer["episodes"][0].value("acknowledged", false);
      },
      30s))
      << "alertd never applied the acknowledgement";

  // The same link again (a double tap, a forwarded message): a kind page, and the engine ignores it.
  const double ignored_before = alertd.Metric("alertd_ignored_total");
  const HttpAnswer again = HttpPostForm(alertd.http_port(), *path, {});
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("already acknowledged"), std::string::npos) << again.body;
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_ignored_total") >= ignored_before + 1; }, 10s));

  // Stream time passes the 1 min ack timeout: the control episode climbs, the acknowledged one does not.
  producer.SendAt("readings", "W-CLOCK", MakeBp("W-CLOCK", t0 + 5 * kMinute, 118, 76).SerializeAsString(), t0 + 5 * kMinute);
  producer.Flush();
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const pb::Escalation& e : DistinctEventsOfRule(alertd.ReadOutput("escalations"), pb::R1_CRITICAL_BP)) {
          if (e.worker_id() == "W-CONTROL" && e.state() == pb::ESCALATED) return true;
        }
        return false;
      },
      30s))
      << "the control episode never climbed: stream time did not pass the ack timeout";
  const std::vector<ConsumedRecord> out = alertd.ReadOutput("escalations");
  EXPECT_EQ(EscalatedEvents(out, episode), 0) << "the acknowledged episode climbed";
  int acked_events = 0;
  for (const pb::Escalation& e : DistinctEventsOfRule(out, pb::R1_CRITICAL_BP)) acked_events += e.episode_id() == episode;
  EXPECT_EQ(acked_events, 1) << "the second POST (or the ack) made an event for the acknowledged episode";
  EXPECT_EQ(notify.process().Terminate(), 0) << notify.process().LogTail();
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
