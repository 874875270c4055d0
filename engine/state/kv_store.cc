// StateStore over a KvBackend: validation and encoding via layout.h, storage via the backend.
#include "engine/state/kv_store.h"

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
    absl::Status scan_status = backend_->Scan(Family::kOutbox, "", [&](std::string_view key, std::string_view value) {
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

  absl::Status Commit(const CommitBatch& batch) override {
    if (read_only_) {
      return layout::StoreError(absl::StatusCode::kFailedPrecondition, name_, "opened read-only; cannot commit");
    }
    if (batch.empty()) return absl::OkStatus();
    absl::StatusOr<layout::EncodedCommit> commit = layout::EncodeCommit(name_, batch, next_outbox_seq_);
    if (!commit.ok()) return commit.status();
    if (absl::Status status = backend_->Apply(commit->writes); !status.ok()) return status;
    next_outbox_seq_ = commit->next_outbox_seq;
    return absl::OkStatus();
  }

  absl::Status ForEachWorker(int32_t partition,
                             const std::function<bool(const WorkerKey&, const domain::WorkerState&)>& fn) override {
    const std::string prefix = partition < 0 ? std::string() : layout::PartitionPrefix(partition);
    absl::Status decode_status;
    absl::Status scan_status =
        backend_->Scan(Family::kWorkers, prefix, [&](std::string_view key, std::string_view value) {
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

 private:
  std::unique_ptr<KvBackend> backend_;
  const std::string name_;
  uint64_t next_outbox_seq_;
  const bool read_only_;
};

}  // namespace

StateStore::~StateStore() = default;

bool CommitBatch::empty() const {
  return workers.empty() && next_offsets.empty() && outbox_put.empty() && outbox_delete.empty();
}

std::unique_ptr<StateStore> NewKvStateStore(std::unique_ptr<KvBackend> backend, std::string name,
                                            uint64_t next_outbox_seq, bool read_only) {
  return std::make_unique<KvStateStore>(std::move(backend), std::move(name), next_outbox_seq, read_only);
}

}  // namespace alertd::state
