// alertd-notify against a real Alertmanager (Debian prometheus-alertmanager) on loopback: the alert
// arrives with the episode's labels, amtool sees it, it stays while the episode is open (posted again
// within resolve_timeout), and a RESOLVED event ends it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/notify/escalation_samples.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kAlertmanagerBin = "/usr/bin/prometheus-alertmanager";
constexpr const char* kAmtoolBin = "/usr/bin/amtool";

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// The alerts Alertmanager holds as active now, from its API v2.
json ActiveAlerts(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(2);
  c.set_read_timeout(5);
  auto res = c.Get("/api/v2/alerts?active=true&silenced=true&inhibited=true");
  if (!res || res->status != 200) return json::array();
  json alerts = json::parse(res->body, nullptr, false);
  return alerts.is_array() ? alerts : json::array();
}

json AlertOfEpisode(const json& alerts, const std::string& episode) {
  for (const json& a : alerts) {
    if (a["labels"].value("episode", "") == episode) return a;
  }
  return nullptr;
}

// What amtool prints for `alert query -o json`, or "" if it failed.
std::string AmtoolQuery(int port) {
  const std::string command = std::string(kAmtoolBin) + " --alertmanager.url=http://127.0.0.1:" + std::to_string(port) +
                              " alert query -o json 2>&1";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  return pclose(pipe) == 0 ? out : "";
}

TEST(NotifyAlertmanagerTest, AnEpisodeBecomesAnAlertWithItsLabelsStaysWhileOpenAndResolvedEndsIt) {
  ASSERT_TRUE(std::filesystem::exists(kAlertmanagerBin))
      << kAlertmanagerBin << " is missing: install the Debian package prometheus-alertmanager (deploy/install-deps.sh)";
  ASSERT_TRUE(std::filesystem::exists(kAmtoolBin)) << kAmtoolBin << " is missing: it ships in prometheus-alertmanager";
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2);

  // A short resolve_timeout: an alert nobody posts again ends after 3 s.
  WriteFile(dir.path() + "/alertmanager.yml",
            "global:\n  resolve_timeout: 3s\nroute:\n  receiver: programme\nreceivers:\n  - name: programme\n");
  const int am_port = FreeLoopbackPort();
  Process alertmanager({kAlertmanagerBin, "--config.file=" + dir.path() + "/alertmanager.yml",
                        "--storage.path=" + dir.path() + "/am-data",
                        "--web.listen-address=127.0.0.1:" + std::to_string(am_port), "--cluster.listen-address="},
                       dir.path() + "/alertmanager.log");
  ASSERT_TRUE(WaitFor(
      [&] {
        httplib::Client c("127.0.0.1", am_port);
        auto res = c.Get("/-/ready");
        return res && res->status == 200;
      },
      20s, 100ms))
      << alertmanager.LogTail();

  WriteFile(dir.path() + "/notify.yaml",
            "channels:\n  am:\n    kind: alertmanager\n    url: http://127.0.0.1:" + std::to_string(am_port) +
                "\nrecipients:\n  - role: health_manager\n    channels: [am]\n");
  NotifyProcess notify(ALERTD_NOTIFY_BIN, kafka.bootstrap(), dir.path() + "/notify.yaml", ALERTD_NOTIFY_TEMPLATES,
                       dir.path() + "/notify.log",
                       {"--page-base-url", "http://grid.example", "--alertmanager-repost-ms", "1000"});

  pb::Escalation open = notify::testing::SampleEscalation(pb::R1_CRITICAL_BP);
  open.set_event_id("ev-am-1");
  open.set_episode_id("ep-am-1");
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  open.set_opened_at_ms(now_ms - 60000);
  open.set_emitted_at_ms(now_ms - 59000);
  TestProducer producer(kafka.bootstrap());
  producer.Send("escalations", open.worker_id(), open.SerializeAsString());
  producer.Flush();

  json alert;
  ASSERT_TRUE(WaitFor(
      [&] {
        alert = AlertOfEpisode(ActiveAlerts(am_port), "ep-am-1");
        return !alert.is_null();
      },
      60s, 200ms))
      << notify.process().LogTail();
  const json& labels = alert["labels"];
  EXPECT_EQ(labels.value("alertname", ""), "HealthEscalation");
  EXPECT_EQ(labels.value("rule", ""), "R1");
  EXPECT_EQ(labels.value("unit", ""), "U08");
  EXPECT_EQ(labels.value("grid", ""), "U08-G02");
  EXPECT_EQ(labels.value("level", ""), "health_manager");
  EXPECT_EQ(labels.value("severity", ""), "urgent");
  EXPECT_EQ(labels.value("recipient", ""), "HM0012");
  EXPECT_FALSE(labels.contains("worker_name")) << "no names in labels";
  EXPECT_EQ(alert.value("generatorURL", ""), "http://grid.example/worker/W000155");
  EXPECT_FALSE(alert["annotations"].value("summary", "").empty());
  EXPECT_EQ(alert["status"].value("state", ""), "active");

  const std::string amtool = AmtoolQuery(am_port);
  const json seen = json::parse(amtool, nullptr, false);
  ASSERT_TRUE(seen.is_array()) << "amtool: " << amtool;
  EXPECT_FALSE(AlertOfEpisode(seen, "ep-am-1").is_null()) << "amtool does not list the alert: " << amtool;

  // Posted again every second, the open episode's alert outlives the resolve_timeout.
  std::this_thread::sleep_for(6s);
  EXPECT_FALSE(AlertOfEpisode(ActiveAlerts(am_port), "ep-am-1").is_null())
      << "the open episode's alert ended: it was not posted again within resolve_timeout";

  pb::Escalation resolved = open;
  resolved.set_event_id("ev-am-2");
  resolved.set_sequence(2);
  resolved.set_state(pb::RESOLVED);
  resolved.set_emitted_at_ms(now_ms);
  producer.Send("escalations", resolved.worker_id(), resolved.SerializeAsString());
  producer.Flush();
  EXPECT_TRUE(WaitFor([&] { return AlertOfEpisode(ActiveAlerts(am_port), "ep-am-1").is_null(); }, 60s, 200ms))
      << "the RESOLVED event did not end the alert: " << ActiveAlerts(am_port).dump();
  EXPECT_EQ(notify.Metric("alertd_notify_deliveries_total", {{"channel", "am"}, {"outcome", "sent"}}), 2);
}

}  // namespace
}  // namespace alertd::testing
