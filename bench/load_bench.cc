// Cost of loading a worker the state cache does not hold: with a million workers most readings do
// (bench/JOURNAL.md, "A million workers"). Fills a RocksDB store with `--workers` workers (a profile and two
// blood-pressure samples each, as alertd-sim's 0.1 readings a day over 14 days leave them) through
// the store's own commits, with the block cache and write buffers the default 512 MiB budget gives,
// then loads random workers, stored and never seen, and prints the CPU per load of this thread.
//
// Usage: load-bench [--workers N] [--loads N] [--dir DIR]. The store is removed at exit.
#include <stdlib.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "engine/app/memory_budget.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"
#include "engine/state/store.h"

namespace {

using alertd::domain::BpSample;
using alertd::domain::EventTime;
using alertd::domain::WorkerId;
using alertd::domain::WorkerProfile;
using alertd::domain::WorkerState;
using alertd::state::CommitBatch;
using alertd::state::StateStore;
using alertd::state::WorkerKey;

constexpr int32_t kPartitions = 128;
constexpr int64_t kT0 = 1'717'000'000'000;

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "load-bench: %s\n", message.c_str());
  std::exit(1);
}

void Check(const absl::Status& status) {
  if (!status.ok()) Fail(status.ToString());
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double WallSeconds() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

WorkerKey KeyOf(int64_t i, const char* prefix) {
  return WorkerKey{.partition = static_cast<int32_t>(i % kPartitions),
                   .worker = WorkerId{prefix + std::to_string(i)}};
}

WorkerState StateOf(const WorkerKey& key, int64_t i) {
  WorkerState s;
  WorkerProfile p;
  p.worker = key.worker;
  p.name = "工人" + std::to_string(i);
  p.unit_id = "U" + std::to_string(i % 500);
  p.unit_name = "第" + std::to_string(i % 500) + "车间";
  p.grid_id = "G" + std::to_string(i % 40);
  p.grid_name = "网格" + std::to_string(i % 40);
  p.health_manager = {.id = "HM" + std::to_string(i % 200), .name = "健康管理员"};
  p.unit_supervisor = {.id = "SUP" + std::to_string(i % 500), .name = "主管"};
  p.diagnosed_hypertension_grade = static_cast<int>(i % 3);
  p.updated_at_ms = kT0;
  s.profile = std::move(p);
  for (int k = 0; k < 2; ++k) {
    BpSample b;
    b.measured_at = EventTime{kT0 + (i % 1000) * 60'000 + k * 86'400'000};
    b.systolic_mmhg = 120 + static_cast<int>(i % 40);
    b.diastolic_mmhg = 80 + static_cast<int>(i % 20);
    b.pulse_bpm = 70;
    b.station_id = "ST" + std::to_string(i % 200);
    b.device_id = "BP-" + std::to_string(i % 400);
    s.bp_window.push_back(std::move(b));
    s.bp_readings += 1;
    s.readings_accepted += 1;
  }
  s.newest_bp_at = s.bp_window.back().measured_at;
  return s;
}

// Loads `loads` random keys made by `key_of`; prints and returns the CPU µs per load.
template <typename KeyFn>
double TimeLoads(StateStore& store, int64_t loads, const char* what, bool expect_found, KeyFn key_of) {
  std::mt19937_64 random(7);
  const double cpu0 = ThreadCpuSeconds();
  const double wall0 = WallSeconds();
  int64_t found = 0;
  for (int64_t n = 0; n < loads; ++n) {
    auto loaded = store.LoadWorker(key_of(random));
    if (!loaded.ok()) Fail(loaded.status().ToString());
    found += loaded->has_value() ? 1 : 0;
  }
  if (found != (expect_found ? loads : 0)) Fail(std::string(what) + ": found " + std::to_string(found));
  const double us = (ThreadCpuSeconds() - cpu0) * 1e6 / static_cast<double>(loads);
  std::printf("%-34s %8.2f us CPU per load (%lld loads, %.1f s)\n", what, us, static_cast<long long>(loads),
              WallSeconds() - wall0);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t workers = 1'000'000;
  int64_t loads = 300'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--workers") == 0) {
      workers = std::atoll(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--loads") == 0) {
      loads = std::atoll(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--dir") == 0) {
      dir = argv[i + 1];
    } else {
      Fail(std::string("unknown flag ") + argv[i] + " (flags: --workers N, --loads N, --dir DIR)");
    }
  }
  if ((argc - 1) % 2 != 0 || workers < 1 || loads < 1) Fail("usage: load-bench [--workers N] [--loads N] [--dir DIR]");
  if (dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "alertd_load_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp " + pattern);
    dir = pattern;
  }
  {
    // RocksDB's shares of the default budget.
    const alertd::app::MemoryShares shares = alertd::app::SplitMemoryBudget(alertd::app::kDefaultMemoryBudgetMiB << 20);
    absl::StatusOr<std::unique_ptr<StateStore>> opened =
        alertd::state::OpenRocksStore({.path = dir + "/db",
                                       .sync_commits = false,
                                       .block_cache_bytes = shares.rocks_cache,
                                       .memtable_bytes = shares.memtables});
    if (!opened.ok()) Fail(opened.status().ToString());
    StateStore& store = **opened;

    const double fill0 = WallSeconds();
    constexpr int64_t kPerCommit = 2'000;
    for (int64_t done = 0; done < workers;) {
      CommitBatch batch;
      for (; done < workers && static_cast<int64_t>(batch.workers.size()) < kPerCommit; ++done) {
        WorkerKey key = KeyOf(done, "W");
        WorkerState state = StateOf(key, done);
        batch.workers.emplace_back(std::move(key), std::move(state));
      }
      Check(store.Commit(batch, nullptr));
    }
    std::printf("filled %lld workers in %.1f s\n", static_cast<long long>(workers), WallSeconds() - fill0);

    std::uniform_int_distribution<int64_t> any(0, workers - 1);
    for (int round = 1; round <= 2; ++round) {
      std::printf("round %d\n", round);
      TimeLoads(store, loads, "  stored worker", true, [&](std::mt19937_64& r) { return KeyOf(any(r), "W"); });
      TimeLoads(store, loads, "  worker never seen", false, [&](std::mt19937_64& r) { return KeyOf(any(r), "X"); });
    }
  }
  std::error_code ignored;  // best effort: a leftover temp dir is no reason to fail
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
