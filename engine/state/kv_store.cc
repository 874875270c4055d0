// StateStore over a KvBackend: validation and encoding via layout.h, storage via the backend.
#include "engine/state/kv_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/state/worker_parts.h"

namespace alertd::state {
namespace {

using layout::Family;

class KvStateStore final : public StateStore {
 public:
  KvStateStore(std::unique_ptr<KvBackend> backend, std::string name, uint64_t next_outbox_seq, bool read_only)
      : backend_(std::move(backend)),
        name_(std::move(name)),
        next_outbox_seq_(next_outbox_seq),
        read_only_(read_only) {}

  // Touches nothing a write changes but the backend's data (store.h, "Threads"): runs beside Commit.
  absl::StatusOr<std::optional<domain::WorkerState>> LoadWorker(const WorkerKey& key,
                                                                SampleLayout* layout = nullptr) override {
    if (absl::Status status = layout::CheckKey(name_, key); !status.ok()) return status;
    absl::StatusOr<std::optional<std::string>> value = backend_->Get(Family::kWorkers, layout::WorkerKeyBytes(key));
    if (!value.ok()) return value.status();
    if (!value->has_value()) return std::nullopt;
    absl::StatusOr<domain::WorkerState> state = Assemble(key, **value, layout);
    if (!state.ok()) return state.status();
    return *std::move(state);
  }

  absl::StatusOr<std::optional<int64_t>> LoadStreamTime(int32_t partition) override {
    return LoadNextOffset(layout::StreamTimePosition(partition));
  }

  absl::StatusOr<std::optional<int64_t>> LoadNextOffset(const InputPosition& position) override {
    if (absl::Status status = layout::CheckPosition(name_, position); !status.ok()) return status;
    absl::StatusOr<std::optional<std::string>> value =
        backend_->Get(Family::kOffsets, layout::OffsetKeyBytes(position));
    if (!value.ok()) return value.status();
    if (!value->has_value()) return std::nullopt;
    absl::StatusOr<int64_t> offset = layout::DecodeOffset(name_, position, **value);
    if (!offset.ok()) return offset.status();
    return *offset;
  }

  absl::StatusOr<std::vector<OutboxEntry>> LoadOutbox() override { return ScanOutbox("", ""); }

  absl::StatusOr<std::vector<OutboxEntry>> LoadOutbox(int32_t partition) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    const std::string prefix = layout::PartitionPrefix(partition);
    return ScanOutbox(prefix, layout::PrefixSuccessor(prefix));
  }

  uint64_t NextOutboxSeq() const override { return next_outbox_seq_; }
  RecoveryReport Recovery() const override { return backend_->Recovery(); }

  absl::Status Commit(const CommitBatch& batch, const ChangeHook& hook) override {
    if (absl::Status status = CheckWritable("commit"); !status.ok()) return status;
    if (batch.empty()) return absl::OkStatus();
    absl::StatusOr<layout::EncodedCommit> commit =
        layout::EncodeCommit(name_, batch, next_outbox_seq_,
                             [this](const WorkerKey& key, SampleLayout* layout) { return LoadWorker(key, layout); });
    if (!commit.ok()) return commit.status();
    if (hook) {
      absl::StatusOr<std::vector<std::pair<int32_t, ChangelogCheckpoint>>> checkpoints = hook(commit->writes);
      if (!checkpoints.ok()) return checkpoints.status();
      std::vector<int32_t> seen;
      for (const auto& [partition, checkpoint] : *checkpoints) {
        if (absl::Status status = layout::CheckCheckpoint(name_, partition, checkpoint); !status.ok()) return status;
        // Two for one partition would leave it to the apply order which one holds.
        if (std::find(seen.begin(), seen.end(), partition) != seen.end()) {
          return layout::StoreError(absl::StatusCode::kInvalidArgument, name_,
                                    absl::StrCat("the change hook returned two changelog checkpoints for partition ",
                                                 partition));
        }
        seen.push_back(partition);
        commit->writes.push_back(layout::CheckpointWrite(partition, checkpoint));
      }
    }
    LowerTimerFloors(commit->writes);
    if (absl::Status status = backend_->Apply(commit->writes); !status.ok()) return status;
    next_outbox_seq_ = commit->next_outbox_seq;
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ChangelogCheckpoint>> LoadCheckpoint(int32_t partition) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    absl::StatusOr<std::optional<std::string>> value =
        backend_->Get(Family::kMeta, layout::CheckpointKeyBytes(partition));
    if (!value.ok()) return value.status();
    if (!value->has_value()) return std::nullopt;
    absl::StatusOr<ChangelogCheckpoint> checkpoint = layout::DecodeCheckpoint(name_, partition, **value);
    if (!checkpoint.ok()) return checkpoint.status();
    return *checkpoint;
  }

  absl::Status ApplyChanges(const std::vector<RestoredChanges>& restored) override {
    if (absl::Status status = CheckWritable("apply changelog changes"); !status.ok()) return status;
    std::vector<layout::Write> writes;
    layout::SplitSoFar split_so_far;  // the store's reads do not see `writes` until they are applied
    for (const RestoredChanges& r : restored) {
      if (absl::Status status = layout::CheckPartition(name_, r.partition); !status.ok()) return status;
      if (absl::Status status = layout::CheckCheckpoint(name_, r.partition, r.checkpoint); !status.ok()) return status;
      // A schema-3 whole worker record (kept by compaction until the worker changes again) is split
      // into its head and parts, as the migration splits a stored one, and replaces what the store or
      // an earlier change holds of the worker.
      std::vector<Change> split;
      absl::StatusOr<bool> was_split = layout::SplitWholeWorkerRecords(
          name_, r.changes, [this](const WorkerKey& key, SampleLayout* layout) { return LoadWorker(key, layout); },
          split_so_far, split);
      if (!was_split.ok()) return was_split.status();
      const std::vector<Change>& changes = *was_split ? split : r.changes;
      for (const Change& change : changes) {
        if (absl::Status status = layout::CheckRestoredChange(name_, r.partition, change); !status.ok()) return status;
      }
      writes.insert(writes.end(), changes.begin(), changes.end());
      writes.push_back(layout::CheckpointWrite(r.partition, r.checkpoint));
    }
    if (writes.empty()) return absl::OkStatus();
    // Restored timers may fire earlier than any timer a scan has already passed.
    LowerTimerFloors(writes);
    return backend_->Apply(writes);
  }

  absl::StatusOr<std::optional<std::string>> ReadChange(Family family, std::string_view key) override {
    if (static_cast<uint8_t>(family) >= layout::kFamilyCount) {
      return layout::StoreError(absl::StatusCode::kInvalidArgument, name_,
                                absl::StrCat("no column family #", static_cast<int>(family)));
    }
    return backend_->Get(family, key);
  }

  absl::Status ForEachChange(int32_t partition, const std::function<bool(const Change&)>& fn) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    return ForEachKeyOf(partition, [&](Family family, std::string_view key, std::string_view value) {
      return fn(Change{.family = family, .key = std::string(key), .value = std::string(value)});
    });
  }

  absl::Status DropPartition(int32_t partition) override {
    if (absl::Status status = CheckWritable("drop a partition"); !status.ok()) return status;
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    std::vector<layout::Write> writes;
    absl::Status scan = ForEachKeyOf(partition, [&](Family family, std::string_view key, std::string_view) {
      writes.push_back(layout::Write{.family = family, .key = std::string(key), .value = std::nullopt});
      return true;
    });
    if (!scan.ok()) return scan;
    writes.push_back(
        layout::Write{.family = Family::kMeta, .key = layout::CheckpointKeyBytes(partition), .value = std::nullopt});
    if (absl::Status status = backend_->Apply(writes); !status.ok()) return status;
    // The floor of a partition that comes back must not skip what the next owner restores.
    timers_floor_.erase(partition);
    return absl::OkStatus();
  }

  absl::Status ForEachWorker(int32_t partition,
                             const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) override {
    const std::string prefix = partition < 0 ? std::string() : layout::PartitionPrefix(partition);
    return ForEachWorkerIn(prefix, layout::PrefixSuccessor(prefix), fn);
  }

  absl::Status ForEachWorkerAfter(int32_t partition, std::string_view after,
                                  const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    const std::string prefix = layout::PartitionPrefix(partition);
    // The smallest key after the worker's own: its bytes and a zero byte.
    std::string begin = after.empty() ? prefix : layout::WorkerKeyBytes({partition, domain::WorkerId{std::string(after)}});
    if (!after.empty()) begin.push_back('\0');
    return ForEachWorkerIn(begin, layout::PrefixSuccessor(prefix), fn);
  }

  absl::Status ForEachWorkerIn(std::string_view begin, std::string_view end,
                               const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) {
    absl::Status decode_status;
    absl::Status scan_status = backend_->Scan(
        Family::kWorkers, begin, end, [&](std::string_view key, std::string_view value) {
          absl::StatusOr<WorkerKey> worker_key = layout::ParseWorkerKey(name_, key);
          if (!worker_key.ok()) {
            decode_status = worker_key.status();
            return false;
          }
          absl::StatusOr<domain::WorkerState> state = Assemble(*worker_key, value);
          if (!state.ok()) {
            decode_status = state.status();
            return false;
          }
          return fn(*worker_key, *state);
        });
    if (!scan_status.ok()) return scan_status;
    return decode_status;
  }

  absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(int32_t partition, domain::ProcessingTime now,
                                                           std::size_t limit) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    std::vector<domain::Timer> due;
    if (limit == 0) return due;
    if (absl::Status status = ScanDue(partition, now, limit, due); !status.ok()) return status;
    return due;
  }

  absl::StatusOr<std::vector<domain::Timer>> LoadDueTimers(domain::ProcessingTime now, std::size_t limit) override {
    std::vector<domain::Timer> due;
    if (limit == 0) return due;
    // Partition by partition: each partition's first key is found by seeking past the previous one.
    std::string from;
    for (;;) {
      std::optional<int32_t> partition;
      absl::Status scan_status = backend_->Scan(Family::kTimers, from, "", [&](std::string_view key, std::string_view) {
        if (key.size() >= 4) partition = layout::PartitionOf(key);
        return false;
      });
      if (!scan_status.ok()) return scan_status;
      if (!partition) break;
      if (absl::Status status = ScanDue(*partition, now, limit, due); !status.ok()) return status;
      if (*partition == std::numeric_limits<int32_t>::max()) break;
      from = layout::PartitionPrefix(*partition + 1);
    }
    // Each partition's timers came in fire order, at most `limit` of them: merged, the first `limit`
    // are the earliest overall.
    std::sort(due.begin(), due.end(), [](const domain::Timer& a, const domain::Timer& b) {
      return std::tie(a.fire_at, a.partition) < std::tie(b.fire_at, b.partition) ||
             (std::tie(a.fire_at, a.partition) == std::tie(b.fire_at, b.partition) &&
              layout::TimerKeyBytes(a) < layout::TimerKeyBytes(b));
    });
    if (due.size() > limit) due.resize(limit);
    return due;
  }

  absl::StatusOr<std::vector<domain::Timer>> LoadTimers(int32_t partition) override {
    if (absl::Status status = layout::CheckPartition(name_, partition); !status.ok()) return status;
    std::vector<domain::Timer> timers;
    if (absl::Status status =
            ScanDue(partition, domain::ProcessingTime{std::numeric_limits<int64_t>::max()}, SIZE_MAX, timers);
        !status.ok()) {
      return status;
    }
    return timers;
  }

  absl::StatusOr<std::vector<ParkedEntry>> LoadParked(std::size_t limit) override {
    std::vector<ParkedEntry> parked;
    if (limit == 0) return parked;
    absl::Status decode_status;
    absl::Status scan_status =
        backend_->Scan(Family::kParked, "", "", [&](std::string_view key, std::string_view value) {
          absl::StatusOr<ParkedEntry> entry = layout::DecodeParked(name_, key, value);
          if (!entry.ok()) {
            decode_status = entry.status();
            return false;
          }
          parked.push_back(*std::move(entry));
          return parked.size() < limit;
        });
    if (!scan_status.ok()) return scan_status;
    if (!decode_status.ok()) return decode_status;
    return parked;
  }

 private:
  absl::Status CheckWritable(absl::string_view what) const {
    if (!read_only_) return absl::OkStatus();
    return layout::StoreError(absl::StatusCode::kFailedPrecondition, name_,
                              absl::StrCat("opened read-only; cannot ", what));
  }

  // The worker's state from its head and the parts stored under it.
  absl::StatusOr<domain::WorkerState> Assemble(const WorkerKey& key, std::string_view head,
                                               SampleLayout* sample_layout = nullptr) {
    const std::string prefix = layout::WorkerPartsPrefix(key);
    return layout::AssembleWorker(
        name_, key, head,
        [&](const auto& fn) { return backend_->Scan(Family::kSamples, prefix, layout::PrefixSuccessor(prefix), fn); },
        sample_layout);
  }

  // Lowers the floor of each partition that `writes` puts a timer into below that timer. Called
  // before the write: should the write fail yet land, the floor still holds. Deletions never lower it.
  void LowerTimerFloors(const std::vector<layout::Write>& writes) {
    for (const layout::Write& write : writes) {
      if (write.family != Family::kTimers || !write.value || write.key.size() < 4) continue;
      auto floor = timers_floor_.find(layout::PartitionOf(write.key));
      if (floor != timers_floor_.end() && write.key < floor->second) floor->second = write.key;
    }
  }

  absl::StatusOr<std::vector<OutboxEntry>> ScanOutbox(std::string_view begin, std::string_view end) {
    std::vector<OutboxEntry> entries;
    absl::Status decode_status;
    absl::Status scan_status =
        backend_->Scan(Family::kOutbox, begin, end, [&](std::string_view key, std::string_view value) {
          absl::StatusOr<OutboxEntry> entry = layout::DecodeOutbox(name_, key, value);
          if (!entry.ok()) {
            decode_status = entry.status();
            return false;
          }
          entries.push_back(*std::move(entry));
          return true;
        });
    if (!scan_status.ok()) return scan_status;
    if (!decode_status.ok()) return decode_status;
    return entries;
  }

  // Visits every stored key of the partition that a changelog carries, family by family (workers,
  // samples, offsets, outbox, timers), each in key order, until fn returns false. The offsets family is small
  // (a few keys per partition) and keyed topic first, so it is read whole.
  absl::Status ForEachKeyOf(int32_t partition,
                            const std::function<bool(Family, std::string_view, std::string_view)>& fn) {
    const std::string prefix = layout::PartitionPrefix(partition);
    const std::string end = layout::PrefixSuccessor(prefix);
    bool go_on = true;
    for (Family family : {Family::kWorkers, Family::kSamples, Family::kOffsets, Family::kOutbox, Family::kTimers}) {
      const bool whole = family == Family::kOffsets;
      const auto visit = [&](std::string_view key, std::string_view value) {
        if (whole && PartitionOfChange(Change{.family = family, .key = std::string(key), .value = {}}) != partition) {
          return true;
        }
        go_on = fn(family, key, value);
        return go_on;
      };
      absl::Status status = whole ? backend_->Scan(family, "", "", visit) : backend_->Scan(family, prefix, end, visit);
      if (!status.ok()) return status;
      if (!go_on) break;
    }
    return absl::OkStatus();
  }

  // Appends the due timers of `partition` (at most `limit` of them) to `out`, in fire order.
  absl::Status ScanDue(int32_t partition, domain::ProcessingTime now, std::size_t limit,
                       std::vector<domain::Timer>& out) {
    const std::string end = layout::DueTimersEnd(partition, now);
    auto [floor, inserted] = timers_floor_.try_emplace(partition);
    if (inserted) floor->second = layout::PartitionPrefix(partition);
    std::string first_key;
    std::size_t found = 0;
    absl::Status decode_status;
    absl::Status scan_status =
        backend_->Scan(Family::kTimers, floor->second, end, [&](std::string_view key, std::string_view value) {
          absl::StatusOr<domain::Timer> timer = layout::ParseTimer(name_, key, value);
          if (!timer.ok()) {
            decode_status = timer.status();
            return false;
          }
          if (found == 0) first_key = key;
          out.push_back(*std::move(timer));
          return ++found < limit;
        });
    if (!scan_status.ok()) return scan_status;
    if (!decode_status.ok()) return decode_status;
    // Nothing of this partition lives between the old floor and the first key found (or, finding
    // none, the end of the due range).
    floor->second = found > 0 ? std::move(first_key) : std::max(floor->second, end);
    return absl::OkStatus();
  }

  std::unique_ptr<KvBackend> backend_;
  const std::string name_;
  uint64_t next_outbox_seq_;
  const bool read_only_;
  // Per partition: no stored timer of the partition sorts before this key. Timer scans start here
  // instead of at the front of the partition's range, where the tombstones of every timer fired so
  // far gather until compaction drops them: without it each punctuation would step over all of them
  // again, a cost that grows with the fired timers rather than the due ones. A scan raises it to the
  // first live key it meets (or its end); a commit lowers it to any timer it puts. In memory only:
  // absent (the partition's first key) after opening.
  std::map<int32_t, std::string> timers_floor_;
};

}  // namespace

StateStore::~StateStore() = default;

bool CommitBatch::empty() const {
  return workers.empty() && next_offsets.empty() && stream_times.empty() && outbox_put.empty() && outbox_delete.empty() &&
         timers_put.empty() && timers_delete.empty() && parked_put.empty();
}

std::unique_ptr<StateStore> NewKvStateStore(std::unique_ptr<KvBackend> backend, std::string name,
                                            uint64_t next_outbox_seq, bool read_only) {
  return std::make_unique<KvStateStore>(std::move(backend), std::move(name), next_outbox_seq, read_only);
}

}  // namespace alertd::state
