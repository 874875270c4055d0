// Deadlines of owned partitions fire however many due timers the local store holds for partitions
// this instance does not own (left behind when they moved to another instance): the engine in this
// process with an injected clock, the embedded cluster as its own process, RocksDB on disk.
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
constexpr int64_t kMinute = 60 * 1000;

std::vector<healthgrid::v1::Escalation> R1Events(const std::vector<ConsumedRecord>& records) {
  return DistinctEventsOfRule(records, healthgrid::v1::R1_CRITICAL_BP);
}

TEST(TimerStarvationTest, OwnAckTimeoutsFireBehindMoreThanARoundsWorthOfForeignDueTimers) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path());  // 8 partitions: partition 50 is never this instance's
  ASSERT_FALSE(kafka.bootstrap().empty());
  state::StoreOptions store_options;
  store_options.path = dir.path() + "/db";
  store_options.sync_commits = false;
  auto store = state::OpenRocksStore(store_options);
  ASSERT_TRUE(store.ok()) << store.status();

  // 12,000 ack timeouts of a partition that moved away, all due an hour before anything of ours:
  // more than one punctuation round reads (10,000), sorting before every timer of our own.
  const int64_t t0 = NowMs();
  state::CommitBatch foreign;
  for (int i = 0; i < 12000; ++i) {
    foreign.timers_put.push_back({.fire_at = {t0 - 60 * kMinute + i},
                                  .partition = 50,
                                  .worker = domain::WorkerId{"GONE" + std::to_string(i)},
                                  .rule = domain::Rule::kR1CriticalBp,
                                  .kind = domain::TimerKind::kAckTimeout});
  }
  ASSERT_TRUE((*store)->Commit(foreign).ok());

  JumpingClock clock;
  domain::Rulebook rules{domain::Policy{}};
  metrics::EngineMetrics metrics;
  app::EngineOptions options;
  options.bootstrap = kafka.bootstrap();
  options.group_id = "timer-starvation-test";
  options.punctuate_interval_ms = 100;
  app::Engine engine(options, **store, rules, metrics, clock);
  ASSERT_TRUE(engine.Start().ok());
  std::atomic<bool> stop{false};
  absl::Status run_status;
  std::thread loop([&] { run_status = engine.Run(stop); });

  TestProducer producer(kafka.bootstrap());
  producer.Send("worker-profiles", "K1", MakeProfile("K1", "U03", "U03-G01").SerializeAsString());
  producer.Send("readings", "K1", MakeBp("K1", NowMs() - 1000, 186, 112).SerializeAsString());
  producer.Flush();
  auto r1 = [&](std::size_t n) {
    return R1Events(ConsumeAll(kafka.bootstrap(), "escalations", [&](const auto& r) { return R1Events(r).size() >= n; },
                               30s));
  };
  auto events = r1(1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].state(), healthgrid::v1::OPEN);

  // Not acknowledged within 30 minutes: it must climb to the unit supervisor.
  clock.Jump(31 * kMinute);
  events = r1(2);
  ASSERT_EQ(events.size(), 2u) << "the R1 ack timeout never fired behind the foreign due timers";
  EXPECT_EQ(events[1].state(), healthgrid::v1::ESCALATED);
  EXPECT_EQ(events[1].level(), healthgrid::v1::UNIT_SUPERVISOR);

  stop = true;
  loop.join();
  EXPECT_TRUE(run_status.ok()) << run_status;
  // The foreign timers were left alone: they belong to whoever owns partition 50 now.
  auto left = (*store)->LoadTimers(50);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 12000u);
}

}  // namespace
}  // namespace alertd::testing
