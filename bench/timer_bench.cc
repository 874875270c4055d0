// Cost of the timer index: firing due timers must cost time proportional to the due ones, not to the
// pending ones (DESIGN.md §5). Runs LoadDueTimers, the commit that retires fired timers, and both
// together, with 0, 10 and 1000 due timers over 1,000 and 1,000,000 pending, on a RocksDB store.
//
// Usage: timer-bench [--benchmark_* flags]. Stores live in a temporary directory removed at exit.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "engine/domain/timer.h"
#include "engine/state/store.h"

namespace {

using alertd::domain::kDayMs;
using alertd::domain::kHourMs;
using alertd::domain::ProcessingTime;
using alertd::domain::Rule;
using alertd::domain::Timer;
using alertd::domain::WorkerId;
using alertd::state::CommitBatch;
using alertd::state::StateStore;

constexpr int64_t kT0 = 1'717'000'000'000;  // the clock at the start, ms
constexpr int32_t kPartitions = 12;
constexpr size_t kNoLimit = SIZE_MAX;

// A store holding `pending` timers spread uniformly over (now + 1 h, now + 30 days]: far enough
// ahead that no benchmark's clock reaches them.
class PendingStore {
 public:
  explicit PendingStore(int64_t pending) {
    std::string pattern = (std::filesystem::temp_directory_path() / "alertd_timer_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp " + pattern);
    dir_ = pattern;
    // No fsync: the benchmark measures the index; a synced commit adds one fsync, whatever it holds.
    absl::StatusOr<std::unique_ptr<StateStore>> opened =
        alertd::state::OpenRocksStore({.path = dir_ + "/db", .sync_commits = false});
    if (!opened.ok()) Fail(opened.status().ToString());
    store_ = *std::move(opened);

    std::mt19937_64 random(42);
    std::uniform_int_distribution<int64_t> fire_at(kT0 + kHourMs + 1, kT0 + 30 * kDayMs);
    constexpr int64_t kPerCommit = 10'000;
    for (int64_t done = 0; done < pending;) {
      CommitBatch batch;
      for (; done < pending && static_cast<int64_t>(batch.timers_put.size()) < kPerCommit; ++done) {
        batch.timers_put.push_back(Timer{.fire_at = ProcessingTime{fire_at(random)},
                                         .partition = static_cast<int32_t>(done % kPartitions),
                                         .worker = WorkerId{"W" + std::to_string(done)},
                                         .rule = Rule::kR3SelfTestMissed,
                                         .kind = alertd::domain::TimerKind::kSelfTestDue});
      }
      Check(store_->Commit(batch));
    }
  }
  PendingStore(const PendingStore&) = delete;
  PendingStore& operator=(const PendingStore&) = delete;
  ~PendingStore() {
    store_.reset();
    std::error_code ignored;  // best effort: a leftover temp dir is no reason to fail
    std::filesystem::remove_all(dir_, ignored);
  }

  StateStore& store() { return *store_; }
  // The clock, advanced 1 ms per round that fires timers so that each round fires new ones.
  // Rounds that fire none leave it alone: cheap rounds run millions of times and would otherwise
  // carry it into the pending timers an hour ahead.
  int64_t now = kT0;
  void Tick() {
    if (++now > kT0 + kHourMs) Fail("the clock reached the pending timers; shorten the run");
  }

  static void Check(const absl::Status& status) {
    if (!status.ok()) Fail(status.ToString());
  }
  [[noreturn]] static void Fail(const std::string& message) {
    std::fprintf(stderr, "timer-bench: %s\n", message.c_str());
    std::exit(1);
  }

 private:
  std::string dir_;
  std::unique_ptr<StateStore> store_;
};

// One store per pending count, built on first use and shared by the benchmarks after it; main
// closes them before exit, while RocksDB's own statics are still alive.
std::map<int64_t, std::unique_ptr<PendingStore>>& Stores() {
  static std::map<int64_t, std::unique_ptr<PendingStore>> stores;
  return stores;
}

PendingStore& StoreWith(int64_t pending) {
  std::unique_ptr<PendingStore>& store = Stores()[pending];
  if (!store) store = std::make_unique<PendingStore>(pending);
  return *store;
}

// `count` timers firing at `fire_at`, each of its own worker, across partitions.
std::vector<Timer> DueAt(int64_t fire_at, int64_t count) {
  std::vector<Timer> timers;
  timers.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    timers.push_back(Timer{.fire_at = ProcessingTime{fire_at},
                           .partition = static_cast<int32_t>(i % kPartitions),
                           .worker = WorkerId{"D" + std::to_string(i)},
                           .rule = Rule::kR3SelfTestMissed,
                           .kind = alertd::domain::TimerKind::kAckTimeout});
  }
  return timers;
}

// The same timers re-armed `ms` later.
std::vector<Timer> Moved(std::vector<Timer> timers, int64_t ms) {
  for (Timer& timer : timers) timer.fire_at.ms += ms;
  return timers;
}

void SetCounters(benchmark::State& state, int64_t due, int64_t pending) {
  state.counters["due"] = static_cast<double>(due);
  state.counters["pending"] = static_cast<double>(pending);
}

// LoadDueTimers with `due` timers due and `pending` not yet: the punctuation's read.
void BM_LoadDueTimers(benchmark::State& state) {
  const int64_t due = state.range(0);
  const int64_t pending = state.range(1);
  PendingStore& fixture = StoreWith(pending);
  const std::vector<Timer> timers = DueAt(fixture.now, due);
  PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_put = timers}));
  for (auto _ : state) {
    absl::StatusOr<std::vector<Timer>> loaded = fixture.store().LoadDueTimers(ProcessingTime{fixture.now}, kNoLimit);
    if (!loaded.ok() || static_cast<int64_t>(loaded->size()) != due) {
      state.SkipWithError("LoadDueTimers did not return exactly the due timers");
      break;
    }
    benchmark::DoNotOptimize(loaded);
  }
  PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_delete = timers}));
  SetCounters(state, due, pending);
}

// The commit after firing: deletes the `due` fired timers and puts as many re-armed ones. They are
// re-armed 1 ms ahead, and the clock advances 1 ms per round, so every round retires `due` timers
// and the pending ones stay as they were.
void BM_CommitFiredTimers(benchmark::State& state) {
  const int64_t due = state.range(0);
  const int64_t pending = state.range(1);
  PendingStore& fixture = StoreWith(pending);
  std::vector<Timer> fired = DueAt(fixture.now, due);
  PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_put = fired}));
  for (auto _ : state) {
    std::vector<Timer> rearmed = Moved(fired, 1);
    PendingStore::Check(
        fixture.store().Commit(CommitBatch{.timers_put = rearmed, .timers_delete = std::move(fired)}));
    fired = std::move(rearmed);
    if (due > 0) fixture.Tick();
  }
  PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_delete = fired}));
  SetCounters(state, due, pending);
}

// A whole punctuation: load what is due, then commit its deletion and re-arming. The fired timers'
// tombstones pile up at the front of the index, where every next load starts.
void BM_Punctuation(benchmark::State& state) {
  const int64_t due = state.range(0);
  const int64_t pending = state.range(1);
  PendingStore& fixture = StoreWith(pending);
  PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_put = DueAt(fixture.now, due)}));
  for (auto _ : state) {
    absl::StatusOr<std::vector<Timer>> fired = fixture.store().LoadDueTimers(ProcessingTime{fixture.now}, kNoLimit);
    if (!fired.ok() || static_cast<int64_t>(fired->size()) != due) {
      state.SkipWithError("LoadDueTimers did not return exactly the due timers");
      break;
    }
    std::vector<Timer> rearmed = Moved(*fired, 1);
    PendingStore::Check(
        fixture.store().Commit(CommitBatch{.timers_put = std::move(rearmed), .timers_delete = *std::move(fired)}));
    if (due > 0) fixture.Tick();
  }
  absl::StatusOr<std::vector<Timer>> left = fixture.store().LoadDueTimers(ProcessingTime{fixture.now}, kNoLimit);
  if (left.ok()) PendingStore::Check(fixture.store().Commit(CommitBatch{.timers_delete = *std::move(left)}));
  SetCounters(state, due, pending);
}

void DueByPending(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"due", "pending"});
  for (int64_t pending : {1'000, 1'000'000}) {
    for (int64_t due : {0, 10, 1'000}) bench->Args({due, pending});
  }
  bench->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_LoadDueTimers)->Apply(DueByPending);
BENCHMARK(BM_CommitFiredTimers)->Apply(DueByPending);
BENCHMARK(BM_Punctuation)->Apply(DueByPending);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  Stores().clear();
  return 0;
}
