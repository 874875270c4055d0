// Debian's Prometheus scraping a running alertd with deploy/prometheus's rules: the engine's series arrive,
// every rule evaluates without error, the recording rules give the programme's figures alertd holds, and
// every PromQL expression of the Grafana dashboard and the rules is accepted and names only exposed metrics.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
constexpr int64_t kDay = 24 * 3600 * 1000;

// A loopback port nobody listens on now (Prometheus cannot report one it picked itself).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Prometheus with a 1 s scrape and evaluation interval over one alertd and the rule files of deploy/.
class PrometheusServer {
 public:
  PrometheusServer(const std::string& dir, int alertd_port) {
    const std::string config = dir + "/prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " << ALERTD_SOURCE_DIR << "/deploy/prometheus/rules/*.yml\n"
                          << "scrape_configs:\n  - job_name: alertd\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << alertd_port << "']\n";
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {  // another suite may take the port first
      port_ = FreePort();
      process_ = std::make_unique<Process>(
          std::vector<std::string>{PROMETHEUS_BIN, "--config.file=" + config,
                                   "--storage.tsdb.path=" + dir + "/tsdb-" + std::to_string(attempt),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_)},
          dir + "/prometheus-" + std::to_string(attempt) + ".log");
      ready_ = WaitFor([&] { return Status("/-/ready") == 200 || !process_->Running(); }, 20s) &&
               process_->Running();
    }
  }
  bool ready() const { return ready_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string LogTail() const { return process_ ? process_->LogTail() : ""; }

  int Status(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(1);
    auto res = c.Get(path);
    return res ? res->status : -1;
  }
  json Api(const std::string& path, const httplib::Params& params = {}) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(2);
    auto res = c.Get(path, params, httplib::Headers{});
    if (!res) return json::object();
    return json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  }
  // label set -> value of an instant query's vector result.
  std::map<std::string, double> Query(const std::string& expr) const {
    std::map<std::string, double> out;
    const json r = Api("/api/v1/query", {{"query", expr}});
    if (!r.is_object() || r.value("status", "") != "success") return out;
    for (const auto& s : r["data"]["result"]) {
      std::string key;
      for (const auto& [k, v] : s["metric"].items()) {
        if (k != "__name__") key += k + "=" + v.get<std::string>() + ",";
      }
      out[key] = std::stod(s["value"][1].get<std::string>());
    }
    return out;
  }

 private:
  std::unique_ptr<Process> process_;
  int port_ = -1;
  bool ready_ = false;
};

healthgrid::v1::Reading PreShift(const std::string& worker, int64_t at, int sys, int dia) {
  healthgrid::v1::Reading r = MakeBp(worker, at, sys, dia);
  r.set_context(healthgrid::v1::PRE_SHIFT);
  return r;
}

TEST(PrometheusScrapeTest, TheEngineSeriesArriveAndTheRecordingRulesGiveTheProgrammeFigures) {
  ASSERT_EQ(access(PROMETHEUS_BIN, X_OK), 0)
      << PROMETHEUS_BIN << " is missing: install the Debian package prometheus (deploy/install-deps.sh)";
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), /*partitions=*/4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  // Replay mode: processing time follows the records' timestamps, so a self-test can be overdue now.
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log", {"--clock", "stream"});
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();
  const int64_t enrolled_at = now - 8 * kDay;
  auto send = [&](const std::string& topic, const std::string& worker, const std::string& bytes, int64_t at) {
    producer.SendAt(topic, worker, bytes, at);
  };

  // U05: six workers with grade-2 hypertension, enrolled in weekly self-tests eight days ago. E1..E5
  // measure now (E1 and E2 at grade 3: R1 at the health manager); E0 does not, and only an ack of
  // E0's brings its partition's time to now: its self-test is overdue. U02: six drivers; D1 (unfit), D2
  // and D6 check before their shift now, D3 (unfit), D4 and D5 once Prometheus runs: each round one in
  // three unfit, so both series grow by what they started at and rate() extrapolates them alike.
  for (int i = 0; i < 6; ++i) {
    const std::string w = "E" + std::to_string(i);
    healthgrid::v1::WorkerProfile p = MakeProfile(w, "U05", "U05-G01");
    p.mutable_conditions()->set_hypertension_grade(2);
    send("worker-profiles", w, p.SerializeAsString(), enrolled_at);
  }
  for (const char* w : {"D1", "D2", "D3", "D4", "D5", "D6"}) {
    healthgrid::v1::WorkerProfile p = MakeProfile(w, "U02", "U02-G05");
    p.add_high_risk_posts(healthgrid::v1::DRIVER);
    send("worker-profiles", w, p.SerializeAsString(), enrolled_at);
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 12; }, 30s))
      << alertd.process().LogTail();
  healthgrid::v1::EscalationAck ack;
  ack.set_worker_id("E0");
  ack.set_rule(healthgrid::v1::R1_CRITICAL_BP);
  ack.set_action(healthgrid::v1::ACKNOWLEDGE);
  send("escalation-acks", "E0", ack.SerializeAsString(), now - 30'000);
  for (const char* w : {"E1", "E2"}) send("readings", w, MakeBp(w, now - 60'000, 186, 112).SerializeAsString(), now - 30'000);
  for (const char* w : {"E3", "E4", "E5"}) send("readings", w, MakeBp(w, now - 60'000, 126, 80).SerializeAsString(), now - 30'000);
  send("readings", "D1", PreShift("D1", now - 120'000, 166, 104).SerializeAsString(), now - 30'000);
  send("readings", "D2", PreShift("D2", now - 120'000, 122, 78).SerializeAsString(), now - 30'000);
  send("readings", "D6", PreShift("D6", now - 120'000, 130, 84).SerializeAsString(), now - 30'000);
  send("readings", "E5", "these bytes are no Reading", now - 30'000);
  producer.Flush();
  ASSERT_TRUE(WaitFor(
      [&] {
        return alertd.Metric("alertd_pre_shift_checks_total") == 3 &&
               alertd.Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}) == 1 && alertd.CaughtUp();
      },
      30s))
      << "pre-shift checks " << alertd.Metric("alertd_pre_shift_checks_total") << ", overdue "
      << alertd.Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}) << "\n" << alertd.process().LogTail();

  PrometheusServer prometheus(dir.path(), alertd.http_port());
  ASSERT_TRUE(prometheus.ready()) << prometheus.LogTail();
  ASSERT_TRUE(WaitFor([&] { return prometheus.Query("alertd_pre_shift_checks_total").size() == 2; }, 20s, 200ms))
      << prometheus.LogTail();

  // The second pre-shift round, scraped after the first, so the hour's rate sees both.
  send("readings", "D3", PreShift("D3", now - 60'000, 170, 106).SerializeAsString(), now - 20'000);
  send("readings", "D4", PreShift("D4", now - 60'000, 118, 76).SerializeAsString(), now - 20'000);
  send("readings", "D5", PreShift("D5", now - 60'000, 124, 80).SerializeAsString(), now - 20'000);
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_pre_shift_checks_total") == 6; }, 30s));

  // The engine's series, as scraped.
  EXPECT_EQ(prometheus.Query("up{job=\"alertd\"}"), (std::map<std::string, double>{{"instance=127.0.0.1:" + std::to_string(alertd.http_port()) + ",job=alertd,", 1}}));
  for (const char* series : {"alertd_readings_total", "alertd_consumer_lag", "alertd_commit_duration_seconds_bucket",
                             "alertd_self_test_compliance_ratio", "alertd_open_escalations",
                             "alertd_dead_letters_total", "alertd_escalations_total", "alertd_referrals_total"}) {
    EXPECT_FALSE(prometheus.Query(series).empty()) << series << " was not scraped";
  }

  // The recording rules: U05 has 5 of 6 on time; of the pre-shift checks the hour's rate sees (the
  // second round), one in three was unfit; open
  // escalations by level add up to what alertd holds.
  std::map<std::string, double> unfit;
  EXPECT_TRUE(WaitFor(
      [&] {
        unfit = prometheus.Query("alertd_unit:pre_shift_unfit:ratio_rate1h");
        return unfit.size() == 1 && prometheus.Query("alertd_pre_shift_checks_total{result=\"unfit\"}") ==
                                        std::map<std::string, double>{
                                            {"instance=127.0.0.1:" + std::to_string(alertd.http_port()) +
                                                 ",job=alertd,result=unfit,unit=U02,",
                                             2}};
      },
      20s, 200ms));
  ASSERT_EQ(unfit.size(), 1u);
  EXPECT_EQ(unfit.begin()->first, "unit=U02,");
  EXPECT_NEAR(unfit.begin()->second, 1.0 / 3.0, 1e-9);

  const auto compliance = prometheus.Query("alertd_unit:self_test_compliance:ratio");
  ASSERT_EQ(compliance.size(), 1u);
  EXPECT_EQ(compliance.begin()->first, "unit=U05,");
  EXPECT_NEAR(compliance.begin()->second, 5.0 / 6.0, 1e-9);

  const auto by_level = prometheus.Query("alertd_level:open_escalations:sum");
  EXPECT_GE(by_level.count("level=health_manager,") ? by_level.at("level=health_manager,") : 0, 2);
  for (const char* level : {"worker", "health_manager", "unit_supervisor"}) {
    const double held = alertd.Metric("alertd_open_escalations", {{"level", level}});
    const std::string key = std::string("level=") + level + ",";
    EXPECT_EQ(by_level.count(key) ? by_level.at(key) : 0, held) << level;
  }

  // Every rule of deploy/prometheus loaded and evaluated without an error; the programme's alert stays
  // pending at most (its `for` is two hours).
  const json rules = prometheus.Api("/api/v1/rules");
  ASSERT_EQ(rules.value("status", ""), "success") << rules.dump();
  int evaluated = 0;
  for (const auto& group : rules["data"]["groups"]) {
    for (const auto& rule : group["rules"]) {
      EXPECT_EQ(rule.value("health", ""), "ok") << rule.value("name", "") << ": " << rule.value("lastError", "");
      ++evaluated;
    }
  }
  EXPECT_EQ(evaluated, 20);
  EXPECT_TRUE(prometheus.Query("ALERTS{alertstate=\"firing\"}").empty());

  // The dashboard's PromQL, queried on this Prometheus, naming only what this alertd's /metrics holds.
  const std::string exposed = dir.path() + "/alertd-metrics.txt";
  std::ofstream(exposed) << alertd.Get("/metrics");
  const std::string source = ALERTD_SOURCE_DIR;
  const std::string report = dir.path() + "/dashboard_promql.txt";
  const std::string command = std::string(PYTHON3_BIN) + " " + source + "/tests/deploy/dashboard_promql.py online" +
                              " --prometheus " + prometheus.url() + " --exposed " + exposed + " --dashboard " +
                              source + "/deploy/grafana/dashboards/alertd.json --rules " + source +
                              "/deploy/prometheus/rules/*.yml --notify-metrics " + source +
                              "/tests/deploy/notify_metrics.txt > " + report + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(report);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << command << "\n" << output;
  std::cout << output;
}

}  // namespace
}  // namespace alertd::testing
