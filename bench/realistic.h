// alertd-bench on the workload users have: alertd-sim's population and mix (profiles, blood pressure
// with pre-shift checks, glucose and body readings, 14 days of history) instead of the synthetic stream.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "bench/report.h"

namespace alertd::bench {

struct RealisticOptions {
  std::string alertd_bin, sim_bin, bootstrap, work;
  int partitions = 128;
  int workers = 20000;  // also the sparse workers of the bytes-per-reading runs; dense ones are 1/50 of them
  int days = 14;
  double readings_per_day = 8;
  int repetitions = 3;
  int latency_rate = 5000, latency_seconds = 20;
  // The memory and restart run with a large population (the 1,000,000); 0 = not run.
  int memory_workers = 0;
  double memory_readings_per_day = 0.1;
  std::vector<std::string> alertd_flags;
};

// Every topic the realistic phases read or write, changelogs included, for alertd-kafka's --topics.
std::vector<std::string> RealisticTopics(const RealisticOptions& o);

// The names of the realistic phases' figures in the report, in one place for the phases that add them
// and for the targets judged on them (targets.h).
struct RealisticFigures {
  explicit RealisticFigures(const RealisticOptions& o);
  std::string drain_ratio, live_ratio, cpu_drain, cpu_live, peak_rss_drain, peak_rss_live, growth_drain;
  // The drain's CPU per record by the kind of thread (bench_support.h ThreadKind): where target 2's
  // CPU goes, printed under its verdict.
  std::array<std::string, kThreadKindNames.size()> cpu_drain_by_thread;
  // Bytes per reading at the latency phase's steady rate (target 3), and in the backlog before it.
  std::string bytes_sparse_rocksdb, bytes_sparse_changelog, bytes_dense_rocksdb, bytes_dense_changelog;
  std::string backlog_bytes_sparse_rocksdb, backlog_bytes_sparse_changelog, backlog_bytes_dense_rocksdb,
      backlog_bytes_dense_changelog;
  std::string latency_p99, restart_processed, restart_assigned;
  // The stack's floor on the drain's topic (floor.h): a write of each kind per record, and per worker
  // and commit.
  std::string floor_cpu, floor_drain, floor_ratio;
  // The same floor reading while the stream is produced, as the live ratio's bare consumer does.
  std::string floor_live, floor_live_ratio;
  std::string coalesced_floor_cpu, coalesced_floor_drain, coalesced_floor_ratio;
  // The memory run (RealisticOptions::memory_workers).
  std::string memory_peak_rss, memory_growth, memory_restart_processed, memory_restart_assigned;
};

struct Ratios {
  double drain = 0, live = 0;  // medians over the repetitions
};

// Fills the topics with alertd-sim, then each repetition: the bare consumer while the stream is produced
// and again draining it, alertd draining it, the stack's floors draining it (floor.h), alertd while it
// is produced, latency at a steady rate, restart after kill -9, bytes per reading for sparse and dense
// workers in a backlog and at the steady rate; then the memory run if asked. Each figure goes to
// `report`; prints a line per measurement.
Ratios RunRealistic(const RealisticOptions& o, Report& report);

}  // namespace alertd::bench
