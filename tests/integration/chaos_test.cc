// The chaos verifier: three alertd instances in one group are killed, drained, stalled and wiped while
// weeks of a health grid's input arrive; in the end no reading is lost or counted twice and the
// escalations and referrals are exactly those of a clean single-instance run.
//
// In the style of Kafka Streams' EOS system test and Flink's sequence checks. Stream-clock mode makes
// the correct output a function of the input alone, so a clean run of one instance over the same
// input, on its own embedded cluster, is the reference. Then, on a second cluster, three instances on
// 16 partitions (each partition with a standby replica on another instance) process the same input,
// produced in chunks while a seeded chaos loop picks an
// instance and `kill -9`s it (restart on the same disk), SIGTERMs it (restart), SIGSTOPs it past the
// session timeout (it wakes up after its partitions moved) or, once, kills it and wipes its disk.
// Checks, once the input is all produced and the instances have caught up:
// - the distinct escalation ids (with emitted_at, state, level) and referral ids on the output
//   topics equal the reference's; each R3 ladder step (episode, sequence) has exactly one id;
// - the last owner of each partition holds each of its workers' readings exactly once;
// - all three stopped, one fresh instance with an empty disk in the same group takes every partition
//   (restores it from the changelog; a build without one re-reads the input), and `alertd
//   dump-state` shows each worker's readings_accepted equal to what the driver produced; its output
//   adds no id the reference lacks.
// A summary block with the figures goes to stdout.
//
// Parameters (environment; `make soak` sets larger ones, ctest runs the defaults in about a minute):
//   ALERTD_CHAOS_SECONDS  how long the input is produced while the chaos runs (default 25)
//   ALERTD_CHAOS_WORKERS  workers in the history (default 240)
//   ALERTD_CHAOS_DAYS     simulated days of history (default 28; at least 18)
//   ALERTD_CHAOS_SEED     seed of the history and of the chaos (default: from the clock; printed)
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "tests/integration/chaos.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kPartitions = 16;
constexpr int kInstances = 3;
constexpr int kSessionTimeoutMs = 3000;

const std::vector<std::string> kFlags{"--clock",          "stream",
                                      "--no-sync",        "--kafka-property",
                                      "session.timeout.ms=" + std::to_string(kSessionTimeoutMs),
                                      "--kafka-property", "heartbeat.interval.ms=500"};

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

// What alertd put on its output topics: each distinct escalation by event id, each referral id, and
// how many records carried them (at-least-once output allows duplicates with the same id).
struct Output {
  using Event = std::tuple<int64_t, int, int>;  // emitted_at, state, level
  std::map<std::string, Event> escalations;
  std::map<std::pair<std::string, int>, std::set<std::string>> r3_steps;  // (episode, sequence) -> ids
  std::set<std::string> referrals;
  std::size_t escalation_records = 0, referral_records = 0;
  std::map<int, int> by_rule;
  std::set<int> r3_levels;
  std::map<std::string, std::string> described;  // event id -> rule, worker, time, state, level in words
  std::map<int32_t, int64_t> escalations_end, referrals_end;  // where each partition ended at the read
};

// The records of `topic` from `since` (by partition; from the start when absent) to its end now, and
// where each partition ended.
std::vector<ConsumedRecord> ReadSince(const std::string& bootstrap, const std::string& topic,
                                      const std::map<int32_t, int64_t>& since, std::map<int32_t, int64_t>& end) {
  std::vector<ConsumedRecord> records = ReadToEnd(bootstrap, topic, 60s);
  std::erase_if(records, [&](const ConsumedRecord& r) {
    const auto it = since.find(r.partition);
    return it != since.end() && r.offset < it->second;
  });
  end = since;
  for (const auto& r : records) end[r.partition] = std::max(end[r.partition], r.offset + 1);
  return records;
}

// The output on the topics now, or only what came after `after` was read.
Output ReadOutput(const std::string& bootstrap, const Output* after = nullptr) {
  Output out;
  const std::vector<ConsumedRecord> escalations =
      ReadSince(bootstrap, "escalations", after ? after->escalations_end : std::map<int32_t, int64_t>{}, out.escalations_end);
  out.escalation_records = escalations.size();
  for (const auto& e : ParseEscalations(escalations)) {
    out.described.emplace(e.event_id(), healthgrid::v1::Rule_Name(e.rule()) + " " + e.worker_id() + " episode " +
                                            e.episode_id() + " seq " + std::to_string(e.sequence()) + " at " +
                                            std::to_string(e.emitted_at_ms()) + " " +
                                            healthgrid::v1::EscalationState_Name(e.state()) + " " +
                                            healthgrid::v1::EscalationLevel_Name(e.level()));
    if (out.escalations.emplace(e.event_id(), Output::Event{e.emitted_at_ms(), e.state(), e.level()}).second) {
      ++out.by_rule[e.rule()];
    }
    if (e.rule() == healthgrid::v1::R3_SELF_TEST_MISSED) {
      out.r3_steps[{e.episode_id(), e.sequence()}].insert(e.event_id());
      out.r3_levels.insert(e.level());
    }
  }
  const std::vector<ConsumedRecord> referrals =
      ReadSince(bootstrap, "referrals", after ? after->referrals_end : std::map<int32_t, int64_t>{}, out.referrals_end);
  out.referral_records = referrals.size();
  for (const auto& r : referrals) {
    healthgrid::v1::Referral referral;
    EXPECT_TRUE(referral.ParseFromString(r.value)) << "a referral that does not decode";
    out.referrals.insert(referral.referral_id());
  }
  return out;
}

// Elements of `a` that `b` lacks.
template <typename Map>
std::size_t Missing(const Map& a, const Map& b) {
  std::size_t n = 0;
  for (const auto& item : a) n += b.count(item.first) == 0 ? 1 : 0;
  return n;
}
std::size_t Missing(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::size_t n = 0;
  for (const auto& id : a) n += b.count(id) == 0 ? 1 : 0;
  return n;
}

// readings_accepted by worker from `alertd dump-state` of a stopped engine's store, only the workers
// of `partitions` (all when empty).
std::map<std::string, int> StoredReadings(const std::string& db, const std::set<int32_t>& partitions = {}) {
  std::map<std::string, int> out;
  FILE* dump = popen((std::string(ALERTD_BIN) + " dump-state --db " + db + " 2>&1").c_str(), "r");
  if (dump == nullptr) {
    ADD_FAILURE() << "cannot run alertd dump-state";
    return out;
  }
  std::string text;
  char buffer[65536];
  for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, dump)) > 0;) text.append(buffer, n);
  EXPECT_EQ(pclose(dump), 0) << "alertd dump-state --db " << db << ": " << text.substr(0, 2000);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.contains("worker")) {
      ADD_FAILURE() << "dump-state line is not a worker: " << line;
      continue;
    }
    if (!partitions.empty() && partitions.count(j["partition"].get<int32_t>()) == 0) continue;
    out[j["worker"].get<std::string>()] += j["readings_accepted"].get<int>();
  }
  return out;
}

// Readings lost and readings counted twice (or more), worker by worker.
struct Tally {
  long lost = 0, double_counted = 0;
  std::vector<std::string> examples;
};

Tally Compare(const std::map<std::string, int>& expected, const std::map<std::string, int>& stored) {
  Tally t;
  auto note = [&](const std::string& worker, int want, int got) {
    if (t.examples.size() < 5) t.examples.push_back(worker + " " + std::to_string(got) + "/" + std::to_string(want));
  };
  for (const auto& [worker, want] : expected) {
    const auto it = stored.find(worker);
    const int got = it == stored.end() ? 0 : it->second;
    if (got < want) t.lost += want - got;
    if (got > want) t.double_counted += got - want;
    if (got != want) note(worker, want, got);
  }
  for (const auto& [worker, got] : stored) {
    // A worker with a profile and no reading is stored with 0 and expected nowhere: that is right.
    if (expected.count(worker) == 0 && got > 0) {
      t.double_counted += got;
      note(worker, 0, got);
    }
  }
  return t;
}

// One of the three instances: its own disk, restarted as often as the chaos loop says.
class Instance {
 public:
  Instance(std::string bootstrap, std::string dir, std::string name)
      : bootstrap_(std::move(bootstrap)), dir_(std::move(dir)), name_(std::move(name)) {}

  void Start() {
    // Each partition also has a standby on another instance: failovers go through promoted standbys,
    // stopped and restarted standbys, and standbys of partitions whose owner is stalled.
    std::vector<std::string> flags = kFlags;
    flags.insert(flags.end(), {"--standby-replicas", "1"});
    alertd_ = std::make_unique<AlertdProcess>(bootstrap_, db(), dir_ + "/" + name_ + "-" + std::to_string(++runs_) + ".log",
                                              flags);
    ASSERT_GT(alertd_->http_port(), 0) << name_ << " did not start";
  }
  std::string db() const { return dir_ + "/" + name_ + "-db"; }
  AlertdProcess& alertd() { return *alertd_; }
  const std::string& name() const { return name_; }

 private:
  std::string bootstrap_, dir_, name_;
  int runs_ = 0;
  std::unique_ptr<AlertdProcess> alertd_;
};

enum class Fault { kKill9, kTerminate, kStall, kWipe };
const char* Name(Fault f) {
  switch (f) {
    case Fault::kKill9: return "kill -9";
    case Fault::kTerminate: return "SIGTERM";
    case Fault::kStall: return "SIGSTOP";
    case Fault::kWipe: return "kill -9 + wipe";
  }
  return "?";
}

// Applies `fault` to `instance` and brings it back.
void Apply(Fault fault, Instance& instance) {
  Process& p = instance.alertd().process();
  switch (fault) {
    case Fault::kKill9:
      p.Kill9();
      break;
    case Fault::kTerminate:
      EXPECT_EQ(p.Terminate(), 0) << instance.name() << " did not stop cleanly: " << p.LogTail();
      break;
    case Fault::kStall:
      // Past the session timeout: the group gives its partitions to the others before it wakes.
      p.Stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(kSessionTimeoutMs + 2000));
      p.Continue();
      return;  // the same process carries on
    case Fault::kWipe:
      p.Kill9();
      fs::remove_all(instance.db());
      break;
  }
  instance.Start();
}

// All instances caught up with every input partition owned by exactly one of them, seen twice the
// same: the group is stable and every owner's state and output are complete. Returns the owners.
std::optional<std::map<int32_t, int>> SettledOwners(std::vector<std::unique_ptr<Instance>>& instances) {
  auto owners = [&]() -> std::optional<std::map<int32_t, int>> {
    std::map<int32_t, int> owner;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      if (!instances[i]->alertd().CaughtUp()) return std::nullopt;
      for (int32_t p : instances[i]->alertd().AssignedPartitions("readings")) {
        if (!owner.emplace(p, static_cast<int>(i)).second) return std::nullopt;
      }
    }
    if (owner.size() != static_cast<std::size_t>(kPartitions)) return std::nullopt;
    return owner;
  };
  const auto first = owners();
  if (!first) return std::nullopt;
  std::this_thread::sleep_for(std::chrono::milliseconds(kSessionTimeoutMs));
  const auto second = owners();
  if (!second || *second != *first) return std::nullopt;
  return first;
}

TEST(ChaosTest, ThreeInstancesUnderKillsStallsAndAWipedDiskLoseNothingCountNothingTwiceAndEmitTheReferenceIds) {
  const auto started = std::chrono::steady_clock::now();
  const int chaos_seconds = EnvInt("ALERTD_CHAOS_SECONDS", 25);
  GridHistoryOptions options;
  options.workers = EnvInt("ALERTD_CHAOS_WORKERS", 240);
  options.days = EnvInt("ALERTD_CHAOS_DAYS", 28);
  options.partitions = kPartitions;
  options.seed = static_cast<uint32_t>(
      EnvInt("ALERTD_CHAOS_SEED", static_cast<int>(std::chrono::system_clock::now().time_since_epoch().count() % 1000000)));
  ASSERT_GE(options.days, 18) << "ALERTD_CHAOS_DAYS: the R3 ladder needs 18 days to climb to the top";
  ASSERT_GT(options.workers, 0) << "ALERTD_CHAOS_WORKERS";
  ASSERT_GT(chaos_seconds, 0) << "ALERTD_CHAOS_SECONDS";
  std::cout << "chaos: seed " << options.seed << " (ALERTD_CHAOS_SEED=" << options.seed << " repeats this run)"
            << std::endl;
  const GridHistory history = MakeGridHistory(options);
  TempDir dir;

  // The reference: one instance, all input there before it starts.
  Output reference;
  {
    fs::create_directories(dir.path() + "/reference");
    EmbeddedKafka kafka(dir.path() + "/reference", kPartitions);
    ASSERT_FALSE(kafka.bootstrap().empty());
    TestProducer producer(kafka.bootstrap());
    ProduceInOrder(producer, history.records);
    AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/reference/db", dir.path() + "/reference/alertd.log", kFlags);
    ASSERT_TRUE(WaitFor([&] { return alertd.CaughtUp(); }, 90s, 200ms)) << alertd.process().LogTail();
    reference = ReadOutput(kafka.bootstrap());
    EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
    EXPECT_EQ(Compare(history.readings_of, StoredReadings(dir.path() + "/reference/db")).examples,
              std::vector<std::string>{})
        << "the clean run itself does not count each reading once";
  }
  // A history that exercises what the chaos could break: R1 with its climb, the whole R3 ladder,
  // R4 findings, referrals.
  ASSERT_GT(reference.by_rule[healthgrid::v1::R1_CRITICAL_BP], 0);
  ASSERT_GT(reference.by_rule[healthgrid::v1::R4_PRE_SHIFT_FITNESS], 0);
  ASSERT_FALSE(reference.referrals.empty());
  ASSERT_GT(reference.by_rule[healthgrid::v1::R3_SELF_TEST_MISSED], 0);
  ASSERT_TRUE(reference.r3_levels.count(healthgrid::v1::UNIT_SUPERVISOR)) << "no ladder climbed to the unit supervisor";
  const auto reference_done = std::chrono::steady_clock::now();

  // The chaos run.
  fs::create_directories(dir.path() + "/chaos");
  EmbeddedKafka kafka(dir.path() + "/chaos", kPartitions);
  ASSERT_FALSE(kafka.bootstrap().empty());
  std::vector<std::unique_ptr<Instance>> instances;
  for (int i = 0; i < kInstances; ++i) {
    instances.push_back(std::make_unique<Instance>(kafka.bootstrap(), dir.path() + "/chaos", "alertd-" + std::to_string(i)));
    instances.back()->Start();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }

  // Spread over the chaos time, a pause after each run of one topic, so instances die mid-stream.
  const std::size_t runs = CountRuns(history.records);
  const auto pause = std::chrono::milliseconds(chaos_seconds * 1000 / static_cast<int64_t>(std::max<std::size_t>(runs, 1)));
  std::atomic<bool> produced{false};
  std::thread driver([&] {
    TestProducer producer(kafka.bootstrap());
    ProduceInOrder(producer, history.records, pause);
    produced = true;
  });

  // Each kind of fault once, in a seeded order, the wipe among them; then seeded picks of the others.
  std::mt19937 chaos(options.seed);
  std::vector<Fault> plan{Fault::kKill9, Fault::kTerminate, Fault::kStall, Fault::kWipe};
  std::shuffle(plan.begin(), plan.end(), chaos);
  std::map<Fault, int> applied;
  std::ostringstream timeline;
  for (std::size_t step = 0; !produced || step < plan.size(); ++step) {  // until all is produced, each kind once
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + chaos() % 2000));
    const Fault fault = step < plan.size() ? plan[step] : std::vector<Fault>{Fault::kKill9, Fault::kTerminate, Fault::kStall}[chaos() % 3];
    Instance& target = *instances[chaos() % instances.size()];
    timeline << "  " << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - reference_done).count() / 1000.0
             << " s: " << Name(fault) << " " << target.name() << "\n";
    Apply(fault, target);
    ++applied[fault];
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }
  driver.join();
  const auto chaos_done = std::chrono::steady_clock::now();

  // Settled: the last owner of each partition has its workers' readings exactly once, and the output
  // holds exactly the reference's ids.
  std::optional<std::map<int32_t, int>> owners;
  ASSERT_TRUE(WaitFor([&] { return (owners = SettledOwners(instances)).has_value(); }, 120s, 500ms))
      << "the group never settled with every partition caught up: " << instances[0]->alertd().process().LogTail();
  const Output chaotic = ReadOutput(kafka.bootstrap());
  double restored_by_survivors = 0;
  for (auto& instance : instances) {
    restored_by_survivors += instance->alertd().Metric("alertd_restore_records_total");
    EXPECT_EQ(instance->alertd().process().Terminate(), 0) << instance->alertd().process().LogTail();
  }
  std::map<std::string, int> owned_counts;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::set<int32_t> mine;
    for (const auto& [p, owner] : *owners) {
      if (owner == static_cast<int>(i)) mine.insert(p);
    }
    for (const auto& [worker, n] : StoredReadings(instances[i]->db(), mine)) owned_counts[worker] += n;
  }
  const Tally owners_tally = Compare(history.readings_of, owned_counts);

  // One fresh instance, empty disk, same group: it must restore every partition.
  Instance fresh(kafka.bootstrap(), dir.path() + "/chaos", "fresh");
  fresh.Start();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto fresh_started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return fresh.alertd().AssignedPartitions("readings").size() == kPartitions &&
                                   fresh.alertd().CaughtUp(); },
                      120s, 200ms))
      << fresh.alertd().process().LogTail();
  const double fresh_caught_up_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fresh_started).count();
  const double restored_by_fresh = fresh.alertd().Metric("alertd_restore_records_total");
  const double restoring = fresh.alertd().Metric("alertd_restoring_partitions");
  EXPECT_EQ(fresh.alertd().process().Terminate(), 0) << fresh.alertd().process().LogTail();
  const Tally fresh_tally = Compare(history.readings_of, StoredReadings(fresh.db()));
  const Output after_fresh = ReadOutput(kafka.bootstrap(), &chaotic);  // the fresh instance's own

  std::size_t r3_steps_with_more_ids = 0;
  for (const auto& [step, ids] : chaotic.r3_steps) r3_steps_with_more_ids += ids.size() != 1 ? 1 : 0;
  std::size_t events_differing = 0;  // same id, another emitted_at, state or level
  std::ostringstream differences;      // the first few, in words
  for (const auto& [id, event] : chaotic.escalations) {
    const auto it = reference.escalations.find(id);
    const bool differs = it == reference.escalations.end() || it->second != event;
    if (it != reference.escalations.end() && differs) ++events_differing;
    if (differs && differences.tellp() < 4000) {
      differences << "  chaos:     " << chaotic.described.at(id) << "\n";
      if (it != reference.escalations.end()) differences << "  reference: " << reference.described.at(id) << "\n";
    }
  }
  for (const auto& [id, event] : reference.escalations) {
    if (chaotic.escalations.count(id) == 0 && differences.tellp() < 4000) {
      differences << "  missing:   " << reference.described.at(id) << "\n";
    }
  }
  const bool ids_equal = Missing(reference.escalations, chaotic.escalations) == 0 &&
                         Missing(chaotic.escalations, reference.escalations) == 0;
  const bool referrals_equal = reference.referrals == chaotic.referrals;

  std::cout << "---- chaos verifier summary (seed " << options.seed << ") ----\n"
            << "workers " << options.workers << ", days " << options.days << ", partitions " << kPartitions
            << ", instances " << kInstances << "\n"
            << "input: " << history.readings << " readings, " << history.clock_ins << " clock-ins, " << history.acks
            << " acks, " << history.profiles << " profiles, produced over " << chaos_seconds << " s in " << runs
            << " runs of one topic, " << pause.count() << " ms apart\n"
            << "faults: kill -9 " << applied[Fault::kKill9] << ", SIGTERM " << applied[Fault::kTerminate]
            << ", SIGSTOP " << applied[Fault::kStall] << ", kill -9 + wipe " << applied[Fault::kWipe] << "\n"
            << timeline.str()
            << "reference: " << reference.escalations.size() << " escalation ids (R1 "
            << reference.by_rule[healthgrid::v1::R1_CRITICAL_BP] << ", R2 "
            << reference.by_rule[healthgrid::v1::R2_SUSTAINED_HYPERTENSION] << ", R3 "
            << reference.by_rule[healthgrid::v1::R3_SELF_TEST_MISSED] << ", R4 "
            << reference.by_rule[healthgrid::v1::R4_PRE_SHIFT_FITNESS] << "), " << reference.referrals.size()
            << " referral ids\n"
            << "chaos output: " << chaotic.escalation_records << " escalation records, "
            << chaotic.escalations.size() << " distinct ids, duplicates "
            << chaotic.escalation_records - chaotic.escalations.size() << "; " << chaotic.referral_records
            << " referral records, " << chaotic.referrals.size() << " distinct, duplicates "
            << chaotic.referral_records - chaotic.referrals.size() << "\n"
            << "escalation ids equal to the reference: " << (ids_equal ? "yes" : "NO") << " (missing "
            << Missing(reference.escalations, chaotic.escalations) << ", extra "
            << Missing(chaotic.escalations, reference.escalations) << ", same id other time/state/level "
            << events_differing << ")\n"
            << differences.str() << "referral ids equal to the reference: " << (referrals_equal ? "yes" : "NO") << " (missing "
            << Missing(reference.referrals, chaotic.referrals) << ", extra "
            << Missing(chaotic.referrals, reference.referrals) << ")\n"
            << "R3 ladder steps: " << chaotic.r3_steps.size() << " (reference " << reference.r3_steps.size()
            << "), with more than one id: " << r3_steps_with_more_ids << "\n"
            << "last owners' state: lost " << owners_tally.lost << ", double-counted " << owners_tally.double_counted
            << "\n"
            << "fresh instance (empty disk): caught up in " << fresh_caught_up_s << " s, lost " << fresh_tally.lost
            << ", double-counted " << fresh_tally.double_counted << ", restore records " << restored_by_fresh
            << " (survivors " << restored_by_survivors << "), restoring partitions at the end " << restoring << "\n"
            << "output of the fresh instance: " << after_fresh.escalation_records << " escalation records, "
            << after_fresh.escalations.size() << " distinct ids, not in the reference "
            << Missing(after_fresh.escalations, reference.escalations) << "\n"
            << "time: reference "
            << std::chrono::duration<double>(reference_done - started).count() << " s, chaos "
            << std::chrono::duration<double>(chaos_done - reference_done).count() << " s, checks "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - chaos_done).count() << " s\n"
            << "----" << std::endl;

  EXPECT_EQ(applied[Fault::kWipe], 1);
  EXPECT_GE(applied[Fault::kKill9], 1);
  EXPECT_GE(applied[Fault::kTerminate], 1);
  EXPECT_GE(applied[Fault::kStall], 1);
  EXPECT_TRUE(ids_equal);
  EXPECT_EQ(events_differing, 0u);
  EXPECT_TRUE(referrals_equal);
  EXPECT_EQ(r3_steps_with_more_ids, 0u);
  EXPECT_EQ(chaotic.r3_steps.size(), reference.r3_steps.size());
  EXPECT_EQ(owners_tally.lost + owners_tally.double_counted, 0) << ::testing::PrintToString(owners_tally.examples);
  EXPECT_EQ(fresh_tally.lost + fresh_tally.double_counted, 0) << ::testing::PrintToString(fresh_tally.examples);
  EXPECT_EQ(Missing(after_fresh.escalations, reference.escalations), 0u) << "the restored instance made new ids";
  EXPECT_EQ(Missing(after_fresh.referrals, reference.referrals), 0u) << "the restored instance made new referrals";
}

}  // namespace
}  // namespace alertd::testing
