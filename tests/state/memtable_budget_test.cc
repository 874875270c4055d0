// StoreOptions::memtable_bytes: a write-buffer manager bounds the memtables of every column family
// together (charged into the block cache), so they flush long before the families' own sizes; nothing
// written is lost by the early flushes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using testing_support::FullState;
using testing_support::TempDir;

int SstFiles(const std::string& path) {
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) n += entry.path().extension() == ".sst";
  return n;
}

std::string Id(int n) { return "W" + std::to_string(100000 + n); }

// ~8 MiB of worker records, far below the fixed write buffers (64 MiB for the workers family, 32
// for the samples), far above a 2 MiB budget. Returns the number of SST files while still open.
int WriteWhileOpen(const std::string& path, size_t memtable_bytes) {
  absl::StatusOr<std::unique_ptr<StateStore>> store =
      OpenRocksStore({.path = path, .sync_commits = false, .block_cache_bytes = 8 << 20, .memtable_bytes = memtable_bytes});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return -1;
  for (int commit = 0; commit < 40; ++commit) {
    CommitBatch batch;
    for (int w = 0; w < 200; ++w) {
      const int n = commit * 200 + w;
      batch.workers.emplace_back(WorkerKey{n % 4, domain::WorkerId{Id(n)}}, FullState(Id(n)));
    }
    EXPECT_TRUE((*store)->Commit(batch).ok());
  }
  int sst = SstFiles(path);
  // Flushes run in the background: give them a moment.
  for (int i = 0; i < 50 && memtable_bytes > 0 && sst == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sst = SstFiles(path);
  }
  return sst;
}

TEST(MemtableBudgetTest, WithABudgetTheMemtablesFlushEarlyAndEveryWorkerReadsBack) {
  TempDir unbounded;
  EXPECT_EQ(WriteWhileOpen(unbounded.path(), 0), 0) << "the fixed write buffers hold all of it";

  TempDir bounded;
  EXPECT_GT(WriteWhileOpen(bounded.path(), 2 << 20), 0) << "2 MiB of memtables must have flushed";
  absl::StatusOr<std::unique_ptr<StateStore>> again = OpenRocksStore({.path = bounded.path(), .memtable_bytes = 2 << 20});
  ASSERT_TRUE(again.ok()) << again.status();
  for (int n = 0; n < 40 * 200; n += 97) {
    absl::StatusOr<std::optional<domain::WorkerState>> loaded = (*again)->LoadWorker({n % 4, domain::WorkerId{Id(n)}});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_TRUE(loaded->has_value()) << Id(n);
    EXPECT_EQ(**loaded, FullState(Id(n)));
  }
}

}  // namespace
}  // namespace alertd::state
