// End to end through real processes: embedded Kafka (own process), alertd (own process), Kafka clients.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>

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

  auto records = ConsumeAll(kafka_.bootstrap(), "escalations",
                            [](const auto& r) { return r.size() >= 3; }, 30s);
  auto events = DecodeEscalations(records);
  ASSERT_EQ(events.size(), 3u) << alertd.process().LogTail();

  std::map<std::pair<std::string, int>, healthgrid::v1::Escalation> by;
  for (const auto& e : events) by[{e.worker_id(), e.state()}] = e;
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
  rules.OnProfile({"W1"}, wire::FromProto(MakeProfile("W1", "U01", "U01-G01")), w1, {now});
  auto first = rules.OnReading(wire::FromProto(MakeBp("W1", now - 2 * kHour, 186, 112)), w1, {now});
  ASSERT_EQ(first.escalations.size(), 1u);
  EXPECT_EQ(first.escalations[0].event_id, r1.event_id());

  EXPECT_GE(alertd.Metric("alertd_readings_total", {{"kind", "blood_pressure"}, {"unit", "U01"}}), 6);
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

  auto dead = ConsumeAll(kafka_.bootstrap(), "dead-letters", [](const auto& r) { return r.size() >= 4; }, 30s);
  ASSERT_EQ(dead.size(), 4u) << alertd.process().LogTail();
  std::map<int, healthgrid::v1::DeadLetter> by_reason;
  for (const auto& r : dead) {
    healthgrid::v1::DeadLetter d;
    ASSERT_TRUE(d.ParseFromString(r.value));
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

  auto escalations = ConsumeAll(kafka_.bootstrap(), "escalations", [](const auto& r) { return !r.empty(); }, 30s);
  ASSERT_EQ(escalations.size(), 1u) << "the valid reading after the bad ones is still graded";
  EXPECT_TRUE(alertd.process().Running());
  EXPECT_EQ(alertd.GetStatus("/healthz"), 200);
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total", {{"reason", "impossible_value"}}), 1);
  EXPECT_EQ(alertd.Metric("alertd_dead_letters_total"), 4);
  EXPECT_EQ(alertd.process().Terminate(), 0);
}

// A stream of 50,000 readings for 500 workers; alertd is killed with SIGKILL in the middle of it and
// restarted on the same state directory. Nothing may be lost or counted twice, and every escalation
// the rules decide for this history must be on the topic.
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
    for (const auto& [id, p] : profiles) rules.OnProfile({id}, wire::FromProto(p), states[id], {now});
    for (const auto& item : interleaved) {
      auto out = rules.OnReading(wire::FromProto(item.reading), states[item.worker], {now});
      ASSERT_FALSE(out.rejected) << out.rejected->message;
      for (const auto& e : out.escalations) expected_ids.insert(e.event_id);
    }
  }
  ASSERT_GT(expected_ids.size(), 100u) << "the stream must exercise the rules";

  const std::string db = dir_.path() + "/db";
  auto alertd = std::make_unique<AlertdProcess>(kafka_.bootstrap(), db, dir_.path() + "/alertd-1.log",
                                                std::vector<std::string>{"--commit-max-records", "1000"});
  TestProducer producer(kafka_.bootstrap());
  for (const auto& [id, p] : profiles) producer.Send("worker-profiles", id, p.SerializeAsString());
  producer.Flush();

  bool killed = false;
  const std::size_t chunk = 2500;
  for (std::size_t i = 0; i < interleaved.size(); i += chunk) {
    for (std::size_t j = i; j < std::min(interleaved.size(), i + chunk); ++j) {
      producer.Send("readings", interleaved[j].worker, interleaved[j].reading.SerializeAsString());
    }
    producer.Flush();
    if (!killed && i >= 20000) {
      // Kill only once alertd is demonstrably mid-stream: some records committed, many not.
      ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") >= 10000; }, 60s))
          << alertd->process().LogTail();
      const double committed = alertd->Metric("alertd_committed_records_total");
      alertd->process().Kill9();
      killed = true;
      std::printf("killed alertd with SIGKILL after %.0f committed input records\n", committed);
      ASSERT_LT(committed, kWorkers * kPerWorker + kWorkers);
    }
  }
  ASSERT_TRUE(killed);
  alertd = std::make_unique<AlertdProcess>(kafka_.bootstrap(), db, dir_.path() + "/alertd-2.log");
  ASSERT_TRUE(WaitFor([&] { return alertd->CaughtUp(); }, 120s, 200ms)) << alertd->process().LogTail();
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

  // Every expected escalation is on the topic (at least once), and nothing else.
  auto records = ConsumeAll(kafka_.bootstrap(), "escalations", [&](const auto& r) {
    std::set<std::string> seen;
    for (const auto& e : DecodeEscalations(r)) seen.insert(e.event_id());
    return seen.size() >= expected_ids.size();
  }, 60s);
  std::set<std::string> seen;
  for (const auto& e : DecodeEscalations(records)) seen.insert(e.event_id());
  std::size_t missing = 0;
  for (const auto& id : expected_ids) missing += seen.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "of " << expected_ids.size() << " expected escalations";
  std::size_t unexpected = 0;
  for (const auto& id : seen) unexpected += expected_ids.count(id) == 0;
  EXPECT_EQ(unexpected, 0u);
  std::printf("%zu expected escalations all delivered; %zu records on the topic (%zu duplicates from the crash)\n",
              expected_ids.size(), records.size(), records.size() - seen.size());
}

}  // namespace
}  // namespace alertd::testing
