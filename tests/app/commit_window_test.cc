// The commit window on the in-memory store: where Load() finds a worker, the cache bound, and the
// rule that the last timer request of a window wins.
#include "engine/app/commit_window.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "engine/app/partition_timers.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"
#include "engine/state/worker_parts.h"
#include "engine/state/worker_record.h"
#include "tests/support/exposition.h"

namespace alertd::app {
namespace {

// The memory store, counting the worker reads that reach it.
class CountingStore final : public state::StateStore {
 public:
  absl::StatusOr<std::optional<domain::WorkerState>> LoadWorker(const state::WorkerKey& key,
                                                                state::SampleLayout* layout = nullptr) override {
    ++worker_reads;
    return inner_->LoadWorker(key, layout);
  }
  absl::StatusOr<std::optional<int64_t>> LoadStreamTime(int32_t partition) override {
    return inner_->LoadStreamTime(partition);
  }
  absl::StatusOr<std::optional<int64_t>> LoadNextOffset(const state::InputPosition& position) override {
    return inner_->LoadNextOffset(position);
  }
  absl::StatusOr<std::vector<state::OutboxEntry>> LoadOutbox() override { return inner_->LoadOutbox(); }
  absl::StatusOr<std::vector<state::OutboxEntry>> LoadOutbox(int32_t partition) override {
    return inner_->LoadOutbox(partition);
  }
  uint64_t NextOutboxSeq() const override { return inner_->NextOutboxSeq(); }
  using state::StateStore::Commit;
  absl::Status Commit(const state::CommitBatch& batch, const state::ChangeHook& hook) override {
    if (before_commit) before_commit();
    return inner_->Commit(batch, hook);
  }
  absl::StatusOr<std::optional<state::ChangelogCheckpoint>> LoadCheckpoint(int32_t partition) override {
    return inner_->LoadCheckpoint(partition);
  }
  using state::StateStore::ApplyChanges;
  absl::Status ApplyChanges(const std::vector<state::RestoredChanges>& restored) override {
    return inner_->ApplyChanges(restored);
  }
  absl::StatusOr<std::optional<std::string>> ReadChange(state::Family family, std::string_view key) override {
    return inner_->ReadChange(family, key);
  }
  absl::Status ForEachChange(int32_t partition, const std::function<bool(const state::Change&)>& fn) override {
    return inner_->ForEachChange(partition, fn);
  }
  absl::Status DropPartition(int32_t partition) override { return inner_->DropPartition(partition); }
  absl::Status ForEachWorker(int32_t partition,
                             const std::function<bool(const state::WorkerKey&, const domain::WorkerState&)>& fn) override {
    return inner_->ForEachWorker(partition, fn);
  }
  absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(int32_t partition, domain::ProcessingTime now,
                                                           std::size_t limit) override {
    return inner_->LoadDueTimers(partition, now, limit);
  }
  absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(domain::ProcessingTime now, std::size_t limit) override {
    return inner_->LoadDueTimers(now, limit);
  }
  absl::StatusOr<std::vector<domain::Timer>> LoadTimers(int32_t partition) override {
    return inner_->LoadTimers(partition);
  }
  absl::StatusOr<std::vector<state::ParkedEntry>> LoadParked(std::size_t limit) override {
    return inner_->LoadParked(limit);
  }
  state::RecoveryReport Recovery() const override { return inner_->Recovery(); }

  std::atomic<int> worker_reads{0};
  std::function<void()> before_commit;  // runs on the committer's thread as each commit starts

 private:
  std::unique_ptr<state::StateStore> inner_ = state::NewMemoryStore();
};

state::WorkerKey Key(const char* worker) { return {1, domain::WorkerId{worker}}; }

domain::Timer TimerOf(const char* worker) {
  return {{1'700'000'000'000}, 1, domain::WorkerId{worker}, domain::Rule::kR3SelfTestMissed, domain::TimerKind::kSelfTestDue};
}

class CommitWindowTest : public ::testing::Test {
 protected:
  explicit CommitWindowTest(std::size_t cache_bytes = 1 << 20) : cache_bytes_(cache_bytes) {}

  // Gives the worker a state that differs from a new worker's, so that the commit stores it.
  void Touch(const char* worker, uint64_t readings) { window_->Load(Key(worker)).readings_accepted = readings; }
  // One more blood-pressure sample, measured at `ms`, in the worker's window.
  void AddSample(const char* worker, int64_t ms) {
    domain::BpSample sample;
    sample.measured_at = domain::EventTime{ms};
    sample.systolic_mmhg = 120;
    sample.station_id = "S1";
    window_->Load(Key(worker)).bp_window.push_back(std::move(sample));
  }

  double StateLoads() const { return testing::SeriesValue(metrics_.Exposition(), "alertd_state_loads_total"); }
  double StateEvictions() const { return testing::SeriesValue(metrics_.Exposition(), "alertd_state_evictions_total"); }

  state::CommitBatch CommitOne() {
    committed_.clear();
    EXPECT_TRUE(window_->CommitNow().ok());
    EXPECT_EQ(committed_.size(), 1u);
    return committed_.empty() ? state::CommitBatch{} : committed_.front();
  }

  std::size_t cache_bytes_;
  CountingStore store_;
  metrics::EngineMetrics metrics_;
  std::vector<state::CommitBatch> committed_;
  std::unique_ptr<CommitWindow> window_ = std::make_unique<CommitWindow>(
      store_, metrics_, cache_bytes_, [this](const state::CommitBatch& b) { committed_.push_back(b); });
};

TEST_F(CommitWindowTest, LoadContinuesFromTheCommitInFlightWithoutReadingTheStore) {
  Touch("W1", 5);
  ASSERT_TRUE(window_->StartCommit().ok());  // in flight until FinishCommit
  const int reads = store_.worker_reads.load();
  domain::WorkerState& state = window_->Load(Key("W1"));
  EXPECT_EQ(state.readings_accepted, 5u);
  EXPECT_EQ(store_.worker_reads.load(), reads);

  // A copy: changing it leaves the batch being written as it was.
  state.readings_accepted = 6;
  ASSERT_TRUE(window_->FinishCommit(/*wait=*/true).ok());
  ASSERT_EQ(committed_.size(), 1u);
  EXPECT_EQ(committed_[0].workers.at(0).second->readings_accepted, 5u);
  EXPECT_EQ(CommitOne().workers.at(0).second->readings_accepted, 6u);
}

// A worker schema 4 stored one sample a key, loaded from the store: the window passes that layout
// with the worker's `before`, so its commit deletes the single-sample keys and writes runs. Without
// it, the runs would land beside the old keys and the worker would no longer load.
TEST_F(CommitWindowTest, AWorkerOfSchemaFourSingleSamplesIsRewrittenInRunsByItsCommit) {
  const state::WorkerKey key = Key("W4");
  domain::WorkerState old;
  old.readings_accepted = 2;
  for (int64_t ms : {1'700'000'000'000, 1'700'000'060'000}) {
    domain::BpSample sample;
    sample.measured_at = domain::EventTime{ms};
    sample.systolic_mmhg = 120;
    sample.station_id = "S1";
    old.bp_window.push_back(std::move(sample));
  }
  std::vector<state::Change> schema4 = {
      {state::Family::kWorkers, state::layout::WorkerKeyBytes(key), *state::EncodeWorkerHead(old)}};
  for (std::size_t i = 0; i < old.bp_window.size(); ++i) {
    schema4.push_back(
        {state::Family::kSamples,
         state::layout::PartKeyBytes(
             {.worker = key, .kind = state::layout::PartKind::kBpSample, .measured_at = old.bp_window[i].measured_at}),
         *state::EncodeBpSample(old.bp_window[i], i)});
  }
  ASSERT_TRUE(store_.ApplyChanges(key.partition, schema4, {}).ok());

  AddSample("W4", 1'700'000'120'000);
  window_->Load(key).readings_accepted = 3;
  CommitOne();
  state::SampleLayout layout = state::SampleLayout::kSingles;
  absl::StatusOr<std::optional<domain::WorkerState>> loaded = store_.LoadWorker(key, &layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->bp_window.size(), 3u);
  EXPECT_EQ(layout, state::SampleLayout::kRuns);
}

// With a commit always in flight (group commit), a reading of a worker the cache does not hold must
// not wait for that commit to be written.
TEST_F(CommitWindowTest, LoadReadsTheStoreBesideTheCommitInFlight) {
  Touch("W2", 7);
  CommitOne();
  window_->DropCache();  // W2 now comes from the store
  std::promise<void> entered;
  std::promise<void> loaded;
  std::shared_future<void> loaded_done = loaded.get_future().share();
  std::atomic<bool> waited_out{false};
  store_.before_commit = [&] {
    entered.set_value();
    if (loaded_done.wait_for(std::chrono::seconds(3)) != std::future_status::ready) waited_out = true;
  };
  Touch("W1", 5);
  ASSERT_TRUE(window_->StartCommit().ok());
  entered.get_future().wait();  // the commit is being written
  EXPECT_EQ(window_->Load(Key("W2")).readings_accepted, 7u);
  loaded.set_value();
  ASSERT_TRUE(window_->FinishCommit(/*wait=*/true).ok());
  store_.before_commit = nullptr;
  EXPECT_FALSE(waited_out.load()) << "the read waited for the commit in flight";
}

TEST_F(CommitWindowTest, ANewWorkerLeftAsNewIsNotStored) {
  window_->Load(Key("W1"));
  window_->Consumed({"shifts", 1}, 10);
  const state::CommitBatch batch = CommitOne();
  EXPECT_TRUE(batch.workers.empty());
  EXPECT_EQ(batch.next_offsets.size(), 1u);
}

TEST_F(CommitWindowTest, AnEmptyWindowCommitsNothing) {
  ASSERT_TRUE(window_->CommitNow().ok());
  EXPECT_TRUE(committed_.empty());
}

TEST_F(CommitWindowTest, StreamTimeCommitsWithTheOffsets) {
  window_->SetStreamTime(1, 5000);
  window_->SetStreamTime(1, 7000);
  const state::CommitBatch batch = CommitOne();
  EXPECT_TRUE(batch.next_offsets.empty());
  EXPECT_EQ(batch.stream_times, (std::vector<std::pair<int32_t, int64_t>>{{1, 7000}}));
}

// What one of the small states of Touch() counts against the cache's bound (the window's key of a
// worker of partition 1 with a two-letter id has four bytes).
std::size_t SmallStateBytes() {
  domain::WorkerState state;
  state.readings_accepted = 1;
  return CommitWindow::CachedBytes("1\x1fW1", state);
}

class SmallCacheTest : public CommitWindowTest {
 protected:
  // Room for three small states, not four.
  SmallCacheTest() : CommitWindowTest(3 * SmallStateBytes() + 1) {}
};

TEST_F(SmallCacheTest, TheCacheKeepsAtMostItsBoundLeastRecentlyUsedOut) {
  Touch("W1", 1);
  Touch("W2", 2);
  Touch("W3", 3);
  Touch("W4", 4);
  CommitOne();  // caches W1..W4 in key order: W1 is the least recent and goes
  EXPECT_EQ(window_->cached_workers(), 3u);
  EXPECT_EQ(window_->cached_bytes(), 3 * SmallStateBytes());
  EXPECT_EQ(StateEvictions(), 1);

  const int reads = store_.worker_reads.load();
  EXPECT_EQ(window_->Load(Key("W4")).readings_accepted, 4u);  // cached
  EXPECT_EQ(store_.worker_reads.load(), reads);
  EXPECT_EQ(StateLoads(), 0);
  EXPECT_EQ(window_->Load(Key("W1")).readings_accepted, 1u);  // evicted: read from the store
  EXPECT_EQ(store_.worker_reads.load(), reads + 1);
  EXPECT_EQ(StateLoads(), 1);
  window_->Load(Key("W5"));  // never stored: read, found nothing, and not counted
  EXPECT_EQ(store_.worker_reads.load(), reads + 2);
  EXPECT_EQ(StateLoads(), 1);
}

TEST_F(SmallCacheTest, TheBoundIsInBytesSoOneLargeStateTakesTheRoomOfSeveralSmallOnes) {
  Touch("W1", 1);
  Touch("W2", 2);
  Touch("W3", 3);
  CommitOne();
  ASSERT_EQ(window_->cached_workers(), 3u);

  // A worker with a window of samples: more than one small state, at most two.
  domain::WorkerState& large = window_->Load(Key("W9"));
  large.readings_accepted = 9;
  while (CommitWindow::CachedBytes("1\x1fW9", large) <= SmallStateBytes() * 3 / 2) {
    domain::BpSample sample;
    sample.station_id = "a station id longer than the small-string buffer";
    large.bp_window.push_back(sample);
  }
  ASSERT_LE(CommitWindow::CachedBytes("1\x1fW9", large), 2 * SmallStateBytes());
  CommitOne();  // W9 is the most recent; W1 and W2, the least recent, make room for it
  EXPECT_EQ(window_->cached_workers(), 2u);
  EXPECT_LE(window_->cached_bytes(), 3 * SmallStateBytes());

  const int reads = store_.worker_reads.load();
  EXPECT_EQ(window_->Load(Key("W3")).readings_accepted, 3u);
  EXPECT_EQ(window_->Load(Key("W9")).readings_accepted, 9u);
  EXPECT_EQ(store_.worker_reads.load(), reads);
  EXPECT_EQ(window_->Load(Key("W2")).readings_accepted, 2u);
  EXPECT_EQ(store_.worker_reads.load(), reads + 1);
}

TEST_F(SmallCacheTest, AStateLargerThanTheWholeCacheIsNotCachedAndEvictsNothing) {
  Touch("W1", 1);
  CommitOne();
  domain::WorkerState& huge = window_->Load(Key("W9"));
  huge.readings_accepted = 9;
  huge.bp_window.resize(1000);
  CommitOne();
  EXPECT_EQ(window_->cached_workers(), 1u);
  EXPECT_EQ(StateEvictions(), 1);  // W9, not kept; W1 stays
  const int reads = store_.worker_reads.load();
  EXPECT_EQ(window_->Load(Key("W1")).readings_accepted, 1u);
  EXPECT_EQ(store_.worker_reads.load(), reads);
}

// Without a cache nothing is evicted, and every worker is read back from the store.
class NoCacheTest : public CommitWindowTest {
 protected:
  NoCacheTest() : CommitWindowTest(0) {}
};

TEST_F(NoCacheTest, NothingIsCountedEvictedAndEveryStoredWorkerIsALoad) {
  Touch("W1", 1);
  CommitOne();
  EXPECT_EQ(window_->cached_workers(), 0u);
  EXPECT_EQ(StateEvictions(), 0);
  EXPECT_EQ(window_->Load(Key("W1")).readings_accepted, 1u);
  EXPECT_EQ(StateLoads(), 1);
}

// Only the last request for one timer in a window stands, whatever came before it.
struct TimerCase {
  const char* name;
  std::vector<char> requests;  // 'p' = put, 'd' = delete, 'f' = fired
  bool put;
  bool deleted;
};

void PrintTo(const TimerCase& c, std::ostream* os) { *os << c.name; }

class LastTimerRequestTest : public CommitWindowTest, public ::testing::WithParamInterface<TimerCase> {};

TEST_P(LastTimerRequestTest, EndsInExactlyTheSetOfTheLastRequest) {
  PartitionTimers mirror;
  window_->MirrorTimers(&mirror);
  const domain::Timer t = TimerOf("W1");
  for (char r : GetParam().requests) {
    if (r == 'p') window_->PutTimer(t);
    if (r == 'd') window_->DeleteTimer(t);
    if (r == 'f') window_->DeleteFiredTimer(t);
  }
  const state::CommitBatch batch = CommitOne();
  EXPECT_EQ(batch.timers_put.size(), GetParam().put ? 1u : 0u);
  EXPECT_EQ(batch.timers_delete.size(), GetParam().deleted ? 1u : 0u);
  // The mirror follows puts and deletes (a fired timer was already taken out of it).
  const bool mirrored = GetParam().requests.back() == 'p' || (GetParam().requests.back() == 'f' && GetParam().put);
  EXPECT_EQ(mirror.size(), mirrored ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Requests, LastTimerRequestTest,
    ::testing::Values(TimerCase{"CancelledThenSet", {'d', 'p'}, true, false},
                      TimerCase{"SetThenCancelled", {'p', 'd'}, false, true},
                      TimerCase{"SetCancelledSet", {'p', 'd', 'p'}, true, false},
                      TimerCase{"FiredAndNotSetAgain", {'f'}, false, true},
                      TimerCase{"SetAgainBeforeItFired", {'p', 'f'}, true, false}),
    [](const ::testing::TestParamInfo<TimerCase>& p) { return p.param.name; });

TEST_F(CommitWindowTest, AFiredTimerStaysFiredUntilItsDeletionCommitsOrItIsSetAgain) {
  const domain::Timer t = TimerOf("W1");
  window_->MarkFiredUncommitted(t);
  window_->DeleteFiredTimer(t);
  EXPECT_TRUE(window_->FiredUncommitted(t));
  CommitOne();
  EXPECT_FALSE(window_->FiredUncommitted(t));

  window_->MarkFiredUncommitted(t);
  window_->PutTimer(t);
  EXPECT_FALSE(window_->FiredUncommitted(t));
}

}  // namespace
}  // namespace alertd::app

namespace alertd::app {
namespace {

// --- What one more reading costs ------------------------------------------------------------------

// The bytes of one commit's changes (keys and values): what the changelog carries and RocksDB writes.
class ReadingCostTest : public CommitWindowTest, public ::testing::WithParamInterface<std::size_t> {
 protected:
  ReadingCostTest() : CommitWindowTest(GetParam()) {
    window_->SetChangeHook([this](const std::vector<state::Change>& changes)
                               -> absl::StatusOr<std::vector<std::pair<int32_t, state::ChangelogCheckpoint>>> {
      bytes_ = 0;
      for (const state::Change& c : changes) bytes_ += c.key.size() + (c.value ? c.value->size() : 0);
      return std::vector<std::pair<int32_t, state::ChangelogCheckpoint>>{};
    });
  }

  static domain::BpSample Reading(int minute) {
    return {.measured_at = domain::EventTime{1'700'000'000'000 + 60'000 * int64_t{minute}},
            .systolic_mmhg = 150, .diastolic_mmhg = 95, .pulse_bpm = 70, .category = domain::BpCategory::kGrade1,
            .station_id = "U07-G12-S1", .device_id = "omron-17", .context = domain::ReadingContext::kSelfTest};
  }

  // Gives `worker` a window of `samples` readings in one commit, then commits one more reading and
  // returns what that second commit wrote.
  std::size_t BytesOfOneMoreReading(const char* worker, int samples) {
    domain::WorkerState& state = window_->Load(Key(worker));
    for (int i = 0; i < samples; ++i) state.bp_window.push_back(Reading(i));
    state.readings_accepted = state.bp_readings = static_cast<uint64_t>(samples);
    EXPECT_TRUE(window_->CommitNow().ok());
    domain::WorkerState& next = window_->Load(Key(worker));
    next.bp_window.push_back(Reading(samples));
    next.readings_accepted += 1;
    next.bp_readings += 1;
    EXPECT_TRUE(window_->CommitNow().ok());
    return bytes_;
  }

  std::size_t bytes_ = 0;
};

// Issue 8 item 1: a worker with 1,000 samples costs no more than one with 10 does: one more reading
// writes the head and the window's last run, at most kRunMax samples whatever the window's length
// (state/worker_parts.h); a layout that rewrote the window would write ~45 KiB for 1,000 samples.
TEST_P(ReadingCostTest, OneMoreReadingCostsTheSameBytesWithTenSamplesAsWithAThousand) {
  const std::size_t ten = BytesOfOneMoreReading("WA", 10);
  const std::size_t thousand = BytesOfOneMoreReading("WB", 1000);
  RecordProperty("bytes_with_10_samples", static_cast<int>(ten));
  RecordProperty("bytes_with_1000_samples", static_cast<int>(thousand));
  // The head, and a run of at most kRunMax samples of ~45 bytes each.
  const std::size_t bound = 160 + 50 * state::layout::kRunMax;
  EXPECT_LT(ten, bound) << "10 samples: " << ten << " B";
  EXPECT_LT(thousand, bound) << "1,000 samples: " << thousand << " B";
}

// With the cache, the commit window knows each worker's committed state and passes it with the batch;
// without it the store reads what it holds. Both write only the difference.
INSTANTIATE_TEST_SUITE_P(CachedOrNot, ReadingCostTest, ::testing::Values(std::size_t{16} << 20, std::size_t{0}),
                         [](const ::testing::TestParamInfo<std::size_t>& cache) {
                           return cache.param == 0 ? "NoCache" : "Cached";
                         });

TEST_F(CommitWindowTest, TheBatchCarriesEachWorkersCommittedStateBeforeIt) {
  AddSample("W1", 1000);
  const state::CommitBatch first = CommitOne();
  ASSERT_EQ(first.workers_before.size(), 1u);
  EXPECT_TRUE(first.workers_before[0].known);
  EXPECT_FALSE(first.workers_before[0].image.has_value()) << "a new worker";
  AddSample("W1", 2000);
  const state::CommitBatch batch = CommitOne();
  ASSERT_EQ(batch.workers_before.size(), 1u);
  ASSERT_TRUE(batch.workers_before[0].known);
  ASSERT_TRUE(batch.workers_before[0].image.has_value());
  const state::WorkerImage& before = *batch.workers_before[0].image;
  ASSERT_EQ(before.bp_window().size(), 1u) << "the state the first commit wrote, not the one after the rules";
  EXPECT_TRUE(before.bp_window()[0].Same(batch.workers.at(0).second->bp_window[0]));
  EXPECT_EQ(batch.workers.at(0).second->bp_window.size(), 2u);
}

TEST_F(CommitWindowTest, AWorkerContinuedFromTheCommitInFlightIsDiffedAgainstThatCommitsState) {
  AddSample("W1", 1000);
  ASSERT_TRUE(window_->StartCommit().ok());  // in flight until the next commit starts
  AddSample("W1", 2000);
  ASSERT_TRUE(window_->CommitNow().ok());
  ASSERT_EQ(committed_.size(), 2u);
  const state::CommitBatch& second = committed_[1];
  ASSERT_EQ(second.workers_before.size(), 1u);
  ASSERT_TRUE(second.workers_before[0].known);
  ASSERT_TRUE(second.workers_before[0].image.has_value()) << "the state the first commit wrote";
  ASSERT_EQ(second.workers_before[0].image->bp_window().size(), 1u);
  EXPECT_EQ(second.workers_before[0].image->bp_window()[0].measured_at.ms, 1000);
  EXPECT_EQ(second.workers.at(0).second->bp_window.size(), 2u);
}

}  // namespace
}  // namespace alertd::app

namespace alertd::app {
namespace {

// A background scan's turn (ReadBehind) waits while the loop waits for the store, even when the scan
// asked first: the loop's read runs before the scan's next turn.
TEST_F(CommitWindowTest, ABackgroundScanLetsTheLoopsReadGoFirst) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> holding{false};
  std::vector<std::string> order;
  std::mutex order_mu;
  const auto note = [&](const char* who) {
    std::lock_guard<std::mutex> lock(order_mu);
    order.emplace_back(who);
  };
  // The loop holds the store until released.
  std::thread holder([&] {
    window_->Read([&](state::StateStore&) {
      holding = true;
      released.wait();
      return 0;
    });
  });
  while (!holding) std::this_thread::yield();
  std::thread scan([&] { window_->ReadBehind([&](state::StateStore&) { note("scan"); return 0; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the scan waits for the lock first
  std::thread loop([&] { window_->Read([&](state::StateStore&) { note("loop"); return 0; }); });
  while (window_->store_waiters() == 0) std::this_thread::yield();
  release.set_value();
  holder.join();
  scan.join();
  loop.join();
  ASSERT_EQ(order, (std::vector<std::string>{"loop", "scan"}));
}

}  // namespace
}  // namespace alertd::app
