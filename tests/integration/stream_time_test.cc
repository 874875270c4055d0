// Stream mode end to end (`alertd --clock=stream`): processing time is the record timestamps'
// (CreateTime) high mark per partition, so deadlines fire at exactly their own time once a later
// record arrives, the same input gives the same event ids and emitted_at in every run, and a kill -9
// between deadlines loses none of them. Also the dashboard gauges as /metrics shows them.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using healthgrid::v1::Escalation;
constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// A fixed past instant: stream time has nothing to do with the machine's clock.
constexpr int64_t kT0 = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

const std::vector<std::string> kStream{"--clock", "stream"};

// Distinct events by id (output is at least once: a duplicate carries the same id).
std::map<std::string, Escalation> Distinct(const std::vector<Escalation>& events) {
  std::map<std::string, Escalation> out;
  for (const auto& e : events) out.emplace(e.event_id(), e);
  return out;
}

std::vector<Escalation> R3Events(const std::vector<ConsumedRecord>& records) {
  std::vector<Escalation> out;
  for (const auto& [_, e] : Distinct(ParseEscalations(records))) {
    if (e.rule() == healthgrid::v1::R3_SELF_TEST_MISSED) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const Escalation& a, const Escalation& b) {
    return std::make_tuple(a.emitted_at_ms(), a.worker_id(), a.sequence()) <
           std::make_tuple(b.emitted_at_ms(), b.worker_id(), b.sequence());
  });
  return out;
}

// Waits until at least `n` distinct R3 events are on the topic: a moment to act at, not a check.
bool WaitForR3(const std::string& bootstrap, std::size_t n, std::chrono::milliseconds timeout = 30s) {
  auto enough = [&](const std::vector<ConsumedRecord>& r) { return R3Events(r).size() >= n; };
  return enough(ConsumeAll(bootstrap, "escalations", enough, timeout));
}

// Every distinct R3 event alertd has emitted once it has caught up with its input; fails the test if
// anything else is on the topic (these workers have nothing else to say).
std::vector<Escalation> AllR3(const AlertdProcess& alertd) {
  const std::vector<ConsumedRecord> records = alertd.ReadOutput("escalations");
  const std::vector<Escalation> r3 = R3Events(records);
  EXPECT_EQ(Distinct(ParseEscalations(records)).size(), r3.size()) << "events of other rules on the topic";
  return r3;
}

healthgrid::v1::WorkerProfile Enrolled(const std::string& worker) {
  healthgrid::v1::WorkerProfile p = MakeProfile(worker, "U05", "U05-G02");
  p.mutable_conditions()->set_hypertension_grade(2);
  return p;
}

// A reading of a worker nobody follows, only to move a partition's stream time to `at`.
void Tick(TestProducer& producer, int64_t at, int32_t partition = -1) {
  const std::string worker = "TICK-" + std::to_string(partition < 0 ? 0 : partition);
  producer.SendAt("readings", worker, MakeBp(worker, at - kMinute, 118, 76).SerializeAsString(), at, partition);
}

TEST(StreamTimeTest, SelfTestLadderFiresAtStreamTimeAndTheGaugesFollow) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), /*partitions=*/1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log", kStream);
  TestProducer producer(kafka.bootstrap());
  auto committed = [&](double n) {
    return WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= n; }, 30s);
  };

  // Enrolled (diagnosed grade 2) at T0; one reading an hour later, uploaded 5 minutes after that.
  producer.SendAt("worker-profiles", "S1", Enrolled("S1").SerializeAsString(), kT0);
  producer.SendAt("readings", "S1", MakeBp("S1", kT0 + kHour, 150, 95).SerializeAsString(), kT0 + kHour + 5 * kMinute);
  producer.Flush();
  const int64_t due = kT0 + kHour + 7 * kDay;
  ASSERT_TRUE(committed(2)) << alertd.process().LogTail();
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_self_test_enrolled_workers", {{"unit", "U05"}}) == 1; }, 10s));
  EXPECT_EQ(alertd.Metric("alertd_self_test_compliance_ratio", {{"unit", "U05"}}), 1);

  // Stream time one millisecond short of the deadline: nothing.
  Tick(producer, due - 1);
  producer.Flush();
  ASSERT_TRUE(committed(3));
  EXPECT_TRUE(AllR3(alertd).empty()) << "a reminder before its deadline";

  // Past it: the reminder, decided at the deadline itself, not at the record's time.
  Tick(producer, due + 30 * kMinute);
  producer.Flush();
  // Exactly one distinct reminder (duplicates, which at-least-once output allows, carry its id).
  auto events = AllR3(alertd);
  ASSERT_EQ(events.size(), 1u) << alertd.process().LogTail();
  EXPECT_EQ(events[0].state(), healthgrid::v1::OPEN);
  EXPECT_EQ(events[0].level(), healthgrid::v1::WORKER);
  EXPECT_EQ(events[0].emitted_at_ms(), due);
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}) == 1; }, 10s));
  EXPECT_EQ(alertd.Metric("alertd_self_test_compliance_ratio", {{"unit", "U05"}}), 0);
  EXPECT_EQ(alertd.Metric("alertd_open_escalations",
                          {{"unit", "U05"}, {"rule", "R3_self_test_missed"}, {"level", "worker"}}),
            1);

  // One record four days later: both rungs fire, each at its own time, in order.
  Tick(producer, due + 100 * kHour);
  producer.Flush();
  events = AllR3(alertd);
  ASSERT_EQ(events.size(), 3u) << alertd.process().LogTail();
  EXPECT_EQ(events[1].state(), healthgrid::v1::ESCALATED);
  EXPECT_EQ(events[1].level(), healthgrid::v1::HEALTH_MANAGER);
  EXPECT_EQ(events[1].emitted_at_ms(), due + 24 * kHour);
  EXPECT_EQ(events[2].state(), healthgrid::v1::ESCALATED);
  EXPECT_EQ(events[2].level(), healthgrid::v1::UNIT_SUPERVISOR);
  EXPECT_EQ(events[2].emitted_at_ms(), due + 72 * kHour);
  EXPECT_TRUE(WaitFor(
      [&] {
        return alertd.Metric("alertd_open_escalations",
                             {{"unit", "U05"}, {"rule", "R3_self_test_missed"}, {"level", "unit_supervisor"}}) == 1;
      },
      10s));
  EXPECT_EQ(alertd.Metric("alertd_open_escalations", {{"unit", "U05"}, {"level", "worker"}}), 0);

  // A reading resolves it, at the reading's record time.
  const int64_t back = due + 101 * kHour;
  producer.SendAt("readings", "S1", MakeBp("S1", back - kMinute, 132, 84).SerializeAsString(), back);
  producer.Flush();
  events = AllR3(alertd);
  ASSERT_EQ(events.size(), 4u) << alertd.process().LogTail();
  EXPECT_EQ(events[3].state(), healthgrid::v1::RESOLVED);
  EXPECT_EQ(events[3].emitted_at_ms(), back);
  for (const auto& e : events) EXPECT_EQ(e.episode_id(), events[0].episode_id());
  EXPECT_TRUE(WaitFor([&] { return alertd.Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}) == 0; }, 10s));
  EXPECT_EQ(alertd.Metric("alertd_self_test_compliance_ratio", {{"unit", "U05"}}), 1);
  EXPECT_EQ(alertd.Metric("alertd_open_escalations", {{"unit", "U05"}}), 0);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

TEST(StreamTimeTest, KillNineBetweenDeadlinesLosesNoneAndRepeatsNoStep) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), /*partitions=*/1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  const std::string db = dir.path() + "/db";
  auto alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), db, dir.path() + "/alertd-1.log", kStream);
  TestProducer producer(kafka.bootstrap());

  // Five enrolled workers, a minute apart, each with one reading: five pending self-test deadlines.
  constexpr int kWorkers = 5;
  std::map<std::string, int64_t> due;
  for (int i = 0; i < kWorkers; ++i) {
    const std::string w = "K" + std::to_string(i);
    producer.SendAt("worker-profiles", w, Enrolled(w).SerializeAsString(), kT0 + i * kMinute);
    const int64_t measured = kT0 + kHour + i * kMinute;
    producer.SendAt("readings", w, MakeBp(w, measured, 150, 95).SerializeAsString(), measured + kMinute);
    due[w] = measured + 7 * kDay;
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd->Metric("alertd_committed_records_total") >= 2 * kWorkers; }, 30s))
      << alertd->process().LogTail();

  // Killed with every deadline pending and committed; the next run must know them all.
  alertd->process().Kill9();
  alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), db, dir.path() + "/alertd-2.log", kStream);
  EXPECT_TRUE(WaitFor([&] { return alertd->Metric("alertd_self_test_enrolled_workers", {{"unit", "U05"}}) == kWorkers; },
                      30s))
      << "gauges after a restart come from the store: " << alertd->process().LogTail();

  // Past the first rung: five reminders. Killed as soon as they are out (committed before produced).
  Tick(producer, kT0 + kHour + 7 * kDay + kHour);
  producer.Flush();
  ASSERT_TRUE(WaitForR3(kafka.bootstrap(), kWorkers)) << alertd->process().LogTail();
  alertd->process().Kill9();

  alertd = std::make_unique<AlertdProcess>(kafka.bootstrap(), db, dir.path() + "/alertd-3.log", kStream);
  EXPECT_TRUE(WaitFor([&] { return alertd->Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}) == kWorkers; },
                      30s));
  // Past every rung.
  Tick(producer, kT0 + 20 * kDay);
  producer.Flush();
  // Exactly one distinct event per (worker, step), each at its deadline: duplicates from the kills
  // (at-least-once output) carry the same id; a repeated step would carry another.
  const auto events = AllR3(*alertd);
  ASSERT_EQ(events.size(), std::size_t{3 * kWorkers}) << alertd->process().LogTail();
  std::map<std::pair<std::string, int>, std::vector<int64_t>> steps;
  for (const auto& e : events) steps[{e.worker_id(), e.level()}].push_back(e.emitted_at_ms());
  for (const auto& [w, d] : due) {
    auto step = [&](healthgrid::v1::EscalationLevel level) { return steps[std::make_pair(w, int{level})]; };
    EXPECT_EQ(step(healthgrid::v1::WORKER), std::vector<int64_t>(1, d)) << w;
    EXPECT_EQ(step(healthgrid::v1::HEALTH_MANAGER), std::vector<int64_t>(1, d + 24 * kHour)) << w;
    EXPECT_EQ(step(healthgrid::v1::UNIT_SUPERVISOR), std::vector<int64_t>(1, d + 72 * kHour)) << w;
  }
  EXPECT_EQ(steps.size(), std::size_t{3 * kWorkers});
  EXPECT_EQ(alertd->process().Terminate(), 0) << alertd->process().LogTail();
}

// A month of a few workers' life, produced topic by topic (not in time order), with a tick per partition.
void ProduceHistory(TestProducer& producer, int partitions) {
  std::vector<std::tuple<std::string, std::string, std::string, int64_t>> records;  // topic, key, value, ts
  for (int i = 0; i < 12; ++i) {
    const std::string w = "H" + std::to_string(i);
    healthgrid::v1::WorkerProfile p = MakeProfile(w, "U0" + std::to_string(i % 3), "G" + std::to_string(i % 4));
    if (i % 2 == 0) p.mutable_conditions()->set_hypertension_grade(2);
    if (i % 3 == 0) p.add_high_risk_posts(healthgrid::v1::DRIVER);
    records.emplace_back("worker-profiles", w, p.SerializeAsString(), kT0 + i * kMinute);
    for (int day = 0; day < 30; day += 3 + i % 5) {
      const int64_t at = kT0 + day * kDay + (i + 1) * kHour;
      const int sys = (day + i) % 7 == 0 ? 184 : 128 + 2 * i;  // now and then grade 3: R1 and its ladder
      healthgrid::v1::Reading r = MakeBp(w, at, sys, sys > 180 ? 112 : 82);
      if (i % 3 == 0 && day % 2 == 0) r.set_context(healthgrid::v1::PRE_SHIFT);
      records.emplace_back("readings", w, r.SerializeAsString(), at + (i % 4) * kHour);  // late uploads
      if (i % 3 == 0) {
        healthgrid::v1::ShiftEvent s;
        s.set_worker_id(w);
        s.set_post(healthgrid::v1::DRIVER);
        s.set_clock_in_at_ms(at + 30 * kMinute);
        s.set_site("Well pad 7");
        records.emplace_back("shifts", w, s.SerializeAsString(), at + 30 * kMinute);
      }
    }
  }
  for (const char* topic : {"readings", "shifts", "worker-profiles"}) {
    for (const auto& [t, key, value, ts] : records) {
      if (t == topic) producer.SendAt(t, key, value, ts);
    }
  }
  for (int p = 0; p < partitions; ++p) Tick(producer, kT0 + 40 * kDay, p);
  producer.Flush();
}

TEST(StreamTimeTest, SameInputSameEventIdsAndTimesInEveryRun) {
  TempDir dir;
  constexpr int kPartitions = 3;
  EmbeddedKafka kafka(dir.path(), kPartitions,
                      {"--topics", "readings,worker-profiles,escalations,dead-letters,referrals,shifts,escalation-acks,"
                                   "escalations-b,dead-letters-b,alertd-state-changelog"});
  ASSERT_FALSE(kafka.bootstrap().empty());
  TestProducer producer(kafka.bootstrap());
  ProduceHistory(producer, kPartitions);

  // Two fresh state directories, two groups, two output topics; the second commits every few
  // records, so commit boundaries fall elsewhere.
  AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/alertd-a.log",
                  {"--clock", "stream", "--group", "run-a", "--changelog-topic", "alertd-state-changelog"});
  // The second keeps its state on its machine only: a changelog changes no decision.
  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/alertd-b.log",
                  {"--clock", "stream", "--group", "run-b", "--no-changelog", "--escalations-topic", "escalations-b",
                   "--dead-letters-topic", "dead-letters-b", "--commit-max-records", "3"});
  ASSERT_TRUE(WaitFor([&] { return a.CaughtUp() && b.CaughtUp(); }, 60s))
      << a.process().LogTail() << "\n---\n" << b.process().LogTail();

  using Seen = std::set<std::tuple<std::string, int64_t, int, int>>;  // id, emitted_at, state, level
  std::set<int> rules;
  auto seen = [&](const std::string& topic) {
    Seen out;
    const auto records = ReadToEnd(kafka.bootstrap(), topic);
    for (const auto& [id, e] : Distinct(ParseEscalations(records))) {
      out.emplace(id, e.emitted_at_ms(), e.state(), e.level());
      rules.insert(e.rule());
    }
    return out;
  };
  const Seen run_a = seen("escalations");
  const Seen run_b = seen("escalations-b");
  EXPECT_EQ(run_a, run_b);
  // The history is rich enough to mean something: R1 ladders, R3 reminders, R4 checks.
  EXPECT_GE(run_a.size(), 20u);
  EXPECT_TRUE(rules.count(healthgrid::v1::R1_CRITICAL_BP));
  EXPECT_TRUE(rules.count(healthgrid::v1::R3_SELF_TEST_MISSED));
  EXPECT_TRUE(rules.count(healthgrid::v1::R4_PRE_SHIFT_FITNESS));
  EXPECT_EQ(a.process().Terminate(), 0);
  EXPECT_EQ(b.process().Terminate(), 0);
}

}  // namespace
}  // namespace alertd::testing
