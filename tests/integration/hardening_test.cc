// What a hostile probe once broke, as tests through real processes and the Kafka protocol: oversized
// input and output, output the broker refuses for good, rejected input that must not create state, a
// retention gap, a restart after kill -9 with static membership, and a full disk under alertd.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <sys/mount.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

// Runs one of alertd's commands to its end; stdout and stderr together.
CommandResult RunCommand(std::vector<std::string> argv, const std::string& log) {
  std::error_code ec;
  fs::remove(log, ec);  // the harness appends to a log file
  Process p(std::move(argv), log);
  WaitFor([&] { return !p.Running(); }, 30s);
  CommandResult r;
  r.exit_code = p.Terminate(1s);
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

// `alertd dump-state` lines by worker id.
std::map<std::string, nlohmann::json> Workers(const std::string& dump) {
  std::map<std::string, nlohmann::json> out;
  std::istringstream lines(dump);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    nlohmann::json j = nlohmann::json::parse(line);
    out[j["worker"].get<std::string>()] = j;
  }
  return out;
}

std::size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// The broker's log start and end of one partition, as any client sees them.
std::pair<int64_t, int64_t> Watermarks(const std::string& bootstrap, const std::string& topic, int32_t partition) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  int64_t low = -1, high = -1;
  EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, 10000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
  return {low, high};
}

std::vector<healthgrid::v1::DeadLetter> DeadLetters(const std::string& bootstrap, std::size_t n) {
  std::vector<healthgrid::v1::DeadLetter> out;
  std::set<std::pair<int64_t, std::string>> seen;  // at least once: dedupe by source offset
  for (const auto& r : ConsumeAll(bootstrap, "dead-letters", [&](const auto& rs) { return rs.size() >= n; }, 30s)) {
    healthgrid::v1::DeadLetter dl;
    EXPECT_TRUE(dl.ParseFromString(r.value));
    if (seen.insert({dl.source_offset(), dl.source_topic() + std::to_string(dl.source_partition())}).second) {
      out.push_back(dl);
    }
  }
  return out;
}

// A bad flag is a configuration error like a bad policy file: exit 2 with the flag named, for the
// daemon and its tools alike (not the argument parser's own numbers).
TEST(HardeningTest, BadFlagsExitWithTheConfigurationErrorCodeNamingTheFlag) {
  TempDir dir;
  struct Case {
    std::vector<std::string> argv;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{ALERTD_BIN, "--bootstrap", "127.0.0.1:1", "--no-changelog", "--changelog-topic", "x"}, "--no-changelog"},
      {{ALERTD_BIN, "--bootstrap", "127.0.0.1:1", "--standby-replicas", "1", "--no-changelog"}, "--standby-replicas"},
      {{ALERTD_BIN, "--bootstrap", "127.0.0.1:1", "--standby-replicas", "-1"}, "--standby-replicas"},
      {{ALERTD_BIN, "--bootstrap", "127.0.0.1:1", "--members-topic", "m"}, "--members-topic"},
      {{ALERTD_BIN, "--no-such-flag"}, "--no-such-flag"},
      {{ALERTD_KAFKA_BIN, "--partitions", "0"}, "--partitions"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.argv[1] + " " + c.argv.back());
    Process p(c.argv, dir.path() + "/flags-" + std::to_string(n++) + ".log");
    ASSERT_TRUE(WaitFor([&] { return !p.Running(); }, 10s)) << p.LogTail();
    EXPECT_EQ(p.Terminate(), 2) << p.LogTail();
    EXPECT_NE(p.LogTail().find(c.names), std::string::npos) << p.LogTail();
  }
  // --help is no error.
  Process help({ALERTD_BIN, "--help"}, dir.path() + "/help.log");
  ASSERT_TRUE(WaitFor([&] { return !help.Running(); }, 10s));
  EXPECT_EQ(help.Terminate(), 0);
}

TEST(HardeningTest, OversizedInputIsDeadLetteredBoundedAndNeverBlocksTheOutbox) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log");
  TestProducer producer(kafka.bootstrap());

  // Three readings with a 400 KB device_id: each is a valid Kafka record, and together they would
  // once have opened an R2 episode whose escalation exceeded the broker's 1 MB limit.
  const int64_t now = NowMs();
  producer.Send("worker-profiles", "BIG", MakeProfile("BIG", "U01", "U01-G01").SerializeAsString());
  for (int i = 0; i < 3; ++i) {
    auto r = MakeBp("BIG", now - (3 - i) * 26 * 3600 * 1000LL, 172, 104);
    r.set_device_id(std::string(400 << 10, 'd'));
    producer.Send("readings", "BIG", r.SerializeAsString());
  }
  // Three records of almost 1 MB of garbage.
  for (int i = 0; i < 3; ++i) producer.Send("readings", "GARBAGE", std::string(990 * 1000, static_cast<char>(0xA0 + i)));
  // And a worker whose critical reading must still reach the health manager, undelayed.
  producer.Send("readings", "OK1", MakeBp("OK1", now - 1000, 185, 100).SerializeAsString());
  producer.Flush();

  auto escalations = ParseEscalations(
      ConsumeAll(kafka.bootstrap(), "escalations", [](const auto& r) { return !r.empty(); }, 30s));
  ASSERT_FALSE(escalations.empty()) << alertd.process().LogTail();
  for (const auto& e : escalations) EXPECT_EQ(e.worker_id(), "OK1");

  const auto dead = DeadLetters(kafka.bootstrap(), 6);
  ASSERT_EQ(dead.size(), 6u);
  for (const auto& dl : dead) {
    EXPECT_EQ(dl.reason(), healthgrid::v1::TOO_LARGE) << dl.message();
    EXPECT_TRUE(dl.truncated());
    EXPECT_EQ(dl.original_value().size(), 4096u);
    EXPECT_GT(dl.original_value_bytes(), 400u << 10);
  }
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") == 8; }, 30s));
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_outbox_pending") == 0; }, 30s));
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total", {{"reason", "too_large"}}), 6);
  EXPECT_EQ(alertd.Metric("alertd_parked_outputs"), 0);
  EXPECT_EQ(alertd.Metric("alertd_delivery_failures_total"), 0);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(alertd.process().Terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "SIGTERM must not wait on output that cannot go";
  EXPECT_LT(CountLines(alertd.process().log_path()), 200u) << alertd.process().LogTail();

  // The rejected records left no state behind; the accepted ones did.
  const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", dir.path() + "/db"}, dir.path() + "/dump");
  EXPECT_EQ(dump.exit_code, 0) << dump.output;
  const auto workers = Workers(dump.output);
  ASSERT_EQ(workers.size(), 2u) << dump.output;
  EXPECT_EQ(workers.at("OK1")["readings_accepted"], 1) << dump.output;
  EXPECT_EQ(workers.at("BIG")["readings_accepted"], 0) << dump.output;  // its profile only
}

TEST(HardeningTest, OutputTheBrokerRefusesForGoodIsParkedCountedListedAndNotRetried) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  // A producer limit of 1,000 bytes stands in for a broker with a small message.max.bytes: the
  // escalations of a worker with many recipients exceed it and are refused, every time.
  const std::vector<std::string> flags = {"--kafka-property", "message.max.bytes=1000"};
  auto alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log", flags);
  TestProducer producer(kafka.bootstrap());

  auto profile = MakeProfile("WIDE", "U02", "U02-G03");
  for (int i = 0; i < 20; ++i) {
    auto* p = profile.mutable_policy()->add_extra_recipients();
    p->set_id("STAFF-" + std::to_string(i));
    p->set_name("Occupational health officer number " + std::to_string(i));
  }
  const int64_t now = NowMs();
  producer.Send("worker-profiles", "WIDE", profile.SerializeAsString());
  producer.Send("readings", "WIDE", MakeBp("WIDE", now - 2000, 188, 104).SerializeAsString());
  producer.Send("readings", "NARROW", MakeBp("NARROW", now - 1000, 100, 500).SerializeAsString());  // impossible
  producer.Flush();

  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") == 3; }, 30s))
      << alertd->process().LogTail();
  // R1 opens with an urgent referral. The escalation names the 20 extra recipients and is refused;
  // the referral (the health manager only) and the dead letter of the impossible reading go through.
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_parked_outputs") == 1; }, 30s))
      << alertd->process().LogTail();
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_outbox_pending") == 0; }, 30s));
  EXPECT_EQ(DeadLetters(kafka.bootstrap(), 1).size(), 1u);
  EXPECT_FALSE(ConsumeAll(kafka.bootstrap(), "referrals", [](const auto& r) { return !r.empty(); }, 30s).empty());
  EXPECT_EQ(alertd->Metric("alertd_parked_total", {{"topic", "escalations"}}), 1);
  std::this_thread::sleep_for(2s);  // no retries behind our back
  EXPECT_EQ(alertd->Metric("alertd_parked_outputs"), 1);
  EXPECT_EQ(alertd->Metric("alertd_delivery_failures_total"), 0);

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(alertd->process().Terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_LT(CountLines(alertd->process().log_path()), 200u);

  const CommandResult parked = RunCommand({ALERTD_BIN, "parked", "--db", dir.path() + "/db"}, dir.path() + "/parked");
  EXPECT_EQ(parked.exit_code, 0) << parked.output;
  EXPECT_NE(parked.output.find("\"topic\":\"escalations\""), std::string::npos) << parked.output;
  EXPECT_NE(parked.output.find("Message size too large"), std::string::npos) << parked.output;
  EXPECT_NE(parked.output.find("1 parked output record\n"), std::string::npos) << parked.output;

  // A restart does not send them again, and still counts them.
  alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd2.log", flags);
  ASSERT_TRUE(WaitFor([&] { return alertd->GetStatus("/readyz") == 200; }, 30s));
  EXPECT_EQ(alertd->Metric("alertd_parked_outputs"), 1);
  EXPECT_EQ(alertd->Metric("alertd_outbox_pending"), 0);
  EXPECT_TRUE(ConsumeAll(kafka.bootstrap(), "escalations", [](const auto& r) { return !r.empty(); }, 3s).empty());
  EXPECT_EQ(alertd->process().Terminate(), 0);
}

TEST(HardeningTest, AFloodOfRejectedReadingsAndAcksForUnknownWorkersLeavesTheStoreUnchangedAndTheLogShort) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log");
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();
  producer.Send("readings", "REAL", MakeBp("REAL", now - 1000, 120, 80).SerializeAsString());
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "GHOST" + std::to_string(i);
    producer.Send("readings", id, MakeBp(id, now - 1000, 400, 80).SerializeAsString());  // impossible
    healthgrid::v1::EscalationAck ack;
    ack.set_worker_id(id);
    ack.set_rule(healthgrid::v1::R1_CRITICAL_BP);
    ack.set_action(healthgrid::v1::ACKNOWLEDGE);
    producer.Send("escalation-acks", id, ack.SerializeAsString());  // nothing open: ignored
  }
  // Invalid UTF-8 in a string field: protobuf itself complains once per record, through alertd's
  // rate-limited log.
  for (int i = 0; i < 500; ++i) {
    auto r = MakeBp("UTF" + std::to_string(i), now - 1000, 120, 80);
    r.set_device_id("\xff\xfe not UTF-8");
    std::string bytes;
    r.AppendPartialToString(&bytes);
    producer.Send("readings", "UTF" + std::to_string(i), bytes);
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") == 2501; }, 60s))
      << alertd.process().LogTail();
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total", {{"reason", "impossible_value"}}), 1000);
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total", {{"reason", "undecodable"}}), 500);
  EXPECT_EQ(alertd.Metric("alertd_ignored_total"), 1000);
  EXPECT_EQ(alertd.process().Terminate(), 0);
  EXPECT_LT(CountLines(alertd.process().log_path()), 300u) << "rejections are logged at a bounded rate";

  const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", dir.path() + "/db"}, dir.path() + "/dump");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  EXPECT_EQ(std::count(dump.output.begin(), dump.output.end(), '\n'), 1) << dump.output.substr(0, 2000);
  EXPECT_NE(dump.output.find("\"worker\":\"REAL\""), std::string::npos);
}

TEST(HardeningTest, RecordsDeletedByRetentionBeforeTheyWereReadAreLoggedAndCountedNeverSkippedInSilence) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  auto alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log");
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();
  for (int i = 0; i < 10; ++i) producer.Send("readings", "W1", MakeBp("W1", now - 100000 + i, 120, 80).SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") == 10; }, 30s));
  EXPECT_EQ(alertd->process().Terminate(), 0);

  // While alertd is down, ~8 MB arrive: the embedded cluster keeps ~5 MiB per partition, so the
  // oldest records, among them the ones alertd has not read, are deleted (retention).
  const std::string filler(60 * 1000, 'x');
  for (int i = 0; i < 140; ++i) {
    producer.Send("readings", "FILL", filler);
    if (i % 10 == 9) producer.Flush();
  }
  producer.Flush();
  const auto [low, high] = Watermarks(kafka.bootstrap(), "readings", 0);
  ASSERT_GT(low, 10) << "the cluster kept everything; the test needs the log start to move past offset 10";

  alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd2.log");
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_input_gap_records_total") > 0; }, 30s))
      << alertd->process().LogTail();
  EXPECT_EQ(alertd->Metric("alertd_input_gap_records_total", {{"topic", "readings"}, {"cause", "retention"}}), low - 10);
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") == high - low; }, 30s))
      << alertd->process().LogTail();
  EXPECT_EQ(alertd->Metric("alertd_dead_letters_total", {{"topic", "readings"}}), high - low);
  EXPECT_NE(alertd->process().LogTail(20000).find("readings[0]: offsets 10.." + std::to_string(low - 1)),
            std::string::npos)
      << alertd->process().LogTail();
  EXPECT_EQ(alertd->process().Terminate(), 0);

  // A new store on the same topic: what retention deleted before it ever read the partition.
  AlertdProcess fresh(kafka.bootstrap(), dir.path() + "/db2", dir.path() + "/alertd3.log",
                      {"--group", "fresh-deployment", "--no-changelog"});
  ASSERT_TRUE(WaitFor([&] { return fresh.Metric("alertd_committed_records_total") == high - low; }, 30s))
      << fresh.process().LogTail();
  EXPECT_EQ(fresh.Metric("alertd_input_gap_records_total", {{"topic", "readings"}, {"cause", "before_first_read"}}),
            low);
  EXPECT_EQ(fresh.process().Terminate(), 0);
}

TEST(HardeningTest, AfterKill9AStaticMemberProcessesItsFirstReadingWithinSeconds) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  // The embedded cluster does not implement KIP-345's replacement of a static member: the dead
  // incarnation's session must expire first, so the session timeout bounds the restart here
  // (README, Operations). A real broker hands the partitions back at once.
  const std::vector<std::string> flags = {"--instance-id", "alertd-a", "--kafka-property", "session.timeout.ms=3000",
                                          "--kafka-property", "heartbeat.interval.ms=500"};
  TestProducer producer(kafka.bootstrap());
  auto alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/a1.log", flags);
  const int64_t now = NowMs();
  producer.Send("readings", "W1", MakeBp("W1", now - 5000, 120, 80).SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") == 1; }, 30s));
  alertd->process().Kill9();

  const auto t0 = std::chrono::steady_clock::now();
  alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/a2.log", flags);
  producer.Send("readings", "W1", MakeBp("W1", now - 4000, 121, 80).SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") == 1; }, 30s, 20ms))
      << alertd->process().LogTail();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("restart after kill -9 to first processed reading: %.2f s\n", seconds);
  EXPECT_LT(seconds, 8.0);
  EXPECT_EQ(alertd->process().Terminate(), 0);
  const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", dir.path() + "/db"}, dir.path() + "/dump");
  EXPECT_EQ(Workers(dump.output).at("W1")["readings_accepted"], 2) << dump.output;
}

// A tmpfs of its own for the state directory; unmounted when the test ends, whatever happens.
class SmallDisk {
 public:
  SmallDisk(const std::string& dir, int mib) : dir_(dir) {
    fs::create_directories(dir);
    const std::string options = "size=" + std::to_string(mib) + "m";
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) == 0;
    if (!mounted_) ADD_FAILURE() << "mount tmpfs on " << dir << ": " << std::strerror(errno) << " (needs root)";
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  void Grow(int mib) {
    const std::string options = "size=" + std::to_string(mib) + "m";
    EXPECT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()), 0) << std::strerror(errno);
  }

 private:
  std::string dir_;
  bool mounted_ = false;
};

TEST(HardeningTest, AFullDiskStopsAlertdWithExitCode4AndARestartAfterFreeingSpaceCarriesOnExactly) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  SmallDisk disk(dir.path() + "/state", 6);
  ASSERT_TRUE(disk.mounted());
  const std::string db = dir.path() + "/state/db";
  const std::vector<std::string> flags = {"--disk-reserve-mb", "1", "--commit-interval-ms", "20"};

  // 3,000 workers with 15 readings each: the WAL of their states outgrows a 6 MiB disk.
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();
  constexpr int kWorkers = 3000, kEach = 15;
  for (int n = 0; n < kEach; ++n) {
    for (int w = 0; w < kWorkers; ++w) {
      const std::string id = "W" + std::to_string(w);
      auto r = MakeBp(id, now - (kEach - n) * 60000LL, 125 + n, 82);
      r.set_station_id("U01-G01-STATION-" + std::string(60, 's'));
      r.set_device_id("omron-" + std::string(100, 'd'));
      producer.Send("readings", id, r.SerializeAsString());
    }
  }
  producer.Flush();

  {
    AlertdProcess full(kafka.bootstrap(), db, dir.path() + "/full.log", flags);
    ASSERT_TRUE(WaitFor([&] { return !full.process().Running(); }, 120s)) << "alertd never stopped on a full disk";
    EXPECT_EQ(full.process().Terminate(), 4) << full.process().LogTail();
    const std::string log = full.process().LogTail(20000);
    EXPECT_NE(log.find(db), std::string::npos) << log;
    EXPECT_NE(log.find("No space left on device"), std::string::npos) << log;
  }

  disk.Grow(256);
  // Every worker counted every reading exactly once across the stop and the restart.
  auto exact_workers = [&] {
    const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", db}, dir.path() + "/dump");
    std::size_t n = 0;
    for (const auto& [id, w] : Workers(dump.output)) n += w["readings_accepted"] == kEach;
    return n;
  };
  AlertdProcess again(kafka.bootstrap(), db, dir.path() + "/again.log", flags);
  ASSERT_TRUE(WaitFor([&] { return exact_workers() == static_cast<std::size_t>(kWorkers); }, 120s, 1s))
      << again.process().LogTail();
  EXPECT_EQ(again.process().Terminate(), 0) << again.process().LogTail();
  EXPECT_EQ(exact_workers(), static_cast<std::size_t>(kWorkers));
  const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", db}, dir.path() + "/dump");
  EXPECT_EQ(std::count(dump.output.begin(), dump.output.end(), '\n'), kWorkers);
}

}  // namespace
}  // namespace alertd::testing

namespace alertd::testing {
namespace {

// Flips `n` bytes in the middle of the largest file of `dir` whose name ends with `suffix`; the name.
std::string FlipBytesInTheMiddle(const std::string& dir, const std::string& suffix, int n) {
  std::string victim;
  std::uintmax_t size = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        entry.file_size() > size) {
      victim = entry.path().string();
      size = entry.file_size();
    }
  }
  if (victim.empty()) return victim;
  std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(size / 2));
  for (int i = 0; i < n; ++i) f.put(static_cast<char>(0x5A ^ i));
  return victim;
}

// 200 workers' readings graded by an alertd that then stops cleanly (so its state is in SST files).
void GradeAndStopCleanly(const std::string& bootstrap, const std::string& db, const std::string& log,
                         std::vector<std::string> flags = {}) {
  AlertdProcess first(bootstrap, db, log, std::move(flags));
  TestProducer producer(bootstrap);
  for (int w = 0; w < 200; ++w) {
    const std::string id = "W" + std::to_string(w);
    producer.Send("readings", id, MakeBp(id, NowMs() - 60000, 130, 85).SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return first.Metric("alertd_committed_records_total") == 200; }, 60s));
  EXPECT_EQ(first.process().Terminate(), 0);
}

TEST(HardeningTest, ACorruptedWalIsReportedAndTheStateEndsExactFromKafka) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  const std::string db = dir.path() + "/db";
  // Small commits, so the WAL holds many of them.
  const std::vector<std::string> flags = {"--commit-max-records", "50"};
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();
  constexpr int kWorkers = 50, kEach = 40;
  for (int n = 0; n < kEach; ++n) {
    for (int w = 0; w < kWorkers; ++w) {
      const std::string id = "W" + std::to_string(w);
      producer.Send("readings", id, MakeBp(id, now - (kEach - n) * 60000LL, 120 + n % 20, 80).SerializeAsString());
    }
  }
  producer.Flush();
  {
    AlertdProcess first(kafka.bootstrap(), db, dir.path() + "/first.log", flags);
    ASSERT_TRUE(WaitFor([&] { return first.Metric("alertd_committed_records_total") == kWorkers * kEach; }, 60s))
        << first.process().LogTail();
    first.process().Kill9();  // the WAL keeps every commit: nothing was flushed to an SST
  }
  const std::string wal = FlipBytesInTheMiddle(db, ".log", 8);
  ASSERT_FALSE(wal.empty()) << "no WAL file in " << db;

  AlertdProcess again(kafka.bootstrap(), db, dir.path() + "/again.log", flags);
  ASSERT_TRUE(WaitFor([&] { return again.GetStatus("/readyz") == 200; }, 60s)) << again.process().LogTail();
  EXPECT_GT(again.Metric("alertd_wal_recovery_dropped_commits"), 0) << again.process().LogTail();
  EXPECT_GT(again.Metric("alertd_wal_recovery_skipped_bytes"), 0);
  const std::string log = again.process().LogTail(20000);
  EXPECT_NE(log.find("WAL recovery dropped"), std::string::npos) << log;
  EXPECT_NE(log.find(fs::path(wal).filename().string()), std::string::npos) << log;
  // Offsets rolled back with the state: the rolled-back readings are consumed again, once.
  auto exact = [&] {
    const CommandResult dump = RunCommand({ALERTD_BIN, "dump-state", "--db", db}, dir.path() + "/dump");
    std::size_t n = 0;
    for (const auto& [id, w] : Workers(dump.output)) n += w["readings_accepted"] == kEach;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return exact() == static_cast<std::size_t>(kWorkers); }, 60s, 1s))
      << again.process().LogTail();
  EXPECT_EQ(again.process().Terminate(), 0);
  EXPECT_EQ(exact(), static_cast<std::size_t>(kWorkers));
}

TEST(HardeningTest, ACorruptSstStopsAlertdWithExitCode3NamingTheFile) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  const std::string db = dir.path() + "/db";
  GradeAndStopCleanly(kafka.bootstrap(), db, dir.path() + "/first.log");
  // A clean stop flushes the memtables: the workers are in SST files.
  const std::string victim = FlipBytesInTheMiddle(db, ".sst", 64);
  ASSERT_FALSE(victim.empty()) << "no SST file after a clean stop";
  AlertdProcess broken(kafka.bootstrap(), db, dir.path() + "/broken.log");
  // Every owned worker is read when partitions are assigned (the dashboard gauges): the damage is found then.
  ASSERT_TRUE(WaitFor([&] { return !broken.process().Running(); }, 60s)) << broken.process().LogTail();
  EXPECT_EQ(broken.process().Terminate(), 3) << broken.process().LogTail();
  const std::string log = broken.process().LogTail(20000);
  EXPECT_NE(log.find("DATA_LOSS"), std::string::npos) << log;
  EXPECT_NE(log.find(fs::path(victim).filename().string()), std::string::npos) << log;
}

TEST(HardeningTest, AStoreThatComesBackOlderThanItsCleanCloseIsRefusedWithExitCode3) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  const std::string db = dir.path() + "/db";
  // A MANIFEST whose last record is torn makes RocksDB fall back to the version before that record
  // instead of refusing the file. The refusal itself is the store's, changelog or not.
  GradeAndStopCleanly(kafka.bootstrap(), db, dir.path() + "/first.log", {"--no-changelog"});
  // Damage in the MANIFEST can make RocksDB open an earlier version of the store (and delete the
  // newer files as obsolete): alertd would start over from offset 0 with no workers.
  std::string manifest;
  for (const auto& e : fs::directory_iterator(db)) {
    if (e.path().filename().string().rfind("MANIFEST", 0) == 0) manifest = e.path().string();
  }
  ASSERT_FALSE(manifest.empty());
  {
    // RocksDB's log format: 32 KiB blocks of records, each a 4-byte checksum, 2-byte little-endian
    // length and 1-byte type before its payload. The last record's length is made to run past the end
    // of the file, as a crash during its write leaves it: recovery stops before it, dropping it and the
    // edits after it. The record at the middle of the file, so that the flushes of the last commits
    // are among the dropped edits. (Damage the checksums find is refused as corrupt: not this case.)
    std::ifstream in(manifest, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    constexpr std::size_t kBlock = 32768, kHeader = 7;
    std::size_t offset = 0, torn = 0;
    while (offset + kHeader <= bytes.size()) {
      if (kBlock - offset % kBlock < kHeader) {  // a block's trailer too short for a header is padding
        offset += kBlock - offset % kBlock;
        continue;
      }
      const std::size_t length = static_cast<unsigned char>(bytes[offset + 4]) |
                                 (static_cast<std::size_t>(static_cast<unsigned char>(bytes[offset + 5])) << 8);
      if (offset <= bytes.size() / 2) torn = offset;
      offset += kHeader + length;
    }
    ASSERT_EQ(offset, bytes.size()) << "the MANIFEST does not parse as whole records";
    std::fstream f(manifest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(torn + 4));
    f.put('\xA5');
    f.put('\xA5');
  }
  std::set<std::string> before;
  for (const auto& e : fs::directory_iterator(db)) before.insert(e.path().filename().string());
  // Refused at open, before the HTTP endpoints or Kafka are started.
  const CommandResult broken = RunCommand(
      {ALERTD_BIN, "--bootstrap", kafka.bootstrap(), "--db", db, "--http", "127.0.0.1:0"}, dir.path() + "/broken.log");
  EXPECT_EQ(broken.exit_code, 3) << broken.output;
  EXPECT_NE(broken.output.find("DATA_LOSS"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("closed it cleanly at sequence"), std::string::npos) << broken.output;
  // Refused before a read-write open could delete anything.
  for (const std::string& name : before) {
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".sst") == 0) {
      EXPECT_TRUE(fs::exists(db + "/" + name)) << name << " was deleted";
    }
  }
}

}  // namespace
}  // namespace alertd::testing
