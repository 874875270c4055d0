// A signed acknowledge link through real processes: alertd (replay clock, R1 ack timeout 1 min) on the
// embedded cluster; the link POSTed to /act stops that episode's ladder while a control episode without
// an ack climbs; the replayed link is answered kindly and ignored by the engine; a resolve link for
// the episode once closed says so. The query API shows each step.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t kMinute = 60 * 1000;
constexpr char kSecret[] = "integration-link-secret";
constexpr char kToken[] = "integration-operator-token";

std::string Link(notify::LinkAction action, const std::string& worker, const std::string& episode, int64_t expires) {
  return SignedActionLink(action, worker, episode, expires, kSecret);
}

// The worker's answer from the API once `ready` holds for it (fails the test after 30 s).
json WorkerWhen(const AlertdProcess& alertd, const std::string& worker, const std::function<bool(const json&)>& ready) {
  json last;
  const bool ok = WaitFor(
      [&] {
        const HttpAnswer a = HttpGet(alertd.http_port(), "/api/v1/workers/" + worker, kToken);
        if (a.status != 200) return false;
        last = json::parse(a.body);
        return ready(last);
      },
      30s);
  EXPECT_TRUE(ok) << worker << ": " << last.dump();
  return last;
}

TEST(ApiAckTest, ASignedAcknowledgeLinkStopsTheLadderWhileAnUnacknowledgedEpisodeClimbs) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 1);  // one partition: one stream clock for every worker
  ASSERT_FALSE(kafka.bootstrap().empty());
  WriteTextFile(dir.path() + "/policy.yaml", "rules:\n  r1_critical_bp:\n    ack_timeout: 1m\n");
  WriteTextFile(dir.path() + "/token", std::string(kToken) + "\n");
  WriteTextFile(dir.path() + "/secret", std::string(kSecret) + "\n");
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log",
                       {"--clock", "stream", "--policy", dir.path() + "/policy.yaml", "--api-token-file",
                        dir.path() + "/token", "--link-secret-file", dir.path() + "/secret"});
  ASSERT_GT(alertd.http_port(), 0);

  const int64_t t0 = NowMs() - 30 * 1000;
  TestProducer producer(kafka.bootstrap());
  for (const char* w : {"ACKED", "CONTROL", "CLOCK"}) {
    producer.SendAt("worker-profiles", w, MakeProfile(w, "U1", "G1").SerializeAsString(), t0);
  }
  producer.SendAt("readings", "ACKED", MakeBp("ACKED", t0 + 1000, 186, 114).SerializeAsString(), t0 + 1000);
  producer.SendAt("readings", "CONTROL", MakeBp("CONTROL", t0 + 1000, 185, 112).SerializeAsString(), t0 + 1000);
  producer.Flush();

  auto has_episode = [](const json& w) { return !w["episodes"].empty(); };
  const json acked = WorkerWhen(alertd, "ACKED", has_episode);
  const std::string episode = acked["episodes"][0].value("episode_id", "");
  ASSERT_FALSE(episode.empty());
  EXPECT_EQ(acked["episodes"][0]["level"], "HEALTH_MANAGER");
  EXPECT_EQ(acked["bp"][0]["abnormal"], true);
  EXPECT_EQ(acked["bp"][0]["category"], "grade3");

  // Expired and forged links act on nothing.
  EXPECT_EQ(HttpPostForm(alertd.http_port(), "/act", {{"t", Link(notify::LinkAction::kAcknowledge, "ACKED", episode, NowMs() - 1000)}}).status, 401);
  std::string forged = Link(notify::LinkAction::kAcknowledge, "CONTROL", episode, NowMs() + 3600 * 1000);
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(HttpPostForm(alertd.http_port(), "/act", {{"t", forged}}).status, 401);

  // Before the ack timeout: the health manager taps the link, then confirms.
  const std::string link = Link(notify::LinkAction::kAcknowledge, "ACKED", episode, NowMs() + 3600 * 1000);
  const HttpAnswer page = HttpGet(alertd.http_port(), "/act?t=" + link);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Acknowledge"), std::string::npos);
  const HttpAnswer done = HttpPostForm(alertd.http_port(), "/act", {{"t", link}});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("已确认"), std::string::npos);
  const json after = WorkerWhen(alertd, "ACKED", [](const json& w) {
    return !w["episodes"].empty() && w["episodes"][0].value("acknowledged", false);
  });
  EXPECT_EQ(after["episodes"][0]["acked_by"]["id"], "HM-G1");
  EXPECT_EQ(after["episodes"][0]["acked_by"]["name"], "Zhou Bo");

  // The same link again (a forwarded message, a double tap): a kind page, and the engine ignores it.
  const double ignored_before = alertd.Metric("alertd_ignored_total");
  const HttpAnswer again = HttpPostForm(alertd.http_port(), "/act", {{"t", link}});
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("already acknowledged"), std::string::npos);

  // Stream time passes the ack timeout: the control episode climbs, the acknowledged one does not.
  producer.SendAt("readings", "CLOCK", MakeBp("CLOCK", t0 + 5 * kMinute, 118, 76).SerializeAsString(), t0 + 5 * kMinute);
  producer.Flush();
  const json control = WorkerWhen(alertd, "CONTROL", [](const json& w) {
    return !w["episodes"].empty() && w["episodes"][0]["level"] == "UNIT_SUPERVISOR";
  });
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_ignored_total") >= ignored_before + 1; }, 10s));
  const std::vector<ConsumedRecord> out = alertd.ReadOutput("escalations");
  int acked_escalated = 0;
  int control_escalated = 0;
  for (const pb::Escalation& e : DistinctEventsOfRule(out, pb::R1_CRITICAL_BP)) {
    if (e.state() != pb::ESCALATED) continue;
    (e.worker_id() == "ACKED" ? acked_escalated : control_escalated)++;
  }
  EXPECT_EQ(control_escalated, 1);
  EXPECT_EQ(acked_escalated, 0);
  EXPECT_EQ(WorkerWhen(alertd, "ACKED", has_episode)["episodes"][0]["level"], "HEALTH_MANAGER");

  // A normal reading resolves it; a resolve link for the closed episode says so and sends nothing.
  producer.SendAt("readings", "ACKED", MakeBp("ACKED", t0 + 6 * kMinute, 124, 78).SerializeAsString(), t0 + 6 * kMinute);
  producer.Flush();
  WorkerWhen(alertd, "ACKED", [](const json& w) { return w["episodes"].empty(); });
  const HttpAnswer closed = HttpPostForm(
      alertd.http_port(), "/act", {{"t", Link(notify::LinkAction::kResolve, "ACKED", episode, NowMs() + 3600 * 1000)}});
  EXPECT_EQ(closed.status, 200);
  EXPECT_NE(closed.body.find("Already closed"), std::string::npos);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
