// StateStore contract tests, run against both the RocksDB store and the in-memory twin, plus
// RocksDB-only tests: reopen, schema version, read-only opens, corrupt records.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alertd_state.pb.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_record.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using testing_support::CountedState;
using testing_support::FullState;
using testing_support::RawPut;
using testing_support::TempDir;

template <typename Impl>
class StateStoreTest : public testing_support::OpenedStore<Impl> {
 protected:
  using testing_support::OpenedStore<Impl>::store;

  std::optional<domain::WorkerState> Load(int32_t partition, const std::string& worker) {
    absl::StatusOr<std::optional<domain::WorkerState>> state = store().LoadWorker(Key(partition, worker));
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : std::nullopt;
  }

  std::optional<int64_t> Offset(const std::string& topic, int32_t partition) {
    absl::StatusOr<std::optional<int64_t>> offset = store().LoadNextOffset({topic, partition});
    EXPECT_TRUE(offset.ok()) << offset.status();
    return offset.ok() ? *offset : std::nullopt;
  }

  std::vector<uint64_t> OutboxSeqs() {
    absl::StatusOr<std::vector<OutboxEntry>> outbox = store().LoadOutbox();
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    std::vector<uint64_t> seqs;
    if (outbox.ok()) {
      for (const OutboxEntry& entry : *outbox) seqs.push_back(entry.seq);
    }
    return seqs;
  }

  std::vector<WorkerKey> Visit(int32_t partition, size_t stop_after = SIZE_MAX) {
    std::vector<WorkerKey> keys;
    absl::Status status = store().ForEachWorker(partition, [&](const WorkerKey& key, const domain::WorkerState&) {
      keys.push_back(key);
      return keys.size() < stop_after;
    });
    EXPECT_TRUE(status.ok()) << status;
    return keys;
  }

  static WorkerKey Key(int32_t partition, const std::string& worker) {
    return WorkerKey{.partition = partition, .worker = domain::WorkerId{worker}};
  }

  std::vector<OutboxId> OutboxIds() {
    absl::StatusOr<std::vector<OutboxEntry>> outbox = store().LoadOutbox();
    EXPECT_TRUE(outbox.ok()) << outbox.status();
    std::vector<OutboxId> ids;
    if (outbox.ok()) {
      for (const OutboxEntry& entry : *outbox) ids.push_back(entry.id());
    }
    return ids;
  }

  // Partition seq % 4 unless given.
  static OutboxEntry Entry(uint64_t seq, int32_t partition = -1, uint32_t epoch = 0) {
    return OutboxEntry{.seq = seq,
                       .topic = "escalations",
                       .key = "W001",
                       .value = std::string("\x0a\x02") + "e" + std::to_string(seq),
                       .source_partition = partition >= 0 ? partition : static_cast<int32_t>(seq % 4),
                       .epoch = epoch};
  }
};

TYPED_TEST_SUITE(StateStoreTest, testing_support::StoreImplementations, testing_support::StoreImplName);

TYPED_TEST(StateStoreTest, MissingThingsLoadAsNothing) {
  EXPECT_EQ(this->Load(0, "W404"), std::nullopt);
  EXPECT_EQ(this->Offset("readings", 0), std::nullopt);
  EXPECT_TRUE(this->OutboxSeqs().empty());
  EXPECT_EQ(this->store().NextOutboxSeq(), 1U);
  EXPECT_TRUE(this->Visit(-1).empty());
}

TYPED_TEST(StateStoreTest, CommitThenLoadEveryField) {
  CommitBatch batch;
  batch.workers.push_back({this->Key(3, "W001"), FullState()});
  ASSERT_TRUE(this->store().Commit(batch).ok());
  EXPECT_EQ(this->Load(3, "W001"), FullState());
  this->Reopen();
  EXPECT_EQ(this->Load(3, "W001"), FullState());
}

TYPED_TEST(StateStoreTest, EmptyAndDefaultPartsStayAsTheyWere) {
  domain::WorkerState no_profile;  // no profile, no newest_bp_at, nothing in the vectors
  domain::WorkerState default_profile;
  default_profile.profile = domain::WorkerProfile{};    // present, though every field is default
  default_profile.newest_bp_at = domain::EventTime{0};  // present, though zero
  CommitBatch batch;
  batch.workers.push_back({this->Key(0, "A"), no_profile});
  batch.workers.push_back({this->Key(0, "B"), default_profile});
  ASSERT_TRUE(this->store().Commit(batch).ok());
  this->Reopen();
  EXPECT_EQ(this->Load(0, "A"), no_profile);
  EXPECT_EQ(this->Load(0, "B"), default_profile);
}

TYPED_TEST(StateStoreTest, DeleteWorker) {
  CommitBatch put;
  put.workers.push_back({this->Key(1, "W001"), CountedState(5)});
  put.workers.push_back({this->Key(1, "W002"), CountedState(6)});
  ASSERT_TRUE(this->store().Commit(put).ok());
  CommitBatch del;
  del.workers.push_back({this->Key(1, "W001"), std::nullopt});
  del.workers.push_back({this->Key(1, "W999"), std::nullopt});  // deleting nothing is fine
  ASSERT_TRUE(this->store().Commit(del).ok());
  this->Reopen();
  EXPECT_EQ(this->Load(1, "W001"), std::nullopt);
  EXPECT_EQ(this->Load(1, "W002"), CountedState(6));
}

TYPED_TEST(StateStoreTest, LaterEntryForTheSameKeyWins) {
  CommitBatch batch;
  batch.workers.push_back({this->Key(0, "W001"), CountedState(1)});
  batch.workers.push_back({this->Key(0, "W001"), CountedState(2)});
  batch.workers.push_back({this->Key(0, "W002"), CountedState(3)});
  batch.workers.push_back({this->Key(0, "W002"), std::nullopt});
  batch.next_offsets.push_back({{"readings", 0}, 10});
  batch.next_offsets.push_back({{"readings", 0}, 11});
  batch.outbox_put.push_back(this->Entry(1));
  batch.outbox_put.push_back(this->Entry(2));
  batch.outbox_delete.push_back(this->Entry(1).id());  // delivered before the commit: put and gone in one batch
  ASSERT_TRUE(this->store().Commit(batch).ok());
  EXPECT_EQ(this->Load(0, "W001"), CountedState(2));
  EXPECT_EQ(this->Load(0, "W002"), std::nullopt);
  EXPECT_EQ(this->Offset("readings", 0), 11);
  EXPECT_EQ(this->OutboxSeqs(), (std::vector<uint64_t>{2}));
  EXPECT_EQ(this->store().NextOutboxSeq(), 3U);
}

TYPED_TEST(StateStoreTest, StreamTimePerPartitionIsKeptApartFromTheOffsets) {
  CommitBatch batch;
  batch.next_offsets = {{{"readings", 0}, 5}};
  batch.stream_times = {{0, 1'700'000'000'000}, {3, 0}};
  ASSERT_TRUE(this->store().Commit(batch).ok());
  CommitBatch later;
  later.stream_times = {{0, 1'700'000'060'000}};
  ASSERT_TRUE(this->store().Commit(later).ok());
  this->Reopen();
  EXPECT_EQ(*this->store().LoadStreamTime(0), 1'700'000'060'000);
  EXPECT_EQ(*this->store().LoadStreamTime(3), 0);
  EXPECT_EQ(*this->store().LoadStreamTime(1), std::nullopt);
  EXPECT_EQ(this->Offset("readings", 0), 5);
  EXPECT_EQ(this->Offset("readings", 3), std::nullopt);

  CommitBatch negative;
  negative.stream_times = {{1, -1}};
  const absl::Status refused = this->store().Commit(negative);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_NE(refused.message().find("stream time -1 is negative"), std::string::npos) << refused;
  EXPECT_EQ(*this->store().LoadStreamTime(1), std::nullopt);
  EXPECT_EQ(this->store().LoadStreamTime(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TYPED_TEST(StateStoreTest, OffsetsPerTopicAndPartition) {
  CommitBatch batch;
  batch.next_offsets = {{{"readings", 0}, 5},
                        {{"readings", 1}, 7},
                        {{"worker-profiles", 0}, 9},
                        {{"readings-x", 0}, 0},
                        {{"readings", 256}, 1LL << 40}};
  ASSERT_TRUE(this->store().Commit(batch).ok());
  CommitBatch later;
  later.next_offsets = {{{"readings", 1}, 8}};
  ASSERT_TRUE(this->store().Commit(later).ok());
  this->Reopen();
  EXPECT_EQ(this->Offset("readings", 0), 5);
  EXPECT_EQ(this->Offset("readings", 1), 8);
  EXPECT_EQ(this->Offset("worker-profiles", 0), 9);
  EXPECT_EQ(this->Offset("readings-x", 0), 0);
  EXPECT_EQ(this->Offset("readings", 256), 1LL << 40);
  EXPECT_EQ(this->Offset("readings", 2), std::nullopt);
  EXPECT_EQ(this->Offset("worker-profiles", 1), std::nullopt);
  EXPECT_EQ(this->Offset("reading", 0), std::nullopt);  // a prefix of a topic is another topic
}

TYPED_TEST(StateStoreTest, OutboxLoadsInIdOrderWholeAndByPartitionAndDeletesById) {
  CommitBatch first;
  for (uint64_t seq = 1; seq <= 3; ++seq) first.outbox_put.push_back(this->Entry(seq));  // partitions 1, 2, 3
  ASSERT_TRUE(this->store().Commit(first).ok());
  CommitBatch second;
  // Big-endian numbers: seq 257 after seq 1, epoch 2 after epoch 1 whatever the seqs, partition 256
  // after partition 3.
  second.outbox_put = {this->Entry(4, 0), this->Entry(256, 0, 2), this->Entry(257, 1), this->Entry(258, 0, 1),
                       this->Entry(260, 256)};
  ASSERT_TRUE(this->store().Commit(second).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 261U);

  const std::vector<OutboxId> in_order = {{0, 0, 4}, {0, 1, 258}, {0, 2, 256}, {1, 0, 1},
                                          {1, 0, 257}, {2, 0, 2}, {3, 0, 3}, {256, 0, 260}};
  EXPECT_EQ(this->OutboxIds(), in_order);
  absl::StatusOr<std::vector<OutboxEntry>> outbox = this->store().LoadOutbox();
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ((*outbox)[2], this->Entry(256, 0, 2));
  EXPECT_EQ((*outbox)[3], this->Entry(1));

  absl::StatusOr<std::vector<OutboxEntry>> zero = this->store().LoadOutbox(0);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(*zero, (std::vector<OutboxEntry>{this->Entry(4, 0), this->Entry(258, 0, 1), this->Entry(256, 0, 2)}));
  EXPECT_EQ(*this->store().LoadOutbox(256), (std::vector<OutboxEntry>{this->Entry(260, 256)}));
  EXPECT_TRUE(this->store().LoadOutbox(5)->empty());
  EXPECT_EQ(this->store().LoadOutbox(-1).status().code(), absl::StatusCode::kInvalidArgument);

  CommitBatch del;
  // The id is the whole key: seq 257 under another partition, or seq 256 under another epoch, is
  // another entry (unknown, so ignored).
  del.outbox_delete = {{2, 0, 2}, {0, 2, 256}, {0, 0, 257}, {1, 1, 257}, {0, 0, 9999}};
  ASSERT_TRUE(this->store().Commit(del).ok());
  this->Reopen();
  EXPECT_EQ(this->OutboxIds(),
            (std::vector<OutboxId>{{0, 0, 4}, {0, 1, 258}, {1, 0, 1}, {1, 0, 257}, {3, 0, 3}, {256, 0, 260}}));
  EXPECT_EQ(this->store().NextOutboxSeq(), 261U);
}

TYPED_TEST(StateStoreTest, NextOutboxSeqSurvivesDeletingEverythingAndReopening) {
  CommitBatch put;
  for (uint64_t seq = 1; seq <= 3; ++seq) put.outbox_put.push_back(this->Entry(seq));
  ASSERT_TRUE(this->store().Commit(put).ok());
  CommitBatch del;
  del.outbox_delete = {this->Entry(1).id(), this->Entry(2).id(), this->Entry(3).id()};
  ASSERT_TRUE(this->store().Commit(del).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 4U);
  this->Reopen();
  EXPECT_TRUE(this->OutboxSeqs().empty());
  EXPECT_EQ(this->store().NextOutboxSeq(), 4U);

  CommitBatch reuse;
  reuse.outbox_put.push_back(this->Entry(3));
  EXPECT_EQ(this->store().Commit(reuse).code(), absl::StatusCode::kInvalidArgument);
  CommitBatch next;
  next.outbox_put.push_back(this->Entry(this->store().NextOutboxSeq()));
  ASSERT_TRUE(this->store().Commit(next).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 5U);
}

TYPED_TEST(StateStoreTest, ParkingMovesOutputOutOfTheOutboxForGood) {
  CommitBatch put;
  for (uint64_t seq = 1; seq <= 3; ++seq) put.outbox_put.push_back(this->Entry(seq));
  ASSERT_TRUE(this->store().Commit(put).ok());
  // Seq 2 refused by the broker; seq 4 parked before it reached the outbox, with seq 5 after it.
  CommitBatch park;
  park.outbox_put.push_back(this->Entry(5));
  park.parked_put.push_back({this->Entry(2), "broker refused it: Message size too large", 1234});
  park.parked_put.push_back({this->Entry(6), "900001 bytes, more than a broker accepts", 1235});
  ASSERT_TRUE(this->store().Commit(park).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 7U);
  this->Reopen();
  EXPECT_EQ(this->OutboxIds(), (std::vector<OutboxId>{this->Entry(1).id(), this->Entry(5).id(), this->Entry(3).id()}));
  absl::StatusOr<std::vector<ParkedEntry>> parked = this->store().LoadParked(10);
  ASSERT_TRUE(parked.ok()) << parked.status();
  ASSERT_EQ(parked->size(), 2U);
  EXPECT_EQ((*parked)[0], (ParkedEntry{this->Entry(2), "broker refused it: Message size too large", 1234}));
  EXPECT_EQ((*parked)[1].entry, this->Entry(6));
  EXPECT_EQ(this->store().LoadParked(1)->size(), 1U);
  EXPECT_EQ(this->store().NextOutboxSeq(), 7U);
}

TYPED_TEST(StateStoreTest, OutboxSeqsMustAscendFromNextOutboxSeq) {
  const std::vector<std::vector<uint64_t>> refused = {{0}, {5, 5}, {6, 5}, {UINT64_MAX}};
  for (const std::vector<uint64_t>& seqs : refused) {
    CommitBatch batch;
    batch.workers.push_back({this->Key(0, "W001"), CountedState(1)});
    for (uint64_t seq : seqs) batch.outbox_put.push_back(this->Entry(seq));
    const absl::Status status = this->store().Commit(batch);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << testing::PrintToString(seqs);
    EXPECT_NE(status.message().find("column family outbox: cannot store outbox entry partition"), std::string::npos)
        << status;
  }
  EXPECT_EQ(this->Load(0, "W001"), std::nullopt);
  EXPECT_TRUE(this->OutboxSeqs().empty());
  EXPECT_EQ(this->store().NextOutboxSeq(), 1U);

  CommitBatch gap;  // gaps are fine: seqs only need to ascend
  gap.outbox_put = {this->Entry(7), this->Entry(9)};
  ASSERT_TRUE(this->store().Commit(gap).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 10U);
}

TYPED_TEST(StateStoreTest, ForEachWorkerByPartitionAndAll) {
  CommitBatch batch;
  // Partition 256 sorts after 2 only with big-endian keys; ids sort bytewise within a partition.
  for (const auto& [partition, worker] : std::vector<std::pair<int32_t, std::string>>{
           {2, "W2"}, {256, "W1"}, {0, "W3"}, {2, "W10"}, {0, "W1"}, {1, "W1"}}) {
    batch.workers.push_back({this->Key(partition, worker), CountedState(static_cast<uint64_t>(partition))});
  }
  ASSERT_TRUE(this->store().Commit(batch).ok());

  using Keys = std::vector<WorkerKey>;
  EXPECT_EQ(this->Visit(2), (Keys{this->Key(2, "W10"), this->Key(2, "W2")}));
  EXPECT_EQ(this->Visit(256), (Keys{this->Key(256, "W1")}));
  EXPECT_EQ(this->Visit(3), Keys{});
  EXPECT_EQ(this->Visit(-1), (Keys{this->Key(0, "W1"), this->Key(0, "W3"), this->Key(1, "W1"), this->Key(2, "W10"),
                                   this->Key(2, "W2"), this->Key(256, "W1")}));
  EXPECT_EQ(this->Visit(-1, /*stop_after=*/2), (Keys{this->Key(0, "W1"), this->Key(0, "W3")}));
  EXPECT_EQ(this->Visit(2, /*stop_after=*/1), (Keys{this->Key(2, "W10")}));

  // The visitor sees the stored state.
  std::vector<uint64_t> counts;
  ASSERT_TRUE(this->store()
                  .ForEachWorker(256,
                                 [&](const WorkerKey&, const domain::WorkerState& state) {
                                   counts.push_back(state.readings_accepted);
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(counts, (std::vector<uint64_t>{256}));
}

TYPED_TEST(StateStoreTest, ForEachWorkerAfterResumesAPartitionPastAWorkerId) {
  CommitBatch batch;
  for (const auto& [partition, worker] : std::vector<std::pair<int32_t, std::string>>{
           {2, "W2"}, {2, "W10"}, {2, "W1"}, {2, "W1\x01"}, {3, "W0"}, {1, "W9"}, {256, "W1"}}) {
    batch.workers.push_back({this->Key(partition, worker), CountedState(static_cast<uint64_t>(partition))});
  }
  ASSERT_TRUE(this->store().Commit(batch).ok());
  using Keys = std::vector<WorkerKey>;
  const auto after = [&](int32_t partition, const std::string& worker, size_t stop_after = SIZE_MAX) {
    Keys keys;
    absl::Status status = this->store().ForEachWorkerAfter(partition, worker, [&](const WorkerKey& key,
                                                                                  const domain::WorkerState&) {
      keys.push_back(key);
      return keys.size() < stop_after;
    });
    EXPECT_TRUE(status.ok()) << status;
    return keys;
  };
  // Bytewise after the id, never the id itself, never another partition.
  EXPECT_EQ(after(2, ""), (Keys{this->Key(2, "W1"), this->Key(2, "W1\x01"), this->Key(2, "W10"), this->Key(2, "W2")}));
  EXPECT_EQ(after(2, "W1"), (Keys{this->Key(2, "W1\x01"), this->Key(2, "W10"), this->Key(2, "W2")}));
  EXPECT_EQ(after(2, "W1\x01"), (Keys{this->Key(2, "W10"), this->Key(2, "W2")}));
  EXPECT_EQ(after(2, "W100"), (Keys{this->Key(2, "W2")}));  // not stored itself
  EXPECT_EQ(after(2, "W2"), Keys{});
  EXPECT_EQ(after(1, "W9"), Keys{});
  EXPECT_EQ(after(256, ""), (Keys{this->Key(256, "W1")}));
  EXPECT_EQ(after(2, "W1", /*stop_after=*/1), (Keys{this->Key(2, "W1\x01")}));
}

TYPED_TEST(StateStoreTest, SameWorkerInTwoPartitionsStaysSeparate) {
  CommitBatch batch;
  batch.workers.push_back({this->Key(0, "W001"), CountedState(10)});
  batch.workers.push_back({this->Key(1, "W001"), CountedState(20)});
  ASSERT_TRUE(this->store().Commit(batch).ok());
  CommitBatch del;
  del.workers.push_back({this->Key(0, "W001"), std::nullopt});
  ASSERT_TRUE(this->store().Commit(del).ok());
  EXPECT_EQ(this->Load(0, "W001"), std::nullopt);
  EXPECT_EQ(this->Load(1, "W001"), CountedState(20));
}

TYPED_TEST(StateStoreTest, WorkerIdsAreBytes) {
  const std::string ids[] = {std::string("\0\x01", 2), "\xFF\xFF", "李", std::string(300, 'x')};
  CommitBatch batch;
  for (const std::string& id : ids) batch.workers.push_back({this->Key(7, id), CountedState(id.size())});
  ASSERT_TRUE(this->store().Commit(batch).ok());
  this->Reopen();
  for (const std::string& id : ids) EXPECT_EQ(this->Load(7, id), CountedState(id.size()));
  EXPECT_EQ(this->Visit(7).size(), std::size(ids));
}

TYPED_TEST(StateStoreTest, EmptyBatchIsANoOp) {
  EXPECT_TRUE(CommitBatch().empty());
  ASSERT_TRUE(this->store().Commit(CommitBatch()).ok());
  EXPECT_EQ(this->store().NextOutboxSeq(), 1U);
}

TYPED_TEST(StateStoreTest, RefusedBatchWritesNothing) {
  // Each batch is valid except for its last entry; nothing of it may become visible.
  struct Case {
    std::string name;
    std::function<void(CommitBatch&)> spoil;
    std::string message;  // part of the expected error
  };
  const std::vector<Case> cases = {
      {"negative partition",
       [this](CommitBatch& b) {
         b.workers.push_back({this->Key(-1, "W9"), CountedState(1)});
       },
       "partition is negative"},
      {"empty worker id",
       [this](CommitBatch& b) {
         b.workers.push_back({this->Key(0, ""), CountedState(1)});
       },
       "worker id is empty"},
      {"non-UTF-8 station",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.bp_window[2].station_id = "\xFF";
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "column family workers: cannot store partition 4 worker W9: bp_window[2].station_id is not valid UTF-8"},
      {"non-UTF-8 profile name",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.profile->policy.extra_recipients[0].name = "\xC0\xAF";
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "profile.policy.extra_recipients[0].name is not valid UTF-8"},
      {"non-UTF-8 name of someone told",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.open[2].history[1].recipients[0].name = "\xED\xA0\x80";
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "open[2].history[1].recipients[0].name is not valid UTF-8"},
      {"negative pressure",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.open[0].evidence[1].diastolic_mmhg = -1;
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "open[0].evidence[1].diastolic_mmhg is -1"},
      {"enum out of range",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.open[1].rule = static_cast<domain::Rule>(0);
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "open[1].rule holds 0"},
      {"unknown post",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.profile->high_risk_posts.push_back(static_cast<domain::HighRiskPost>(9));
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "profile.high_risk_posts[5] holds 9"},
      {"negative policy number",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.profile->policy.self_test_interval_days = -7;
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "profile.policy.self_test_interval_days is -7"},
      {"negative ack timeout override",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.profile->policy.ack_timeout_minutes = -3;
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "profile.policy.ack_timeout_minutes is -3"},
      {"glucose timing out of range",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.glucose_window[1].timing = static_cast<domain::GlucoseTiming>(7);
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "glucose_window[1].timing holds 7"},
      {"non-UTF-8 glucose evidence device",
       [this](CommitBatch& b) {
         domain::WorkerState state = FullState();
         state.open[1].glucose_evidence[0].device_id = "\xFF";
         b.workers.push_back({this->Key(4, "W9"), state});
       },
       "open[1].glucose_evidence[0].device_id is not valid UTF-8"},
      {"empty topic",
       [](CommitBatch& b) {
         b.next_offsets.push_back({{"", 0}, 1});
       },
       "topic is empty"},
      {"NUL in topic",
       [](CommitBatch& b) {
         b.next_offsets.push_back({{std::string("a\0b", 3), 0}, 1});
       },
       "NUL byte"},
      {"negative offset partition",
       [](CommitBatch& b) {
         b.next_offsets.push_back({{"readings", -2}, 1});
       },
       "partition is negative"},
      {"negative offset",
       [](CommitBatch& b) {
         b.next_offsets.push_back({{"readings", 2}, -1});
       },
       "next offset -1 is negative"},
      {"non-UTF-8 outbox topic",
       [this](CommitBatch& b) {
         OutboxEntry entry = this->Entry(50);
         entry.topic = "\xFF";
         b.outbox_put.push_back(entry);
       },
       "outbox entry partition 2 epoch 0 seq 50: topic is not valid UTF-8"},
      {"negative outbox partition",
       [this](CommitBatch& b) {
         b.outbox_put.push_back(this->Entry(50, 0));
         b.outbox_put.back().source_partition = -3;
       },
       "outbox entry partition -3 epoch 0 seq 50: source partition is negative"},
      {"negative partition of an outbox deletion",
       [](CommitBatch& b) {
         b.outbox_delete.push_back({.partition = -1, .epoch = 0, .seq = 1});
       },
       "deletion of outbox entry partition -1 epoch 0 seq 1: partition is negative"},
      {"negative partition of a parked entry",
       [this](CommitBatch& b) {
         b.parked_put.push_back({this->Entry(60, 0), "refused", 1});
         b.parked_put.back().entry.source_partition = -2;
       },
       "column family parked: cannot store parked entry partition -2 epoch 0 seq 60: source partition is negative"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CommitBatch batch;
    batch.workers.push_back({this->Key(0, "W001"), FullState()});
    batch.next_offsets.push_back({{"readings", 0}, 42});
    batch.outbox_put.push_back(this->Entry(1));
    c.spoil(batch);
    const absl::Status status = this->store().Commit(batch);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status;
    EXPECT_EQ(status.message().find("state store "), 0U) << status;
    EXPECT_EQ(this->Load(0, "W001"), std::nullopt);
    EXPECT_EQ(this->Offset("readings", 0), std::nullopt);
    EXPECT_TRUE(this->OutboxSeqs().empty());
    EXPECT_EQ(this->store().NextOutboxSeq(), 1U);
  }
}

TYPED_TEST(StateStoreTest, InvalidKeysAreRefusedOnLoad) {
  EXPECT_EQ(this->store().LoadWorker(this->Key(-1, "W001")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().LoadWorker(this->Key(0, "")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().LoadNextOffset({"", 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store().LoadNextOffset({"readings", -1}).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- RocksDB only -----------------------------------------------------------------------------

class RocksStoreTest : public ::testing::Test {
 protected:
  StoreOptions Options(bool read_only = false) const {
    return StoreOptions{.path = dir_.Sub("db"), .sync_commits = true, .read_only = read_only};
  }
  std::unique_ptr<StateStore> MustOpen(bool read_only = false) {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore(Options(read_only));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  void Seed() {
    std::unique_ptr<StateStore> store = MustOpen();
    ASSERT_NE(store, nullptr);
    CommitBatch batch;
    batch.workers.push_back({{3, domain::WorkerId{"W001"}}, FullState()});
    batch.next_offsets.push_back({{"readings", 3}, 77});
    batch.outbox_put.push_back({.seq = 1, .topic = "escalations", .key = "W001", .value = "v", .source_partition = 3});
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  void ExpectSeeded(StateStore& store) {
    absl::StatusOr<std::optional<domain::WorkerState>> state = store.LoadWorker({3, domain::WorkerId{"W001"}});
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(*state, FullState());
    EXPECT_EQ(*store.LoadNextOffset({"readings", 3}), 77);
    EXPECT_EQ(store.LoadOutbox()->size(), 1U);
    EXPECT_EQ(store.NextOutboxSeq(), 2U);
  }

  TempDir dir_;
};

TEST_F(RocksStoreTest, ReopenFindsEverything) {
  Seed();
  std::unique_ptr<StateStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  ExpectSeeded(*store);
}

TEST_F(RocksStoreTest, SecondWriterIsRefusedWhileTheFirstIsOpen) {
  std::unique_ptr<StateStore> first = MustOpen();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<StateStore>> second = OpenRocksStore(Options());
  EXPECT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(Options().path), std::string::npos) << second.status();
}

TEST_F(RocksStoreTest, SchemaVersionMismatchIsAClearError) {
  Seed();
  RawPut(Options().path, layout::Family::kMeta, layout::kSchemaVersionKey, "6");
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("state store " + Options().path + ": schema version \"6\""),
            std::string::npos)
      << store.status();
  EXPECT_NE(store.status().message().find("reads version 5"), std::string::npos) << store.status();
  EXPECT_EQ(OpenRocksStore(Options(/*read_only=*/true)).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksStoreTest, ReadOnlyOpenOfAStoppedStore) {
  Seed();
  std::unique_ptr<StateStore> reader = MustOpen(/*read_only=*/true);
  ASSERT_NE(reader, nullptr);
  ExpectSeeded(*reader);
  size_t workers = 0;
  ASSERT_TRUE(
      reader->ForEachWorker(-1, [&](const WorkerKey&, const domain::WorkerState&) { return ++workers > 0; }).ok());
  EXPECT_EQ(workers, 1U);

  CommitBatch batch;
  batch.next_offsets.push_back({{"readings", 3}, 78});
  const absl::Status status = reader->Commit(batch);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_NE(status.message().find("read-only"), std::string::npos) << status;

  // Readers take no lock: a second reader and the daemon itself can open alongside.
  std::unique_ptr<StateStore> second_reader = MustOpen(/*read_only=*/true);
  ASSERT_NE(second_reader, nullptr);
  std::unique_ptr<StateStore> writer = MustOpen();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Commit(batch).ok());
}

TEST_F(RocksStoreTest, ReadOnlyOpenWhileTheWriterIsIdle) {
  Seed();
  std::unique_ptr<StateStore> writer = MustOpen();
  ASSERT_NE(writer, nullptr);
  CommitBatch batch;
  batch.next_offsets.push_back({{"readings", 3}, 80});
  ASSERT_TRUE(writer->Commit(batch).ok());
  // Nothing is writing now; a reader sees every commit so far, including the unflushed one.
  std::unique_ptr<StateStore> reader = MustOpen(/*read_only=*/true);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(*reader->LoadNextOffset({"readings", 3}), 80);
}

TEST_F(RocksStoreTest, ReadOnlyOpenDoesNotCreateAStore) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore(Options(/*read_only=*/true));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound) << store.status();
  EXPECT_FALSE(std::filesystem::exists(Options().path));
}

TEST_F(RocksStoreTest, MissingParentDirectoriesAreCreated) {
  const std::string nested = dir_.Sub("var/lib/alertd/state");
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore(StoreOptions{.path = nested});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(std::filesystem::exists(nested + "/CURRENT"));
}

TEST_F(RocksStoreTest, EmptyPathIsRefused) {
  EXPECT_EQ(OpenRocksStore(StoreOptions{}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksStoreTest, CorruptWorkerRecordNamesPathFamilyAndKey) {
  Seed();
  const std::string key = layout::WorkerKeyBytes({3, domain::WorkerId{"W002"}});
  RawPut(Options().path, layout::Family::kWorkers, key, "\xFF\xFF\xFF not a record");
  std::unique_ptr<StateStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  const std::string expected =
      "state store " + Options().path + ": column family workers: corrupt record for partition 3 worker W002: ";

  const absl::Status load = store->LoadWorker({3, domain::WorkerId{"W002"}}).status();
  EXPECT_EQ(load.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(load.message().find(expected), 0U) << load;

  const absl::Status scan = store->ForEachWorker(3, [](const WorkerKey&, const domain::WorkerState&) { return true; });
  EXPECT_EQ(scan.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(scan.message().find(expected), 0U) << scan;

  // The healthy neighbour is still readable.
  EXPECT_TRUE(store->LoadWorker({3, domain::WorkerId{"W001"}}).ok());
}

// A record from a newer build whose glucose readings use an enum value this build cannot name is
// refused with the field, not loaded with a guessed timing.
TEST_F(RocksStoreTest, UnknownGlucoseEnumsInARecordAreDataLoss) {
  Seed();
  struct Case {
    std::string name;
    std::function<void(v1::WorkerStateRecord&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"window timing",
       [](v1::WorkerStateRecord& r) {
         r.mutable_glucose_window(2)->set_timing(static_cast<healthgrid::v1::GlucoseTiming>(8));
       },
       "glucose_window[2].timing has unknown value 8"},
      {"window context",
       [](v1::WorkerStateRecord& r) {
         r.mutable_glucose_window(0)->set_context(healthgrid::v1::MEASUREMENT_CONTEXT_UNSPECIFIED);
       },
       "glucose_window[0].context has unknown value 0"},
      {"episode evidence timing",
       [](v1::WorkerStateRecord& r) {
         r.mutable_open(1)->mutable_glucose_evidence(1)->set_timing(healthgrid::v1::GLUCOSE_TIMING_UNSPECIFIED);
       },
       "open[1].glucose_evidence[1].timing has unknown value 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::WorkerStateRecord record;
    ASSERT_TRUE(record.ParseFromString(*EncodeWorkerState(FullState("W002"))));
    c.spoil(record);
    RawPut(Options().path, layout::Family::kWorkers, layout::WorkerKeyBytes({3, domain::WorkerId{"W002"}}),
           record.SerializeAsString());
    std::unique_ptr<StateStore> store = MustOpen();
    ASSERT_NE(store, nullptr);
    const absl::Status load = store->LoadWorker({3, domain::WorkerId{"W002"}}).status();
    EXPECT_EQ(load.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(load.message().find(c.message), std::string::npos) << load;
  }
}

TEST_F(RocksStoreTest, CorruptOffsetAndOutboxRecordsAreDataLoss) {
  Seed();
  RawPut(Options().path, layout::Family::kOffsets, layout::OffsetKeyBytes({"readings", 3}), "short");
  RawPut(Options().path, layout::Family::kOutbox, layout::OutboxKeyBytes({3, 0, 1}), "\xFF");
  std::unique_ptr<StateStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  const absl::Status offset = store->LoadNextOffset({"readings", 3}).status();
  EXPECT_EQ(offset.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(offset.message().find("column family offsets: corrupt record for topic readings partition 3"),
            std::string::npos)
      << offset;
  const absl::Status outbox = store->LoadOutbox().status();
  EXPECT_EQ(outbox.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(outbox.message().find("column family outbox: corrupt record for partition 3 epoch 0 seq 1"),
            std::string::npos)
      << outbox;
}

TEST_F(RocksStoreTest, FamiliesOfANewerBuildDoNotStopTheOpen) {
  Seed();
  {
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {{rocksdb::kDefaultColumnFamilyName, {}}};
    for (layout::Family f : layout::kFamilies)
      descriptors.emplace_back(layout::Name(f), rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), Options().path, descriptors, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* newer = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "escalation_index", &newer).ok());
    handles.push_back(newer);
    for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }
  std::unique_ptr<StateStore> store = MustOpen();
  ASSERT_NE(store, nullptr);
  ExpectSeeded(*store);
}

}  // namespace
}  // namespace alertd::state
