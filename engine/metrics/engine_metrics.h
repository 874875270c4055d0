// The engine's Prometheus metrics: counts the outcomes the domain returns, labelled by unit and grid.
//
// Never labelled by worker: a label per worker would make one time series per person. The hot-path
// methods are called from the engine thread only; Exposition() may be called from the HTTP thread.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/container/flat_hash_map.h"
#include "engine/domain/types.h"
#include "engine/metrics/worker_gauges.h"

namespace alertd::metrics {

class EngineMetrics {
 public:
  EngineMetrics();

  // kind: "blood_pressure", "glucose" or "body"; category: BP category name, or "" for other kinds.
  void CountReading(std::string_view kind, std::string_view category, const std::string& unit,
                    const std::string& grid);
  // flag: "isolated_systolic" or "hypotension".
  void CountBpFlag(std::string_view flag, const std::string& unit, const std::string& grid);
  void CountEscalation(const domain::Escalation& e);
  void CountReferral(const domain::Referral& r);
  void CountDeadLetter(domain::RejectReason reason, std::string_view topic);
  void ObserveCommit(double seconds, std::size_t records);
  // Time the loop stood still waiting for the previous commit: the store is the bottleneck when it grows.
  void AddCommitWait(double seconds);
  // Time the engine loop spent in the consumer's poll, waiting for input.
  void AddPollWait(double seconds);
  void SetConsumerLag(const std::string& topic, int32_t partition, int64_t lag);
  // The next offset alertd will process of an owned input partition, as committed with its state.
  void SetConsumerPosition(const std::string& topic, int32_t partition, int64_t next_offset);
  // Removes every lag and position series (partitions revoked).
  void ClearConsumerLag();
  // Removes one topic-partition's lag and position series (it moved away).
  void ClearConsumerLag(const std::string& topic, int32_t partition);
  void SetOutboxPending(std::size_t entries);
  void CountDeliveryFailure(const std::string& topic);
  // Output the broker refused for good, moved to the parked column family (`alertd parked`).
  void CountParked(const std::string& topic);
  void SetParked(std::size_t entries);
  // An error a librdkafka call or callback reported. op: consume, produce, delivery, pause, resume,
  // client; error: librdkafka's name for it. Both come from small fixed sets.
  void CountKafkaError(std::string_view op, std::string_view error);
  // Input offsets never processed because Kafka no longer had them (retention, truncation). cause:
  // "retention" (the stored or current position fell behind the log start) or "before_first_read"
  // (a partition first assigned after its oldest records had already been deleted).
  void CountInputGap(const std::string& topic, std::string_view cause, int64_t records);
  // An input partition that had stopped fetching and was assigned again (app/fetch_watch.h).
  void CountFetchRestart(const std::string& topic);
  void CountFetchWake(const std::string& consumer);
  // A store call that failed with a transient error and was tried again.
  void CountStoreRetry();
  // A worker's committed state read from the store because it was not kept in memory.
  void CountStateLoad();
  // A committed state dropped from memory, or not kept, to stay within the states' share of the budget.
  void CountStateEviction();
  // What the store's WAL recovery dropped when it was opened (see StateStore::Recovery()).
  void SetWalRecovery(uint64_t dropped_commits, uint64_t skipped_bytes);
  void SetAssignedPartitions(std::size_t n);
  void CountTimerFired(std::string_view rule);
  // An input or timer the rules looked at and found stale (an ack for a closed episode, a deadline
  // already met).
  void CountIgnored();
  // A PRE_SHIFT blood-pressure reading of a worker in a high-risk post (R4): fit or unfit for duty.
  void CountPreShiftCheck(const std::string& unit, bool fit);

  // Changelog and restore (engine/app/changelog.h, restore.h). The changelog counters are safe to call
  // from the committer thread.
  void CountChangelogWrite(std::size_t records, std::size_t bytes, double seconds);
  void CountChangelogError();
  // Another instance's records appeared between this instance's own in a partition it owns.
  void CountChangelogForeignWrite();
  void CountRestored(std::size_t records, std::size_t bytes);
  void SetRestoringPartitions(std::size_t n);
  void SetRestoreRemaining(int32_t partition, int64_t records);
  void ClearRestoreRemaining(int32_t partition);
  void ObserveRestore(double seconds);
  // Standby replicas (engine/app/standby_plan.h): partitions followed without being owned.
  void CountStandbyRecords(std::size_t records, std::size_t bytes);
  void SetStandbyPartitions(std::size_t n);
  void SetStandbyLag(int32_t partition, int64_t records);
  void ClearStandbyLag(int32_t partition);
  void SetGroupMembers(std::size_t live);

  // Dashboard gauges (alertd_open_escalations, alertd_self_test_*): a worker's contribution changed
  // from `before` to `after`; equal contributions cost one comparison.
  void ApplyWorkerChange(const WorkerGauges& before, const WorkerGauges& after);
  // Every dashboard series removed (partitions revoked; the next assignment adds them again).
  void ClearWorkerGauges();
  // The two above may run on another thread than the other methods (the background count of
  // engine/app/gauge_count.h), one thread at a time: they share no buffer with the counters.
  // Owned partitions whose stored workers are not yet counted into the dashboard gauges.
  void SetCountingPartitions(std::size_t n);
  // The decoded-state cache: what it holds against its share of --memory-budget.
  void SetStateCache(std::size_t workers, std::size_t bytes);

  std::string Exposition() const;
  prometheus::Registry& registry() { return *registry_; }

 private:
  using Labels = std::initializer_list<std::pair<const char*, std::string_view>>;
  prometheus::Counter& Counter(prometheus::Family<prometheus::Counter>& family, Labels labels);
  void AddWorker(const WorkerGauges& g, double sign);
  void AddSelfTest(const std::string& unit, int enrolled, int overdue);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& readings_;
  prometheus::Family<prometheus::Counter>& bp_flags_;
  prometheus::Family<prometheus::Counter>& escalations_;
  prometheus::Family<prometheus::Counter>& referrals_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Family<prometheus::Counter>& delivery_failures_;
  prometheus::Family<prometheus::Counter>& parked_total_;
  prometheus::Gauge& parked_;
  prometheus::Family<prometheus::Counter>& kafka_errors_;
  prometheus::Family<prometheus::Counter>& input_gaps_;
  prometheus::Family<prometheus::Counter>& fetch_restarts_;
  prometheus::Family<prometheus::Counter>& fetch_wakes_;
  prometheus::Counter& store_retries_;
  prometheus::Counter& state_loads_;
  prometheus::Counter& state_evictions_;
  prometheus::Gauge& wal_dropped_commits_;
  prometheus::Gauge& wal_skipped_bytes_;
  prometheus::Family<prometheus::Gauge>& lag_;
  prometheus::Family<prometheus::Gauge>& position_;
  prometheus::Family<prometheus::Counter>& timers_fired_;
  prometheus::Counter& ignored_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Counter& commits_;
  prometheus::Counter& commit_wait_seconds_;
  prometheus::Counter& poll_wait_seconds_;
  prometheus::Counter& committed_records_;
  prometheus::Gauge& outbox_pending_;
  prometheus::Gauge& assigned_partitions_;
  prometheus::Family<prometheus::Counter>& pre_shift_checks_;
  prometheus::Counter& changelog_records_;
  prometheus::Counter& changelog_bytes_;
  prometheus::Histogram& changelog_write_seconds_;
  prometheus::Counter& changelog_errors_;
  prometheus::Counter& changelog_foreign_writes_;
  prometheus::Counter& restore_records_;
  prometheus::Counter& restore_bytes_;
  prometheus::Gauge& restoring_partitions_;
  prometheus::Family<prometheus::Gauge>& restore_remaining_;
  prometheus::Histogram& restore_seconds_;
  prometheus::Counter& standby_records_;
  prometheus::Counter& standby_bytes_;
  prometheus::Gauge& standby_partitions_;
  prometheus::Family<prometheus::Gauge>& standby_lag_;
  prometheus::Gauge& group_members_;
  prometheus::Gauge& counting_partitions_;
  prometheus::Gauge& state_cache_workers_;
  prometheus::Gauge& state_cache_bytes_;
  prometheus::Family<prometheus::Gauge>& open_escalations_;
  prometheus::Family<prometheus::Gauge>& open_escalations_opened_;
  prometheus::Family<prometheus::Gauge>& self_test_enrolled_;
  prometheus::Family<prometheus::Gauge>& self_test_overdue_;
  prometheus::Family<prometheus::Gauge>& self_test_compliance_;
  // Label lookups in prometheus-cpp take a lock and hash a map; the hot path caches the result under a
  // flat key built in a reused buffer, and builds the label map only on a miss. A flat map: a lookup
  // per reading, and std::unordered_map's walk of its nodes cost 1.6% of a drain's CPU.
  absl::flat_hash_map<std::string, prometheus::Counter*> counter_cache_;
  std::string key_buffer_;
  // Dashboard series by flat key (unit, rule, level), and the per-unit self-test tallies the
  // compliance ratio is computed from; the ratio's series exists only while a unit has enrolled workers.
  struct OpenSeries {
    prometheus::Gauge* count = nullptr;      // alertd_open_escalations
    prometheus::Gauge* opened_sum = nullptr; // alertd_open_escalations_opened_timestamp_seconds_sum
  };
  std::unordered_map<std::string, OpenSeries> open_gauges_;
  std::string gauge_key_buffer_;  // AddWorker's own: it may run on the gauge count's thread
  struct SelfTestTally {
    int64_t enrolled = 0;
    int64_t overdue = 0;
    prometheus::Gauge* enrolled_gauge = nullptr;
    prometheus::Gauge* overdue_gauge = nullptr;
    prometheus::Gauge* ratio_gauge = nullptr;
  };
  std::unordered_map<std::string, SelfTestTally> self_test_;
};

}  // namespace alertd::metrics
