// alertd backtest end to end on a simulated month (alertd-sim --scenario week over 28 days, 200 workers)
// in the embedded Kafka: its baseline events are exactly what a real alertd --clock=stream emits on the
// same topics (ids, rule, state, sequence, emitted_at), so the backtest reproduces the engine; the
// threshold question (R1 at 170/105 instead of 180/110) is answered with the difference an independent
// count of the input predicts; and the report is the same bytes from Kafka, from an export file, and twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
namespace hg = healthgrid::v1;

// The month: four weeks of history from a Monday, with the sim's lead-in before it.
const std::vector<std::string> kMonth{"--scenario", "week", "--start", "2025-03-03", "--days", "28",
                                      "--workers",  "200",  "--seed",  "20250303",   "--live-seconds", "0",
                                      "--quiet"};

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a shell command line to the end; its exit code (-1 if it did not finish within a minute).
int RunShell(const std::string& command, const std::string& log) {
  Process p({"/bin/sh", "-c", command}, log);
  if (!WaitFor([&] { return !p.Running(); }, 60s, 20ms)) return -1;
  return p.Terminate();
}

// An event as both sides can name it.
using EventKey = std::tuple<std::string, std::string, std::string, uint32_t, std::string, int64_t>;

EventKey KeyOf(const hg::Escalation& e) {
  return {e.event_id(), hg::Rule_Name(e.rule()), hg::EscalationState_Name(e.state()), e.sequence(), e.worker_id(),
          e.emitted_at_ms()};
}

EventKey KeyOf(const nlohmann::json& j) {
  return {j.at("event_id"), j.at("rule"), j.at("state"), j.at("sequence"), j.at("worker"), j.at("emitted_at_ms")};
}

// R1 episodes opened under a global critical threshold, counted from the input alone: per worker, in
// the order the readings reached Kafka, a critical reading opens an episode unless one is open; a later
// reading below the threshold closes it (the sim's acks only acknowledge). A worker's own thresholds
// (profile policy) win over the global ones, as in EffectivePolicy.
int CountR1Openings(const std::vector<ConsumedRecord>& profiles, const std::vector<ConsumedRecord>& readings,
                    uint32_t systolic, uint32_t diastolic) {
  std::map<std::string, std::pair<uint32_t, uint32_t>> own;
  for (const auto& r : profiles) {
    hg::WorkerProfile p;
    if (!p.ParseFromString(r.value)) continue;
    if (p.policy().has_critical_systolic_mmhg() || p.policy().has_critical_diastolic_mmhg()) {
      own[p.worker_id()] = {p.policy().has_critical_systolic_mmhg() ? p.policy().critical_systolic_mmhg() : systolic,
                            p.policy().has_critical_diastolic_mmhg() ? p.policy().critical_diastolic_mmhg() : diastolic};
    }
  }
  struct Episode {
    bool open = false;
    int64_t last_trigger = 0;
  };
  std::map<std::string, Episode> episodes;
  std::vector<const ConsumedRecord*> ordered;
  for (const auto& r : readings) ordered.push_back(&r);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const ConsumedRecord* a, const ConsumedRecord* b) { return a->timestamp_ms < b->timestamp_ms; });
  int openings = 0;
  for (const ConsumedRecord* r : ordered) {
    hg::Reading reading;
    if (!reading.ParseFromString(r->value) || !reading.has_blood_pressure()) continue;
    const int s = static_cast<int>(reading.blood_pressure().systolic_mmhg());
    const int d = static_cast<int>(reading.blood_pressure().diastolic_mmhg());
    if (s < 50 || s > 300 || d < 20 || d > 200 || d >= s) continue;  // impossible: dead-lettered
    const auto it = own.find(reading.worker_id());
    const auto [cs, cd] = it == own.end() ? std::pair{systolic, diastolic} : it->second;
    const bool critical = s >= static_cast<int>(cs) || d >= static_cast<int>(cd);
    Episode& e = episodes[reading.worker_id()];
    if (critical) {
      if (!e.open) ++openings;
      e.open = true;
      e.last_trigger = std::max(e.last_trigger, reading.measured_at_ms());
    } else if (e.open && reading.measured_at_ms() > e.last_trigger) {
      e.open = false;
    }
  }
  return openings;
}

TEST(BacktestReplayTest, BaselineIsWhatAlertdEmitsAndTheThresholdDifferenceIsPredicted) {
  const auto started = std::chrono::steady_clock::now();
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), /*partitions=*/4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  std::vector<std::string> sim_argv{ALERTD_SIM_BIN, "--bootstrap", kafka.bootstrap()};
  sim_argv.insert(sim_argv.end(), kMonth.begin(), kMonth.end());
  Process sim(sim_argv, dir.path() + "/sim.log");
  ASSERT_TRUE(WaitFor([&] { return !sim.Running(); }, 60s, 50ms)) << sim.LogTail();
  ASSERT_EQ(sim.Terminate(), 0) << sim.LogTail();

  const std::string policy = dir.path() + "/drivers-170-105.yaml";
  std::ofstream(policy) << "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 170, diastolic: 105}\n";
  // Every event of the month and its lead-in: the period reaches from before the sim's first record.
  const std::string common = std::string(ALERTD_BIN) + " backtest --from 2025-02-01 --to 2025-04-15 --policy " +
                             policy + " --workers 5";
  const std::string from_kafka = common + " --bootstrap " + kafka.bootstrap();
  const std::string events = dir.path() + "/events.jsonl";
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(RunShell(from_kafka + " --events " + events + " > " + dir.path() + "/report1.txt 2> " + dir.path() +
                         "/backtest1.err",
                     dir.path() + "/sh1.log"),
            0)
      << ReadWhole(dir.path() + "/backtest1.err");
  const double backtest_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The real engine on the same topics.
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log",
                       {"--clock", "stream", "--log-level", "warn", "--no-changelog"});
  std::set<EventKey> engine;
  for (const auto& e : ParseEscalations(alertd.ReadOutput("escalations"))) engine.insert(KeyOf(e));
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();

  std::set<EventKey> baseline;
  int r1_open[2] = {0, 0};
  {
    std::ifstream in(events);
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      const bool is_baseline = j.at("policy") == "baseline";
      if (is_baseline) {
        EXPECT_TRUE(baseline.insert(KeyOf(j)).second) << "an event twice: " << line;
      }
      if (j.at("rule") == "R1_CRITICAL_BP" && j.at("state") == "OPEN") ++r1_open[is_baseline ? 0 : 1];
    }
  }
  ASSERT_GT(engine.size(), 300u) << "the month should raise hundreds of events";
  EXPECT_EQ(baseline.size(), engine.size());
  std::vector<EventKey> only_engine, only_backtest;
  std::set_difference(engine.begin(), engine.end(), baseline.begin(), baseline.end(), std::back_inserter(only_engine));
  std::set_difference(baseline.begin(), baseline.end(), engine.begin(), engine.end(), std::back_inserter(only_backtest));
  EXPECT_TRUE(only_engine.empty()) << only_engine.size() << " events alertd emitted that the backtest did not, e.g. "
                                   << (only_engine.empty() ? "" : std::get<0>(only_engine[0]) + " " + std::get<1>(only_engine[0]));
  EXPECT_TRUE(only_backtest.empty()) << only_backtest.size() << " events only the backtest has, e.g. "
                                     << (only_backtest.empty() ? "" : std::get<0>(only_backtest[0]) + " " + std::get<1>(only_backtest[0]));

  // The threshold question, checked against a count made from the input alone.
  const auto profiles = ReadToEnd(kafka.bootstrap(), "worker-profiles");
  const auto readings = ReadToEnd(kafka.bootstrap(), "readings");
  const int predicted_base = CountR1Openings(profiles, readings, 180, 110);
  const int predicted_new = CountR1Openings(profiles, readings, 170, 105);
  EXPECT_EQ(r1_open[0], predicted_base);
  EXPECT_EQ(r1_open[1], predicted_new);
  EXPECT_GT(predicted_new - predicted_base, 20) << "the month should have readings between the thresholds";
  const std::string report = ReadWhole(dir.path() + "/report1.txt");
  EXPECT_NE(report.find("R1_CRITICAL_BP"), std::string::npos) << report;

  // Deterministic: again from Kafka, and from an export file, the same bytes.
  ASSERT_EQ(RunShell(from_kafka + " > " + dir.path() + "/report2.txt 2>/dev/null", dir.path() + "/sh2.log"), 0);
  EXPECT_EQ(ReadWhole(dir.path() + "/report2.txt"), report);
  const std::string exported = dir.path() + "/month.export";
  ASSERT_EQ(RunShell(std::string(ALERTD_BIN) + " backtest export --bootstrap " + kafka.bootstrap() + " --output " +
                         exported + " 2> " + dir.path() + "/export.err",
                     dir.path() + "/sh3.log"),
            0)
      << ReadWhole(dir.path() + "/export.err");
  ASSERT_EQ(RunShell(common + " --input " + exported + " > " + dir.path() + "/report3.txt 2> " + dir.path() +
                         "/backtest3.err",
                     dir.path() + "/sh4.log"),
            0)
      << ReadWhole(dir.path() + "/backtest3.err");
  EXPECT_EQ(ReadWhole(dir.path() + "/report3.txt"), report);

  // A later period with a short lead-in: each input partition starts at its first record at or after
  // --from minus the lead-in, read from Kafka or picked from the whole export alike.
  const std::string later = std::string(ALERTD_BIN) + " backtest --from 2025-03-17 --to 2025-03-24 --lead-in 7d --policy " +
                            policy;
  ASSERT_EQ(RunShell(later + " --bootstrap " + kafka.bootstrap() + " > " + dir.path() + "/later_kafka.txt 2>/dev/null",
                     dir.path() + "/sh5.log"),
            0);
  ASSERT_EQ(RunShell(later + " --input " + exported + " > " + dir.path() + "/later_file.txt 2>/dev/null",
                     dir.path() + "/sh6.log"),
            0);
  const std::string later_report = ReadWhole(dir.path() + "/later_kafka.txt");
  EXPECT_EQ(ReadWhole(dir.path() + "/later_file.txt"), later_report);
  const std::size_t replayed = later_report.find("readings ");
  ASSERT_NE(replayed, std::string::npos) << later_report;
  const long later_readings = std::stol(later_report.substr(replayed + 9));
  EXPECT_GT(later_readings, 0) << later_report;
  EXPECT_LT(later_readings, static_cast<long>(readings.size()) * 2 / 3) << "the lead-in did not cut the history";

  std::cout << "backtest of the month: " << backtest_seconds << " s; test " <<
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() << " s\n" << report;
}

TEST(BacktestReplayTest, BadFlagsAndFilesAreClearErrors) {
  TempDir dir;
  const std::string log = dir.path() + "/sh.log";
  const std::string err = dir.path() + "/err.txt";
  const std::string bt = std::string(ALERTD_BIN) + " backtest ";
  EXPECT_EQ(RunShell(bt + "--from 2025-03-03 --to 2025-03-31 --policy /nonexistent.yaml --input x 2> " + err, log), 2);
  EXPECT_NE(ReadWhole(err).find("/nonexistent.yaml"), std::string::npos) << ReadWhole(err);
  EXPECT_EQ(RunShell(bt + "--from 2025-13-03 --to 2025-03-31 --policy p --input x 2> " + err, log), 2);
  EXPECT_NE(ReadWhole(err).find("--from"), std::string::npos) << ReadWhole(err);
  const std::string junk = dir.path() + "/junk.export";
  std::ofstream(junk) << "not an export\n";
  const std::string policy = dir.path() + "/p.yaml";
  std::ofstream(policy) << "rules:\n  r1_critical_bp:\n    at_or_above: {systolic: 170, diastolic: 105}\n";
  EXPECT_EQ(RunShell(bt + "--from 2025-03-03 --to 2025-03-31 --policy " + policy + " --input " + junk + " 2> " + err, log), 2);
  EXPECT_NE(ReadWhole(err).find("not an alertd backtest export"), std::string::npos) << ReadWhole(err);
  EXPECT_EQ(RunShell(bt + "--from 2025-03-03 --to 2025-03-31 --policy " + policy + " 2> " + err, log), 2);
  EXPECT_NE(ReadWhole(err).find("exactly one of --bootstrap"), std::string::npos) << ReadWhole(err);
}

}  // namespace
}  // namespace alertd::testing
