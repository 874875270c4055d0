// The grid view in headless Chromium against a real alertd (stream clock, R1 ack timeout 1 min) on the
// embedded cluster: the abnormal BP is red and the normal one is not, the page's 确认 Acknowledge is
// answered 202 and lands on escalation-acks, and that episode's ladder stops while a control one climbs.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t kMinute = 60 * 1000;
constexpr char kSecret[] = "browser-link-secret";
constexpr char kToken[] = "browser-operator-token";

// The worker's answer from the API once `ready` holds for it (fails the test after 30 s).
json WorkerWhen(const AlertdProcess& alertd, const std::string& worker, const std::function<bool(const json&)>& ready) {
  json last;
  const bool ok = WaitFor(
      [&] {
        const HttpAnswer a = HttpGet(alertd.http_port(), "/api/v1/workers/" + worker, kToken);
        if (a.status != 200) return false;
        last = json::parse(a.body, nullptr, false);
        return last.is_object() && ready(last);
      },
      30s);
  EXPECT_TRUE(ok) << worker << ": " << last.dump();
  return last;
}

// The probe's one JSON line: the last line of its output that parses as an object.
json ProbeOutcome(const std::string& output) {
  std::size_t end = output.size();
  while (end > 0) {
    const std::size_t start = output.rfind('\n', end - 1);
    const std::size_t from = start == std::string::npos ? 0 : start + 1;
    const json line = json::parse(output.substr(from, end - from), nullptr, false);
    if (line.is_object()) return line;
    if (start == std::string::npos) break;
    end = start;
  }
  return json();
}

TEST(BrowserGridTest, TheGridViewShowsTheAbnormalBpInRedAndItsAcknowledgeStopsTheLadder) {
  // Missing tools fail the test: a browser test that silently does not run guards nothing.
  ASSERT_TRUE(std::filesystem::exists(ALERTD_NODE_BIN)) << "node not found (" ALERTD_NODE_BIN "); deploy/install-deps.sh installs nodejs";
  ASSERT_TRUE(std::filesystem::exists(ALERTD_CHROMIUM_BIN)) << "chromium not found (" ALERTD_CHROMIUM_BIN "); deploy/install-deps.sh installs chromium";

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

  // Grid G1 of unit U1: HIGH measures 186/112 (an R1 episode the page acknowledges), NORMAL 118/76,
  // CONTROL 185/112 (an R1 episode nobody acknowledges), CLOCK only moves stream time later.
  const int64_t t0 = NowMs() - 30 * 1000;
  TestProducer producer(kafka.bootstrap());
  for (const char* w : {"HIGH", "NORMAL", "CONTROL", "CLOCK"}) {
    producer.SendAt("worker-profiles", w, MakeProfile(w, "U1", "G1").SerializeAsString(), t0);
  }
  producer.SendAt("readings", "HIGH", MakeBp("HIGH", t0 + 1000, 186, 112).SerializeAsString(), t0 + 1000);
  producer.SendAt("readings", "NORMAL", MakeBp("NORMAL", t0 + 1000, 118, 76).SerializeAsString(), t0 + 1000);
  producer.SendAt("readings", "CONTROL", MakeBp("CONTROL", t0 + 1000, 185, 112).SerializeAsString(), t0 + 1000);
  producer.Flush();

  auto has_episode = [](const json& w) { return w.contains("episodes") && !w["episodes"].empty(); };
  const std::string episode = WorkerWhen(alertd, "HIGH", has_episode)["episodes"][0].value("episode_id", "");
  ASSERT_FALSE(episode.empty());
  WorkerWhen(alertd, "CONTROL", has_episode);
  WorkerWhen(alertd, "NORMAL", [](const json& w) { return w.contains("bp") && !w["bp"].empty(); });

  // The grid's health manager opens the view link of grid G1 and taps 确认 Acknowledge on HIGH's card.
  const std::string url = "http://127.0.0.1:" + std::to_string(alertd.http_port()) + "/grid/G1?t=" +
                          SignedViewLink("grid:G1", NowMs() + 3600 * 1000, kSecret);
  const std::string screenshot = std::string(ALERTD_BROWSER_ARTIFACTS) + "/grid_view_real_alertd.png";
  std::filesystem::create_directories(ALERTD_BROWSER_ARTIFACTS);
  std::filesystem::remove(screenshot);
  const FinishedCommand probe = RunToEnd({ALERTD_NODE_BIN, ALERTD_GRID_PROBE, "--chromium", ALERTD_CHROMIUM_BIN, "--url",
                                          url, "--acknowledge", episode, "--screenshot", screenshot},
                                         dir.path() + "/probe.log", 90s);
  const json seen = ProbeOutcome(probe.output);
  ASSERT_EQ(probe.exit_code, 0) << probe.output;
  ASSERT_TRUE(seen.is_object()) << probe.output;
  std::cout << "grid view screenshot: " << screenshot << "\n";
  EXPECT_TRUE(std::filesystem::exists(screenshot)) << screenshot;
  EXPECT_EQ(seen["state"], "loaded");
  EXPECT_EQ(seen["last_action"], "acknowledge " + episode + " 202");
  ASSERT_TRUE(seen["rows"].contains("HIGH") && seen["rows"].contains("NORMAL")) << seen.dump();
  const json& high = seen["rows"]["HIGH"]["bp"];
  const json& normal = seen["rows"]["NORMAL"]["bp"];
  EXPECT_NE(high.value("text", "").find("186"), std::string::npos) << high.dump();
  EXPECT_TRUE(high.value("abnormal", false)) << high.dump();
  EXPECT_TRUE(high.value("red", false)) << high.dump();
  EXPECT_NE(normal.value("text", "").find("118"), std::string::npos) << normal.dump();
  EXPECT_FALSE(normal.value("abnormal", true)) << normal.dump();
  EXPECT_FALSE(normal.value("red", true)) << normal.dump();
  EXPECT_TRUE(seen["problems"].empty()) << seen["problems"].dump();

  // The page's acknowledgement is an EscalationAck of that episode on escalation-acks.
  std::vector<pb::EscalationAck> acks;
  ASSERT_TRUE(WaitFor(
      [&] {
        acks.clear();
        for (const ConsumedRecord& r : ReadToEnd(kafka.bootstrap(), "escalation-acks")) {
          pb::EscalationAck ack;
          if (ack.ParseFromString(r.value) && ack.episode_id() == episode) acks.push_back(ack);
        }
        return !acks.empty();
      },
      15s))
      << "no EscalationAck for " << episode << " on escalation-acks";
  EXPECT_EQ(acks[0].worker_id(), "HIGH");
  EXPECT_EQ(acks[0].action(), pb::ACKNOWLEDGE);
  EXPECT_EQ(acks[0].by().id(), "HM-G1");
  WorkerWhen(alertd, "HIGH", [](const json& w) {
    return !w["episodes"].empty() && w["episodes"][0].value("acknowledged", false);
  });

  // Stream time passes the ack timeout: the control episode climbs, the acknowledged one does not.
  producer.SendAt("readings", "CLOCK", MakeBp("CLOCK", t0 + 5 * kMinute, 118, 76).SerializeAsString(), t0 + 5 * kMinute);
  producer.Flush();
  WorkerWhen(alertd, "CONTROL", [](const json& w) {
    return !w["episodes"].empty() && w["episodes"][0]["level"] == "UNIT_SUPERVISOR";
  });
  int high_escalated = 0;
  int control_escalated = 0;
  for (const pb::Escalation& e : DistinctEventsOfRule(alertd.ReadOutput("escalations"), pb::R1_CRITICAL_BP)) {
    if (e.state() != pb::ESCALATED) continue;
    if (e.episode_id() == episode) high_escalated++;
    if (e.worker_id() == "CONTROL") control_escalated++;
  }
  EXPECT_EQ(control_escalated, 1);
  EXPECT_EQ(high_escalated, 0);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
