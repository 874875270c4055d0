// The store side of partition changelogs, on both backends: the change hook and its checkpoints,
// restoring changes (and refusing bad ones), snapshots, dropping a partition, and the schema-3
// migration of outbox keys on RocksDB.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "alertd_state.pb.h"
#include "engine/domain/timer.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_record.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using domain::ProcessingTime;
using domain::Timer;
using testing_support::CountedState;
using testing_support::FullState;
using testing_support::TempDir;
using Changes = std::vector<Change>;
using Checkpoints = std::vector<std::pair<int32_t, ChangelogCheckpoint>>;

constexpr int64_t kT0 = 1'717'000'000'000;  // a processing time in 2024, ms
const std::string kStreamTime = layout::StreamTimePosition(0).topic;  // where a partition's stream time is kept

WorkerKey Key(int32_t partition, const std::string& worker) {
  return WorkerKey{.partition = partition, .worker = domain::WorkerId{worker}};
}

Timer MakeTimer(int64_t fire_at_ms, int32_t partition, const std::string& worker, uint32_t kind = 1) {
  return Timer{.fire_at = ProcessingTime{fire_at_ms},
               .partition = partition,
               .worker = domain::WorkerId{worker},
               .rule = domain::Rule::kR3SelfTestMissed,
               .kind = domain::TimerKindFromCode(kind)};
}

OutboxEntry Entry(uint64_t seq, int32_t partition, uint32_t epoch = 0) {
  return OutboxEntry{.seq = seq,
                     .topic = "escalations",
                     .key = "W" + std::to_string(partition),
                     .value = "escalation " + std::to_string(seq),
                     .source_partition = partition,
                     .epoch = epoch};
}

constexpr ChangelogCheckpoint kCheckpoint{.next_offset = 41, .epoch = 3, .fence_offset = 7, .contiguous = true};

// One commit of everything a partition holds: two workers, input offsets and stream time, two
// outbox entries, two timers. `seq` must be >= the store's NextOutboxSeq().
CommitBatch PartitionBatch(int32_t partition, uint64_t seq) {
  CommitBatch batch;
  batch.workers = {{Key(partition, "W001"), FullState("W001")}, {Key(partition, "W002"), CountedState(5)}};
  batch.next_offsets = {{{"readings", partition}, 100 + partition}, {{"worker-profiles", partition}, 7}};
  batch.stream_times = {{partition, kT0}};
  batch.outbox_put = {Entry(seq, partition), Entry(seq + 1, partition)};
  batch.timers_put = {MakeTimer(kT0 + 60'000, partition, "W001"), MakeTimer(kT0 - 5, partition, "W002", 2)};
  return batch;
}

// Everything a restore must reproduce of one partition, as the engine reads it.
struct PartitionView {
  std::optional<domain::WorkerState> w1, w2;
  std::vector<std::optional<int64_t>> offsets;
  std::vector<OutboxEntry> outbox;
  std::vector<Timer> timers;
  friend bool operator==(const PartitionView&, const PartitionView&) = default;
};

PartitionView View(StateStore& store, int32_t partition) {
  PartitionView view;
  view.w1 = *store.LoadWorker(Key(partition, "W001"));
  view.w2 = *store.LoadWorker(Key(partition, "W002"));
  for (const std::string& topic : {std::string("readings"), std::string("worker-profiles")}) {
    view.offsets.push_back(*store.LoadNextOffset({topic, partition}));
  }
  view.offsets.push_back(*store.LoadStreamTime(partition));
  view.outbox = *store.LoadOutbox(partition);
  view.timers = *store.LoadTimers(partition);
  return view;
}

bool IsEmpty(const PartitionView& view) {
  return !view.w1 && !view.w2 && view.outbox.empty() && view.timers.empty() &&
         view.offsets == std::vector<std::optional<int64_t>>(3, std::nullopt);
}

Changes Snapshot(StateStore& store, int32_t partition) {
  Changes changes;
  const absl::Status status = store.ForEachChange(partition, [&](const Change& change) {
    changes.push_back(change);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status;
  return changes;
}

// --- PartitionOfChange --------------------------------------------------------------------------

TEST(PartitionOfChangeTest, ReadsThePartitionWhereEachFamilyKeepsIt) {
  struct Case {
    std::string name;
    Change change;
    int32_t partition;
  };
  const std::vector<Case> cases = {
      {"worker", {Family::kWorkers, layout::WorkerKeyBytes(Key(258, "W1")), "v"}, 258},
      {"worker deletion", {Family::kWorkers, layout::WorkerKeyBytes(Key(3, "W1")), std::nullopt}, 3},
      {"timer", {Family::kTimers, layout::TimerKeyBytes(MakeTimer(kT0, 9, "W")), ""}, 9},
      {"outbox", {Family::kOutbox, layout::OutboxKeyBytes({.partition = 4, .epoch = 2, .seq = 5}), "v"}, 4},
      {"offsets", {Family::kOffsets, layout::OffsetKeyBytes({"readings", 6}), "v"}, 6},
      {"stream time", {Family::kOffsets, layout::OffsetKeyBytes({kStreamTime, 65536}), "v"}, 65536},
      {"meta", {Family::kMeta, std::string(layout::kOutboxNextSeqKey), "v"}, -1},
      {"checkpoint", {Family::kMeta, layout::CheckpointKeyBytes(2), "v"}, -1},
      {"parked", {Family::kParked, layout::OutboxKeyBytes({.partition = 4, .epoch = 0, .seq = 5}), "v"}, -1},
      {"short worker key", {Family::kWorkers, std::string("\0\0\1", 3), "v"}, -1},
      {"short offsets key", {Family::kOffsets, std::string("\0\0\1", 3), "v"}, -1},
      {"offsets key without separator", {Family::kOffsets, "readings1234", "v"}, -1},
      {"negative partition", {Family::kTimers, layout::PartitionPrefix(-2) + "rest", ""}, -1},
      {"unknown family", {static_cast<Family>(9), layout::PartitionPrefix(1) + "W", "v"}, -1},
  };
  for (const Case& c : cases) EXPECT_EQ(PartitionOfChange(c.change), c.partition) << c.name;
}

// --- Both backends ------------------------------------------------------------------------------

template <typename Impl>
class ChangelogStoreTest : public testing_support::OpenedStore<Impl> {
 protected:
  using testing_support::OpenedStore<Impl>::store;

  // The changes of one commit as its hook saw them (the hook returns `checkpoints`).
  Changes CommitSeen(const CommitBatch& batch, Checkpoints checkpoints = {}) {
    Changes seen;
    const absl::Status status = store().Commit(batch, [&](const Changes& changes) -> absl::StatusOr<Checkpoints> {
      seen = changes;
      return checkpoints;
    });
    EXPECT_TRUE(status.ok()) << status;
    return seen;
  }

  std::optional<ChangelogCheckpoint> Checkpoint(int32_t partition) {
    absl::StatusOr<std::optional<ChangelogCheckpoint>> checkpoint = store().LoadCheckpoint(partition);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    return checkpoint.ok() ? *checkpoint : std::nullopt;
  }
};

TYPED_TEST_SUITE(ChangelogStoreTest, testing_support::StoreImplementations, testing_support::StoreImplName);

TYPED_TEST(ChangelogStoreTest, TheHookSeesEveryChangeInApplyOrderAndItsCheckpointsAreStored) {
  const Changes seen = this->CommitSeen(PartitionBatch(3, 1), {{3, kCheckpoint}});
  ASSERT_FALSE(seen.empty());
  // What the commit applies, encoded: the hook's changes are its writes, in their order.
  absl::StatusOr<layout::EncodedCommit> encoded = layout::EncodeCommit(
      "x", PartitionBatch(3, 1), 1, [](const WorkerKey&, state::SampleLayout*) { return std::nullopt; });
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(seen, encoded->writes);
  // All of partition 3 but the store-wide outbox counter.
  for (const Change& change : seen) {
    EXPECT_EQ(PartitionOfChange(change), change.family == Family::kMeta ? -1 : 3) << layout::Describe(change);
  }
  for (const Change& change : seen) {
    EXPECT_EQ(*this->store().ReadChange(change.family, change.key), change.value) << layout::Describe(change);
  }
  EXPECT_EQ(this->Checkpoint(3), kCheckpoint);
  EXPECT_EQ(this->Checkpoint(4), std::nullopt);
  this->Reopen();
  EXPECT_EQ(this->Checkpoint(3), kCheckpoint);

  // A later commit moves the checkpoint on; one whose hook returns none leaves it.
  ChangelogCheckpoint later = kCheckpoint;
  later.next_offset = 52;
  later.contiguous = false;
  this->CommitSeen(CommitBatch{.workers = {{Key(3, "W001"), CountedState(1)}}}, {{3, later}});
  EXPECT_EQ(this->Checkpoint(3), later);
  this->CommitSeen(CommitBatch{.workers = {{Key(3, "W001"), CountedState(2)}}});
  EXPECT_EQ(this->Checkpoint(3), later);
  EXPECT_EQ(this->store().LoadCheckpoint(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(ChangelogStoreTest, AnEmptyBatchDoesNotCallTheHook) {
  bool called = false;
  ASSERT_TRUE(this->store()
                  .Commit(CommitBatch(),
                          [&](const Changes&) -> absl::StatusOr<Checkpoints> {
                            called = true;
                            return Checkpoints{{0, kCheckpoint}};
                          })
                  .ok());
  EXPECT_FALSE(called);
  EXPECT_EQ(this->Checkpoint(0), std::nullopt);
}

TYPED_TEST(ChangelogStoreTest, AFailingHookOrABadCheckpointWritesNothing) {
  const CommitBatch before = PartitionBatch(1, 1);
  ASSERT_TRUE(this->store().Commit(before).ok());
  const PartitionView stored = View(this->store(), 1);
  const uint64_t next_seq = this->store().NextOutboxSeq();

  ChangelogCheckpoint negative_offset = kCheckpoint;
  negative_offset.next_offset = -1;
  ChangelogCheckpoint bad_fence = kCheckpoint;
  bad_fence.fence_offset = -2;
  struct Case {
    std::string name;
    ChangeHook hook;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"hook error returned as is",
       [](const Changes&) -> absl::StatusOr<Checkpoints> {
         return absl::UnavailableError("changelog partition 1: broker down");
       },
       absl::StatusCode::kUnavailable, "changelog partition 1: broker down"},
      {"negative partition",
       [](const Changes&) -> absl::StatusOr<Checkpoints> {
         return Checkpoints{{1, kCheckpoint}, {-1, kCheckpoint}};
       },
       absl::StatusCode::kInvalidArgument, "changelog checkpoint of partition -1"},
      {"two for one partition",
       [](const Changes&) -> absl::StatusOr<Checkpoints> {
         return Checkpoints{{1, kCheckpoint}, {1, kCheckpoint}};
       },
       absl::StatusCode::kInvalidArgument, "two changelog checkpoints for partition 1"},
      {"negative next offset",
       [=](const Changes&) -> absl::StatusOr<Checkpoints> {
         return Checkpoints{{1, negative_offset}};
       },
       absl::StatusCode::kInvalidArgument, "next_offset is negative"},
      {"fence below -1",
       [=](const Changes&) -> absl::StatusOr<Checkpoints> {
         return Checkpoints{{1, bad_fence}};
       },
       absl::StatusCode::kInvalidArgument, "fence_offset is below -1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CommitBatch batch = PartitionBatch(1, next_seq);
    batch.workers[1].second = std::nullopt;
    batch.timers_delete = {MakeTimer(kT0 - 5, 1, "W002", 2)};
    batch.outbox_delete = {Entry(1, 1).id()};
    const absl::Status status = this->store().Commit(batch, c.hook);
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
    EXPECT_EQ(View(this->store(), 1), stored);
    EXPECT_EQ(this->store().NextOutboxSeq(), next_seq);
    EXPECT_EQ(this->Checkpoint(1), std::nullopt);
  }
}

// What restore relies on: a commit's changes, as the hook hands them to the changelog, rebuild the
// partition in another store.
TYPED_TEST(ChangelogStoreTest, ACommitsChangesAppliedToAnEmptyStoreReproduceThePartition) {
  std::unique_ptr<StateStore> replica = NewMemoryStore();
  const auto ship = [&](const Changes& seen, int32_t partition, int64_t next_offset) {
    Changes of_partition;
    for (const Change& change : seen) {
      if (PartitionOfChange(change) == partition) of_partition.push_back(change);
    }
    const ChangelogCheckpoint checkpoint{.next_offset = next_offset, .epoch = 1, .fence_offset = 0};
    const absl::Status status = replica->ApplyChanges(partition, of_partition, checkpoint);
    EXPECT_TRUE(status.ok()) << status;
  };
  // Two partitions in one commit: each changelog gets its own.
  CommitBatch first = PartitionBatch(2, 1);
  CommitBatch other = PartitionBatch(5, 3);
  first.workers.insert(first.workers.end(), other.workers.begin(), other.workers.end());
  first.outbox_put.insert(first.outbox_put.end(), other.outbox_put.begin(), other.outbox_put.end());
  first.timers_put.insert(first.timers_put.end(), other.timers_put.begin(), other.timers_put.end());
  first.next_offsets.insert(first.next_offsets.end(), other.next_offsets.begin(), other.next_offsets.end());
  Changes seen = this->CommitSeen(first);
  ship(seen, 2, 1);
  ship(seen, 5, 1);

  // Then deletions, a moved timer, a delivered and a parked entry.
  CommitBatch second;
  second.workers = {{Key(2, "W002"), std::nullopt}, {Key(2, "W001"), CountedState(9)}};
  second.next_offsets = {{{"readings", 2}, 250}};
  second.timers_delete = {MakeTimer(kT0 - 5, 2, "W002", 2)};
  second.timers_put = {MakeTimer(kT0 + 1, 2, "W001", 3)};
  second.outbox_delete = {Entry(1, 2).id()};
  second.parked_put = {{Entry(2, 2), "too large", 5}};
  second.outbox_put = {Entry(7, 2)};
  seen = this->CommitSeen(second);
  ship(seen, 2, 2);

  for (int32_t partition : {2, 5}) {
    SCOPED_TRACE(partition);
    const PartitionView original = View(this->store(), partition);
    EXPECT_FALSE(IsEmpty(original));
    EXPECT_EQ(View(*replica, partition), original);
  }
  EXPECT_EQ(*replica->LoadCheckpoint(2), (ChangelogCheckpoint{.next_offset = 2, .epoch = 1, .fence_offset = 0}));
  // Parked output stays with the instance that parked it; the counter is the replica's own.
  EXPECT_TRUE(replica->LoadParked(10)->empty());
  EXPECT_EQ(replica->NextOutboxSeq(), 1U);
}

TYPED_TEST(ChangelogStoreTest, ASnapshotAppliedToAnEmptyStoreReproducesThePartition) {
  ASSERT_TRUE(this->store().Commit(PartitionBatch(1, 1)).ok());
  ASSERT_TRUE(this->store().Commit(PartitionBatch(256, 3), [](const Changes&) -> absl::StatusOr<Checkpoints> {
    return Checkpoints{{256, kCheckpoint}};
  }).ok());
  ASSERT_TRUE(this->store().Commit(CommitBatch{.parked_put = {{Entry(9, 1), "refused", 1}}}).ok());

  const Changes snapshot = Snapshot(this->store(), 1);
  // Family by family, each in key order, all puts, all of partition 1. The samples are W001's profile
  // and the runs of its windows, and W002's none.
  const domain::WorkerState w1 = FullState("W001");
  std::vector<Family> families = {Family::kWorkers, Family::kWorkers};
  families.insert(
      families.end(),
      1 + testing_support::RunStarts(w1.bp_window).size() + testing_support::RunStarts(w1.glucose_window).size(),
      Family::kSamples);
  families.insert(families.end(), {Family::kOffsets, Family::kOffsets, Family::kOffsets, Family::kOutbox,
                                   Family::kOutbox, Family::kTimers, Family::kTimers});
  ASSERT_EQ(snapshot.size(), families.size());
  for (size_t i = 0; i < snapshot.size(); ++i) {
    EXPECT_EQ(snapshot[i].family, families[i]) << i;
    EXPECT_EQ(PartitionOfChange(snapshot[i]), 1) << layout::Describe(snapshot[i]);
    ASSERT_TRUE(snapshot[i].value.has_value());
    EXPECT_EQ(*this->store().ReadChange(snapshot[i].family, snapshot[i].key), snapshot[i].value);
    if (i > 0 && snapshot[i].family == snapshot[i - 1].family) {
      EXPECT_LT(snapshot[i - 1].key, snapshot[i].key);
    }
  }

  std::unique_ptr<StateStore> replica = NewMemoryStore();
  ASSERT_TRUE(replica->ApplyChanges(1, snapshot, kCheckpoint).ok());
  EXPECT_EQ(View(*replica, 1), View(this->store(), 1));
  EXPECT_TRUE(IsEmpty(View(*replica, 256)));
  EXPECT_EQ(Snapshot(*replica, 1), snapshot);

  // fn returning false stops the walk, also across families.
  size_t visited = 0;
  ASSERT_TRUE(this->store().ForEachChange(1, [&](const Change&) { return ++visited < 3; }).ok());
  EXPECT_EQ(visited, 3U);
  EXPECT_TRUE(Snapshot(this->store(), 7).empty());
  EXPECT_EQ(this->store().ForEachChange(-1, [](const Change&) { return true; }).code(),
            absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(ChangelogStoreTest, BadChangesAreRefusedAndNothingIsWritten) {
  ASSERT_TRUE(this->store().Commit(PartitionBatch(4, 1)).ok());
  const PartitionView stored = View(this->store(), 4);
  const std::string good_worker = *EncodeWorkerState(CountedState(3));
  v1::OutboxRecord other_partition;
  other_partition.set_topic("escalations");
  other_partition.set_source_partition(5);
  struct Case {
    std::string name;
    Change change;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"worker of another partition",
       {Family::kWorkers, layout::WorkerKeyBytes(Key(5, "W001")), good_worker},
       "cannot restore column family workers key \"\\x00\\x00\\x00\\x05W001\" into partition 4: the key is of "
       "partition 5"},
      {"offsets of another partition",
       {Family::kOffsets, layout::OffsetKeyBytes({"readings", 40}), layout::SeqKeyBytes(1)},
       "column family offsets key \"readings\\x00\\x00\\x00\\x00(\" into partition 4: the key is of partition 40"},
      {"meta",
       {Family::kMeta, std::string(layout::kOutboxNextSeqKey), layout::SeqKeyBytes(99)},
       "column family meta key \"outbox_next_seq\" into partition 4: a store-wide family"},
      {"checkpoint",
       {Family::kMeta, layout::CheckpointKeyBytes(4), std::nullopt},
       "column family meta key \"changelog_checkpoint/\\x00\\x00\\x00\\x04\""},
      {"parked",
       {Family::kParked, layout::OutboxKeyBytes({4, 0, 1}), std::nullopt},
       "column family parked key"},
      {"unknown family",
       {static_cast<Family>(7), layout::PartitionPrefix(4) + "W", "v"},
       "column family #7 (unknown) key \"\\x00\\x00\\x00\\x04W\" into partition 4: not a column family of this build"},
      {"undecodable worker",
       {Family::kWorkers, layout::WorkerKeyBytes(Key(4, "W001")), "\xFF\xFF not a record"},
       "column family workers key \"\\x00\\x00\\x00\\x04W001\" into partition 4: column family workers: corrupt "
       "record for partition 4 worker W001"},
      {"worker key without a worker id",
       {Family::kWorkers, layout::PartitionPrefix(4), std::nullopt},
       "not a 4-byte partition followed by a worker id"},
      {"short offset",
       {Family::kOffsets, layout::OffsetKeyBytes({"readings", 4}), "short"},
       "value has 5 bytes, not 8"},
      {"offset of an empty topic",
       {Family::kOffsets, layout::OffsetKeyBytes({"", 4}), layout::SeqKeyBytes(1)},
       "topic is empty"},
      {"undecodable outbox entry",
       {Family::kOutbox, layout::OutboxKeyBytes({4, 1, 1}), "\xFF"},
       "not an OutboxRecord"},
      {"outbox record of another partition under this one's key",
       {Family::kOutbox, layout::OutboxKeyBytes({4, 1, 2}), other_partition.SerializeAsString()},
       "the record's source_partition is 5, the key's 4"},
      {"short outbox key",
       {Family::kOutbox, layout::PartitionPrefix(4) + "1234", std::nullopt},
       "not a 4-byte partition, 4-byte epoch and 8-byte seq"},
      {"timer with a payload",
       {Family::kTimers, layout::TimerKeyBytes(MakeTimer(kT0, 4, "W001")), "payload"},
       "value has 7 bytes, not 0"},
      {"timer of no rule",
       {Family::kTimers, layout::PartitionPrefix(4) + std::string(8, '\0') + std::string(1, '\x09') + "kindW",
        std::string()},
       "rule 9 is not one of its enumerators"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    // Valid changes first: none of them may land.
    const Changes changes = {
        {Family::kWorkers, layout::WorkerKeyBytes(Key(4, "W001")), good_worker},
        {Family::kTimers, layout::TimerKeyBytes(MakeTimer(kT0 + 1, 4, "W009")), std::string()},
        {Family::kOffsets, layout::OffsetKeyBytes({"readings", 4}), layout::SeqKeyBytes(999)},
        c.change,
    };
    const absl::Status status = this->store().ApplyChanges(4, changes, kCheckpoint);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(status.message().find("state store "), 0U) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
    EXPECT_EQ(View(this->store(), 4), stored);
    EXPECT_EQ(this->Checkpoint(4), std::nullopt);
  }
  EXPECT_EQ(this->store().ApplyChanges(-1, {}, kCheckpoint).code(), absl::StatusCode::kInvalidArgument);
  ChangelogCheckpoint bad = kCheckpoint;
  bad.next_offset = -5;
  EXPECT_EQ(this->store().ApplyChanges(4, {}, bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->Checkpoint(4), std::nullopt);

  // Deletions restore too, and an empty list writes the checkpoint alone.
  ASSERT_TRUE(this->store()
                  .ApplyChanges(4, {{Family::kWorkers, layout::WorkerKeyBytes(Key(4, "W002")), std::nullopt}},
                                kCheckpoint)
                  .ok());
  EXPECT_EQ(*this->store().LoadWorker(Key(4, "W002")), std::nullopt);
  ChangelogCheckpoint later = kCheckpoint;
  later.next_offset = 60;
  ASSERT_TRUE(this->store().ApplyChanges(4, {}, later).ok());
  EXPECT_EQ(this->Checkpoint(4), later);
  EXPECT_EQ(*this->store().LoadWorker(Key(4, "W001")), stored.w1);
}

// Standby copies of many partitions are written together: all of them, or none when one is bad.
TYPED_TEST(ChangelogStoreTest, ChangesOfSeveralPartitionsApplyInOneWriteOrNotAtAll) {
  const std::string w = *EncodeWorkerState(CountedState(3));
  ChangelogCheckpoint second = kCheckpoint;
  second.next_offset = 77;
  const std::vector<RestoredChanges> good = {
      {2, {{Family::kWorkers, layout::WorkerKeyBytes(Key(2, "W001")), w}}, kCheckpoint},
      {3, {{Family::kWorkers, layout::WorkerKeyBytes(Key(3, "W002")), w}}, second},
  };
  std::vector<RestoredChanges> bad = good;
  bad[1].changes.push_back({Family::kWorkers, layout::WorkerKeyBytes(Key(2, "W003")), w});  // of partition 2
  const absl::Status refused = this->store().ApplyChanges(bad);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_NE(refused.message().find("into partition 3: the key is of partition 2"), std::string::npos) << refused;
  EXPECT_EQ(*this->store().LoadWorker(Key(2, "W001")), std::nullopt) << "the first partition's changes landed";
  EXPECT_EQ(this->Checkpoint(2), std::nullopt);

  ASSERT_TRUE(this->store().ApplyChanges(good).ok());
  EXPECT_EQ(*this->store().LoadWorker(Key(2, "W001")), CountedState(3));
  EXPECT_EQ(*this->store().LoadWorker(Key(3, "W002")), CountedState(3));
  EXPECT_EQ(this->Checkpoint(2), kCheckpoint);
  EXPECT_EQ(this->Checkpoint(3), second);
  EXPECT_TRUE(this->store().ApplyChanges(std::vector<RestoredChanges>{}).ok());
}

TYPED_TEST(ChangelogStoreTest, ARestoredTimerEarlierThanTheScannedFloorIsDue) {
  ASSERT_TRUE(this->store().Commit(CommitBatch{.timers_put = {MakeTimer(kT0, 2, "A")}}).ok());
  ASSERT_EQ(this->store().LoadDueTimers(2, ProcessingTime{kT0}, 10)->size(), 1U);
  ASSERT_TRUE(this->store().Commit(CommitBatch{.timers_delete = {MakeTimer(kT0, 2, "A")}}).ok());
  // This scan raises the partition's floor past kT0 + 1000.
  ASSERT_TRUE(this->store().LoadDueTimers(2, ProcessingTime{kT0 + 1000}, 10)->empty());

  const Timer restored = MakeTimer(kT0 + 10, 2, "B");
  ASSERT_TRUE(this->store()
                  .ApplyChanges(2, {{Family::kTimers, layout::TimerKeyBytes(restored), std::string()}}, kCheckpoint)
                  .ok());
  EXPECT_EQ(*this->store().LoadDueTimers(2, ProcessingTime{kT0 + 1000}, 10), (std::vector<Timer>{restored}));
}

TYPED_TEST(ChangelogStoreTest, DropPartitionRemovesExactlyThatPartition) {
  ASSERT_TRUE(this->store().Commit(PartitionBatch(1, 1), [](const Changes&) -> absl::StatusOr<Checkpoints> {
    return Checkpoints{{1, kCheckpoint}};
  }).ok());
  // 256 shares the low byte of 1; 0 precedes it.
  ASSERT_TRUE(this->store().Commit(PartitionBatch(256, 3), [](const Changes&) -> absl::StatusOr<Checkpoints> {
    return Checkpoints{{256, kCheckpoint}};
  }).ok());
  ASSERT_TRUE(this->store().Commit(PartitionBatch(0, 5)).ok());
  ASSERT_TRUE(this->store().Commit(CommitBatch{.parked_put = {{Entry(10, 1), "refused", 1}}}).ok());
  const PartitionView kept256 = View(this->store(), 256);
  const PartitionView kept0 = View(this->store(), 0);
  // A scan of partition 1 raises its floor before the drop.
  ASSERT_EQ(this->store().LoadDueTimers(1, ProcessingTime{kT0 + 120'000}, 10)->size(), 2U);

  ASSERT_TRUE(this->store().DropPartition(1).ok());
  this->Reopen();
  EXPECT_TRUE(IsEmpty(View(this->store(), 1)));
  EXPECT_TRUE(Snapshot(this->store(), 1).empty());
  EXPECT_EQ(this->Checkpoint(1), std::nullopt);
  EXPECT_EQ(View(this->store(), 256), kept256);
  EXPECT_EQ(View(this->store(), 0), kept0);
  EXPECT_EQ(this->Checkpoint(256), kCheckpoint);
  EXPECT_EQ(this->store().LoadParked(10)->size(), 1U);
  EXPECT_EQ(this->store().NextOutboxSeq(), 11U);

  // The partition can come back, and its timers are due again from the start of its range.
  const Timer early = MakeTimer(kT0 - 100, 1, "W001");
  ASSERT_TRUE(this->store()
                  .ApplyChanges(1, {{Family::kTimers, layout::TimerKeyBytes(early), std::string()}}, kCheckpoint)
                  .ok());
  EXPECT_EQ(*this->store().LoadDueTimers(1, ProcessingTime{kT0}, 10), (std::vector<Timer>{early}));
  EXPECT_EQ(this->store().DropPartition(-1).code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(ChangelogStoreTest, ReadChangeReturnsTheStoredBytes) {
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{Key(3, "W001"), FullState()}}}).ok());
  EXPECT_EQ(*this->store().ReadChange(Family::kWorkers, layout::WorkerKeyBytes(Key(3, "W001"))),
            *EncodeWorkerHead(FullState()));
  EXPECT_EQ(*this->store().ReadChange(Family::kWorkers, layout::WorkerKeyBytes(Key(3, "W404"))), std::nullopt);
  // The memory store keeps no schema version; RocksDB's is the one this build writes.
  const std::optional<std::string> version = std::is_same_v<TypeParam, testing_support::MemoryImpl>
                                                 ? std::nullopt
                                                 : std::optional<std::string>(std::to_string(layout::kSchemaVersion));
  EXPECT_EQ(*this->store().ReadChange(Family::kMeta, layout::kSchemaVersionKey), version);
  EXPECT_EQ(this->store().ReadChange(static_cast<Family>(7), "k").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- RocksDB only -------------------------------------------------------------------------------

// A version-`version` store's outbox and parked entries, written as that build wrote them: keyed by
// the 8-byte seq alone.
void WriteOldOutbox(const std::string& path, const std::string& version) {
  for (const OutboxEntry& entry : {Entry(3, 2), Entry(5, 0), Entry(8, 2)}) {
    v1::OutboxRecord record;
    record.set_topic(entry.topic);
    record.set_key(entry.key);
    record.set_value(entry.value);
    record.set_source_partition(entry.source_partition);
    testing_support::RawPut(path, Family::kOutbox, layout::SeqKeyBytes(entry.seq), record.SerializeAsString());
  }
  v1::ParkedRecord parked;
  parked.mutable_record()->set_topic("referrals");
  parked.mutable_record()->set_source_partition(1);
  parked.set_reason("too large");
  parked.set_parked_at_ms(77);
  testing_support::RawPut(path, Family::kParked, layout::SeqKeyBytes(9), parked.SerializeAsString());
  testing_support::RawPut(path, Family::kMeta, layout::kOutboxNextSeqKey, layout::SeqKeyBytes(12));
  testing_support::RawPut(path, Family::kMeta, layout::kSchemaVersionKey, version);
}

void SeedOffsets(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Commit(CommitBatch{.next_offsets = {{{"readings", 1}, 42}}}).ok());
}

TEST(ChangelogMigrationTest, VersionOneAndTwoStoresAreMigratedToOutboxIdsWithEpochZero) {
  for (const std::string version : {"2", "1"}) {
    SCOPED_TRACE("version " + version);
    TempDir dir;
    const std::string path = dir.Sub("db");
    SeedOffsets(path);
    WriteOldOutbox(path, version);
    const Timer timer = MakeTimer(kT0, 3, "W3");
    if (version == "1") {  // and a timer keyed fire time first, as version 1 had it
      const std::string key = layout::TimerKeyBytes(timer);
      testing_support::RawPut(path, Family::kTimers, key.substr(4, 8) + key.substr(0, 4) + key.substr(12), "");
    }

    absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(reader.status().message().find("schema version " + version +
                                             ", written by an older build: start alertd on it once to migrate it "
                                             "to version 5"),
              std::string::npos)
        << reader.status();

    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    const std::vector<OutboxEntry> migrated = {Entry(5, 0), Entry(3, 2), Entry(8, 2)};  // id order
    EXPECT_EQ(*(*store)->LoadOutbox(), migrated);
    EXPECT_EQ(*(*store)->LoadOutbox(2), (std::vector<OutboxEntry>{Entry(3, 2), Entry(8, 2)}));
    absl::StatusOr<std::vector<ParkedEntry>> parked = (*store)->LoadParked(10);
    ASSERT_TRUE(parked.ok()) << parked.status();
    ASSERT_EQ(parked->size(), 1U);
    EXPECT_EQ((*parked)[0].entry.id(), (OutboxId{.partition = 1, .epoch = 0, .seq = 9}));
    EXPECT_EQ((*parked)[0].reason, "too large");
    EXPECT_EQ((*store)->NextOutboxSeq(), 12U);
    EXPECT_EQ(**(*store)->LoadNextOffset({"readings", 1}), 42);
    if (version == "1") {
      EXPECT_EQ(*(*store)->LoadTimers(3), (std::vector<Timer>{timer}));
    }
    // The migrated entries are deleted by their new ids.
    ASSERT_TRUE((*store)->Commit(CommitBatch{.outbox_delete = {migrated[1].id()}}).ok());
    store->reset();

    absl::StatusOr<std::unique_ptr<StateStore>> again = OpenRocksStore({.path = path, .read_only = true});
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*(*again)->LoadOutbox(), (std::vector<OutboxEntry>{Entry(5, 0), Entry(8, 2)}));
    EXPECT_EQ(**(*again)->ReadChange(Family::kMeta, layout::kSchemaVersionKey), "5");
  }
}

TEST(ChangelogMigrationTest, AnEntryTheMigrationCannotPlaceStopsItAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  SeedOffsets(path);
  WriteOldOutbox(path, "2");
  testing_support::RawPut(path, Family::kOutbox, layout::SeqKeyBytes(10), "\xFF not a record");

  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("column family outbox: key \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\n\" "
                                          "holds no readable record; not migrated"),
            std::string::npos)
      << store.status();
  // Still version 2, every old key in place: a fixed record migrates on the next open.
  testing_support::RawPut(path, Family::kOutbox, layout::SeqKeyBytes(10), v1::OutboxRecord().SerializeAsString());
  store = OpenRocksStore({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->LoadOutbox()->size(), 4U);
}

TEST(ChangelogMigrationTest, AReadOnlyStoreRefusesRestoreAndDrop) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  SeedOffsets(path);
  absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->ApplyChanges(1, {}, kCheckpoint).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*reader)->DropPartition(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(**(*reader)->LoadNextOffset({"readings", 1}), 42);
}

}  // namespace
}  // namespace alertd::state
