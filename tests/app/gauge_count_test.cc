// The dashboard gauges' background count: the stored workers of a partition counted once each, exact
// when workers change while the count runs, and a recount without the partitions that moved away.
#include "engine/app/gauge_count.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "engine/app/commit_window.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"
#include "tests/support/exposition.h"

namespace alertd::app {
namespace {

using namespace std::chrono_literals;

std::string WorkerName(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "W%06d", i);
  return name;
}

// A worker of unit U1, enrolled in weekly self-tests or not.
domain::WorkerState Worker(bool enrolled) {
  domain::WorkerState s;
  s.profile.emplace();
  s.profile->unit_id = "U1";
  if (enrolled) {
    s.self_test_since = domain::ProcessingTime{1000};
    s.self_test_due = domain::ProcessingTime{1000 + 7 * domain::kDayMs};
  }
  return s;
}

class GaugeCountTest : public ::testing::Test {
 protected:
  // `n` workers of `partition`, every other one enrolled, in one commit.
  void Store(int32_t partition, int n) {
    state::CommitBatch batch;
    for (int i = 0; i < n; ++i) {
      batch.workers.emplace_back(state::WorkerKey{partition, domain::WorkerId{WorkerName(i)}}, Worker(i % 2 == 0));
    }
    ASSERT_TRUE(store_->Commit(batch).ok());
  }

  // alertd_self_test_enrolled_workers{unit="U1"}, or -1 if absent.
  double Enrolled() const {
    return testing::SeriesValue(metrics_.Exposition(), "alertd_self_test_enrolled_workers{unit=\"U1\"}");
  }

  // What the engine does to one worker: the task tracks the change, the commit stores it later.
  void Toggle(state::StateStore& store, int32_t partition, int i) {
    const state::WorkerKey key{partition, domain::WorkerId{WorkerName(i)}};
    auto stored = store.LoadWorker(key);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    const domain::WorkerState after = Worker(!(*stored)->self_test_since.has_value());
    count_.Track(key, metrics::GaugesOf(**stored), metrics::GaugesOf(after));
    state::CommitBatch batch;
    batch.workers.emplace_back(key, after);
    ASSERT_TRUE(store.Commit(batch).ok());
  }
  // The same between the count's turns at the store.
  void Toggle(int32_t partition, int i) {
    window_.Read([&](state::StateStore& s) {
      Toggle(s, partition, i);
      return 0;
    });
  }

  // Enrolled workers of the partitions, as stored.
  int StoredEnrolled(std::initializer_list<int32_t> partitions) {
    int enrolled = 0;
    for (int32_t p : partitions) {
      EXPECT_TRUE(store_
                      ->ForEachWorker(p,
                                      [&](const state::WorkerKey&, const domain::WorkerState& s) {
                                        enrolled += s.self_test_since.has_value();
                                        return true;
                                      })
                      .ok());
    }
    return enrolled;
  }

  bool WaitCounted() {
    for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;) {
      if (count_.counting() == 0) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  std::unique_ptr<state::StateStore> store_ = state::NewMemoryStore();
  metrics::EngineMetrics metrics_;
  CommitWindow window_{*store_, metrics_, 0, [](const state::CommitBatch&) {}};
  GaugeCount count_{window_, metrics_};
};

TEST_F(GaugeCountTest, CountsEveryStoredWorkerOfTheAddedPartitionsOnce) {
  Store(3, 2500);  // more than one turn at the store, and not a multiple of it
  Store(4, 1000);  // exactly one turn
  Store(5, 700);   // not owned
  count_.Add(3);
  count_.Add(4);
  count_.Add(3);  // already counting: no second count
  ASSERT_TRUE(WaitCounted());
  EXPECT_TRUE(count_.error().ok()) << count_.error();
  EXPECT_EQ(Enrolled(), 1250 + 500);
}

TEST_F(GaugeCountTest, StaysExactWhenWorkersChangeWhileTheCountRuns) {
  constexpr int kWorkers = 20000;
  Store(3, kWorkers);
  std::mt19937 random(12);
  int changed_while_counting = 0;
  // Changed before the scan reads anything (it waits for the store): all ahead of its cursor.
  window_.Read([&](state::StateStore& s) {
    count_.Add(3);
    for (int i = 0; i < 200; ++i) Toggle(s, 3, static_cast<int>(random() % kWorkers));
    return 0;
  });
  // Then changed while it runs, ahead of and behind its cursor, some more than once.
  while (count_.counting() > 0) {
    Toggle(3, static_cast<int>(random() % kWorkers));
    ++changed_while_counting;
  }
  ASSERT_TRUE(WaitCounted());
  EXPECT_GT(changed_while_counting, 0) << "the count ended before anything changed: nothing was tested";
  EXPECT_EQ(Enrolled(), StoredEnrolled({3}));
  // Changes after the count go straight to the gauges.
  Toggle(3, 0);
  Toggle(3, 1);
  Toggle(3, 2);
  EXPECT_EQ(Enrolled(), StoredEnrolled({3}));
}

TEST_F(GaugeCountTest, RecountLeavesOutThePartitionsThatMovedAway) {
  Store(3, 2000);
  Store(4, 3000);
  count_.Add(3);
  count_.Add(4);
  Toggle(4, 7);
  // Partition 4 moves away, perhaps before its count finished: only 3's workers remain.
  count_.Recount({3});
  Toggle(3, 11);
  ASSERT_TRUE(WaitCounted());
  EXPECT_EQ(Enrolled(), StoredEnrolled({3}));
}

}  // namespace
}  // namespace alertd::app
