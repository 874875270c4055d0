// The one read the store allows beside a write (store.h, "Threads"): LoadWorker on another thread
// while commits are written, for workers those commits do not touch. Both stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using testing_support::FullState;

template <typename Impl>
class ConcurrentReadTest : public testing_support::OpenedStore<Impl> {};
TYPED_TEST_SUITE(ConcurrentReadTest, testing_support::StoreImplementations, testing_support::StoreImplName);

WorkerKey Key(int32_t partition, const std::string& worker) { return {partition, domain::WorkerId{worker}}; }

std::string Id(int n) {
  std::string digits = std::to_string(n);
  return "W" + std::string(3 - std::min<size_t>(3, digits.size()), '0') + digits;
}

// A busy worker of the writer: its window grows by one sample per commit and falls back to one every
// 40, so commits insert and delete sample keys and rewrite the head (the maps and memtables change
// shape under the reader).
domain::WorkerState Busy(const std::string& worker, int commit) {
  domain::WorkerState state = FullState(worker);
  state.readings_accepted = static_cast<uint64_t>(commit);
  for (int i = 0; i <= commit % 40; ++i) {
    state.bp_window.push_back(testing_support::Sample(1'717'001'000'000 + i * 60'000, 120 + i % 30, 80,
                                                      domain::BpCategory::kNormal));
  }
  return state;
}

TYPED_TEST(ConcurrentReadTest, LoadWorkerBesideCommitsSeesTheUntouchedWorkersAsStored) {
  StateStore& store = this->store();
  constexpr int kQuiet = 40;
  CommitBatch seed;
  // The quiet workers' keys interleave with the busy ones' (W000, W002... and W001, W003...), so the
  // writes reshape the very key ranges the reads walk.
  for (int w = 0; w < kQuiet; ++w) seed.workers.emplace_back(Key(1, Id(2 * w)), FullState(Id(2 * w)));
  ASSERT_TRUE(store.Commit(seed).ok());

  constexpr int kCommits = 80;
  std::atomic<bool> writing{true};
  std::atomic<int> failed_commits{0};
  std::thread writer([&] {
    for (int c = 1; c <= kCommits; ++c) {
      CommitBatch batch;
      for (int w = 0; w < 15; ++w) {
        const std::string id = Id(2 * w + 1);
        batch.workers.emplace_back(Key(1, id), Busy(id, c));
      }
      batch.next_offsets.push_back({{"readings", 1}, c});
      if (!store.Commit(batch).ok()) failed_commits.fetch_add(1);
    }
    writing.store(false);
  });

  int reads = 0;
  int wrong = 0;
  while (writing.load() || reads < kQuiet) {
    const std::string id = Id(2 * (reads % kQuiet));
    absl::StatusOr<std::optional<domain::WorkerState>> loaded = store.LoadWorker(Key(1, id));
    if (!loaded.ok() || !loaded->has_value() || **loaded != FullState(id)) ++wrong;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(failed_commits.load(), 0);
  EXPECT_EQ(wrong, 0) << "of " << reads << " reads";
  // And the writer's own workers end as its last commit left them.
  absl::StatusOr<std::optional<domain::WorkerState>> last = store.LoadWorker(Key(1, Id(7)));
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, Busy(Id(7), kCommits));
}

}  // namespace
}  // namespace alertd::state
