// State that follows its partition, through real processes: restore from the changelog onto an empty or stale disk, failover under kill -9 with a deadline due during the hand-over, restores interrupted by a crash or a broker fault, and a paused old owner that wakes up.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/fault_control.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using healthgrid::v1::Escalation;

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kT0 = 1'700'000'000'000;  // stream mode: a fixed past instant, not the machine's clock

// A dead instance's partitions move after its session expires: short here so a test takes seconds.
const std::vector<std::string> kShortSession = {"--kafka-property", "session.timeout.ms=3000", "--kafka-property",
                                                "heartbeat.interval.ms=500"};

std::vector<std::string> Flags(std::vector<std::string> extra) {
  std::vector<std::string> out = kShortSession;
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::string WholeLog(const Process& p) { return p.LogTail(std::size_t{64} << 20); }

// Each worker's readings_accepted as `alertd dump-state` prints it (the engine stopped).
std::map<std::string, int> ReadingsAccepted(const std::string& db, const std::string& scratch) {
  const std::string log = scratch + "/dump-" + std::to_string(Clock::now().time_since_epoch().count());
  Process dump({ALERTD_BIN, "dump-state", "--db", db}, log);
  EXPECT_TRUE(WaitFor([&] { return !dump.Running(); }, 30s)) << "dump-state did not finish";
  EXPECT_EQ(dump.Terminate(1s), 0) << dump.LogTail();
  std::map<std::string, int> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    const nlohmann::json j = nlohmann::json::parse(line);
    out[j.at("worker").get<std::string>()] = j.at("readings_accepted").get<int>();
  }
  return out;
}

// What one "restored partition P: N changelog records ... in S s ...; D dropped" line says.
struct Restored {
  int partition = -1;
  long records = 0;
  double seconds = 0;
  long dropped = 0;
};

std::vector<Restored> RestoresIn(const std::string& log) {
  static const std::regex line(
      R"(restored partition (\d+): (\d+) changelog records \([^)]*\) in ([0-9.]+) s [^;]*; (\d+) dropped)");
  std::vector<Restored> out;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    out.push_back({std::stoi((*it)[1]), std::stol((*it)[2]), std::stod((*it)[3]), std::stol((*it)[4])});
  }
  return out;
}

void PrintRestores(const char* test, const std::string& instance, const std::string& log) {
  for (const Restored& r : RestoresIn(log)) {
    std::printf("%s: %s restored partition %d: %ld changelog records in %.3f s, %ld dropped\n", test, instance.c_str(),
                r.partition, r.records, r.seconds, r.dropped);
  }
}

std::string WorkerId(int i) { return "F" + std::to_string(100 + i); }

// `per_worker` blood-pressure readings of each of `workers` workers, measured within the last hours
// (wall clock), the n-th of a worker `n` minutes after `first_minute`.
void SendReadings(TestProducer& producer, int workers, int per_worker, int first_minute) {
  const int64_t base = NowMs() - 6 * kHour;
  for (int n = 0; n < per_worker; ++n) {
    for (int i = 0; i < workers; ++i) {
      producer.Send("readings", WorkerId(i),
                    MakeBp(WorkerId(i), base + (first_minute + n) * kMinute, 122 + n % 5, 78).SerializeAsString());
    }
  }
  producer.Flush();
}

std::map<std::string, int> Expected(int workers, int per_worker) {
  std::map<std::string, int> out;
  for (int i = 0; i < workers; ++i) out[WorkerId(i)] = per_worker;
  return out;
}

bool Committed(const AlertdProcess& alertd, double n, std::chrono::milliseconds timeout = 30s) {
  return WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= n; }, timeout);
}

// 1. The input is gone, the disk is empty: only the changelog still has the state.
TEST(FailoverTest, AnEmptyDiskIsRestoredFromTheChangelogAfterRetentionDeletedTheInput) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 5, kBefore = 6, kAfter = 2;

  auto a = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log",
                                           Flags({"--no-sync"}));
  SendReadings(producer, kWorkers, kBefore, 0);
  ASSERT_TRUE(Committed(*a, kWorkers * kBefore)) << a->process().LogTail();
  ASSERT_EQ(a->process().Terminate(), 0) << a->process().LogTail();

  // ~8 MB while no instance runs: the embedded cluster keeps ~5 MiB per partition, so A's readings go.
  const std::string filler(60 * 1000, 'x');
  for (int i = 0; i < 140; ++i) {
    producer.Send("readings", "FILL", filler);
    if (i % 10 == 9) producer.Flush();
  }
  producer.Flush();
  ASSERT_GT(Watermarks(kafka.bootstrap(), "readings").at(0).first, kWorkers * kBefore)
      << "the cluster kept A's readings; the test needs them deleted";
  SendReadings(producer, kWorkers, kAfter, kBefore);

  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return b.CaughtUp(); }, 60s)) << b.process().LogTail();
  EXPECT_GT(b.Metric("alertd_restore_records_total"), 0);
  const std::string b_log = WholeLog(b.process());
  EXPECT_NE(b_log.find("the store has nothing of it"), std::string::npos) << b_log;
  PrintRestores("empty disk", "B", b_log);
  ASSERT_EQ(b.process().Terminate(), 0) << b.process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-b", dir.path()), Expected(kWorkers, kBefore + kAfter));

  // The same empty disk without a changelog, in a group of its own: A's readings are lost for good.
  AlertdProcess c(kafka.bootstrap(), dir.path() + "/db-c", dir.path() + "/c.log",
                  Flags({"--no-sync", "--no-changelog", "--group", "no-changelog"}));
  ASSERT_TRUE(WaitFor([&] { return c.CaughtUp(); }, 60s)) << c.process().LogTail();
  ASSERT_EQ(c.process().Terminate(), 0) << c.process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-c", dir.path()), Expected(kWorkers, kAfter))
      << "without the changelog the state should lack A's readings, or the test above proves nothing";
}

healthgrid::v1::WorkerProfile Enrolled(const std::string& worker) {
  healthgrid::v1::WorkerProfile p = MakeProfile(worker, "U05", "U05-G02");
  p.mutable_conditions()->set_hypertension_grade(2);
  return p;
}

// A reading of a worker nobody follows, only to move a partition's stream time to `at`.
void Tick(TestProducer& producer, int64_t at, int32_t partition) {
  const std::string worker = "TICK-" + std::to_string(partition);
  producer.SendAt("readings", worker, MakeBp(worker, at - kMinute, 118, 76).SerializeAsString(), at, partition);
}

// The distinct R3 events of one topic.
std::map<std::string, Escalation> R3Events(const std::string& bootstrap, const std::string& topic) {
  std::map<std::string, Escalation> out;
  for (auto& e : DistinctEventsOfRule(ReadToEnd(bootstrap, topic), healthgrid::v1::R3_SELF_TEST_MISSED)) {
    out.emplace(e.event_id(), e);
  }
  return out;
}

// 2. The self-test falls due while its partition has no owner: the survivor fires it once.
TEST(FailoverTest, ASelfTestDueDuringAHandOverAfterKill9FiresOnceWithTheIdOfACleanRun) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2,
                      {"--topics", "readings,worker-profiles,shifts,escalation-acks,escalations,referrals,dead-letters,"
                                   "alertd-state-changelog,escalations-clean"});
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  const std::vector<std::string> stream = Flags({"--clock", "stream", "--no-sync"});
  auto a = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log", stream);
  auto b = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", stream);
  ASSERT_TRUE(WaitFor(
      [&] { return a->AssignedPartitions("readings").size() == 1 && b->AssignedPartitions("readings").size() == 1; },
      60s))
      << a->process().LogTail() << "\n---\n" << b->process().LogTail();

  // Enrolled at T0 on partition 0, one reading an hour later: the self-test is due 7 days after it.
  // The enrolment is committed before the reading is sent: records of two topics that reach the
  // engine in separate fetches are taken in arrival order, and a reading taken before its worker's
  // enrolment would start the weekly clock at the enrolment's stream time instead.
  constexpr int32_t kPartition = 0;
  const bool a_owns = a->AssignedPartitions("readings").count(kPartition) > 0;
  std::unique_ptr<AlertdProcess>& owner = a_owns ? a : b;
  std::unique_ptr<AlertdProcess>& survivor = a_owns ? b : a;
  producer.SendAt("worker-profiles", "S1", Enrolled("S1").SerializeAsString(), kT0, kPartition);
  producer.Flush();
  ASSERT_TRUE(Committed(*owner, 1)) << owner->process().LogTail();
  producer.SendAt("readings", "S1", MakeBp("S1", kT0 + kHour, 150, 95).SerializeAsString(), kT0 + kHour + kMinute,
                  kPartition);
  Tick(producer, kT0 + 2 * kHour, 1);
  producer.Flush();
  const int64_t due = kT0 + kHour + 7 * kDay;
  ASSERT_TRUE(Committed(*owner, 2)) << owner->process().LogTail();

  owner->process().Kill9();
  // Stream time on the orphaned partition passes the due time while nobody owns it.
  Tick(producer, due + 30 * kMinute, kPartition);
  producer.Flush();
  const auto t0 = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return survivor->AssignedPartitions("readings").size() == 2; }, 30s))
      << survivor->process().LogTail();
  survivor->ReadOutput("escalations");  // waits until it has caught up with partition 0's input
  std::printf("kill -9 hand-over: the survivor owned partition 0 and caught up %.2f s after the kill\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  const std::string survivor_log = WholeLog(survivor->process());
  EXPECT_NE(survivor_log.find("restoring partition 0 from alertd-state-changelog[0]"), std::string::npos)
      << survivor_log;
  PrintRestores("kill -9 hand-over", "survivor", survivor_log);
  const auto failover = R3Events(kafka.bootstrap(), "escalations");
  ASSERT_EQ(failover.size(), 1u) << "one reminder, once: " << survivor->process().LogTail();
  const Escalation& reminder = failover.begin()->second;
  EXPECT_EQ(reminder.worker_id(), "S1");
  EXPECT_EQ(reminder.level(), healthgrid::v1::WORKER);
  EXPECT_EQ(reminder.emitted_at_ms(), due);
  EXPECT_EQ(survivor->process().Terminate(), 0) << survivor->process().LogTail();

  // The same input through one instance that never failed over.
  AlertdProcess clean(kafka.bootstrap(), dir.path() + "/db-clean", dir.path() + "/clean.log",
                      {"--clock", "stream", "--group", "clean", "--no-changelog", "--escalations-topic",
                       "escalations-clean"});
  ASSERT_TRUE(WaitFor([&] { return clean.CaughtUp(); }, 60s)) << clean.process().LogTail();
  const auto single = R3Events(kafka.bootstrap(), "escalations-clean");
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single.begin()->first, failover.begin()->first) << "the failover changed the event id";
  EXPECT_EQ(clean.process().Terminate(), 0);
}

// 3. An instance that comes back to its old disk reads what the owner in between committed.
TEST(FailoverTest, AStaleStoreIsBroughtUpToDateFromItsCheckpointNotTrusted) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 4, kByA = 3, kByB = 2;

  auto a = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log",
                                           Flags({"--no-sync"}));
  SendReadings(producer, kWorkers, kByA, 0);
  ASSERT_TRUE(Committed(*a, kWorkers * kByA)) << a->process().LogTail();
  ASSERT_EQ(a->process().Terminate(), 0) << a->process().LogTail();

  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", Flags({"--no-sync"}));
  SendReadings(producer, kWorkers, kByB, kByA);
  ASSERT_TRUE(WaitFor([&] { return b.CaughtUp(); }, 60s)) << b.process().LogTail();
  // B went on from A's offsets, which it restored: it read only the new readings.
  EXPECT_EQ(b.Metric("alertd_committed_records_total"), kWorkers * kByB);
  ASSERT_EQ(b.process().Terminate(), 0) << b.process().LogTail();

  a = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a2.log",
                                      Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return a->CaughtUp(); }, 60s)) << a->process().LogTail();
  const std::string log = WholeLog(a->process());
  EXPECT_NE(log.find("the store is current up to its checkpoint"), std::string::npos) << log;
  EXPECT_GT(a->Metric("alertd_restore_records_total"), 0);
  // What B read comes from the changelog, not from the input again.
  EXPECT_EQ(a->Metric("alertd_committed_records_total"), 0);
  EXPECT_NE(log.find("assigned readings[0] from stored offset " + std::to_string(kWorkers * (kByA + kByB))),
            std::string::npos)
      << log;
  PrintRestores("stale store", "A again", log);
  ASSERT_EQ(a->process().Terminate(), 0) << a->process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-a", dir.path()), Expected(kWorkers, kByA + kByB));
}

// 3b. A standby: the survivor kept a warm copy of the dead instance's partition by following its
// changelog, so the failover restores only what the standby had not yet applied.
TEST(FailoverTest, AFailoverToAStandbyRestoresOnlyTheTailAndLosesNothing) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 40, kBefore = 20, kAfter = 2;
  // Small commits: a changelog of many records, of which a standby must read almost all beforehand.
  const std::vector<std::string> flags = Flags({"--no-sync", "--standby-replicas", "1", "--commit-max-records", "20"});
  auto a = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log", flags);
  auto b = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", flags);
  ASSERT_TRUE(WaitFor(
      [&] { return a->AssignedPartitions("readings").size() == 1 && b->AssignedPartitions("readings").size() == 1; },
      60s))
      << a->process().LogTail() << "\n---\n" << b->process().LogTail();
  SendReadings(producer, kWorkers, kBefore, 0);
  ASSERT_TRUE(WaitFor([&] { return a->CaughtUp() && b->CaughtUp(); }, 60s));
  // Each instance follows the other's partition, and has read its changelog to the end.
  ASSERT_TRUE(WaitFor(
      [&] {
        return a->Metric("alertd_standby_partitions") == 1 && b->Metric("alertd_standby_partitions") == 1 &&
               a->Metric("alertd_standby_records_total") > 0 && b->Metric("alertd_standby_records_total") > 0 &&
               a->Metric("alertd_standby_lag_records") == 0 && b->Metric("alertd_standby_lag_records") == 0;
      },
      30s))
      << a->process().LogTail() << "\n---\n" << b->process().LogTail();
  EXPECT_EQ(a->Metric("alertd_group_members"), 2);

  const int32_t lost = *a->AssignedPartitions("readings").begin();
  a->process().Kill9();
  const auto t0 = Clock::now();
  SendReadings(producer, kWorkers, kAfter, kBefore);
  ASSERT_TRUE(WaitFor([&] { return b->AssignedPartitions("readings").size() == 2 && b->CaughtUp(); }, 60s))
      << b->process().LogTail();
  std::printf("standby failover: the survivor owned partition %d and caught up %.2f s after the kill\n", lost,
              std::chrono::duration<double>(Clock::now() - t0).count());
  const std::string log = WholeLog(b->process());
  EXPECT_NE(log.find("partition " + std::to_string(lost) + " was followed as a standby up to"), std::string::npos)
      << log;
  PrintRestores("standby failover", "survivor", log);
  const int64_t changelog_end = Watermarks(kafka.bootstrap(), "alertd-state-changelog").at(lost).second;
  long tail = -1;
  for (const Restored& r : RestoresIn(log)) {
    if (r.partition == lost) tail = r.records;
  }
  ASSERT_GE(tail, 0) << "no restore of partition " << lost << ": " << log;
  std::printf("standby failover: restored %ld of the %lld records of changelog partition %d\n", tail,
              static_cast<long long>(changelog_end), lost);
  EXPECT_GT(changelog_end, 200) << "too short a changelog to tell a standby from a full restore";
  EXPECT_LT(tail * 10, changelog_end) << "the failover read more than a tenth of the changelog: no standby";
  ASSERT_EQ(b->process().Terminate(), 0) << b->process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-b", dir.path()), Expected(kWorkers, kBefore + kAfter));
}

// The "restoring partition P from <topic>[P] offsets A..B" lines of a log: (A, B) of each.
std::vector<std::pair<long, long>> RestoreRanges(const std::string& log) {
  static const std::regex line(R"(restoring partition \d+ from \S+ offsets (\d+)\.\.(\d+) )");
  std::vector<std::pair<long, long>> out;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator(); ++it) {
    out.emplace_back(std::stol((*it)[1]), std::stol((*it)[2]));
  }
  return out;
}

// 4a. A crash in the middle of a restore: the next start resumes at the last commit it applied.
TEST(FailoverTest, ARestoreInterruptedByKill9ResumesWhereItStoppedAndEndsExact) {
  TempDir dir;
  FaultyKafka kafka(dir.path(), /*brokers=*/1, /*partitions=*/1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  // Many workers committed a few at a time: a changelog of ~10,000 records (~1 MiB).
  constexpr int kWorkers = 1000, kReadings = 10;
  {
    AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log",
                    Flags({"--no-sync", "--commit-max-records", "50"}));
    SendReadings(producer, kWorkers, kReadings, 0);
    ASSERT_TRUE(WaitFor([&] { return a.CaughtUp(); }, 90s)) << a.process().LogTail();
    ASSERT_EQ(a.process().Terminate(), 0) << a.process().LogTail();
  }
  const int64_t changelog_end = Watermarks(kafka.bootstrap(), "alertd-state-changelog").at(0).second;

  // On loopback the restore reads ~300,000 records/s, too fast to stop halfway: small fetches, each
  // 100 ms late, stretch it to seconds.
  kafka.SetRtt(0, 100);
  const std::string db = dir.path() + "/db-b";
  auto b = std::make_unique<AlertdProcess>(kafka.bootstrap(), db, dir.path() + "/b.log",
                                           Flags({"--no-sync", "--kafka-property", "max.partition.fetch.bytes=32768"}));
  // Killed once a thousand records are read and applied (the remaining count is set after the commits
  // read so far are applied), long before the end.
  ASSERT_TRUE(WaitFor(
      [&] {
        const double remaining = b->Metric("alertd_restore_remaining_records");
        return b->Metric("alertd_restoring_partitions") > 0 && remaining > 0 && remaining < changelog_end - 1000;
      },
      60s, 5ms))
      << "never caught B restoring: " << b->process().LogTail();
  b->process().Kill9();
  const std::string first_log = WholeLog(b->process());
  ASSERT_TRUE(RestoresIn(first_log).empty()) << "the restore finished before the kill: " << first_log;
  kafka.SetRtt(0, 0);

  b = std::make_unique<AlertdProcess>(kafka.bootstrap(), db, dir.path() + "/b2.log", Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return b->CaughtUp(); }, 60s)) << b->process().LogTail();
  const std::string log = WholeLog(b->process());
  const auto ranges = RestoreRanges(log);
  ASSERT_EQ(ranges.size(), 1u) << log;
  EXPECT_GT(ranges[0].first, 0) << "the second restore started over: " << log;
  EXPECT_EQ(ranges[0].second, changelog_end);
  EXPECT_LT(b->Metric("alertd_restore_records_total"), changelog_end);
  EXPECT_EQ(b->Metric("alertd_committed_records_total"), 0) << "input read again instead of restored";
  std::printf("restore killed: the first run read %ld of %ld changelog records before kill -9\n", ranges[0].first,
              static_cast<long>(changelog_end));
  PrintRestores("restore killed", "B again", log);
  ASSERT_EQ(b->process().Terminate(), 0) << b->process().LogTail();
  EXPECT_EQ(ReadingsAccepted(db, dir.path()), Expected(kWorkers, kReadings));
}

// 4b. The broker fails the restore's fetches: alertd waits, not ready, and finishes once they work.
TEST(FailoverTest, ARestoreStalledByFetchErrorsKeepsAlertdUnreadyAndAliveThenCompletesExact) {
  TempDir dir;
  FaultyKafka kafka(dir.path(), /*brokers=*/1, /*partitions=*/1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 20, kReadings = 5;
  {
    AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log", Flags({"--no-sync"}));
    SendReadings(producer, kWorkers, kReadings, 0);
    ASSERT_TRUE(WaitFor([&] { return a.CaughtUp(); }, 60s)) << a.process().LogTail();
    ASSERT_EQ(a.process().Terminate(), 0) << a.process().LogTail();
  }

  // Every Fetch fails from before B starts: it joins and begins its restore, which cannot read a record.
  kafka.FailRequests("Fetch", "NOT_LEADER_FOR_PARTITION", 1000000);
  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return b.Metric("alertd_restoring_partitions") == 1; }, 30s)) << b.process().LogTail();
  const auto fault_end = Clock::now() + 4s;
  int samples = 0, ready = 0;
  while (Clock::now() < fault_end) {
    ++samples;
    if (b.GetStatus("/readyz") == 200) ++ready;
    ASSERT_TRUE(b.process().Running()) << b.process().LogTail();
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(ready, 0) << "ready in " << ready << " of " << samples << " samples while its partition was not restored";
  EXPECT_EQ(b.Metric("alertd_restoring_partitions"), 1) << b.process().LogTail();
  EXPECT_TRUE(RestoresIn(WholeLog(b.process())).empty()) << "restored without a single fetch?";

  kafka.ClearRequestErrors("Fetch");
  const auto t0 = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return b.CaughtUp(); }, 60s)) << b.process().LogTail();
  std::printf("fetch errors: restore completed and caught up %.2f s after the fault ended\n",
              std::chrono::duration<double>(Clock::now() - t0).count());
  const std::string log = WholeLog(b.process());
  PrintRestores("fetch errors", "B", log);
  EXPECT_GT(b.Metric("alertd_restore_records_total"), 0);
  EXPECT_EQ(b.Metric("alertd_committed_records_total"), 0) << "input read again instead of restored";
  ASSERT_EQ(b.process().Terminate(), 0) << b.process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-b", dir.path()), Expected(kWorkers, kReadings));
}

// 5. A paused owner wakes up after its partitions moved: what it writes then is fenced off.
TEST(FailoverTest, AZombieOwnerThatWakesUpDoesNotCorruptTheChangelog) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2);
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 6;

  // A commits once a second, so readings it has taken are still in its window when it is paused.
  AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log",
                  Flags({"--no-sync", "--commit-interval-ms", "1000"}));
  SendReadings(producer, kWorkers, 3, 0);
  ASSERT_TRUE(WaitFor([&] { return a.CaughtUp(); }, 60s)) << a.process().LogTail();
  SendReadings(producer, kWorkers, 1, 3);
  std::this_thread::sleep_for(300ms);
  const double a_written_before = a.Metric("alertd_changelog_records_total");
  a.process().Stop();

  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return b.AssignedPartitions("readings").size() == 2 && b.CaughtUp(); }, 60s))
      << b.process().LogTail();
  SendReadings(producer, kWorkers, 2, 4);
  ASSERT_TRUE(WaitFor([&] { return b.CaughtUp(); }, 60s)) << b.process().LogTail();

  a.process().Continue();
  ASSERT_TRUE(WaitFor([&] { return WholeLog(a.process()).find(" lost (") != std::string::npos; }, 30s))
      << a.process().LogTail();
  std::this_thread::sleep_for(1s);  // whatever A still writes after it learnt of the loss
  const double a_written_awake = a.Metric("alertd_changelog_records_total") - a_written_before;
  std::printf("zombie: A wrote %.0f changelog records after it was paused\n", a_written_awake);
  EXPECT_EQ(a.process().Terminate(), 0) << a.process().LogTail();
  EXPECT_EQ(b.process().Terminate(), 0) << b.process().LogTail();

  AlertdProcess c(kafka.bootstrap(), dir.path() + "/db-c", dir.path() + "/c.log", Flags({"--no-sync"}));
  ASSERT_TRUE(WaitFor([&] { return c.CaughtUp(); }, 60s)) << c.process().LogTail();
  const std::string c_log = WholeLog(c.process());
  PrintRestores("zombie", "C", c_log);
  EXPECT_EQ(c.Metric("alertd_committed_records_total"), 0) << "C restored everything; no input is left to read";
  ASSERT_EQ(c.process().Terminate(), 0) << c.process().LogTail();
  EXPECT_EQ(ReadingsAccepted(dir.path() + "/db-c", dir.path()), Expected(kWorkers, 6));
  long dropped = 0;
  for (const Restored& r : RestoresIn(c_log)) dropped += r.dropped;
  if (a_written_awake > 0) {
    EXPECT_GT(dropped, 0) << "A wrote after the fence, yet C dropped nothing: " << c_log;
  }
}

}  // namespace
}  // namespace alertd::testing
