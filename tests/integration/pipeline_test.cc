// End to end through real processes: embedded Kafka (own process), alertd (own process), Kafka clients.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/domain/rulebook.h"
#include "engine/wire/convert.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;

std::vector<healthgrid::v1::Escalation> DecodeEscalations(const std::vector<ConsumedRecord>& records) {
  std::vector<healthgrid::v1::Escalation> out;
  for (const auto& r : records) {
    healthgrid::v1::Escalation e;
    EXPECT_TRUE(e.ParseFromString(r.value)) << "escalation at offset " << r.offset << " does not decode";
    EXPECT_EQ(r.key, e.worker_id()) << "escalations are keyed by worker id";
    out.push_back(std::move(e));
  }
  return out;
}

// One event per id: output is at least once, and a duplicate carries the same event id.
std::map<std::string, healthgrid::v1::Escalation> DistinctEvents(const std::vector<healthgrid::v1::Escalation>& events) {
  std::map<std::string, healthgrid::v1::Escalation> out;
  for (const auto& e : events) out.emplace(e.event_id(), e);
  return out;
}

class PipelineTest : public ::testing::Test {
 protected:
  TempDir dir_;
  EmbeddedKafka kafka_{dir_.path()};
};

TEST_F(PipelineTest, ReadingsInEscalationsOut) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log");
  TestProducer producer(kafka_.bootstrap());
  const int64_t now = NowMs();

  for (const char* w : {"W1", "W2", "W3"}) {
    producer.Send("worker-profiles", w, MakeProfile(w, "U01", "U01-G01").SerializeAsString());
  }
  producer.Flush();
  // Profiles and readings are separate topics; wait until the profiles are in state so the events
  // below are routed to the grid's health manager rather than the on-call desk.
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 3; }, 30s));
  // W1: a grade-3 reading (R1 opens), then a normal one (R1 resolves).
  producer.Send("readings", "W1", MakeBp("W1", now - 2 * kHour, 186, 112).SerializeAsString());
  producer.Send("readings", "W1", MakeBp("W1", now - 1 * kHour, 132, 84).SerializeAsString());
  // W2: three grade-2 readings on two days (R2 opens).
  producer.Send("readings", "W2", MakeBp("W2", now - 2 * kDay, 166, 102).SerializeAsString());
  producer.Send("readings", "W2", MakeBp("W2", now - 1 * kDay, 168, 104).SerializeAsString());
  producer.Send("readings", "W2", MakeBp("W2", now - 1 * kDay + kHour, 164, 101).SerializeAsString());
  // W3: normal readings, nothing to say.
  producer.Send("readings", "W3", MakeBp("W3", now - 3 * kHour, 118, 76).SerializeAsString());
  producer.Flush();

  // Everything alertd made of this input, read to the end of the topic: exactly three events, counted
  // by event id (at-least-once output may repeat one, always with its id).
  const auto distinct = DistinctEvents(DecodeEscalations(alertd.ReadOutput("escalations")));
  ASSERT_EQ(distinct.size(), 3u) << alertd.process().LogTail();

  std::map<std::pair<std::string, int>, healthgrid::v1::Escalation> by;
  for (const auto& [_, e] : distinct) by[{e.worker_id(), e.state()}] = e;
  ASSERT_TRUE(by.count({"W1", healthgrid::v1::OPEN}));
  ASSERT_TRUE(by.count({"W1", healthgrid::v1::RESOLVED}));
  ASSERT_TRUE(by.count({"W2", healthgrid::v1::OPEN}));

  const auto& r1 = by[{"W1", healthgrid::v1::OPEN}];
  EXPECT_EQ(r1.rule(), healthgrid::v1::R1_CRITICAL_BP);
  EXPECT_EQ(r1.severity(), healthgrid::v1::URGENT);
  EXPECT_EQ(r1.unit_id(), "U01");
  ASSERT_EQ(r1.recipients_size(), 1);
  EXPECT_EQ(r1.recipients(0).id(), "HM-U01-G01");
  EXPECT_NE(r1.reason().find("186/112"), std::string::npos) << r1.reason();
  const auto& resolved = by[std::make_pair(std::string("W1"), static_cast<int>(healthgrid::v1::RESOLVED))];
  EXPECT_EQ(resolved.episode_id(), r1.episode_id());
  EXPECT_EQ(resolved.sequence(), 2u);

  const auto& r2 = by[{"W2", healthgrid::v1::OPEN}];
  EXPECT_EQ(r2.rule(), healthgrid::v1::R2_SUSTAINED_HYPERTENSION);
  EXPECT_EQ(r2.severity(), healthgrid::v1::HIGH);
  EXPECT_EQ(r2.window().readings(), 3u);
  EXPECT_EQ(r2.evidence_size(), 3);

  // Deterministic ids: the pure rules, run here on the same history, name the events the same.
  domain::Rulebook rules{domain::Policy{}};
  domain::WorkerState w1;
  rules.OnWorkerProfile({"W1"}, wire::FromProto(MakeProfile("W1", "U01", "U01-G01")), w1, {now});
  auto first = rules.OnReading(wire::FromProto(MakeBp("W1", now - 2 * kHour, 186, 112)), w1, {now});
  ASSERT_EQ(first.escalations.size(), 1u);
  EXPECT_EQ(first.escalations[0].event_id, r1.event_id());

  EXPECT_EQ(alertd.Metric("alertd_readings_total", {{"kind", "blood_pressure"}, {"unit", "U01"}}), 6)
      << "each reading counted once";
  EXPECT_EQ(alertd.Metric("alertd_escalations_total", {{"rule", "R1_critical_bp"}}), 2);
  EXPECT_EQ(alertd.GetStatus("/healthz"), 200);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

TEST_F(PipelineTest, MalformedInputBecomesDeadLetterAndEngineKeepsGoing) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log");
  const int64_t now = NowMs();

  // Garbage bytes through kcat, the operator's own tool, as a misconfigured gateway would send them.
  const std::string garbage = "\x08\x96\x01 this is not a reading \xff\xfe";
  {
    std::string cmd = std::string(KCAT_BIN) + " -P -b " + kafka_.bootstrap() + " -t readings -k W9";
    FILE* kcat = popen(cmd.c_str(), "w");
    ASSERT_NE(kcat, nullptr);
    fwrite(garbage.data(), 1, garbage.size(), kcat);
    ASSERT_EQ(pclose(kcat), 0) << "kcat failed";
  }
  TestProducer producer(kafka_.bootstrap());
  producer.Send("readings", "W9", MakeBp("W9", now - kHour, 400, 90).SerializeAsString());   // impossible
  producer.Send("readings", "W9", MakeBp("W9", now + 2 * kHour, 120, 80).SerializeAsString());  // future
  producer.Send("readings", "W8", MakeBp("W7", now - kHour, 120, 80).SerializeAsString());     // wrong key
  producer.Send("readings", "W9", MakeBp("W9", now - kHour + 1, 190, 100).SerializeAsString());  // still graded
  producer.Flush();

  // Exactly four dead letters, one per rejected record: at-least-once output may repeat one, always
  // naming the same source record, so they are counted by source offset.
  std::map<std::tuple<std::string, int32_t, int64_t>, healthgrid::v1::DeadLetter> dead;
  for (const auto& r : alertd.ReadOutput("dead-letters")) {
    healthgrid::v1::DeadLetter d;
    ASSERT_TRUE(d.ParseFromString(r.value));
    dead.emplace(std::make_tuple(d.source_topic(), d.source_partition(), d.source_offset()), d);
  }
  ASSERT_EQ(dead.size(), 4u) << alertd.process().LogTail();
  std::map<int, healthgrid::v1::DeadLetter> by_reason;
  for (const auto& [_, d] : dead) {
    EXPECT_EQ(d.source_topic(), "readings");
    EXPECT_FALSE(d.message().empty());
    by_reason[d.reason()] = d;
  }
  ASSERT_TRUE(by_reason.count(healthgrid::v1::UNDECODABLE) || by_reason.count(healthgrid::v1::MISSING_WORKER_ID) ||
              by_reason.count(healthgrid::v1::MISSING_TIMESTAMP));
  bool garbage_kept = false;
  for (const auto& [reason, d] : by_reason) garbage_kept |= d.original_value() == garbage;
  EXPECT_TRUE(garbage_kept) << "the original bytes must travel with the dead letter";
  ASSERT_TRUE(by_reason.count(healthgrid::v1::IMPOSSIBLE_VALUE));
  EXPECT_NE(by_reason[healthgrid::v1::IMPOSSIBLE_VALUE].message().find("400"), std::string::npos);
  EXPECT_TRUE(by_reason.count(healthgrid::v1::FUTURE_TIMESTAMP));
  EXPECT_TRUE(by_reason.count(healthgrid::v1::KEY_MISMATCH));

  const auto escalations = DistinctEvents(DecodeEscalations(alertd.ReadOutput("escalations")));
  ASSERT_EQ(escalations.size(), 1u) << "the valid reading after the bad ones is graded, and only it";
  EXPECT_EQ(escalations.begin()->second.worker_id(), "W9");
  EXPECT_TRUE(alertd.process().Running());
  EXPECT_EQ(alertd.GetStatus("/healthz"), 200);
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total", {{"reason", "impossible_value"}}), 1);
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total"), 4);
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

// Durable input positions an alertd found in its store at start, summed over every input partition
// (offsets start at 0): its log's "assigned <topic>[<p>] from stored offset <n>" lines (or "from the
// beginning"), written before it reports ready. -1 if a partition's line is missing.
int64_t StoredRecords(const std::string& log_path, std::size_t input_partitions) {
  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string log = ss.str();
  static const std::regex assigned(R"(assigned ([A-Za-z0-9._-]+)\[(\d+)\] from (stored offset (\d+)|the beginning))");
  std::map<std::pair<std::string, int>, int64_t> first;  // the first assignment of each partition
  for (auto it = std::sregex_iterator(log.begin(), log.end(), assigned); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    first.emplace(std::make_pair(m[1].str(), std::stoi(m[2].str())), m[4].matched ? std::stoll(m[4].str()) : 0);
  }
  if (first.size() != input_partitions) return -1;
  int64_t sum = 0;
  for (const auto& [_, n] : first) sum += n;
  return sum;
}

// A stream of 50,000 readings for 500 workers; alertd is killed with SIGKILL twice while readings
// still arrive (once in the first half, once while the restarted instance works through its
// backlog) and restarted on the same state directory each time. Every commit an instance counted
// before its kill must be in the store the next one starts from; the last one must read exactly the
// records after those positions; nothing may be lost or counted twice, and every escalation the
// rules decide for this history, and nothing else, must be on the topic.
TEST_F(PipelineTest, KillNineMidStreamLosesNothingAndCountsNothingTwice) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  constexpr int kWorkers = 500;
  constexpr int kPerWorker = 100;
  const int64_t now = NowMs();
  std::mt19937_64 rng(20261129);

  // Each worker's history in event-time order over the last six days, with an occasional late reading.
  struct Item {
    std::string worker;
    healthgrid::v1::Reading reading;
  };
  std::vector<Item> stream;
  std::map<std::string, healthgrid::v1::WorkerProfile> profiles;
  for (int w = 0; w < kWorkers; ++w) {
    char id[16];
    std::snprintf(id, sizeof id, "K%05d", w);
    const std::string unit = "U" + std::to_string(1 + w % 17);
    profiles[id] = MakeProfile(id, unit, unit + "-G" + std::to_string(w % 12));
    const bool hypertensive = w % 4 == 0;
    std::normal_distribution<double> sys(hypertensive ? 163 : 122, 9), dia(hypertensive ? 101 : 78, 6);
    for (int i = 0; i < kPerWorker; ++i) {
      int64_t at = now - 6 * kDay + i * (6 * kDay / kPerWorker);
      if (i % 17 == 16) at -= 3 * kHour;  // late upload
      int s = static_cast<int>(sys(rng)), d = static_cast<int>(dia(rng));
      if (rng() % 97 == 0) s = 185;  // a grade-3 spike
      d = std::min(d, s - 20);
      stream.push_back({id, MakeBp(id, at, s, d)});
    }
  }
  // Interleave workers the way many stations upload at once, keeping each worker's own order.
  std::vector<Item> interleaved;
  for (int i = 0; i < kPerWorker; ++i) {
    for (int w = 0; w < kWorkers; ++w) interleaved.push_back(stream[w * kPerWorker + i]);
  }

  // Expected escalations: the pure rules over the same per-worker history.
  std::set<std::string> expected_ids;
  {
    domain::Rulebook rules{domain::Policy{}};
    std::map<std::string, domain::WorkerState> states;
    for (const auto& [id, p] : profiles) rules.OnWorkerProfile({id}, wire::FromProto(p), states[id], {now});
    for (const auto& item : interleaved) {
      auto out = rules.OnReading(wire::FromProto(item.reading), states[item.worker], {now});
      ASSERT_FALSE(out.rejected) << out.rejected->message;
      for (const auto& e : out.escalations) expected_ids.insert(e.event_id);
    }
  }
  ASSERT_GT(expected_ids.size(), 100u) << "the stream must exercise the rules";

  const std::string db = dir_.path() + "/db";
  constexpr std::size_t kInputPartitions = 4 * 8;  // readings, profiles, shifts, acks; 8 partitions each
  int run = 1;
  auto log_of = [&](int r) { return dir_.path() + "/alertd-" + std::to_string(r) + ".log"; };
  auto alertd = std::make_unique<AlertdProcess>(kafka_.bootstrap(), db, log_of(run),
                                                std::vector<std::string>{"--commit-max-records", "1000"});
  TestProducer producer(kafka_.bootstrap());
  for (const auto& [id, p] : profiles) producer.Send("worker-profiles", id, p.SerializeAsString());
  producer.Flush();
  int64_t produced = kWorkers;  // input records so far
  int64_t stored = 0;           // durable input positions of the running instance at its start

  // Kills the running instance once it has committed `min_committed` records of its own, and starts
  // the next one: the positions that one finds must hold every commit the killed one counted, and
  // nothing that was not produced yet.
  auto kill_and_restart = [&](double min_committed) {
    ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") >= min_committed; }, 60s))
        << alertd->process().LogTail();
    const double counted = alertd->Metric("alertd_committed_records_total");
    alertd->process().Kill9();
    alertd = std::make_unique<AlertdProcess>(kafka_.bootstrap(), db, log_of(++run),
                                             std::vector<std::string>{"--commit-max-records", "1000"});
    ASSERT_TRUE(WaitFor([&] { return alertd->GetStatus("/readyz") == 200; }, 60s)) << alertd->process().LogTail();
    const int64_t found = StoredRecords(log_of(run), kInputPartitions);
    std::printf("run %d killed with SIGKILL after committing %.0f records; run %d starts at %lld of %lld produced\n",
                run - 1, counted, run, static_cast<long long>(found), static_cast<long long>(produced));
    ASSERT_GE(found, stored + static_cast<int64_t>(counted)) << "commits the killed instance counted are gone";
    ASSERT_LE(found, produced) << "positions past the records produced";
    stored = found;
  };

  int kills = 0;
  const std::size_t chunk = 2500;
  for (std::size_t i = 0; i < interleaved.size(); i += chunk) {
    for (std::size_t j = i; j < std::min(interleaved.size(), i + chunk); ++j) {
      producer.Send("readings", interleaved[j].worker, interleaved[j].reading.SerializeAsString());
      ++produced;
    }
    producer.Flush();
    // Mid-stream both times: readings keep arriving after each kill.
    if ((kills == 0 && i >= 20000) || (kills == 1 && i >= 37500)) {
      kill_and_restart(kills == 0 ? 10000 : 5000);
      if (HasFatalFailure()) return;
      ++kills;
    }
  }
  ASSERT_EQ(kills, 2);
  ASSERT_EQ(produced, kWorkers * kPerWorker + kWorkers);
  ASSERT_TRUE(WaitFor([&] { return alertd->CaughtUp(); }, 120s, 200ms)) << alertd->process().LogTail();
  // The last instance read exactly what lay after its stored positions: fewer would skip records, more
  // would count some twice (a position lost or rolled back).
  EXPECT_EQ(alertd->Metric("alertd_committed_records_total"), static_cast<double>(produced - stored));
  // Every expected escalation is on the topic (at least once), and nothing else.
  const std::vector<ConsumedRecord> records = ReadToEnd(kafka_.bootstrap(), "escalations");
  ASSERT_EQ(alertd->process().Terminate(), 0) << alertd->process().LogTail();

  // Each worker's reading count in state equals what was produced.
  FILE* dump = popen((std::string(ALERTD_BIN) + " dump-state --db " + db).c_str(), "r");
  ASSERT_NE(dump, nullptr);
  std::map<std::string, long> counts;
  char line[4096];
  while (std::fgets(line, sizeof line, dump)) {
    std::string s(line);
    auto w = s.find("\"worker\":\"");
    auto c = s.find("\"readings_accepted\":");
    ASSERT_NE(w, std::string::npos);
    ASSERT_NE(c, std::string::npos);
    std::string worker = s.substr(w + 10, s.find('"', w + 10) - (w + 10));
    counts[worker] = std::stol(s.substr(c + 20));
  }
  ASSERT_EQ(pclose(dump), 0);
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(kWorkers));
  for (const auto& [worker, n] : counts) EXPECT_EQ(n, kPerWorker) << worker;

  std::set<std::string> seen;
  for (const auto& e : DecodeEscalations(records)) seen.insert(e.event_id());
  std::size_t missing = 0;
  for (const auto& id : expected_ids) missing += seen.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << expected_ids.size() << " expected escalations";
  std::size_t unexpected = 0;
  for (const auto& id : seen) unexpected += expected_ids.count(id) == 0;
  EXPECT_EQ(unexpected, 0u);
  std::printf("%zu expected escalations all delivered; %zu records on the topic (%zu duplicates from the kills)\n",
              expected_ids.size(), records.size(), records.size() - seen.size());
}

}  // namespace
}  // namespace alertd::testing
