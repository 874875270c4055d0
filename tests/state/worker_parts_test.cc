// Schema 4's worker parts: the sample key encoding at its boundaries, the difference a commit writes
// between two windows, what a load makes of parts that disagree with their head, and the 3 -> 4
// migration. The window transitions run on both store implementations.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_parts.h"
#include "engine/state/worker_record.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

using layout::Family;
using layout::PartKey;
using layout::PartKind;
using testing_support::FullState;
using testing_support::GlucoseAt;
using testing_support::RawPut;
using testing_support::Sample;
using testing_support::TempDir;

constexpr int64_t kT0 = 1'717'000'000'000;

WorkerKey Key(int32_t partition, std::string worker) { return {partition, domain::WorkerId{std::move(worker)}}; }

// The stored state, or nullopt with a failure: a test goes on to its other cases.
std::optional<domain::WorkerState> Loaded(StateStore& store, const WorkerKey& key) {
  absl::StatusOr<std::optional<domain::WorkerState>> state = store.LoadWorker(key);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *state : std::nullopt;
}

PartKey BpKey(WorkerKey worker, int64_t at, uint32_t ordinal) {
  return {.worker = std::move(worker), .kind = PartKind::kBpSample, .measured_at = domain::EventTime{at}, .ordinal = ordinal};
}

// --- Keys ---------------------------------------------------------------------------------------

TEST(PartKeyTest, EveryKeyReadsBackAsItself) {
  const std::vector<PartKey> keys = {
      {.worker = Key(0, "W001"), .kind = PartKind::kProfile},
      BpKey(Key(std::numeric_limits<int32_t>::max(), "W001"), kT0, 0),
      BpKey(Key(3, std::string("W\0x", 3)), -1, 7),
      BpKey(Key(3, "\xFF\xFF"), std::numeric_limits<int64_t>::min(), std::numeric_limits<uint32_t>::max()),
      {.worker = Key(3, std::string(1, '\0')), .kind = PartKind::kGlucoseSample,
       .measured_at = domain::EventTime{std::numeric_limits<int64_t>::max()}, .ordinal = 256},
  };
  for (const PartKey& key : keys) {
    const std::string bytes = layout::PartKeyBytes(key);
    SCOPED_TRACE(testing::PrintToString(bytes));
    absl::StatusOr<PartKey> parsed = layout::ParsePartKey("s", bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, key);
    // Every part of a partition shares its prefix, so snapshots, drops and the changelog find it.
    EXPECT_EQ(PartitionOfChange({Family::kSamples, bytes, std::nullopt}), key.worker.partition);
  }
}

// Byte order is window order: the profile first, then blood pressure, then glucose, each by measured_at
// (negative times first) and, at one measured_at, by ordinal.
TEST(PartKeyTest, BytewiseOrderIsTheWindowsOrder) {
  const WorkerKey w = Key(2, "W1");
  const std::vector<std::pair<PartKey, PartKey>> ordered = {
      {{.worker = w, .kind = PartKind::kProfile}, BpKey(w, std::numeric_limits<int64_t>::min(), 0)},
      {BpKey(w, -1, 0), BpKey(w, 0, 0)},
      {BpKey(w, std::numeric_limits<int64_t>::min(), 9), BpKey(w, -1, 0)},
      {BpKey(w, kT0, 0), BpKey(w, kT0, 1)},
      {BpKey(w, kT0, 255), BpKey(w, kT0, 256)},
      {BpKey(w, kT0, std::numeric_limits<uint32_t>::max()), BpKey(w, kT0 + 1, 0)},
      {BpKey(w, std::numeric_limits<int64_t>::max(), 0),
       {.worker = w, .kind = PartKind::kGlucoseSample, .measured_at = domain::EventTime{std::numeric_limits<int64_t>::min()}}},
  };
  for (const auto& [low, high] : ordered) {
    EXPECT_LT(layout::PartKeyBytes(low), layout::PartKeyBytes(high))
        << testing::PrintToString(layout::PartKeyBytes(low)) << " vs " << testing::PrintToString(layout::PartKeyBytes(high));
  }
}

// Ids that are prefixes of each other, or hold NUL and 0xFF: no worker's part falls in another's range.
TEST(PartKeyTest, AWorkersPartsAreOneRangeNoOtherWorkerEnters) {
  const std::vector<std::string> ids = {"W", std::string("W\0", 2), "W\xFF", std::string("W\0\0", 3), "WW",
                                        std::string(1, '\0'), "\xFF"};
  for (const std::string& a : ids) {
    const std::string prefix = layout::WorkerPartsPrefix(Key(5, a));
    const std::string end = layout::PrefixSuccessor(prefix);
    for (const std::string& b : ids) {
      for (const PartKey& part : {PartKey{.worker = Key(5, b), .kind = PartKind::kProfile}, BpKey(Key(5, b), -5, 0),
                                  BpKey(Key(5, b), kT0, std::numeric_limits<uint32_t>::max())}) {
        const std::string key = layout::PartKeyBytes(part);
        const bool inside = key >= prefix && key < end;
        EXPECT_EQ(inside, a == b) << testing::PrintToString(a) << " range, part of " << testing::PrintToString(b);
      }
    }
  }
}

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

TEST(PartKeyTest, MalformedKeysAreDataLossNamingStoreFamilyAndKey) {
  const std::string sample = layout::PartKeyBytes(BpKey(Key(1, "W"), kT0, 0));
  const struct {
    std::string name, key, says;
  } cases[] = {
      {"empty", "", "shorter than a partition"},
      {"no kind byte after the id", Bytes({0, 0, 0, 1, 0, 0, 0, 1, 'W'}), "the worker id runs past the key"},
      {"negative partition", Bytes({0x80, 0, 0, 0, 0, 0, 0, 1, 'W', 0}), "negative partition"},
      {"empty worker id", Bytes({0, 0, 0, 1, 0, 0, 0, 0, 0}), "empty worker id"},
      {"id past the key", Bytes({0, 0, 0, 1, 0, 0, 0, 9, 'W', 0}), "runs past the key"},
      {"unknown kind", Bytes({0, 0, 0, 1, 0, 0, 0, 1, 'W', 3}), "unknown part kind 3"},
      {"profile with a tail", Bytes({0, 0, 0, 1, 0, 0, 0, 1, 'W', 0, 0}), "1 bytes after a profile's kind"},
      {"sample short a byte", sample.substr(0, sample.size() - 1), "11 bytes after a sample's kind"},
      {"sample with a tail", sample + "x", "13 bytes after a sample's kind"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = layout::ParsePartKey("s", c.key).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(status.message().find("state store s: column family samples: corrupt record for key \""), 0U) << status;
    EXPECT_NE(status.message().find(c.says), std::string::npos) << status;
  }
}

// --- The difference a commit writes -------------------------------------------------------------

domain::WorkerState WithWindow(std::vector<domain::BpSample> window) {
  domain::WorkerState state;
  state.readings_accepted = window.size();
  state.bp_window = std::move(window);
  return state;
}

domain::BpSample At(int64_t offset_ms, int systolic) {
  return Sample(kT0 + offset_ms, systolic, 80, domain::BpCategory::kHighNormal);
}

domain::BpSample WithDevice(domain::BpSample sample, const char* device) {
  sample.device_id = device;
  return sample;
}

struct Transition {
  std::string name;
  std::vector<domain::BpSample> before, after;
  size_t sample_puts, sample_deletes;  // writes to samples besides the head
};

template <typename Impl>
class WorkerPartsStoreTest : public testing_support::OpenedStore<Impl> {};
TYPED_TEST_SUITE(WorkerPartsStoreTest, testing_support::StoreImplementations, testing_support::StoreImplName);

const std::vector<Transition>& Transitions() {
  static const std::vector<Transition> transitions = {
      {"a newer sample", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121), At(20, 122)}, 1, 0},
      {"a late sample between two", {At(0, 120), At(20, 122)}, {At(0, 120), At(10, 121), At(20, 122)}, 1, 0},
      {"the oldest evicted and a newer one", {At(0, 120), At(10, 121)}, {At(10, 121), At(20, 122)}, 1, 1},
      {"a second sample at the newest time", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121), At(10, 130)}, 1, 0},
      {"a third at a time two share", {At(10, 121), At(10, 130)}, {At(10, 121), At(10, 130), At(10, 140)}, 1, 0},
      // Evicting the first of an equal-time group moves the others down an ordinal: the group is
      // rewritten, the last key deleted.
      {"the first of an equal-time group evicted",
       {At(0, 120), At(0, 130), At(0, 140), At(10, 150)}, {At(0, 130), At(0, 140), At(10, 150)}, 2, 1},
      {"a whole equal-time group evicted", {At(0, 120), At(0, 130), At(10, 150)}, {At(10, 150)}, 0, 2},
      {"negative times", {At(-kT0 - 20, 120), At(-kT0 - 10, 121)}, {At(-kT0 - 10, 121), At(-kT0, 122)}, 1, 1},
      {"nothing changes", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121)}, 0, 0},
      {"one sample's device id alone changes", {At(0, 120), At(10, 121), At(20, 122)},
       {At(0, 120), WithDevice(At(10, 121), "BP-OTHER"), At(20, 122)}, 1, 0},
      {"the window emptied", {At(0, 120), At(10, 121)}, {}, 0, 2},
      {"from no window", {}, {At(0, 120), At(0, 121)}, 2, 0},
  };
  return transitions;
}

// What matters is the state read back; the counts show that only the difference was written.
TYPED_TEST(WorkerPartsStoreTest, EachWindowTransitionWritesItsDifferenceAndReadsBackExactly) {
  int32_t partition = 0;
  for (const Transition& t : Transitions()) {
    SCOPED_TRACE(t.name);
    const WorkerKey key = Key(++partition, std::string("W\0\xFF", 3));
    const domain::WorkerState before = WithWindow(t.before);
    ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, before}}}).ok());
    domain::WorkerState after = WithWindow(t.after);
    after.readings_accepted = before.readings_accepted + 1;
    std::vector<Change> seen;
    const absl::Status status = this->store().Commit(
        CommitBatch{.workers = {{key, after}}, .workers_before = {{.known = true, .image = WorkerImage(before)}}},
        [&](const std::vector<Change>& changes) -> absl::StatusOr<std::vector<std::pair<int32_t, ChangelogCheckpoint>>> {
          seen = changes;
          return std::vector<std::pair<int32_t, ChangelogCheckpoint>>{};
        });
    ASSERT_TRUE(status.ok()) << status;
    size_t puts = 0, deletes = 0, heads = 0;
    for (const Change& change : seen) {
      if (change.family == Family::kWorkers) ++heads;
      if (change.family == Family::kSamples) (change.value ? puts : deletes) += 1;
    }
    EXPECT_EQ(heads, 1U);
    EXPECT_EQ(puts, t.sample_puts);
    EXPECT_EQ(deletes, t.sample_deletes);
    EXPECT_EQ(Loaded(this->store(), key), after);
    // And without the caller's `before`, the store reads its own and writes the same.
    ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, before}}}).ok());
    std::vector<Change> read_seen;
    ASSERT_TRUE(this->store()
                    .Commit(CommitBatch{.workers = {{key, after}}},
                            [&](const std::vector<Change>& changes)
                                -> absl::StatusOr<std::vector<std::pair<int32_t, ChangelogCheckpoint>>> {
                              read_seen = changes;
                              return std::vector<std::pair<int32_t, ChangelogCheckpoint>>{};
                            })
                    .ok());
    EXPECT_EQ(read_seen, seen);
  }
}

TYPED_TEST(WorkerPartsStoreTest, AWorkerTwiceInABatchIsComparedWithItsEarlierEntry) {
  const WorkerKey key = Key(1, "W1");
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, WithWindow({At(0, 120)})}}}).ok());
  CommitBatch batch{.workers = {{key, WithWindow({At(0, 120), At(10, 121)})}, {key, WithWindow({At(10, 121)})}},
                    .workers_before = {{.known = true, .image = WorkerImage(WithWindow({At(0, 120)}))},
                                       {.known = true, .image = WorkerImage(WithWindow({At(0, 120)}))}}};
  ASSERT_TRUE(this->store().Commit(batch).ok());
  EXPECT_EQ(Loaded(this->store(), key), WithWindow({At(10, 121)}));
  // A deleted worker leaves no part behind: the same id comes back empty.
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, std::nullopt}}}).ok());
  EXPECT_EQ(Loaded(this->store(), key), std::nullopt);
  domain::WorkerState fresh;
  fresh.readings_accepted = 1;
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, fresh}}}).ok());
  EXPECT_EQ(Loaded(this->store(), key), fresh);
}

TYPED_TEST(WorkerPartsStoreTest, AWindowOutOfOrderOrABeforeOfTheWrongSizeIsRefused) {
  const absl::Status unordered =
      this->store().Commit(CommitBatch{.workers = {{Key(1, "W1"), WithWindow({At(10, 120), At(0, 121)})}}});
  EXPECT_EQ(unordered.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unordered.message().find("bp_window[1] is measured before bp_window[0]"), std::string::npos) << unordered;
  const absl::Status sizes = this->store().Commit(CommitBatch{
      .workers = {{Key(1, "W1"), WithWindow({})}}, .workers_before = {{}, {}}});
  EXPECT_EQ(sizes.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(sizes.message().find("1 workers but 2 states before them"), std::string::npos) << sizes;
  EXPECT_EQ(Loaded(this->store(), Key(1, "W1")), std::nullopt);
}

// --- Parts that disagree with their head (RocksDB: raw writes) -----------------------------------

TEST(WorkerPartsCorruptionTest, PartsThatDisagreeWithTheHeadAreDataLossNamingStoreAndKey) {
  const WorkerKey key = Key(3, "W002");
  const domain::WorkerState full = FullState("W002");
  const std::string second_bp = layout::PartKeyBytes(BpKey(key, full.bp_window[1].measured_at.ms, 0));
  const struct {
    std::string name;
    std::string key, value;
    bool erase;
    std::string says;
  } cases[] = {
      {"a sample that is no record", second_bp, "\xFF\xFF", false, "not an EvidenceReading"},
      {"an unknown category",
       second_bp, Bytes({0x28, 9}), false, "sample.category has unknown value 9"},
      {"a sample left behind", layout::PartKeyBytes(BpKey(key, kT0 + 1, 0)), *EncodeBpSample(full.bp_window[0], 0),
       false, "the head counts 1 profile, 5 blood-pressure and 4 glucose samples; stored are 1, 6 and 4"},
      {"a sample missing", second_bp, "", true, "stored are 1, 4 and 4"},
      {"an ordinal gap", layout::PartKeyBytes(BpKey(key, kT0 + 1, 1)),
       *EncodeBpSample(full.bp_window[0], 0), false, "ordinal 1 where 0 belongs"},
      {"a part of another kind", layout::WorkerPartsPrefix(key) + "\x07", "", false, "unknown part kind 7"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    const std::string path = dir.Sub("db");
    {
      absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE((*store)->Commit(CommitBatch{.workers = {{key, full}}}).ok());
      if (c.erase) {
        ASSERT_TRUE((*store)->ApplyChanges(3, {{Family::kSamples, c.key, std::nullopt}}, {}).ok());
      }
    }
    if (!c.erase) RawPut(path, Family::kSamples, c.key, c.value);
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    for (const absl::Status& status :
         {(*store)->LoadWorker(key).status(),
          (*store)->ForEachWorker(3, [](const WorkerKey&, const domain::WorkerState&) { return true; })}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
      EXPECT_EQ(status.message().find("state store " + path + ": column family "), 0U) << status;
      EXPECT_NE(status.message().find(c.says), std::string::npos) << status;
    }
  }
}

TEST(WorkerPartsCorruptionTest, ARestoredPartIsCheckedBeforeAnythingIsWritten) {
  std::unique_ptr<StateStore> store = NewMemoryStore();
  const WorkerKey key = Key(4, "W1");
  const struct {
    std::string name;
    Change change;
    std::string says;
  } cases[] = {
      {"a malformed key", {Family::kSamples, layout::PartitionPrefix(4) + "xx", std::nullopt}, "shorter than"},
      {"another partition", {Family::kSamples, layout::PartKeyBytes(BpKey(Key(5, "W1"), kT0, 0)), "x"}, "of partition 5"},
      {"a profile that is no record", {Family::kSamples, layout::PartKeyBytes({.worker = key}), "\xFF\xFF"},
       "not a WorkerProfile"},
      {"a glucose sample that is no record",
       {Family::kSamples, layout::PartKeyBytes({.worker = key, .kind = PartKind::kGlucoseSample}), "\xFF\xFF"},
       "not an EvidenceGlucose"},
      {"a head that is no record", {Family::kWorkers, layout::WorkerKeyBytes(key), "\xFF\xFF"},
       "not a WorkerStateRecord"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const absl::Status status = store->ApplyChanges(4, {c.change}, {});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find(c.says), std::string::npos) << status;
  }
  EXPECT_EQ(*store->LoadCheckpoint(4), std::nullopt);
}

// A changelog written before schema 4 keeps a worker's whole record until the worker changes again.
TYPED_TEST(WorkerPartsStoreTest, AWholeRecordOfAnOlderChangelogIsRestoredAsItsHeadAndParts) {
  const WorkerKey key = Key(4, "W1");
  const Change offsets{Family::kOffsets, layout::OffsetKeyBytes({"readings", 4}), layout::SeqKeyBytes(7)};
  const Change whole{Family::kWorkers, layout::WorkerKeyBytes(key), *EncodeWorkerState(FullState("W1"))};
  const absl::Status status = this->store().ApplyChanges(4, {offsets, whole, offsets}, {});
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Loaded(this->store(), key), FullState("W1"));
  EXPECT_TRUE(DecodeWorkerHead(**this->store().ReadChange(Family::kWorkers, layout::WorkerKeyBytes(key))).ok());
  EXPECT_EQ(**this->store().LoadNextOffset({"readings", 4}), 7);
  // The next commit compares with the split state like any other.
  domain::WorkerState next = FullState("W1");
  next.bp_window.erase(next.bp_window.begin());
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, next}}}).ok());
  EXPECT_EQ(Loaded(this->store(), key), next);
}

// --- Migration ----------------------------------------------------------------------------------

TEST(WorkerPartsMigrationTest, AVersionThreeStoreIsSplitIntoHeadsAndPartsWhenOpened) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const WorkerKey w1 = Key(2, "W001"), w2 = Key(7, std::string("W\0\xFF", 3));
  domain::WorkerState second = FullState(std::string("W\0\xFF", 3));
  second.bp_window.push_back(second.bp_window.back());  // an equal-time pair
  second.profile.reset();
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->Commit(CommitBatch{.next_offsets = {{{"readings", 2}, 42}}}).ok());
  }
  RawPut(path, Family::kWorkers, layout::WorkerKeyBytes(w1), *EncodeWorkerState(FullState("W001")));
  RawPut(path, Family::kWorkers, layout::WorkerKeyBytes(w2), *EncodeWorkerState(second));
  RawPut(path, Family::kMeta, layout::kSchemaVersionKey, "3");

  absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(reader.status().message().find("schema version 3, written by an older build"), std::string::npos)
      << reader.status();

  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ(Loaded(**store, w1), FullState("W001"));
    EXPECT_EQ(Loaded(**store, w2), second);
    EXPECT_EQ(**(*store)->LoadNextOffset({"readings", 2}), 42);
    // Split for real: the head holds no sample, each sample is a key.
    EXPECT_TRUE(DecodeWorkerHead(**(*store)->ReadChange(Family::kWorkers, layout::WorkerKeyBytes(w2))).ok());
    size_t parts = 0;
    ASSERT_TRUE((*store)
                    ->ForEachChange(7,
                                    [&](const Change& c) {
                                      if (c.family == Family::kSamples) ++parts;
                                      return true;
                                    })
                    .ok());
    EXPECT_EQ(parts, second.bp_window.size() + second.glucose_window.size());
  }
  absl::StatusOr<std::unique_ptr<StateStore>> again = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(**(*again)->ReadChange(Family::kMeta, layout::kSchemaVersionKey), "4");
  EXPECT_EQ(Loaded(**again, w1), FullState("W001"));
}

// Schema 3 wrote a profile's enrolment as `bool active = 12` (absent = left the programme); health.proto
// has replaced it by `enrolment = 14` with enrolled as the default. Hand-made schema-3 bytes: a record
// whose only field is a profile (field 1) of worker "W9" (field 1), with or without active (field 12).
TEST(WorkerPartsMigrationTest, ASchemaThreeProfileKeepsWhetherTheWorkerHadLeft) {
  const std::string enrolled_profile("\x0a\x02W9\x60\x01", 6), left_profile("\x0a\x02W9", 4);
  const std::string enrolled = std::string("\x0a\x06", 2) + enrolled_profile;
  const std::string left = std::string("\x0a\x04", 2) + left_profile;
  absl::StatusOr<domain::WorkerState> a = DecodeWorkerState(enrolled), b = DecodeWorkerState(left);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  ASSERT_TRUE(a->profile && b->profile);
  EXPECT_EQ(a->profile->worker.value, "W9");
  EXPECT_TRUE(a->profile->active);
  EXPECT_FALSE(b->profile->active);
  // And the whole record this build writes for the tests' old stores says it schema 3's way.
  const std::string active_field("\x60\x01", 2);
  EXPECT_NE(EncodeWorkerState(*a)->find(active_field), std::string::npos);
  EXPECT_EQ(EncodeWorkerState(*b)->find(active_field), std::string::npos);
  EXPECT_TRUE(DecodeWorkerState(*EncodeWorkerState(*a))->profile->active);
  EXPECT_FALSE(DecodeWorkerState(*EncodeWorkerState(*b))->profile->active);
}

TEST(WorkerPartsMigrationTest, ARecordTheMigrationCannotReadStopsItAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  { ASSERT_TRUE(OpenRocksStore({.path = path}).ok()); }
  RawPut(path, Family::kWorkers, layout::WorkerKeyBytes(Key(1, "W1")), *EncodeWorkerState(FullState("W1")));
  RawPut(path, Family::kWorkers, layout::WorkerKeyBytes(Key(1, "W2")), "\xFF\xFF not a record");
  RawPut(path, Family::kMeta, layout::kSchemaVersionKey, "3");
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("column family workers: key \"\\x00\\x00\\x00\\x01W2\" holds no readable "
                                          "version-3 record"),
            std::string::npos)
      << store.status();
  // Nothing written: the version and W1's whole record are as they were.
  RawPut(path, Family::kWorkers, layout::WorkerKeyBytes(Key(1, "W2")), *EncodeWorkerState(FullState("W2")));
  absl::StatusOr<std::unique_ptr<StateStore>> fixed = OpenRocksStore({.path = path});
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(Loaded(**fixed, Key(1, "W1")), FullState("W1"));
}

}  // namespace
}  // namespace alertd::state
