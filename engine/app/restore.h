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
#include "engine/kafka/fetch_wake.h"
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
// Standby replicas (Kafka Streams' standby tasks): a partition this instance does not own can be
// followed instead. It starts like a restore, but never ends: its changelog is read as it grows and
// its complete commits are applied, with their checkpoint, once a second, all standby partitions in
// one store write. When the group assigns a followed partition to this instance, the restore goes on
// from where the standby stands (the replay's epoch, pending commit and dropped keys included) to the
// changelog's end at that moment: a failover reads only the tail.
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
    int64_t next_offset = 0;             // the changelog offset the restore read up to
  };

  static absl::StatusOr<std::unique_ptr<Restorer>> Create(const std::string& bootstrap, std::string topic,
                                                          const kafka::Properties& properties, CommitWindow& window,
                                                          metrics::EngineMetrics& metrics, LogLimiter& log_limiter);
  ~Restorer();
  Restorer(const Restorer&) = delete;
  Restorer& operator=(const Restorer&) = delete;

  // Starts restoring the partition (its input waits meanwhile); a partition followed as a standby
  // goes on from where it stands.
  void Add(int32_t partition);
  // The partition moved away before its restore finished.
  void Remove(int32_t partition);
  // The partitions to keep standby copies of (none of them added): those new to the set start
  // following, those no longer in it stop (their copy and checkpoint stay in the store).
  void Follow(const std::set<int32_t>& standbys);
  // Partitions being restored (not the standbys): the owner is not ready while there are any.
  std::size_t restoring() const { return partitions_.size() - standbys_; }

  // Reads what the broker has sent, applies the complete commits, and returns the partitions whose
  // restore finished. Bounded work per call; never waits longer than a watermark query (1 s). Errors:
  // DataLoss for a changelog record no alertd writes (named by topic, partition and offset), and the
  // store's own.
  [[nodiscard]] absl::StatusOr<std::vector<Finished>> Poll();

 private:
  struct Partition;
  Restorer(rd_kafka_t* consumer, std::string topic, CommitWindow& window, metrics::EngineMetrics& metrics,
           LogLimiter& log_limiter);
  // Begins the partitions that wait for it and finds the end of promoted standbys, with the
  // changelog's watermarks read for all of them in one round trip.
  [[nodiscard]] absl::Status BeginWaiting(int64_t now_ms);
  // Decides where the partition's restore (or standby) starts from its changelog's [low, high) (see
  // the class comment).
  [[nodiscard]] absl::Status Begin(int32_t partition, Partition& p, int64_t low, int64_t high);
  [[nodiscard]] absl::Status Consume(const void* message);
  // The complete commits read of the partition, with its checkpoint, added to `out`.
  void TakeReady(int32_t partition, Partition& p, std::vector<state::RestoredChanges>& out);
  [[nodiscard]] absl::Status Apply(std::vector<state::RestoredChanges> restored);
  [[nodiscard]] absl::Status Finish(int32_t partition, Partition& p, std::vector<Finished>& finished);
  // Stops following a standby partition: what it read completely is applied first.
  [[nodiscard]] absl::Status StopFollowing(int32_t partition);
  void Unassign(int32_t partition);
  void UpdateGauges();

  rd_kafka_t* consumer_;
  std::unique_ptr<kafka::FetchWake> fetch_wake_;  // holds a queue of consumer_: gone before it
  const std::string topic_;
  CommitWindow& window_;
  metrics::EngineMetrics& metrics_;
  LogLimiter& log_limiter_;
  std::map<int32_t, std::unique_ptr<Partition>> partitions_;  // restoring and standby
  std::size_t standbys_ = 0;
  absl::Status follow_error_;  // a store error met by Follow(), returned by the next Poll()
  int64_t last_apply_ms_ = 0;
  int64_t last_lag_ms_ = 0;
};

}  // namespace alertd::app
