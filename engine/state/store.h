// The engine's durable memory: per-partition worker state, consumed input offsets, the outbox of
// pending output and the timer index, committed together so that a crash at any instant loses
// nothing and counts nothing twice (DESIGN.md §5-§6).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/domain/timer.h"
#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"
#include "engine/state/worker_image.h"

namespace alertd::state {

// State is kept per input partition, so a partition's state can move to another instance with it.
// `partition` must be >= 0 and `worker` non-empty.
struct WorkerKey {
  int32_t partition = 0;
  domain::WorkerId worker;
  friend auto operator<=>(const WorkerKey&, const WorkerKey&) = default;
};

// One input partition. `topic` must be non-empty, valid UTF-8 and free of NUL bytes; `partition` >= 0.
struct InputPosition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const InputPosition&, const InputPosition&) = default;
};

// Names one outbox entry among every instance's: the input partition whose processing produced it,
// that partition's ownership epoch at the time (ChangelogCheckpoint) and the producing store's
// sequence. An entry moves with its partition's changelog to the next owner, whose own entries have a
// higher epoch, so ids never collide; within a partition they sort in the order they were made.
struct OutboxId {
  int32_t partition = 0;  // >= 0
  uint32_t epoch = 0;
  uint64_t seq = 0;
  friend auto operator<=>(const OutboxId&, const OutboxId&) = default;
};

// A record waiting to be produced; deleted once the broker confirms delivery.
struct OutboxEntry {
  uint64_t seq = 0;  // from NextOutboxSeq() of the store that made it
  std::string topic;
  std::string key;               // Kafka key bytes
  std::string value;             // Kafka value bytes
  int32_t source_partition = 0;  // input partition whose processing produced it
  uint32_t epoch = 0;            // the source partition's ownership epoch when it was made (0: no changelog)
  OutboxId id() const { return {source_partition, epoch, seq}; }
  friend bool operator==(const OutboxEntry&, const OutboxEntry&) = default;
};

// An output record the broker refused for good (too large, invalid), moved out of the outbox so it
// neither blocks nor repeats, and kept for an operator to inspect (`alertd parked`). Local to the
// instance that parked it: parked output does not follow its partition.
struct ParkedEntry {
  OutboxEntry entry;    // as it was in the outbox, same id
  std::string reason;   // the broker's or the engine's words
  int64_t parked_at_ms = 0;
  friend bool operator==(const ParkedEntry&, const ParkedEntry&) = default;
};

// Everything one commit changes, applied all-or-nothing. Entries apply in this order: workers,
// next_offsets, outbox_put, outbox_delete, timers_put, timers_delete, parked_put; a later entry for the
// same key wins (so a seq or a timer both put and deleted in one batch is gone). The explicit `= {}` lets a
// designated initializer name only the parts it changes (CommitBatch{.timers_put = ...}) without
// -Wmissing-field-initializers.
// A worker's committed state before a batch, as the batch's maker knows it.
struct WorkerBefore {
  bool known = false;                 // false: the store reads the state it holds
  std::optional<WorkerImage> image;  // when known: the committed state's image; nullopt = none
};

struct CommitBatch {
  std::vector<std::pair<WorkerKey, std::optional<domain::WorkerState>>> workers = {};  // nullopt = delete
  // Empty, or one per entry of `workers`: the state each had before this batch. The store writes a
  // worker's difference from it (its head, the samples added, deletions of those evicted), so a reading
  // costs the same bytes whatever its worker's windows hold. It must be what the store holds: a wrong
  // one leaves parts behind or misses changes (a load reports parts that disagree with the head as
  // DataLoss). An entry not known, or an empty vector, costs a read of the stored state. A later entry of the same worker is compared
  // with the earlier one's state, whatever its `before` says.
  std::vector<WorkerBefore> workers_before = {};
  std::vector<std::pair<InputPosition, int64_t>> next_offsets = {};  // next offset to consume, >= 0
  // Replay mode (--clock=stream): each partition's processing time, ms >= 0, committed with its offsets.
  std::vector<std::pair<int32_t, int64_t>> stream_times = {};
  // Seqs strictly ascending and >= NextOutboxSeq(), source_partition >= 0, any epoch (entries restored
  // from a changelog come by ApplyChanges, never here).
  std::vector<OutboxEntry> outbox_put = {};
  // Unknown ids are ignored (deliveries may be confirmed twice); a negative partition is refused.
  std::vector<OutboxId> outbox_delete = {};
  // Timers need partition >= 0, a non-empty worker id and a known rule; any fire_at is allowed.
  std::vector<domain::Timer> timers_put = {};     // putting a stored timer again is a no-op
  std::vector<domain::Timer> timers_delete = {};  // unknown timers are ignored (a fired one may be deleted twice)
  // Each also deletes its id from the outbox (if there). A seq at or above NextOutboxSeq() (output
  // parked before it reached the outbox) raises NextOutboxSeq() past it. source_partition >= 0.
  std::vector<ParkedEntry> parked_put = {};
  bool empty() const;
};

// A transactional store of the engine's state. Commit validates and encodes the whole batch before
// writing anything; a batch it refuses leaves the store untouched.
//
// Errors: InvalidArgument = the caller passed something the store cannot hold (nothing written);
// DataLoss = a stored record is corrupt (or a file RocksDB cannot recover: the open stops);
// FailedPrecondition = wrong schema version, or a write to a read-only store; ResourceExhausted = the
// state directory's filesystem is full (a commit refused before anything was written, or an open
// without room to replay its WAL; the message names the directory, free and needed bytes): stop, and
// restart once space is freed; Unavailable = transient, the same call may be retried; anything else
// is fatal: stop, restart and recover from what was committed.
//
// Threads: one call at a time (the engine's calls take turns on one mutex), with one exception:
// LoadWorker may run on another thread beside any call, a Commit or ApplyChanges being written
// included, for a worker that write does not touch, and sees the worker as stored (the loop reads the
// next window's workers beside the commit in flight). Callbacks must not call back into the store.
// What opening the store had to give up of the write-ahead log. The WAL is replayed with
// point-in-time recovery: it stops at the first damaged record, so state and input offsets roll
// back together to the last intact commit (and the input after it is consumed again from Kafka,
// if Kafka still retains it). A crash tears at most the tail, which loses only commits that were
// never acknowledged with sync_commits; anything dropped from the middle means damaged files.
struct RecoveryReport {
  uint64_t wal_commits_dropped = 0;  // commits in the WAL that recovery did not apply
  uint64_t wal_bytes_skipped = 0;    // bytes of WAL they and the damage took
  bool mid_log_damage = false;       // damage before the end of a WAL: not what a crash leaves
  std::string detail;                // for the log: which files, offsets and sequence numbers; empty if nothing
  friend bool operator==(const RecoveryReport&, const RecoveryReport&) = default;
};

// The column families (RocksDB names in layout.h).
enum class Family : uint8_t {
  kWorkers = 0,
  kOffsets = 1,
  kOutbox = 2,
  kMeta = 3,
  kTimers = 4,
  kParked = 5,
  kSamples = 6,  // a worker's profile and window samples, apart from its head in kWorkers (schema 4)
};

// One encoded write to one column family, as a commit applies it and as the changelog carries it
// (the changelog record's key is the family byte followed by `key`; its value is `value`, null for a
// deletion). nullopt value = delete.
struct Change {
  Family family = Family::kMeta;
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const Change&, const Change&) = default;
};

// The input partition whose state a change belongs to: the partition a worker, timer or outbox key
// starts with, or the one an offsets key ends with; -1 for the store-wide families (meta, parked),
// which never go to a changelog. -1 as well for a key too short to hold a partition.
int32_t PartitionOfChange(const Change& change);

// How far the store's copy of one partition's state follows that partition's changelog (DESIGN:
// changelog, restore and fencing in README "Scale-out"). Stored with each commit that writes to the
// changelog, and with each restored commit. A stored one has next_offset >= 0 and fence_offset >= -1
// (InvalidArgument otherwise).
struct ChangelogCheckpoint {
  int64_t next_offset = 0;    // changelog offset after the last commit this store holds
  uint32_t epoch = 0;         // the ownership epoch this store last wrote (or restored) the partition under
  int64_t fence_offset = -1;  // offset of this store's own fence record for `epoch`; -1 if none
  // Every changelog record between fence_offset and next_offset was written by this store: no other
  // instance (a new owner's fence, a paused old owner) wrote to the partition in between, so the local
  // copy is the changelog's up to next_offset. False: restore must start again from the log start.
  bool contiguous = false;
  friend bool operator==(const ChangelogCheckpoint&, const ChangelogCheckpoint&) = default;
};

// One partition's changes read back from its changelog, and the checkpoint they bring it to.
struct RestoredChanges {
  int32_t partition = 0;
  std::vector<Change> changes;
  ChangelogCheckpoint checkpoint;
};

// Told of the changes of one commit (validated and encoded, in the order they apply) before anything
// is written; returns the checkpoints to store in the same atomic write, one per partition at most,
// or an error (the commit then writes nothing and returns it).
using ChangeHook = std::function<absl::StatusOr<std::vector<std::pair<int32_t, ChangelogCheckpoint>>>(
    const std::vector<Change>& changes)>;

class StateStore {
 public:
  virtual ~StateStore();

  // `layout`, when given, is told how the worker's samples are stored, for a commit's WorkerBefore.
  [[nodiscard]] virtual absl::StatusOr<std::optional<domain::WorkerState>> LoadWorker(
      const WorkerKey& key, SampleLayout* layout = nullptr) = 0;
  [[nodiscard]] virtual absl::StatusOr<std::optional<int64_t>> LoadNextOffset(const InputPosition& position) = 0;
  // The partition's processing time in replay mode (CommitBatch::stream_times); nullopt: none stored.
  [[nodiscard]] virtual absl::StatusOr<std::optional<int64_t>> LoadStreamTime(int32_t partition) = 0;
  // Every pending entry, ascending id (partition, epoch, seq).
  [[nodiscard]] virtual absl::StatusOr<std::vector<OutboxEntry>> LoadOutbox() = 0;
  // The pending entries of one partition (>= 0), ascending id: one key range.
  [[nodiscard]] virtual absl::StatusOr<std::vector<OutboxEntry>> LoadOutbox(int32_t partition) = 0;
  // 1 + the highest seq ever stored: survives reopening, also after every entry was deleted.
  [[nodiscard]] virtual uint64_t NextOutboxSeq() const = 0;
  // An empty batch is a no-op (no write, no fsync, the hook is not called). With a hook, the hook sees
  // the batch's changes first and its checkpoints are written with them (see ChangeHook).
  [[nodiscard]] virtual absl::Status Commit(const CommitBatch& batch, const ChangeHook& hook) = 0;
  [[nodiscard]] absl::Status Commit(const CommitBatch& batch) { return Commit(batch, ChangeHook()); }

  // --- Changelog and restore ---------------------------------------------------------------------
  // The partition's (>= 0) checkpoint; nullopt if the store never followed its changelog.
  [[nodiscard]] virtual absl::StatusOr<std::optional<ChangelogCheckpoint>> LoadCheckpoint(int32_t partition) = 0;
  // Applies changes read back from partitions' changelogs, and each one's new checkpoint, in one
  // atomic write (the standby copies of many partitions cost one write, not one each).
  // InvalidArgument (nothing written) for a change of another partition than its entry's or of a
  // store-wide family, or a put whose value is not a valid record of its family: a changelog is input,
  // and a bad record must not reach the store. An entry with no changes writes only its checkpoint.
  [[nodiscard]] virtual absl::Status ApplyChanges(const std::vector<RestoredChanges>& restored) = 0;
  [[nodiscard]] absl::Status ApplyChanges(int32_t partition, std::vector<Change> changes,
                                          const ChangelogCheckpoint& checkpoint) {
    return ApplyChanges({RestoredChanges{partition, std::move(changes), checkpoint}});
  }
  // The stored value of one key, encoded; nullopt if absent. For rewriting the keys that a discarded
  // changelog write touched, so that compaction cannot keep it.
  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> ReadChange(Family family, std::string_view key) = 0;
  // Every record of the partition (>= 0) as puts, family by family (workers, samples, offsets, outbox, timers),
  // each in key order: a snapshot for a changelog that does not have it yet. Stops when fn returns false.
  // The bytes as stored; the receiving store's ApplyChanges checks them.
  [[nodiscard]] virtual absl::Status ForEachChange(int32_t partition, const std::function<bool(const Change&)>& fn) = 0;
  // Deletes everything of the partition (>= 0): workers and their samples, input offsets and stream time, outbox entries,
  // timers and its checkpoint, atomically. Parked entries stay.
  [[nodiscard]] virtual absl::Status DropPartition(int32_t partition) = 0;
  // Visits every worker of one partition (or of all partitions when partition < 0) in key order:
  // partition ascending, then worker id bytewise. Stops early when fn returns false.
  [[nodiscard]] virtual absl::Status ForEachWorker(
      int32_t partition, const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) = 0;
  // As ForEachWorker, for the workers of one partition (>= 0) whose id sorts after `after` (bytewise;
  // "" = from the first): a long scan taken in pieces, each piece a short turn at the store. This
  // default reads the partition from its start; the stores seek.
  [[nodiscard]] virtual absl::Status ForEachWorkerAfter(
      int32_t partition, std::string_view after,
      const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) {
    return ForEachWorker(partition, [&](const WorkerKey& key, const domain::WorkerState& state) {
      return key.worker.value <= after || fn(key, state);
    });
  }

  // The due timers of one partition (>= 0): fire_at <= now, in fire order (then rule, kind, worker id
  // bytewise), at most `limit`. A timer stays due until a commit deletes it. Reads only that
  // partition's due range, so the cost follows its due timers (and its deletions since the last call),
  // never the pending ones nor any other partition's: timers of partitions this instance does not
  // own cannot crowd out its own.
  [[nodiscard]] virtual absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(int32_t partition,
                                                                                 domain::ProcessingTime now,
                                                                                 std::size_t limit) = 0;
  // The due timers of every partition, in fire order (then partition, rule, kind, worker id), at most
  // `limit`: for tools and tests; the engine asks per owned partition.
  [[nodiscard]] virtual absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(domain::ProcessingTime now,
                                                                                 std::size_t limit) = 0;
  // Every timer of one partition (>= 0), in the order of LoadDueTimers: one key range.
  [[nodiscard]] virtual absl::StatusOr<std::vector<domain::Timer>> LoadTimers(int32_t partition) = 0;

  // Parked output, ascending id, at most `limit`.
  [[nodiscard]] virtual absl::StatusOr<std::vector<ParkedEntry>> LoadParked(std::size_t limit) = 0;

  // What the open dropped of the WAL (all zero for the memory store, and when nothing was lost).
  virtual RecoveryReport Recovery() const = 0;
};

struct StoreOptions {
  std::string path;  // directory of the RocksDB database; created if missing (unless read_only)
  // fsync the WAL on each Commit. Commits are batched by the caller, so this costs one fsync per
  // batch. Without it a process crash still loses nothing (the WAL is in the OS page cache) but a
  // machine crash may lose the newest commits; they are then re-consumed from Kafka.
  bool sync_commits = true;
  size_t block_cache_bytes = 64 << 20;  // shared LRU cache of data, index and filter blocks
  // 0: each column family's memtables have their own fixed sizes (~370 MiB at most in all). Otherwise
  // a write-buffer manager charges every memtable into the block cache (which then bounds both) and
  // flushes the largest once they reach this many bytes; each family's write buffer is scaled to it.
  size_t memtable_bytes = 0;
  // For inspection tools while the daemon is stopped: takes no lock, never writes (Commit fails
  // with FailedPrecondition), and does not create a missing database.
  bool read_only = false;
  // Free space kept on the state directory's filesystem for RocksDB's own writes (flushes of the
  // memtables, compactions, MANIFEST and info LOG), which no commit can refuse: RocksDB 7.8 aborts
  // the process when one of its log files hits ENOSPC and is written again (WritableFileWriter's
  // `sync_without_flush_called_` assertion). A commit that would leave less than this reserve plus
  // the memtables still to flush is refused with ResourceExhausted, before anything is written; an
  // open with less than the reserve plus the WAL to replay likewise. 64 MiB: room for a level-0
  // compaction of the workers family, whose memtable is 64 MiB.
  uint64_t disk_reserve_bytes = 64 << 20;
  // On close, flush the memtables to SST files, so the next open replays no WAL. Tests of WAL
  // recovery turn it off to keep their commits in the WAL.
  bool flush_on_close = true;
};

// Opens (or creates) the RocksDB store at options.path and checks its schema version.
[[nodiscard]] absl::StatusOr<std::unique_ptr<StateStore>> OpenRocksStore(const StoreOptions& options);

// An in-memory twin with identical semantics (same validation, encoding and errors), for domain and
// app tests.
[[nodiscard]] std::unique_ptr<StateStore> NewMemoryStore();

}  // namespace alertd::state
