// The read-only open (alertd dump-state, print-policy) reads every store alertd opens: right after
// a fresh start, while alertd runs, after a kill -9 with a WAL to replay, and with a column family
// this build does not know.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

absl::Status CommitOffset(StateStore& store, int64_t offset) {
  CommitBatch batch;
  batch.next_offsets.push_back({{"readings", 0}, offset});
  domain::WorkerState state;
  state.readings_accepted = static_cast<uint64_t>(offset);
  batch.workers.push_back({{0, domain::WorkerId{"W"}}, std::move(state)});
  return store.Commit(batch);
}

// Opens `db` read-only and returns its offset (-1 if the open or the read failed).
int64_t ReadOnlyOffset(const std::string& db) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db, .read_only = true});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return -1;
  absl::StatusOr<std::optional<int64_t>> offset = (*store)->LoadNextOffset({"readings", 0});
  EXPECT_TRUE(offset.ok()) << offset.status();
  return offset.ok() ? offset->value_or(0) : -1;
}

TEST(ReadOnlyOpenTest, ReadsAStoreRightAfterAFreshStartWhileItIsOpen) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  absl::StatusOr<std::unique_ptr<StateStore>> running = OpenRocksStore({.path = db});
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_EQ(ReadOnlyOffset(db), 0);
  ASSERT_TRUE(CommitOffset(**running, 7).ok());
  EXPECT_EQ(ReadOnlyOffset(db), 7);
  // The running store is unharmed by the inspection and still commits.
  ASSERT_TRUE(CommitOffset(**running, 8).ok());
}

TEST(ReadOnlyOpenTest, ReadsAStoreLeftByKillNineWithItsWalToReplay) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child opens and commits, then waits to be killed: nothing is flushed or closed.
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
    if (!store.ok() || !CommitOffset(**store, 41).ok() || !CommitOffset(**store, 42).ok()) _exit(1);
    _exit(kill(getpid(), SIGKILL) == 0 ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  EXPECT_EQ(ReadOnlyOffset(db), 42);
  // And a read-write open after it still recovers the same.
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LoadNextOffset({"readings", 0})->value_or(0), 42);
}

TEST(ReadOnlyOpenTest, ReadsAStoreWithAColumnFamilyThisBuildDoesNotKnow) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(CommitOffset(**store, 5).ok());
  }
  {
    // A newer build's family, with data of its own.
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), db, families, &handles, &raw).ok());
    rocksdb::ColumnFamilyHandle* added = nullptr;
    ASSERT_TRUE(raw->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "from_a_newer_build", &added).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), added, "k", "v").ok());
    handles.push_back(added);
    for (rocksdb::ColumnFamilyHandle* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
    delete raw;
  }
  EXPECT_EQ(ReadOnlyOffset(db), 5);
}

// Stores written before the timers family existed (and, after an upgrade, before any family this
// build adds) are opened by alertd, which creates the family; dump-state must read them as they are.
TEST(ReadOnlyOpenTest, ReadsAStoreOfAnOlderBuildThatLacksAFamilyThisBuildAdded) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE(CommitOffset(**store, 9).ok());
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), db, families, &handles, &raw).ok());
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "timers") {
        ASSERT_TRUE(raw->DropColumnFamily(handles[i]).ok());
      }
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) ASSERT_TRUE(raw->DestroyColumnFamilyHandle(handle).ok());
    delete raw;
  }
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db, .read_only = true});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LoadNextOffset({"readings", 0})->value_or(0), 9);
  absl::StatusOr<std::vector<domain::Timer>> timers = (*store)->LoadTimers(0);
  ASSERT_TRUE(timers.ok()) << timers.status();
  EXPECT_TRUE(timers->empty());
  absl::StatusOr<std::vector<domain::Timer>> due = (*store)->LoadDueTimers(domain::ProcessingTime{1'000}, 10);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_TRUE(due->empty());
  store->reset();

  // A store that is not alertd's (no meta family, so no schema version) is still refused.
  testing_support::TempDir other;
  rocksdb::Options plain;
  plain.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(plain, other.Sub("db"), &raw).ok());
  delete raw;
  absl::StatusOr<std::unique_ptr<StateStore>> foreign = OpenRocksStore({.path = other.Sub("db"), .read_only = true});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kFailedPrecondition) << foreign.status();
}

}  // namespace
}  // namespace alertd::state
