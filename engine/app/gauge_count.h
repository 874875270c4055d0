// The dashboard gauges' count of the workers stored for newly owned partitions, run in the background.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "engine/app/commit_window.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/worker_gauges.h"
#include "engine/state/store.h"

namespace alertd::app {

// The dashboard gauges (alertd_open_escalations, alertd_self_test_*) are sums of every owned worker's
// contribution (worker_gauges.h). A partition that arrives brings its stored workers' share, which
// takes a scan of the partition: a million workers are seconds of reading. This class scans on its
// own thread, a thousand workers per turn at the store, while the engine processes the partition's
// records at once; alertd_dashboard_partitions_counting says how many partitions are not counted yet.
//
// The count stays exact although workers change while it runs. The scan goes through a partition in
// worker id order, behind a cursor. A change to a worker the cursor has passed is applied as it is (the
// scan counted the worker as it was before). The first change to a worker ahead of the cursor adds the
// worker's contribution from before the change and marks the worker, and the scan skips the marked
// workers when it reaches them: its stored state may already be the changed one. Either way each
// worker counts once, as it is now. A partition's count starts before any of its records is processed
// (Add() from the engine's activation), so the first change's "before" is what the scan would read.
//
// Thread-safe: Add(), Recount() and Track() come from the engine thread, the scan runs on its own
// and reads the store through the commit window (its mutex); the gauges are changed under one mutex
// while a count runs, and without it otherwise (Track() on the engine thread only).
class GaugeCount {
 public:
  GaugeCount(CommitWindow& window, metrics::EngineMetrics& metrics);
  ~GaugeCount();  // stops the scan
  GaugeCount(const GaugeCount&) = delete;
  GaugeCount& operator=(const GaugeCount&) = delete;

  // The partition (>= 0) is owned from now on and none of its records was processed yet: its stored
  // workers are counted into the gauges in the background. A partition being counted or counted since
  // the last Recount() is not counted again.
  void Add(int32_t partition);
  // Every gauge is cleared and the workers of `partitions` are counted again (partitions moved away:
  // their share is gone without reading them). A count in progress is abandoned.
  void Recount(const std::set<int32_t>& partitions);
  // A worker's contribution changed from `before` (its state before this change) to `after`.
  void Track(const state::WorkerKey& key, const metrics::WorkerGauges& before, const metrics::WorkerGauges& after);

  // Partitions whose count has not finished.
  std::size_t counting() const { return counting_.load(std::memory_order_acquire); }
  // The first store error the scan met (the count of that partition stops there; the gauges of the
  // others go on), or OK. The engine stops on it, as on any store read that fails.
  absl::Status error() const;

 private:
  // A partition being counted: how far the scan is, and the workers changed ahead of it.
  struct Partition {
    std::string cursor;  // the last worker id the scan counted or skipped; "" before the first
    std::set<std::string> changed_ahead;
  };

  void Scan();
  // One turn at the store: up to kTurnWorkers workers of `partition` after `after`. Returns the id of
  // the last one read, or "" at the end of the partition (or when the count was abandoned).
  absl::StatusOr<std::string> Turn(int32_t partition, uint64_t generation, const std::string& after,
                                   std::size_t& workers, std::size_t& contributing);
  void UpdateGauge();  // under mu_

  CommitWindow& window_;
  metrics::EngineMetrics& metrics_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::map<int32_t, Partition> partitions_;  // being counted
  std::set<int32_t> counted_;                // counted since the last Recount(): Add() leaves them be
  std::deque<int32_t> queue_;                // to count, in order
  uint64_t generation_ = 0;                  // bumped by Recount(): a scan of an older one stops
  bool stop_ = false;
  absl::Status error_;
  std::atomic<std::size_t> counting_{0};
  std::thread thread_;
};

}  // namespace alertd::app
