// Deadlines end to end: the engine in this process with an injected clock that the test moves days
// ahead, the embedded cluster as its own process, RocksDB on disk. Missed weekly self-tests must climb
// the ladder from the persisted timer index, and a late upload must retract the escalation.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "engine/app/engine.h"
#include "tests/integration/harness.h"
#include "tests/integration/jumping_clock.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;

std::vector<healthgrid::v1::Escalation> R3Events(const std::vector<ConsumedRecord>& records) {
  return DistinctEventsOfRule(records, healthgrid::v1::R3_SELF_TEST_MISSED);
}

TEST(DeadlineTest, MissedSelfTestsClimbTheLadderAndALateUploadRetracts) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path());
  ASSERT_FALSE(kafka.bootstrap().empty());
  state::StoreOptions store_options;
  store_options.path = dir.path() + "/db";
  store_options.sync_commits = false;
  auto store = state::OpenRocksStore(store_options);
  ASSERT_TRUE(store.ok()) << store.status();

  JumpingClock clock;
  domain::Rulebook rules{domain::Policy{}};
  metrics::EngineMetrics metrics;
  app::EngineOptions options;
  options.bootstrap = kafka.bootstrap();
  options.group_id = "deadline-test";
  options.punctuate_interval_ms = 100;
  app::Engine engine(options, **store, rules, metrics, clock);
  ASSERT_TRUE(engine.Start().ok());
  std::atomic<bool> stop{false};
  absl::Status run_status;
  std::thread loop([&] { run_status = engine.Run(stop); });

  // A worker with diagnosed grade-2 hypertension is enrolled in weekly self-tests from now.
  const int64_t enrolled_at = NowMs();
  healthgrid::v1::WorkerProfile profile = MakeProfile("S1", "U05", "U05-G02");
  profile.mutable_conditions()->set_hypertension_grade(2);
  TestProducer producer(kafka.bootstrap());
  producer.Send("worker-profiles", "S1", profile.SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return engine.Ready(); }, 30s));
  ASSERT_TRUE(WaitFor([&] { return metrics.Exposition().find("alertd_committed_records_total 1") != std::string::npos; },
                      30s));

  // Quiet: nothing left to deliver, after fifteen punctuation rounds (every 100 ms) at the current
  // clock, so any timer now due has fired and its event is on the topic.
  auto settled = [&] {
    std::this_thread::sleep_for(1500ms);
    return WaitFor([&] { return metrics.Exposition().find("\nalertd_outbox_pending 0\n") != std::string::npos; }, 10s);
  };
  // Every distinct R3 event on the topic (read to its end, no group) once `n` are there and the engine
  // has settled: exactly what it decided, whatever duplicates at-least-once output adds.
  auto r3_events = [&](std::size_t n) {
    WaitFor([&] { return R3Events(ReadToEnd(kafka.bootstrap(), "escalations")).size() >= n; }, 30s, 100ms);
    EXPECT_TRUE(settled());
    return R3Events(ReadToEnd(kafka.bootstrap(), "escalations"));
  };

  // Nothing is due within the week.
  clock.Jump(6 * kDay);
  ASSERT_TRUE(settled());
  EXPECT_TRUE(R3Events(ReadToEnd(kafka.bootstrap(), "escalations")).empty()) << "a reminder before the deadline";
  EXPECT_EQ(metrics.Exposition().find("alertd_timers_fired_total{rule=\"R3_self_test_missed\"}"), std::string::npos);

  // Due after 7 days: a reminder to the worker; +24 h: the health manager; +72 h: the unit supervisor.
  clock.Jump(1 * kDay + kHour);
  auto events = r3_events(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state(), healthgrid::v1::OPEN);
  EXPECT_EQ(events[0].level(), healthgrid::v1::WORKER);
  clock.Jump(1 * kDay);
  events = r3_events(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].state(), healthgrid::v1::ESCALATED);
  EXPECT_EQ(events[1].level(), healthgrid::v1::HEALTH_MANAGER);
  clock.Jump(2 * kDay);
  events = r3_events(3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].state(), healthgrid::v1::ESCALATED);
  EXPECT_EQ(events[2].level(), healthgrid::v1::UNIT_SUPERVISOR);

  // A reading measured on day 6 (before the deadline) at a remote site, uploaded only now: it retracts.
  producer.Send("readings", "S1", MakeBp("S1", enrolled_at + 6 * kDay, 150, 95).SerializeAsString());
  producer.Flush();
  events = r3_events(4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].state(), healthgrid::v1::RESOLVED);
  EXPECT_NE(events[3].reason().find("retract"), std::string::npos) << events[3].reason();
  for (const auto& e : events) EXPECT_EQ(e.episode_id(), events[0].episode_id());
  EXPECT_NE(metrics.Exposition().find("alertd_timers_fired_total{rule=\"R3_self_test_missed\"}"), std::string::npos);

  stop = true;
  loop.join();
  EXPECT_TRUE(run_status.ok()) << run_status;
}

}  // namespace
}  // namespace alertd::testing
