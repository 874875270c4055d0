// What opening the store drops of a damaged WAL is reported with counts (Recovery()), while state
// and offsets stay together at the last intact commit: damage in the middle, and a torn tail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

constexpr int64_t kCommits = 100;

std::string Marker(int64_t i) { return "commit-" + std::to_string(1000 + i) + "-"; }

// Commits 1..kCommits with fsync, each its offset, worker count and one outbox entry, then closes
// without flushing, so the WAL keeps them (as after a crash).
void WriteCommits(const std::string& db) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db, .flush_on_close = false});
  ASSERT_TRUE(store.ok()) << store.status();
  for (int64_t i = 1; i <= kCommits; ++i) {
    domain::WorkerState state;
    state.readings_accepted = static_cast<uint64_t>(i);
    CommitBatch batch;
    batch.workers.push_back({{0, domain::WorkerId{"W"}}, std::move(state)});
    batch.next_offsets.push_back({{"readings", 0}, i});
    batch.outbox_put.push_back({.seq = (*store)->NextOutboxSeq(),
                                .topic = "escalations",
                                .key = "W",
                                .value = Marker(i) + std::string(200, 'v'),
                                .source_partition = 0});
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
}

// The single WAL file holding the commits.
std::string WalFile(const std::string& db) {
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(db)) {
    if (entry.path().extension() == ".log" && entry.file_size() > 0) logs.push_back(entry.path().string());
  }
  EXPECT_EQ(logs.size(), 1U) << "expected the commits in one WAL file";
  return logs.empty() ? "" : logs.front();
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Opens the store and checks it holds commits 1..k and nothing of the later ones: returns k.
int64_t ExpectWholeCommits(StateStore& store) {
  absl::StatusOr<std::optional<int64_t>> offset = store.LoadNextOffset({"readings", 0});
  EXPECT_TRUE(offset.ok() && offset->has_value());
  if (!offset.ok() || !offset->has_value()) return -1;
  const int64_t k = **offset;
  absl::StatusOr<std::optional<domain::WorkerState>> worker = store.LoadWorker({0, domain::WorkerId{"W"}});
  EXPECT_TRUE(worker.ok() && worker->has_value());
  if (worker.ok() && worker->has_value()) {
    EXPECT_EQ((*worker)->readings_accepted, static_cast<uint64_t>(k)) << "state and offset from different commits";
  }
  absl::StatusOr<std::vector<OutboxEntry>> outbox = store.LoadOutbox();
  EXPECT_TRUE(outbox.ok());
  if (outbox.ok()) {
    EXPECT_EQ(outbox->size(), static_cast<size_t>(k));
    if (!outbox->empty()) {
      EXPECT_EQ(outbox->back().value.substr(0, Marker(k).size()), Marker(k));
    }
  }
  return k;
}

TEST(WalRecoveryTest, ACleanReopenReportsNothingDropped) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  WriteCommits(db);
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ExpectWholeCommits(**store), kCommits);
  EXPECT_EQ((*store)->Recovery(), RecoveryReport{});
  EXPECT_EQ(NewMemoryStore()->Recovery(), RecoveryReport{});
}

TEST(WalRecoveryTest, DamageInTheMiddleRollsBackToTheLastIntactCommitAndCountsEveryDroppedOne) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  WriteCommits(db);
  const std::string wal = WalFile(db);
  ASSERT_FALSE(wal.empty());
  std::string bytes = Read(wal);
  const int64_t damaged = kCommits / 2;
  const size_t at = bytes.find(Marker(damaged));
  ASSERT_NE(at, std::string::npos);
  for (size_t i = 0; i < 8; ++i) bytes[at + i] = static_cast<char>(~bytes[at + i]);
  Write(wal, bytes);

  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
  ASSERT_TRUE(store.ok()) << store.status();
  const int64_t kept = ExpectWholeCommits(**store);
  EXPECT_EQ(kept, damaged - 1) << "point-in-time recovery stops before the damaged commit";
  const RecoveryReport report = (*store)->Recovery();
  RecordProperty("detail", report.detail);
  EXPECT_EQ(report.wal_commits_dropped, static_cast<uint64_t>(kCommits - kept)) << report.detail;
  EXPECT_TRUE(report.mid_log_damage) << report.detail;
  // Every dropped commit's record, headers included: at least its payload each.
  EXPECT_GE(report.wal_bytes_skipped, static_cast<uint64_t>(kCommits - kept) * 200) << report.detail;
  EXPECT_LT(report.wal_bytes_skipped, bytes.size()) << report.detail;
  EXPECT_NE(report.detail.find(std::filesystem::path(wal).filename().string()), std::string::npos) << report.detail;
  EXPECT_NE(report.detail.find("failing their checksum"), std::string::npos) << report.detail;
  // The report is also in RocksDB's LOG of the store.
  EXPECT_NE(Read(db + "/LOG").find("dropped " + std::to_string(kCommits - kept) + " commit(s)"), std::string::npos);

  // The store carries on from the last intact commit; the next reopen has nothing more to report.
  CommitBatch next;
  next.next_offsets.push_back({{"readings", 0}, kept + 1});
  ASSERT_TRUE((*store)->Commit(next).ok());
  store->reset();
  store = OpenRocksStore({.path = db});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Recovery(), RecoveryReport{});
}

TEST(WalRecoveryTest, ATornTailIsToleratedAndReportedAsCut) {
  testing_support::TempDir dir;
  const std::string db = dir.Sub("db");
  WriteCommits(db);
  const std::string wal = WalFile(db);
  ASSERT_FALSE(wal.empty());
  const std::string bytes = Read(wal);
  const size_t last = bytes.rfind(Marker(kCommits));
  ASSERT_NE(last, std::string::npos);
  // Cut inside the last commit's record, as a crash in the middle of its write does.
  const size_t cut_at = last + 20;
  Write(wal, bytes.substr(0, cut_at));

  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(ExpectWholeCommits(**store), kCommits - 1);
  const RecoveryReport report = (*store)->Recovery();
  RecordProperty("detail", report.detail);
  EXPECT_EQ(report.wal_commits_dropped, 1U) << report.detail;
  EXPECT_FALSE(report.mid_log_damage) << report.detail;
  EXPECT_GT(report.wal_bytes_skipped, 0U) << report.detail;
  EXPECT_LT(report.wal_bytes_skipped, 400U) << "only the cut record: " << report.detail;
  EXPECT_NE(report.detail.find("cut short (torn write)"), std::string::npos) << report.detail;
  EXPECT_NE(report.detail.find(std::filesystem::path(wal).filename().string()), std::string::npos) << report.detail;
}

}  // namespace
}  // namespace alertd::state
