// The engine loop: poll -> decode -> rules -> batched atomic commit -> produce outbox -> repeat.
//
// Exactly-once state: a worker's state changes, the input offsets that caused them and the output
// they produced are committed in one RocksDB WriteBatch; on (re)assignment the consumer seeks to the
// offsets stored there, never to the group's offsets in Kafka. Output is at least once: outbox entries
// are produced after the commit and deleted only once the broker confirms them.
//
// Time. Housekeeping (commit interval, lag, punctuation rhythm) always runs on the steady clock. The
// rules' processing time (deadlines, validation bounds, emitted_at) depends on the clock mode:
// - kWall (`alertd --clock=wall`, the default): the injected clock, read once per loop iteration;
//   due timers are looked up in the store's timer index once per punctuate_interval_ms.
// - kStream (`alertd --clock=stream`, replays and backtests): each partition has its own processing
//   time, the largest Kafka record timestamp (producer CreateTime) seen so far on that partition of
//   any input topic; it never goes backwards and is committed with the offsets, so it survives a
//   restart. The records of one partition are merged across the four topics in timestamp order
//   (StreamMerge: a partition waits until each of its topic-partitions has a buffered record or has
//   reported its end, enable.partition.eof=true). Before a record with timestamp ts, the partition's
//   timers with fire_at <= ts fire in fire order, each at processing time fire_at, and whatever they
//   set (the next rung of a ladder) is applied before the record; timers a record sets in the past
//   fire right after it. Pending timers of owned partitions are held in memory (PartitionTimers),
//   loaded from the store on assignment; the store stays the durable copy. So the same input history
//   gives the same event ids and emitted_at, run after run and across a kill -9. Time moves only with
//   input: with no newer record on a partition, its deadlines wait. Readings are not held back while
//   profiles load (the merge already puts each profile before the later readings).
// Thread-compatible: Run() and everything it calls happen on one thread; Ready()/Alive() may be read
// from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/app/changelog.h"
#include "engine/app/commit_window.h"
#include "engine/app/fetch_watch.h"
#include "engine/app/gauge_count.h"
#include "engine/app/log_limiter.h"
#include "engine/app/membership.h"
#include "engine/app/outbox.h"
#include "engine/app/partition_timers.h"
#include "engine/app/restore.h"
#include "engine/app/stream_merge.h"
#include "engine/app/task.h"
#include "engine/domain/clock.h"
#include "engine/domain/rulebook.h"
#include "engine/kafka/clients.h"
#include "engine/kafka/fetch_wake.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

namespace alertd::app {

// Where the rules' processing time comes from (see the top of this file).
enum class ClockMode { kWall, kStream };

struct EngineOptions {
  std::string bootstrap;
  std::string group_id = "alertd";
  std::string readings_topic = "readings";
  std::string profiles_topic = "worker-profiles";
  std::string escalations_topic = "escalations";
  std::string dead_letters_topic = "dead-letters";
  std::string referrals_topic = "referrals";
  std::string shifts_topic = "shifts";
  std::string acks_topic = "escalation-acks";
  // Each partition's state changes also go here, so the partition's next owner restores them (see
  // changelog.h, restore.h); "" keeps state on this machine only (one instance, nothing to move).
  std::string changelog_topic;
  // Idempotent producers the changelog is written through (ChangelogWriter, "Lanes").
  int changelog_producers = ChangelogWriter::kDefaultLanes;
  // Standby copies of each partition kept by other instances (restore.h); needs the changelog. The
  // instances announce what they own on `members_topic` (membership.h) under `instance_id`.
  int standby_replicas = 0;
  std::string members_topic;
  std::string instance_id;
  // Where this instance's query API answers the others (`host:port`), announced on `members_topic`
  // with its partitions; "" = no API to announce. The members topic is then read even without
  // standbys, to learn the others' addresses (if it exists: without it, answers are this instance's).
  std::string advertise_http;
  int64_t punctuate_interval_ms = 1000;  // how often due deadlines (timers) are looked up
  int64_t commit_interval_ms = 100;      // commit at least this often while records arrive
  // Group commit: a commit starts as soon as the previous one is durable when input records are
  // waiting, so a lone reading is committed (and its escalation sent) at once and, under load, a
  // window gathers what arrived during the previous commit. The loop reads workers beside the commit
  // in flight (CommitWindow::Load), so a commit always in flight holds nothing back. Off: only the
  // interval and the size start one.
  bool group_commit = true;
  std::size_t commit_max_records = 20000;  // or after this many input records, whichever first
  int64_t shutdown_flush_ms = 10000;     // how long shutdown waits for the broker to confirm output
  // Committed worker states kept decoded in memory (LRU), in CommitWindow::CachedBytes.
  std::size_t state_cache_bytes = 64 << 20;
  ClockMode clock_mode = ClockMode::kWall;
  // Stream mode: records buffered per topic-partition for the timestamp merge before it is paused.
  std::size_t stream_buffer_records = 2000;
  kafka::Properties consumer_properties;  // extra librdkafka settings, win over the defaults
  // The same for the consumers of the changelog (restores, standbys) and the members topic: their
  // prefetch has its own share of the memory budget.
  kafka::Properties restore_consumer_properties;
  kafka::Properties producer_properties;
};

// The StreamThread of Kafka Streams' shape: the consumer and its rebalance callbacks, the poll loop,
// stream mode's merge and timers, punctuation, lag and positions, shutdown. A record goes to the Task;
// the CommitWindow holds what it changed until the commit; the Outbox produces what was committed.
class Engine {
 public:
  Engine(EngineOptions options, state::StateStore& store, const domain::Rulebook& rules,
         metrics::EngineMetrics& metrics, const domain::Clock& clock);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Creates the clients, subscribes and re-sends output left in the outbox by a previous run.
  [[nodiscard]] absl::Status Start();

  // Runs until `stop` becomes true (then shuts down cleanly) or a fatal error occurs: Aborted for a
  // fatal Kafka client error, ResourceExhausted for a full disk, DataLoss for a corrupt store, others
  // as the store or client reported them. Transient errors are retried inside.
  [[nodiscard]] absl::Status Run(const std::atomic<bool>& stop);

  // Partitions assigned, restored and processing, and the outbox of the previous run handed to the
  // producer.
  bool Ready() const { return ready_.load(); }
  // Wall-clock time (the injected clock) of the last loop iteration, for /healthz, in both modes.
  int64_t LastLoopMs() const { return last_loop_ms_.load(); }

  // For the query API, from any thread. Runs `read` on the store between the engine's own uses of it
  // (the committed state; the window being processed is not in it yet).
  [[nodiscard]] absl::Status ReadState(const std::function<absl::Status(state::StateStore&)>& read) {
    return window_.Read(read);
  }
  // The partitions restored and processing here now: the store's copies of others (standbys, partitions
  // that moved away) are not answers.
  std::set<int32_t> ServedPartitions() const;
  // The inputs' partition count, once checked at start; 0 before.
  int PartitionCount() const { return partition_count_.load(); }
  // The HTTP addresses the other live instances of the group announced (options.advertise_http).
  std::vector<std::string> PeerHttpAddresses() const;
  // Before Start(): the address to announce, known once the HTTP listener is bound.
  void SetAdvertisedHttp(std::string address) { options_.advertise_http = std::move(address); }

 private:
  class Callbacks;

  struct MessageDeleter {
    void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
  };
  using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

  bool stream_mode() const { return options_.clock_mode == ClockMode::kStream; }
  // The first fatal error: a store read the rules needed, then one raised inside a librdkafka callback.
  const absl::Status& Failure() const { return window_.error().ok() ? callback_error_ : window_.error(); }
  // Stream mode: position of a topic among the merged inputs (ties between equal timestamps go to
  // the lower one: profiles, readings, shifts, acks), or -1 for a topic that is not an input.
  int InputIndex(std::string_view topic) const;
  // Stream mode: buffers a consumed record (taking it over) or notes a topic-partition's end.
  // `input`: InputIndex() of its topic.
  void Buffer(rd_kafka_message_t* m, int input);
  void NoteEnd(const rd_kafka_message_t& m);
  // Stream mode: an input that reported its end has received every record the consumer's latest
  // fetch knew of (its cached high watermark); false while one written earlier is still on its way.
  bool StillAtEnd(int32_t partition, int input) const;
  // Stream mode: processes the records the merge lets go, in order, until none may go or the
  // commit is due; true if records may still go.
  [[nodiscard]] absl::StatusOr<bool> DrainMerge();
  // Stream mode: advances the partition's clock to the record, firing what fell due, then processes it.
  void ProcessInStreamOrder(const rd_kafka_message_t& m, int64_t timestamp);
  // Stream mode: fires the partition's timers with fire_at <= at, in order, each at its own time.
  void FireTimersUpTo(int32_t partition, int64_t at);
  void SetInputPaused(std::string_view topic, int32_t partition, bool paused);
  void RetryPauses();
  // Stream mode, on activation: the partition's clock and pending timers from the store.
  [[nodiscard]] absl::Status LoadStreamState(int32_t partition);

  void Process(const rd_kafka_message_t& m);
  // Fires the deadlines that are due, for the partitions this instance owns.
  [[nodiscard]] absl::Status Punctuate();
  // Every input offset is processed or accounted for: a record past the expected offset means Kafka
  // deleted the ones between (retention) before alertd read them, which is logged and counted.
  void CheckContinuity(const rd_kafka_message_t& m);
  // False for a record at an offset before one already delivered (a fetch position that went back),
  // which must not be processed twice.
  bool Fresh(const rd_kafka_message_t& m, int input);
  // Hands the work since the last commit to a background commit; waits for the previous one first.
  [[nodiscard]] absl::Status StartCommit();
  [[nodiscard]] absl::Status CommitNow();
  // A commit is durable: its output goes to the producer, its offsets to the position and lag gauges.
  void OnCommitted(const state::CommitBatch& batch);
  // The group assigns partitions of the readings topic; the same-numbered partitions of the other
  // inputs come with them (co-partitioning: a worker's profile, readings, shifts and acks share one
  // partition number and one state).
  [[nodiscard]] absl::Status OnAssign(const std::vector<RdKafka::TopicPartition*>& partitions);
  [[nodiscard]] absl::Status OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost);
  std::vector<std::string> InputTopics() const;
  bool Cooperative() const;
  // A partition's state is in the store (restored, or it never moved): fence its changelog, position its
  // inputs and start processing them.
  // `profiles_end`: the end of the partition's profiles topic, if known (wall mode waits for it).
  [[nodiscard]] absl::Status Activate(int32_t partition, std::optional<int64_t> profiles_end);
  // Starts the dashboard gauges' background count of partitions just activated (GaugeCount).
  void CountGauges(const std::vector<int32_t>& partitions);
  // Wall mode: the ends of these partitions of the profiles topic, in one round trip; those it could
  // not read are missing (Activate then asks on its own).
  std::map<int32_t, int64_t> ProfileEnds(const std::vector<int32_t>& partitions);
  [[nodiscard]] absl::Status ActivateRestored();
  // Announces this instance's partitions (and HTTP address), learns the others' addresses, and follows
  // the partitions it stands by for.
  void UpdateStandbys();
  void Deactivate(int32_t partition);
  [[nodiscard]] absl::Status CheckPartitionCounts();
  void UpdateReady();
  // engine_inputs.cc: the input partitions in the consumer.
  // Where an input starts when assigned: its stored position, or the beginning without one.
  int64_t StoredStart(const TopicPartition& tp) const;
  // Assigns these inputs of a partition at their positions (cooperative assignor).
  [[nodiscard]] absl::Status AssignInputs(int32_t partition, const std::vector<std::string>& topics);
  // Takes the inputs of revoked partitions out of the consumer (the whole assignment, if eager).
  void UnassignInputs(const std::vector<int32_t>& partitions);
  // True when the partition's profiles have a backlog to load before its readings are graded.
  bool HoldReadingsForProfiles(int32_t partition, std::optional<int64_t> end);
  [[nodiscard]] absl::Status ResumeReadings(int32_t partition);
  // Lag gauges, readings whose profiles are loaded, and the watch on fetching; once a second.
  [[nodiscard]] absl::Status UpdateLag();
  [[nodiscard]] absl::Status WatchFetching();
  // Assigns inputs again that stopped fetching; `positions`: the consumer's, -1 for none.
  [[nodiscard]] absl::Status RestartFetch(const std::vector<TopicPartition>& stuck,
                                          const std::map<TopicPartition, int64_t>& positions);
  [[nodiscard]] absl::Status Shutdown();

  EngineOptions options_;
  metrics::EngineMetrics& metrics_;
  const domain::Clock& clock_;

  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<kafka::FetchWake> fetch_wake_;  // holds a queue of consumer_: declared after it, gone before it
  std::unique_ptr<ChangelogWriter> changelog_;  // null without a changelog topic
  std::unique_ptr<Restorer> restorer_;
  std::unique_ptr<Membership> membership_;  // null without standby replicas
  int64_t last_standby_update_ms_ = 0;
  LogLimiter log_limiter_;  // shared by the loop, the task and the outbox: one limit per kind of line
  CommitWindow window_;
  GaugeCount gauge_count_;  // after the window it reads, destroyed before it
  Outbox outbox_;
  Task task_;

  // Processing time of the record or timer being processed: in wall mode read once per loop
  // iteration, in stream mode the partition's clock.
  domain::ProcessingTime now_;

  std::set<int32_t> assigned_;          // by the group; restoring or owned
  std::set<int32_t> owned_partitions_;  // restored and processing
  // Restored partitions waiting for their fence to be confirmed (retried while the broker is away).
  std::vector<Restorer::Finished> to_activate_;
  int64_t activate_retry_ms_ = 0;
  bool assigned_once_ = false;
  bool consumer_closed_ = false;
  int64_t last_punctuate_ms_ = 0;
  int64_t last_commit_ms_ = 0;     // steady clock, like every housekeeping time
  int64_t loop_steady_ms_ = 0;     // steady clock at the start of the current loop iteration
  bool shutting_down_ = false;
  // Pauses and resumes librdkafka refused, to try again: the wanted state of each topic-partition.
  std::map<TopicPartition, bool> pause_retry_;
  std::set<TopicPartition> consumer_inputs_;  // input partitions assigned to the consumer
  std::set<TopicPartition> paused_inputs_;    // of those, the ones the engine paused
  FetchWatch fetch_watch_{kFetchStallMs};
  // The next offset each owned input partition must deliver (not the compacted profiles topic).
  struct ExpectedOffset {
    int64_t offset = 0;
    bool never_read = false;  // assigned without a stored position, nothing read yet
  };
  std::map<TopicPartition, ExpectedOffset> expected_offset_;

  // Where each owned partition stands: next offset to process (committed or pending).
  std::map<TopicPartition, int64_t> positions_;
  int64_t last_lag_update_ms_ = 0;
  // Profile partitions still loading after an assignment, with the offset that ends the backlog; their
  // readings partitions are held back until then (not assigned yet; paused with the eager assignor),
  // so readings are graded with the profiles they need.
  std::map<int32_t, int64_t> profiles_loading_;
  absl::Status callback_error_;  // a fatal error raised where no status returns (librdkafka callbacks, Process)

  // Stream mode (see the top of this file). Declared after the consumer: buffered records are
  // released before it is destroyed.
  StreamMerge<MessagePtr> merge_;
  bool merge_ready_ = false;  // the last drain stopped with records ready
  PartitionTimers stream_timers_;  // kept in step by the commit window
  std::map<int32_t, int64_t> stream_time_;  // each owned partition's processing time
  // The offset after the last record (or, in stream mode, the end) each owned input topic-partition
  // delivered, by partition * 4 + input index; starts at the stored offset.
  std::unordered_map<int64_t, int64_t> received_next_;

  std::atomic<bool> ready_{false};
  std::atomic<int64_t> last_loop_ms_{0};
  mutable std::mutex served_mu_;  // guards served_, the query API's copy of owned_partitions_
  std::set<int32_t> served_;
  std::vector<std::string> peers_;  // guarded by served_mu_ too: the members' HTTP addresses
  std::atomic<int> partition_count_{0};
};

}  // namespace alertd::app
