// Restore: brings the local store's copy of newly assigned partitions up to the end of their changelog.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/app/commit_window.h"
#include "engine/app/log_limiter.h"
#include "engine/kafka/clients.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

typedef struct rd_kafka_s rd_kafka_t;

namespace alertd::app {

// The restore of Kafka Streams' StoreChangelogReader, for alertd's changelog (changelog.h). For each
// partition it is given, it compares the store's checkpoint with the changelog and reads only what
// the store lacks:
//  - a checkpoint whose records since its owner's fence are all its own (contiguous): from the
//    checkpoint on (nothing after a clean hand-back, the other owners' commits after a move);
//  - no checkpoint and an empty changelog, with state in the store (a store from before changelogs, or
//    a changelog topic created anew): nothing; the store's copy is written to the changelog whole;
//  - anything else (no checkpoint, an empty disk, a copy another instance wrote over while this one
//    was paused): the store's copy is dropped and the whole changelog read.
// Complete commits are applied with their checkpoint, so a restore interrupted by a crash resumes
// where it stopped. The end is the changelog's high watermark when the restore starts: what a fenced
// owner writes after that is ignored by every later restore anyway.
//
// Thread-compatible: the engine thread polls it; the store is reached through the commit window.
class Restorer {
 public:
  // A partition whose restore reached the end: the owner fences it under `epoch` + 1 with `repairs`.
  struct Finished {
    int32_t partition = 0;
    uint32_t epoch = 0;                  // the highest epoch read (or checkpointed)
    std::vector<state::Change> repairs;  // the store's current value of each key a dropped change touched
    uint64_t records = 0;                // changelog records read
  };

  static absl::StatusOr<std::unique_ptr<Restorer>> Create(const std::string& bootstrap, std::string topic,
                                                          const kafka::Properties& properties, CommitWindow& window,
                                                          metrics::EngineMetrics& metrics, LogLimiter& log_limiter);
  ~Restorer();
  Restorer(const Restorer&) = delete;
  Restorer& operator=(const Restorer&) = delete;

  // Starts restoring the partition (its input waits meanwhile).
  void Add(int32_t partition);
  // The partition moved away before its restore finished.
  void Remove(int32_t partition);
  bool empty() const { return partitions_.empty(); }
  std::size_t size() const { return partitions_.size(); }

  // Reads what the broker has sent, applies the complete commits, and returns the partitions whose
  // restore finished. Bounded work per call; never waits longer than a watermark query (1 s). Errors:
  // DataLoss for a changelog record no alertd writes (named by topic, partition and offset), and the
  // store's own.
  [[nodiscard]] absl::StatusOr<std::vector<Finished>> Poll();

 private:
  struct Partition;
  Restorer(rd_kafka_t* consumer, std::string topic, CommitWindow& window, metrics::EngineMetrics& metrics,
           LogLimiter& log_limiter);
  // Decides where the partition's restore starts (see the class comment); false if the broker did not
  // answer yet (tried again later).
  [[nodiscard]] absl::StatusOr<bool> Begin(int32_t partition, Partition& p);
  [[nodiscard]] absl::Status Consume(const void* message);
  [[nodiscard]] absl::Status ApplyReady(int32_t partition, Partition& p);
  [[nodiscard]] absl::Status Finish(int32_t partition, Partition& p, std::vector<Finished>& finished);
  void Unassign(int32_t partition);
  void UpdateGauges();

  rd_kafka_t* consumer_;
  const std::string topic_;
  CommitWindow& window_;
  metrics::EngineMetrics& metrics_;
  LogLimiter& log_limiter_;
  std::map<int32_t, std::unique_ptr<Partition>> partitions_;
};

}  // namespace alertd::app
