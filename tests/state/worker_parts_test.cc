// A worker's parts: the part key encoding at its boundaries, the runs a window is cut into, the
// difference a commit writes between two windows, what a load makes of parts that disagree with their
// head, schema 4's single samples and their rewrite, and the migrations. The window transitions run
// on both store implementations.
#include "engine/state/worker_parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/state/layout.h"
#include "engine/state/store.h"
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

PartKey BpRunKey(WorkerKey worker, int64_t at, uint32_t ordinal) {
  PartKey key = BpKey(std::move(worker), at, ordinal);
  key.kind = PartKind::kBpRun;
  return key;
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
      {"unknown kind", Bytes({0, 0, 0, 1, 0, 0, 0, 1, 'W', 5}), "unknown part kind 5"},
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

// The cuts among the positions below (worker_parts.h, "Runs"): kT0 at ordinal 2, and -10 and 0 ms. A
// run of each window otherwise, so the counts are one put for a run that changed, one delete for a
// run's key gone.
TEST(RunTest, TheTransitionsCutWhereTheirCountsSay) {
  EXPECT_TRUE(layout::RunCutBefore(kT0, 2));
  EXPECT_TRUE(layout::RunCutBefore(-10, 0));
  EXPECT_TRUE(layout::RunCutBefore(0, 0));
  for (int64_t at : {kT0, kT0 + 10, kT0 + 20, int64_t{-20}}) {
    for (uint32_t ordinal : {0U, 1U}) EXPECT_FALSE(layout::RunCutBefore(at, ordinal)) << at << " " << ordinal;
  }
  EXPECT_FALSE(layout::RunCutBefore(kT0 + 10, 2));
}

const std::vector<Transition>& Transitions() {
  static const std::vector<Transition> transitions = {
      {"a newer sample", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121), At(20, 122)}, 1, 0},
      {"a late sample between two", {At(0, 120), At(20, 122)}, {At(0, 120), At(10, 121), At(20, 122)}, 1, 0},
      // The run's first sample goes: its key with it.
      {"the oldest evicted and a newer one", {At(0, 120), At(10, 121)}, {At(10, 121), At(20, 122)}, 1, 1},
      {"a second sample at the newest time", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121), At(10, 130)}, 1, 0},
      {"a third at a time two share", {At(10, 121), At(10, 130)}, {At(10, 121), At(10, 130), At(10, 140)}, 1, 0},
      // Before, the third sample at kT0 (ordinal 2) starts a run; evicting the first moves it to
      // ordinal 1, no cut: the two runs become one.
      {"the first of an equal-time group evicted",
       {At(0, 120), At(0, 130), At(0, 140), At(10, 150)},
       {At(0, 130), At(0, 140), At(10, 150)},
       1,
       1},
      {"a whole equal-time group evicted", {At(0, 120), At(0, 130), At(10, 150)}, {At(10, 150)}, 1, 1},
      // Runs [-20] [-10] become [-10] [0]: the run at -10 is unchanged and not written.
      {"negative times", {At(-kT0 - 20, 120), At(-kT0 - 10, 121)}, {At(-kT0 - 10, 121), At(-kT0, 122)}, 1, 1},
      {"nothing changes", {At(0, 120), At(10, 121)}, {At(0, 120), At(10, 121)}, 0, 0},
      {"one sample's device id alone changes",
       {At(0, 120), At(10, 121), At(20, 122)},
       {At(0, 120), WithDevice(At(10, 121), "BP-OTHER"), At(20, 122)},
       1,
       0},
      {"the window emptied", {At(0, 120), At(10, 121)}, {}, 0, 1},
      {"from no window", {}, {At(0, 120), At(0, 121)}, 1, 0},
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

// The changes of one commit, as the changelog is told of them.
template <typename Store>
std::vector<Change> CommitSeeing(Store& store, CommitBatch batch) {
  std::vector<Change> seen;
  const absl::Status status = store.Commit(
      std::move(batch),
      [&](const std::vector<Change>& changes) -> absl::StatusOr<std::vector<std::pair<int32_t, ChangelogCheckpoint>>> {
        seen = changes;
        return std::vector<std::pair<int32_t, ChangelogCheckpoint>>{};
      });
  EXPECT_TRUE(status.ok()) << status;
  return seen;
}

std::vector<domain::BpSample> Minutes(int from, int to) {
  std::vector<domain::BpSample> window;
  for (int m = from; m < to; ++m) window.push_back(At(60'000 * int64_t{m}, 120 + m % 40));
  return window;
}

// A long window: its runs are short, a reading appended rewrites the last run alone and an eviction
// the first alone, whatever the window's length (issue 12 target 3).
TYPED_TEST(WorkerPartsStoreTest, AnAppendRewritesTheLastRunAndAnEvictionTheFirst) {
  const WorkerKey key = Key(1, "W1");
  const std::vector<size_t> starts = testing_support::RunStarts(Minutes(0, 2000));
  size_t longest = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    longest = std::max(longest, (i + 1 < starts.size() ? starts[i + 1] : 2000) - starts[i]);
  }
  EXPECT_LE(longest, layout::kRunMax);
  EXPECT_GT(starts.size(), 2000 / 12) << "runs of about kRunTarget samples";
  EXPECT_LT(starts.size(), 2000 / 4);

  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, WithWindow(Minutes(0, 500))}}}).ok());
  const auto samples_written = [](const std::vector<Change>& changes, size_t& puts, size_t& deletes) {
    puts = deletes = 0;
    for (const Change& c : changes) {
      if (c.family == Family::kSamples) (c.value ? puts : deletes) += 1;
    }
  };
  size_t puts = 0, deletes = 0;
  // Appended: the last run grows, or the new sample starts one.
  std::vector<Change> seen = CommitSeeing(this->store(), CommitBatch{.workers = {{key, WithWindow(Minutes(0, 501))}}});
  samples_written(seen, puts, deletes);
  EXPECT_EQ(puts, 1U);
  EXPECT_EQ(deletes, 0U);
  const std::vector<size_t> after_append = testing_support::RunStarts(Minutes(0, 501));
  const int64_t last_run_at = kT0 + 60'000 * int64_t(after_append.back());
  for (const Change& c : seen) {
    if (c.family == Family::kSamples) {
      EXPECT_EQ(c.key, layout::PartKeyBytes(BpRunKey(key, last_run_at, 0)));
    }
  }
  // Evicted: the first run's key goes, and the rest of that run (if any) is written under the next sample's.
  seen = CommitSeeing(this->store(), CommitBatch{.workers = {{key, WithWindow(Minutes(1, 501))}}});
  samples_written(seen, puts, deletes);
  EXPECT_EQ(deletes, 1U);
  EXPECT_EQ(puts, after_append[1] == 1 ? 0U : 1U);
  size_t bytes = 0;
  for (const Change& c : seen) bytes += c.key.size() + (c.value ? c.value->size() : 0);
  EXPECT_LT(bytes, 200 + 60 * layout::kRunMax) << "the head and one run at most";
  EXPECT_EQ(Loaded(this->store(), key), WithWindow(Minutes(1, 501)));
}

// A worker as a schema-4 changelog restores it: the head, the profile and one key per sample (the
// samples of `state` at distinct times, so each has ordinal 0).
std::vector<Change> SchemaFourChanges(const WorkerKey& key, const domain::WorkerState& state) {
  std::vector<Change> changes = {
      {Family::kWorkers, layout::WorkerKeyBytes(key), *EncodeWorkerHead(state)},
      {Family::kSamples, layout::PartKeyBytes({.worker = key}), *EncodeProfile(*state.profile)}};
  for (size_t i = 0; i < state.bp_window.size(); ++i) {
    changes.push_back({Family::kSamples, layout::PartKeyBytes(BpKey(key, state.bp_window[i].measured_at.ms, 0)),
                       *EncodeBpSample(state.bp_window[i], i)});
  }
  for (size_t i = 0; i < state.glucose_window.size(); ++i) {
    changes.push_back({Family::kSamples,
                       layout::PartKeyBytes({.worker = key, .kind = PartKind::kGlucoseSample,
                                             .measured_at = state.glucose_window[i].measured_at}),
                       *EncodeGlucoseSample(state.glucose_window[i], i)});
  }
  return changes;
}

// A worker who reads once a day keeps one sample a run (the gap of kRunGapMs): a reading appended
// writes that one sample, not a run grown over days.
TYPED_TEST(WorkerPartsStoreTest, SamplesHalfADayApartAreRunsOfTheirOwn) {
  const WorkerKey key = Key(1, "W1");
  std::vector<domain::BpSample> daily;
  for (int day = 0; day < 10; ++day) daily.push_back(At(86'400'000 * int64_t{day}, 130 + day));
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, WithWindow(daily)}}}).ok());
  size_t keys = 0;
  ASSERT_TRUE(this->store()
                  .ForEachChange(1,
                                 [&](const Change& c) {
                                   keys += c.family == Family::kSamples ? 1 : 0;
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(keys, daily.size());
  // The gap after the last: a run of its own, the others untouched.
  std::vector<domain::BpSample> next = daily;
  next.push_back(At(86'400'000 * 9 + layout::kRunGapMs, 140));
  std::vector<Change> seen = CommitSeeing(this->store(), CommitBatch{.workers = {{key, WithWindow(next)}}});
  std::vector<std::string> puts;
  for (const Change& c : seen) {
    if (c.family == Family::kSamples && c.value) puts.push_back(c.key);
  }
  EXPECT_EQ(puts, (std::vector<std::string>{layout::PartKeyBytes(
                      BpRunKey(key, next.back().measured_at.ms, 0))}));
  next.push_back(At(86'400'000 * 9 + 2 * layout::kRunGapMs - 1, 141));
  seen = CommitSeeing(this->store(), CommitBatch{.workers = {{key, WithWindow(next)}}});
  puts.clear();
  for (const Change& c : seen) {
    if (c.family == Family::kSamples && c.value) puts.push_back(c.key);
  }
  EXPECT_EQ(puts, (std::vector<std::string>{layout::PartKeyBytes(
                      BpRunKey(key, next[next.size() - 2].measured_at.ms, 0))}))
      << "a sample 1 ms short of the gap joins the run before it";
  EXPECT_EQ(Loaded(this->store(), key), WithWindow(next));
}

// The earliest and latest times there are, in one window: cut apart, stored and read back (the gap
// between them is wider than int64_t holds).
TYPED_TEST(WorkerPartsStoreTest, TheWidestTimesAreCutApartAndReadBack) {
  const WorkerKey key = Key(1, "W1");
  const domain::WorkerState state =
      WithWindow({Sample(std::numeric_limits<int64_t>::min(), 120, 80, domain::BpCategory::kNormal),
                  Sample(std::numeric_limits<int64_t>::min() + 1, 121, 80, domain::BpCategory::kNormal),
                  Sample(std::numeric_limits<int64_t>::max(), 122, 80, domain::BpCategory::kNormal)});
  EXPECT_EQ(testing_support::RunStarts(state.bp_window).size(), 2U);
  ASSERT_TRUE(this->store().Commit(CommitBatch{.workers = {{key, state}}}).ok());
  EXPECT_EQ(Loaded(this->store(), key), state);
}

// Schema 4 stored a sample a key. Such a worker reads back as it was, and its first commit deletes
// every one of those keys and writes runs, with the caller's `before` or with the store's own read.
TYPED_TEST(WorkerPartsStoreTest, SingleSamplesOfSchemaFourAreReadAndReplacedByRunsAtTheNextCommit) {
  for (const bool caller_knows : {true, false}) {
    SCOPED_TRACE(caller_knows ? "the caller's before" : "the store reads it");
    const WorkerKey key = Key(caller_knows ? 1 : 2, "W1");
    domain::WorkerState old = FullState("W1");
    ASSERT_TRUE(this->store().ApplyChanges(key.partition, SchemaFourChanges(key, old), {}).ok());
    SampleLayout layout = SampleLayout::kRuns;
    absl::StatusOr<std::optional<domain::WorkerState>> loaded = this->store().LoadWorker(key, &layout);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(*loaded, old);
    EXPECT_EQ(layout, SampleLayout::kSingles);

    domain::WorkerState next = old;
    next.bp_window.push_back(At(600'000, 140));
    next.readings_accepted += 1;
    CommitBatch batch{.workers = {{key, next}}};
    if (caller_knows) batch.workers_before = {{.known = true, .image = WorkerImage(old, SampleLayout::kSingles)}};
    const std::vector<Change> seen = CommitSeeing(this->store(), std::move(batch));
    size_t single_deletes = 0, run_puts = 0;
    for (const Change& c : seen) {
      if (c.family != Family::kSamples) continue;
      absl::StatusOr<PartKey> part = layout::ParsePartKey("s", c.key);
      ASSERT_TRUE(part.ok()) << part.status();
      const bool single = part->kind == PartKind::kBpSample || part->kind == PartKind::kGlucoseSample;
      if (single) {
        EXPECT_FALSE(c.value.has_value()) << "a single sample is only deleted";
      }
      single_deletes += single ? 1 : 0;
      run_puts += part->kind == PartKind::kBpRun || part->kind == PartKind::kGlucoseRun ? 1 : 0;
    }
    EXPECT_EQ(single_deletes, old.bp_window.size() + old.glucose_window.size());
    EXPECT_EQ(run_puts, testing_support::RunStarts(next.bp_window).size() +
                            testing_support::RunStarts(next.glucose_window).size());
    loaded = this->store().LoadWorker(key, &layout);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(*loaded, next);
    EXPECT_EQ(layout, SampleLayout::kRuns);
    // Nothing of the old layout is left in the partition.
    ASSERT_TRUE(this->store()
                    .ForEachChange(key.partition,
                                   [&](const Change& c) {
                                     if (c.family == Family::kSamples) {
                                       const PartKind kind = layout::ParsePartKey("s", c.key)->kind;
                                       EXPECT_NE(kind, PartKind::kBpSample);
                                       EXPECT_NE(kind, PartKind::kGlucoseSample);
                                     }
                                     return true;
                                   })
                    .ok());
  }
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

std::string Varint(uint64_t value) {
  std::string out;
  for (; value >= 0x80; value >>= 7) out.push_back(static_cast<char>(value | 0x80));
  out.push_back(static_cast<char>(value));
  return out;
}

// A run's bytes (worker_parts.h): for each sample, its time after the previous one's (the first's
// after the key's), its record's length and its record.
std::string RunBytes(int64_t key_at, const std::vector<std::pair<int64_t, std::string>>& samples) {
  std::string out;
  int64_t previous = key_at;
  for (const auto& [at, record] : samples) {
    out += Varint(static_cast<uint64_t>(at) - static_cast<uint64_t>(previous)) + Varint(record.size()) + record;
    previous = at;
  }
  return out;
}

TEST(WorkerPartsCorruptionTest, PartsThatDisagreeWithTheHeadAreDataLossNamingStoreAndKey) {
  const WorkerKey key = Key(3, "W002");
  const domain::WorkerState full = FullState("W002");
  // FullState's blood pressure is stored in runs [0, 1] and [2, 4] (its third sample is a cut).
  ASSERT_EQ(testing_support::RunStarts(full.bp_window), (std::vector<size_t>{0, 2}));
  const int64_t first_at = full.bp_window[0].measured_at.ms;
  const std::string first_run = layout::PartKeyBytes(BpRunKey(key, first_at, 0));
  const std::string record0 = *EncodeBpSample(full.bp_window[0], 0);
  const std::string record1 = *EncodeBpSample(full.bp_window[1], 1);
  const std::string run = RunBytes(first_at, {{first_at, record0}, {full.bp_window[1].measured_at.ms, record1}});
  const struct {
    std::string name;
    std::string key, value;
    bool erase;
    std::string says;
  } cases[] = {
      {"a run that is no record", first_run, "\xFF\xFF", false, "sample 0 of the run is cut short"},
      {"a sample that is no record", first_run, RunBytes(first_at, {{first_at, "\xFF\xFF"}}), false,
       "sample 0 of the run: not an EvidenceReading"},
      {"an unknown category", first_run, RunBytes(first_at, {{first_at, record0}, {first_at + 1, Bytes({0x28, 9})}}),
       false, "sample 1 of the run: sample.category has unknown value 9"},
      {"a run cut short", first_run, run.substr(0, run.size() - 1), false, "sample 1 of the run runs past its end"},
      {"an empty run", first_run, "", false, "an empty run"},
      {"a time over 64 bits", first_run, std::string(9, '\xFF') + "\x02" + Varint(record0.size()) + record0, false,
       "sample 0 of the run is cut short or holds a number over 64 bits"},
      {"a run whose first sample is not at its key's time", first_run, RunBytes(first_at, {{first_at + 1, record0}}),
       false, "the run's first sample is measured 1 ms after its key's time"},
      {"a sample past the last time", first_run,
       RunBytes(first_at, {{first_at, record0}}) + Varint(~uint64_t{0}) + Varint(record1.size()) + record1, false,
       "sample 1 of the run is measured past the last time"},
      {"a run left behind", layout::PartKeyBytes(BpRunKey(key, kT0 + 1, 0)), RunBytes(kT0 + 1, {{kT0 + 1, record0}}),
       false, "the head counts 1 profile, 5 blood-pressure and 4 glucose samples; stored are 1, 6 and 4"},
      {"a run missing", first_run, "", true, "stored are 1, 3 and 4"},
      {"an ordinal gap", layout::PartKeyBytes(BpRunKey(key, kT0 + 1, 1)), RunBytes(kT0 + 1, {{kT0 + 1, record0}}),
       false, "ordinal 1 where 0 belongs"},
      {"a single sample beside runs", layout::PartKeyBytes(BpKey(key, kT0 + 1, 0)), record0, false,
       "runs and single samples of one worker"},
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

// A changelog is compacted lazily: until then it holds each whole record a schema-3 engine wrote for
// a worker, and a window's oldest samples leave it from one record to the next. Each record replaces
// the one before, whether both are in one restored batch or in two, and a schema-3 deletion (the bare
// worker key) takes the parts with it.
TYPED_TEST(WorkerPartsStoreTest, WholeRecordsOfOneWorkerInAnOlderChangelogEachReplaceTheOneBefore) {
  const WorkerKey key = Key(4, "W1");
  const domain::WorkerState first = FullState("W1");
  domain::WorkerState second = first;
  second.bp_window.erase(second.bp_window.begin());  // the oldest sample left the window
  second.glucose_window.clear();
  second.profile.reset();
  const auto whole = [&](const domain::WorkerState& state) {
    return Change{Family::kWorkers, layout::WorkerKeyBytes(key), *EncodeWorkerState(state)};
  };
  const Change deleted{Family::kWorkers, layout::WorkerKeyBytes(key), std::nullopt};
  const auto parts = [&] {
    size_t n = 0;
    EXPECT_TRUE(this->store()
                    .ForEachChange(4,
                                   [&](const Change& c) {
                                     n += c.family == Family::kSamples;
                                     return true;
                                   })
                    .ok());
    return n;
  };
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(first), whole(second)}, {}).ok());
  EXPECT_EQ(Loaded(this->store(), key), second) << "two records in one batch";
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(first)}, {}).ok());
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(second)}, {}).ok());
  EXPECT_EQ(Loaded(this->store(), key), second) << "one record in each of two batches";
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(first), deleted}, {}).ok());
  EXPECT_EQ(*this->store().LoadWorker(key), std::nullopt);
  EXPECT_EQ(parts(), 0u) << "a deletion in the batch of the record";
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(first)}, {}).ok());
  ASSERT_TRUE(this->store().ApplyChanges(4, {deleted}, {}).ok());
  EXPECT_EQ(parts(), 0u) << "a deletion in the batch after the record's";
  // The worker comes back: nothing of the deleted one is read with it.
  ASSERT_TRUE(this->store().ApplyChanges(4, {whole(second)}, {}).ok());
  EXPECT_EQ(Loaded(this->store(), key), second);
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
    // Split for real: the head holds no sample, the samples are in runs.
    EXPECT_TRUE(DecodeWorkerHead(**(*store)->ReadChange(Family::kWorkers, layout::WorkerKeyBytes(w2))).ok());
    size_t parts = 0;
    ASSERT_TRUE((*store)
                    ->ForEachChange(7,
                                    [&](const Change& c) {
                                      if (c.family == Family::kSamples) ++parts;
                                      return true;
                                    })
                    .ok());
    EXPECT_EQ(parts, testing_support::RunStarts(second.bp_window).size() +
                         testing_support::RunStarts(second.glucose_window).size());
  }
  absl::StatusOr<std::unique_ptr<StateStore>> again = OpenRocksStore({.path = path, .read_only = true});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(**(*again)->ReadChange(Family::kMeta, layout::kSchemaVersionKey), "5");
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

// Schema 4 -> 5 rewrites nothing: a reader opens a version-4 store as it is, a writer records version
// 5, and the workers read back from their single samples.
TEST(WorkerPartsMigrationTest, AVersionFourStoreOpensAsItIsAndIsMarkedFive) {
  TempDir dir;
  const std::string path = dir.Sub("db");
  const WorkerKey key = Key(2, "W1");
  const domain::WorkerState old = FullState("W1");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->ApplyChanges(key.partition, SchemaFourChanges(key, old), {}).ok());
  }
  RawPut(path, Family::kMeta, layout::kSchemaVersionKey, "4");
  {
    absl::StatusOr<std::unique_ptr<StateStore>> reader = OpenRocksStore({.path = path, .read_only = true});
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(Loaded(**reader, key), old);
    EXPECT_EQ(**(*reader)->ReadChange(Family::kMeta, layout::kSchemaVersionKey), "4") << "a reader writes nothing";
  }
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(**(*store)->ReadChange(Family::kMeta, layout::kSchemaVersionKey), "5");
  SampleLayout layout = SampleLayout::kRuns;
  absl::StatusOr<std::optional<domain::WorkerState>> loaded = (*store)->LoadWorker(key, &layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, old);
  EXPECT_EQ(layout, SampleLayout::kSingles);
}

}  // namespace
}  // namespace alertd::state
