// Timer index contract tests (due boundary, order, limit, deletes, atomicity), run against both the
// RocksDB store and the in-memory twin, plus RocksDB-only tests of reopening and corrupt keys.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/domain/timer.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using domain::ProcessingTime;
using domain::Rule;
using domain::Timer;
using testing_support::CountedState;
using testing_support::TempDir;
using Timers = std::vector<Timer>;

constexpr int64_t kT0 = 1'717'000'000'000;  // a processing time in 2024, ms

Timer MakeTimer(int64_t fire_at_ms, int32_t partition, const std::string& worker, Rule rule = Rule::kR3SelfTestMissed,
                uint32_t kind = 1) {
  return Timer{.fire_at = ProcessingTime{fire_at_ms},
               .partition = partition,
               .worker = domain::WorkerId{worker},
               .rule = rule,
               .kind = domain::TimerKindFromCode(kind)};
}

template <typename Impl>
class TimerStoreTest : public testing_support::OpenedStore<Impl> {
 protected:
  using testing_support::OpenedStore<Impl>::store;

  void Put(Timers timers) {
    const absl::Status status = store().Commit(CommitBatch{.timers_put = std::move(timers)});
    ASSERT_TRUE(status.ok()) << status;
  }
  void Delete(Timers timers) {
    const absl::Status status = store().Commit(CommitBatch{.timers_delete = std::move(timers)});
    ASSERT_TRUE(status.ok()) << status;
  }

  Timers Due(int64_t now_ms, size_t limit = SIZE_MAX) {
    absl::StatusOr<Timers> due = store().LoadDueTimers(ProcessingTime{now_ms}, limit);
    EXPECT_TRUE(due.ok()) << due.status();
    return due.ok() ? *std::move(due) : Timers{};
  }

  Timers OfPartition(int32_t partition) {
    absl::StatusOr<Timers> timers = store().LoadTimers(partition);
    EXPECT_TRUE(timers.ok()) << timers.status();
    return timers.ok() ? *std::move(timers) : Timers{};
  }
};

TYPED_TEST_SUITE(TimerStoreTest, testing_support::StoreImplementations, testing_support::StoreImplName);

TYPED_TEST(TimerStoreTest, NothingStoredNothingDue) {
  EXPECT_EQ(this->Due(INT64_MAX), Timers{});
  EXPECT_EQ(this->Due(INT64_MIN), Timers{});
  EXPECT_EQ(this->OfPartition(0), Timers{});
}

TYPED_TEST(TimerStoreTest, DueExactlyWhenFireAtIsReached) {
  const Timer timer = MakeTimer(kT0, 3, "W001");
  this->Put({timer});
  struct Case {
    int64_t now_ms;
    bool due;
  };
  const Case cases[] = {{INT64_MIN, false}, {-1, false},     {0, false},       {kT0 - 1, false},
                        {kT0, true},        {kT0 + 1, true}, {INT64_MAX, true}};
  for (const Case& c : cases) {
    EXPECT_EQ(this->Due(c.now_ms), c.due ? Timers{timer} : Timers{}) << "now " << c.now_ms;
  }
}

TYPED_TEST(TimerStoreTest, FireTimesBeforeTheEpochAndAtTheExtremes) {
  const Timers timers = {MakeTimer(INT64_MIN, 0, "A"), MakeTimer(-kT0, 0, "B"), MakeTimer(-1, 0, "C"),
                         MakeTimer(0, 0, "D"), MakeTimer(INT64_MAX, 0, "E")};
  this->Put(timers);
  EXPECT_EQ(this->Due(INT64_MIN), (Timers{timers[0]}));
  EXPECT_EQ(this->Due(-2), (Timers{timers[0], timers[1]}));
  EXPECT_EQ(this->Due(-1), (Timers{timers[0], timers[1], timers[2]}));
  EXPECT_EQ(this->Due(INT64_MAX - 1), (Timers{timers[0], timers[1], timers[2], timers[3]}));
  EXPECT_EQ(this->Due(INT64_MAX), timers);
}

TYPED_TEST(TimerStoreTest, DueInFireOrderThenPartitionRuleKindWorker) {
  // Put in scrambled order; 256 after 2 and 300 s after 1 ms only with big-endian keys.
  const Timers expected = {
      MakeTimer(kT0 - 300'000, 256, "W9"),
      MakeTimer(kT0 + 1, 0, "W5"),
      MakeTimer(kT0 + 1, 2, "W1"),
      MakeTimer(kT0 + 1, 2, "W10"),
      MakeTimer(kT0 + 1, 2, "W2"),
      MakeTimer(kT0 + 1, 256, "W0"),
      MakeTimer(kT0 + 1, 256, "W0", Rule::kR3SelfTestMissed, 2),
      MakeTimer(kT0 + 1, 256, "W0", Rule::kR3SelfTestMissed, 256),
      MakeTimer(kT0 + 1, 256, "W0", Rule::kR6FocusTracking, 1),
      MakeTimer(kT0 + 256, 0, "W0"),
  };
  Timers scrambled;
  for (size_t i = 0; i < expected.size(); ++i) scrambled.push_back(expected[(i * 7) % expected.size()]);
  this->Put(scrambled);
  EXPECT_EQ(this->Due(kT0 + 256), expected);
  EXPECT_EQ(this->Due(kT0 + 255), Timers(expected.begin(), expected.end() - 1));
}

TYPED_TEST(TimerStoreTest, SameFireTimeDifferentWorkersAreDistinct) {
  const Timers timers = {MakeTimer(kT0, 1, "W001"), MakeTimer(kT0, 1, "W002"), MakeTimer(kT0, 1, "W003")};
  this->Put(timers);
  this->Put({timers[1]});  // putting one again changes nothing
  EXPECT_EQ(this->Due(kT0), timers);
  this->Delete({timers[1]});
  EXPECT_EQ(this->Due(kT0), (Timers{timers[0], timers[2]}));
}

TYPED_TEST(TimerStoreTest, LimitTakesTheEarliest) {
  Timers timers;
  for (int64_t i = 0; i < 5; ++i) timers.push_back(MakeTimer(kT0 + i, 0, "W" + std::to_string(i)));
  this->Put(timers);
  this->Put({MakeTimer(kT0 + 10, 0, "later")});
  EXPECT_EQ(this->Due(kT0 + 4, 0), Timers{});
  EXPECT_EQ(this->Due(kT0 + 4, 1), (Timers{timers[0]}));
  EXPECT_EQ(this->Due(kT0 + 4, 3), Timers(timers.begin(), timers.begin() + 3));
  EXPECT_EQ(this->Due(kT0 + 4, 5), timers);
  EXPECT_EQ(this->Due(kT0 + 4, 6), timers);
  // A limited load fires nothing by itself: the rest stay due until a commit deletes them.
  EXPECT_EQ(this->Due(kT0 + 4, 2), Timers(timers.begin(), timers.begin() + 2));
}

TYPED_TEST(TimerStoreTest, FiringInRoundsOfLimitDrainsInOrder) {
  Timers timers;
  for (int64_t i = 0; i < 10; ++i) timers.push_back(MakeTimer(kT0 + i, static_cast<int32_t>(i % 3), "W"));
  this->Put(timers);
  Timers fired;
  for (int round = 0; round < 10; ++round) {
    Timers due = this->Due(kT0 + 100, 3);
    if (due.empty()) break;
    fired.insert(fired.end(), due.begin(), due.end());
    this->Delete(due);
  }
  EXPECT_EQ(fired, timers);
}

TYPED_TEST(TimerStoreTest, DeleteRemovesOnlyThatTimer) {
  const Timer due = MakeTimer(kT0, 0, "W001", Rule::kR3SelfTestMissed, 1);
  const Timer ack = MakeTimer(kT0, 0, "W001", Rule::kR3SelfTestMissed, 2);
  const Timer pending = MakeTimer(kT0 + domain::kDayMs, 0, "W001", Rule::kR3SelfTestMissed, 1);
  this->Put({due, ack, pending});
  // Unknown timers, and one differing only in kind, rule, partition or fire time, are no-ops.
  this->Delete({MakeTimer(kT0, 0, "W001", Rule::kR3SelfTestMissed, 3), MakeTimer(kT0, 0, "W001", Rule::kR1CriticalBp),
                MakeTimer(kT0, 1, "W001"), MakeTimer(kT0 + 1, 0, "W001"), MakeTimer(kT0, 0, "W0011")});
  EXPECT_EQ(this->Due(INT64_MAX), (Timers{due, ack, pending}));
  this->Delete({due, due});
  EXPECT_EQ(this->Due(INT64_MAX), (Timers{ack, pending}));
  this->Delete({pending});  // a pending timer cancelled before it is due
  EXPECT_EQ(this->Due(INT64_MAX), (Timers{ack}));
}

TYPED_TEST(TimerStoreTest, PutAndDeleteInOneBatchDeleteWins) {
  const Timer fired = MakeTimer(kT0, 0, "W001");
  const Timer moved = MakeTimer(kT0 + domain::kDayMs, 0, "W001");
  this->Put({fired});
  // Deletes apply after puts: the same timer in both is gone, whichever way round it was.
  CommitBatch batch{.timers_put = {moved, MakeTimer(kT0 + 5, 0, "W002")},
                    .timers_delete = {fired, MakeTimer(kT0 + 5, 0, "W002")}};
  ASSERT_TRUE(this->store().Commit(batch).ok());
  EXPECT_EQ(this->Due(INT64_MAX), (Timers{moved}));
}

TYPED_TEST(TimerStoreTest, TimersCommitWithStateAndOffsets) {
  // The engine's shape: designated fields, only the ones it uses.
  const CommitBatch batch{.workers = {{WorkerKey{.partition = 2, .worker = domain::WorkerId{"W001"}}, CountedState(7)}},
                          .next_offsets = {{InputPosition{.topic = "readings", .partition = 2}, 42}},
                          .timers_put = {MakeTimer(kT0, 2, "W001")}};
  EXPECT_FALSE(batch.empty());
  EXPECT_FALSE(CommitBatch{.timers_delete = {MakeTimer(kT0, 2, "W001")}}.empty());
  ASSERT_TRUE(this->store().Commit(batch).ok());
  this->Reopen();
  EXPECT_EQ(this->Due(kT0), (Timers{MakeTimer(kT0, 2, "W001")}));
  EXPECT_EQ(*this->store().LoadWorker({2, domain::WorkerId{"W001"}}), CountedState(7));
  EXPECT_EQ(*this->store().LoadNextOffset({"readings", 2}), 42);
}

TYPED_TEST(TimerStoreTest, ReopenKeepsTimersAndDeletions) {
  const Timers timers = {MakeTimer(kT0, 0, "A"), MakeTimer(kT0 + 1, 1, "B"), MakeTimer(kT0 + 2, 0, "C")};
  this->Put(timers);
  this->Delete({timers[0]});
  this->Reopen();
  EXPECT_EQ(this->Due(INT64_MAX), (Timers{timers[1], timers[2]}));
  EXPECT_EQ(this->OfPartition(0), (Timers{timers[2]}));
}

TYPED_TEST(TimerStoreTest, LoadTimersOfOnePartitionDueOrNot) {
  const Timers timers = {MakeTimer(kT0 - 1, 1, "A"), MakeTimer(kT0, 0, "A"), MakeTimer(kT0 + domain::kDayMs, 1, "B"),
                         MakeTimer(kT0 + 2 * domain::kDayMs, 256, "A"), MakeTimer(kT0 + 3 * domain::kDayMs, 1, "A")};
  this->Put(timers);
  EXPECT_EQ(this->OfPartition(1), (Timers{timers[0], timers[2], timers[4]}));
  EXPECT_EQ(this->OfPartition(0), (Timers{timers[1]}));
  EXPECT_EQ(this->OfPartition(256), (Timers{timers[3]}));
  EXPECT_EQ(this->OfPartition(2), Timers{});
  const absl::Status status = this->store().LoadTimers(-1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find("invalid partition -1"), std::string::npos) << status;
}

// The store skips timers it has seen fire; a timer put later, earlier than those, must still be found.
TYPED_TEST(TimerStoreTest, LateTimersEarlierThanFiredOnesAreStillDue) {
  this->Put({MakeTimer(kT0 + 10, 0, "A"), MakeTimer(kT0 + 20, 0, "B")});
  EXPECT_EQ(this->Due(kT0 + 15), (Timers{MakeTimer(kT0 + 10, 0, "A")}));
  this->Delete({MakeTimer(kT0 + 10, 0, "A")});
  EXPECT_EQ(this->Due(kT0 + 15), Timers{});
  EXPECT_EQ(this->Due(kT0 + 100), (Timers{MakeTimer(kT0 + 20, 0, "B")}));
  this->Put({MakeTimer(kT0 + 5, 0, "late"), MakeTimer(kT0 + 30, 0, "C")});
  EXPECT_EQ(this->Due(kT0 + 100),
            (Timers{MakeTimer(kT0 + 5, 0, "late"), MakeTimer(kT0 + 20, 0, "B"), MakeTimer(kT0 + 30, 0, "C")}));
  EXPECT_EQ(this->OfPartition(0),
            (Timers{MakeTimer(kT0 + 5, 0, "late"), MakeTimer(kT0 + 20, 0, "B"), MakeTimer(kT0 + 30, 0, "C")}));
  // A clock driven backwards (a replay restarting) still sees everything due at its time.
  EXPECT_EQ(this->Due(kT0 + 5), (Timers{MakeTimer(kT0 + 5, 0, "late")}));
  EXPECT_EQ(this->Due(kT0), Timers{});
  this->Put({MakeTimer(kT0 - 1, 0, "earlier")});
  EXPECT_EQ(this->Due(kT0), (Timers{MakeTimer(kT0 - 1, 0, "earlier")}));
}

TYPED_TEST(TimerStoreTest, RefusedBatchWritesNoTimers) {
  struct Case {
    std::string name;
    std::function<void(CommitBatch&)> spoil;
    std::string message;  // part of the expected error
  };
  const std::string family = "column family timers: cannot store timer fire_at ";
  const std::vector<Case> cases = {
      {"negative partition put", [](CommitBatch& b) { b.timers_put.push_back(MakeTimer(kT0, -1, "W9")); },
       family + std::to_string(kT0) + " partition -1 worker W9 rule 3 kind 1: partition is negative"},
      {"empty worker put", [](CommitBatch& b) { b.timers_put.push_back(MakeTimer(kT0, 0, "")); },
       "worker id is empty"},
      {"unknown rule put", [](CommitBatch& b) { b.timers_put.push_back(MakeTimer(kT0, 0, "W9", Rule{0})); },
       "rule 0 kind 1: rule is not one of its enumerators"},
      {"rule past the last", [](CommitBatch& b) { b.timers_put.push_back(MakeTimer(kT0, 0, "W9", Rule{7})); },
       "rule is not one of its enumerators"},
      {"negative partition delete", [](CommitBatch& b) { b.timers_delete.push_back(MakeTimer(kT0, -3, "W9")); },
       "partition is negative"},
      {"empty worker delete", [](CommitBatch& b) { b.timers_delete.push_back(MakeTimer(kT0, 0, "")); },
       "worker id is empty"},
      {"bad worker state", [](CommitBatch& b) { b.workers.push_back({{0, domain::WorkerId{""}}, CountedState(1)}); },
       "worker id is empty"},
      {"bad offset", [](CommitBatch& b) { b.next_offsets.push_back({{"readings", 0}, -1}); }, "is negative"},
  };
  this->Put({MakeTimer(kT0, 0, "kept")});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CommitBatch batch;
    batch.workers.push_back({{0, domain::WorkerId{"W001"}}, CountedState(1)});
    batch.timers_put = {MakeTimer(kT0 - 1, 0, "W001"), MakeTimer(kT0 + 1, 5, "W001")};
    batch.timers_delete = {MakeTimer(kT0, 0, "kept")};
    c.spoil(batch);
    const absl::Status status = this->store().Commit(batch);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
    EXPECT_EQ(status.message().find("state store "), 0U) << status;
    EXPECT_EQ(this->Due(INT64_MAX), (Timers{MakeTimer(kT0, 0, "kept")}));
    EXPECT_EQ(*this->store().LoadWorker({0, domain::WorkerId{"W001"}}), std::nullopt);
  }
}

TYPED_TEST(TimerStoreTest, WorkerIdsAreBytes) {
  const Timers timers = {MakeTimer(kT0, 7, std::string("\0\x01", 2)), MakeTimer(kT0, 7, "\xFF\xFF"),
                         MakeTimer(kT0, 7, "李"), MakeTimer(kT0, 7, std::string(300, 'x'))};
  this->Put(timers);
  this->Reopen();
  EXPECT_EQ(this->Due(kT0), (Timers{timers[0], timers[3], timers[2], timers[1]}));  // bytewise
}

TYPED_TEST(TimerStoreTest, APartitionsDueTimersAreNeverCrowdedOutByOtherPartitions) {
  // 5,000 timers of partition 2 fall due long before the single one of partition 9, which must
  // still come back first in partition 9's scan, whatever the limit.
  Timers crowd;
  for (int i = 0; i < 5000; ++i) crowd.push_back(MakeTimer(kT0 - 100000 + i, 2, "C" + std::to_string(i)));
  this->Put(crowd);
  this->Put({MakeTimer(kT0, 9, "OWN"), MakeTimer(kT0 + 1, 9, "LATER")});
  absl::StatusOr<Timers> own = this->store().LoadDueTimers(9, ProcessingTime{kT0}, 1);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(*own, (Timers{MakeTimer(kT0, 9, "OWN")}));
  absl::StatusOr<Timers> crowd_due = this->store().LoadDueTimers(2, ProcessingTime{kT0}, 10000);
  ASSERT_TRUE(crowd_due.ok()) << crowd_due.status();
  EXPECT_EQ(*crowd_due, crowd);
  absl::StatusOr<Timers> none = this->store().LoadDueTimers(3, ProcessingTime{kT0 + 10}, 10);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  // Across partitions, fire order still holds.
  EXPECT_EQ(this->Due(kT0, 2), (Timers{crowd[0], crowd[1]}));
  EXPECT_EQ(this->Due(kT0 + 1).back(), MakeTimer(kT0 + 1, 9, "LATER"));
  EXPECT_EQ(this->store().LoadDueTimers(-1, ProcessingTime{kT0}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(TimerStoreTest, APartitionsScanSeesTimersPutBelowItsFloorAfterFiring) {
  this->Put({MakeTimer(kT0, 4, "A")});
  absl::StatusOr<Timers> first = this->store().LoadDueTimers(4, ProcessingTime{kT0}, 10);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1U);
  this->Delete({MakeTimer(kT0, 4, "A")});
  absl::StatusOr<Timers> empty = this->store().LoadDueTimers(4, ProcessingTime{kT0 + 100}, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  // The floor rose to the end of the due range; a timer set earlier than that must still be found.
  this->Put({MakeTimer(kT0 - 5, 4, "EARLY")});
  absl::StatusOr<Timers> early = this->store().LoadDueTimers(4, ProcessingTime{kT0 + 100}, 10);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(*early, (Timers{MakeTimer(kT0 - 5, 4, "EARLY")}));
}

// --- RocksDB only -----------------------------------------------------------------------------

TEST(RocksTimerStoreTest, CorruptTimerKeyNamesPathFamilyAndKey) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Commit(CommitBatch{.timers_put = {MakeTimer(kT0 + 1, 0, "W")}}).ok());
  }
  std::string key = layout::TimerKeyBytes(MakeTimer(kT0, 0, "W"));
  key[12] = 9;  // no such rule
  testing_support::RawPut(path, layout::Family::kTimers, key, "");

  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string expected = "state store " + path + ": column family timers: corrupt record for key \"";
  for (const absl::Status& status :
       {(*store)->LoadDueTimers(ProcessingTime{kT0}, 10).status(), (*store)->LoadTimers(0).status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_EQ(status.message().find(expected), 0U) << status;
    EXPECT_NE(status.message().find("rule 9 is not one of its enumerators"), std::string::npos) << status;
  }
  // Timers before the corrupt one still load.
  absl::StatusOr<Timers> before = (*store)->LoadDueTimers(ProcessingTime{kT0 - 1}, 10);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_TRUE(before->empty());
}

TEST(RocksTimerStoreTest, ReadOnlyOpenSeesTimersAndRefusesTimerCommits) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Commit(CommitBatch{.timers_put = {MakeTimer(kT0, 4, "W")}}).ok());
  }
  absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(*(*reader)->LoadTimers(4), (Timers{MakeTimer(kT0, 4, "W")}));
  EXPECT_EQ((*reader)->Commit(CommitBatch{.timers_delete = {MakeTimer(kT0, 4, "W")}}).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(RocksTimerStoreTest, AVersionOneStoreIsMigratedToPartitionFirstTimerKeysWhenOpened) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Commit(CommitBatch{.next_offsets = {{{"readings", 1}, 42}}}).ok());
  }
  // As the previous build wrote them: fire time first, then partition, rule, kind, worker.
  const Timers timers = {MakeTimer(kT0, 1, "W1"), MakeTimer(kT0 - 7, 3, "W3", Rule::kR1CriticalBp, 2),
                         MakeTimer(kT0 + 9, 1, "W2")};
  for (const Timer& t : timers) {
    const std::string key = layout::TimerKeyBytes(t);
    testing_support::RawPut(path, layout::Family::kTimers, key.substr(4, 8) + key.substr(0, 4) + key.substr(12), "");
  }
  testing_support::RawPut(path, layout::Family::kMeta, layout::kSchemaVersionKey, "1");

  // A read-only open cannot migrate: it says what to do.
  absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("start alertd on it once to migrate"), std::string::npos) << reader.status();

  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(*(*store)->LoadTimers(1), (Timers{timers[0], timers[2]}));
  EXPECT_EQ(*(*store)->LoadTimers(3), (Timers{timers[1]}));
  EXPECT_EQ(*(*store)->LoadDueTimers(ProcessingTime{kT0}, 10), (Timers{timers[1], timers[0]}));
  EXPECT_EQ(**(*store)->LoadNextOffset({"readings", 1}), 42);
  store->reset();
  // Migrated once: the next open finds version 2 and the same timers.
  absl::StatusOr<std::unique_ptr<StateStore>> again = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*(*again)->LoadTimers(1), (Timers{timers[0], timers[2]}));
}

}  // namespace
}  // namespace alertd::state
