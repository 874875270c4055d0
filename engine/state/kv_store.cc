// StateStore over a KvBackend: validation and encoding via layout.h, storage via the backend.
#include "engine/state/kv_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>
#include <utility>

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

  absl::StatusOr<std::optional<domain::WorkerState>> LoadWorker(const WorkerKey& key) override {
    if (absl::Status status = layout::CheckKey(name_, key); !status.ok()) return status;
    absl::StatusOr<std::optional<std::string>> value = backend_->Get(Family::kWorkers, layout::WorkerKeyBytes(key));
    if (!value.ok()) return value.status();
    if (!value->has_value()) return std::nullopt;
    absl::StatusOr<domain::WorkerState> state = layout::DecodeWorker(name_, key, **value);
    if (!state.ok()) return state.status();
    return *std::move(state);
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

  absl::StatusOr<std::vector<OutboxEntry>> LoadOutbox() override {
    std::vector<OutboxEntry> entries;
    absl::Status decode_status;
    absl::Status scan_status =
        backend_->Scan(Family::kOutbox, "", "", [&](std::string_view key, std::string_view value) {
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

  uint64_t NextOutboxSeq() const override { return next_outbox_seq_; }
  RecoveryReport Recovery() const override { return backend_->Recovery(); }

  absl::Status Commit(const CommitBatch& batch) override {
    if (read_only_) {
      return layout::StoreError(absl::StatusCode::kFailedPrecondition, name_, "opened read-only; cannot commit");
    }
    if (batch.empty()) return absl::OkStatus();
    absl::StatusOr<layout::EncodedCommit> commit = layout::EncodeCommit(name_, batch, next_outbox_seq_);
    if (!commit.ok()) return commit.status();
    // Lowered before the write: should the write fail yet land, the floor still holds. Deletions
    // never lower it.
    for (const layout::Write& write : commit->writes) {
      if (write.family != Family::kTimers || !write.value) continue;
      auto floor = timers_floor_.find(layout::PartitionOf(write.key));
      if (floor != timers_floor_.end() && write.key < floor->second) floor->second = write.key;
    }
    if (absl::Status status = backend_->Apply(commit->writes); !status.ok()) return status;
    next_outbox_seq_ = commit->next_outbox_seq;
    return absl::OkStatus();
  }

  absl::Status ForEachWorker(int32_t partition,
                             const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) override {
    const std::string prefix = partition < 0 ? std::string() : layout::PartitionPrefix(partition);
    absl::Status decode_status;
    absl::Status scan_status = backend_->Scan(
        Family::kWorkers, prefix, layout::PrefixSuccessor(prefix), [&](std::string_view key, std::string_view value) {
          absl::StatusOr<WorkerKey> worker_key = layout::ParseWorkerKey(name_, key);
          if (!worker_key.ok()) {
            decode_status = worker_key.status();
            return false;
          }
          absl::StatusOr<domain::WorkerState> state = layout::DecodeWorker(name_, *worker_key, value);
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
  return workers.empty() && next_offsets.empty() && outbox_put.empty() && outbox_delete.empty() &&
         timers_put.empty() && timers_delete.empty() && parked_put.empty();
}

std::unique_ptr<StateStore> NewKvStateStore(std::unique_ptr<KvBackend> backend, std::string name,
                                            uint64_t next_outbox_seq, bool read_only) {
  return std::make_unique<KvStateStore>(std::move(backend), std::move(name), next_outbox_seq, read_only);
}

}  // namespace alertd::state
