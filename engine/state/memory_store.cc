// The in-memory twin of the RocksDB store: the same layout over std::map, which orders keys bytewise
// exactly like RocksDB's default comparator.
#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

#include "engine/state/kv_store.h"
#include "engine/state/store.h"

namespace alertd::state {
namespace {

// Reads may run beside a write (store.h, "Threads"), as RocksDB allows: readers share the maps and a
// write has them alone. A scan holds its share while it calls back, and the callback may read again
// (ForEachWorker assembles each worker): a thread that already holds a share does not ask again, since
// a second request could wait behind a queued writer that waits for the first.
class MemoryBackend final : public KvBackend {
 public:
  absl::StatusOr<std::optional<std::string>> Get(layout::Family family, std::string_view key) override {
    const ReadLock lock(this);
    const Table& table = Of(family);
    auto it = table.find(key);
    if (it == table.end()) return std::nullopt;
    return it->second;
  }

  absl::Status Scan(layout::Family family, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& fn) override {
    const ReadLock lock(this);
    const Table& table = Of(family);
    for (auto it = table.lower_bound(begin); it != table.end() && (end.empty() || it->first < end); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

  absl::Status Apply(const std::vector<layout::Write>& writes) override {
    // Nothing below can fail once the store validated the writes (EncodeCommit, CheckRestoredChange),
    // so applying in place is all-or-nothing.
    const std::unique_lock<std::shared_mutex> lock(mu_);
    for (const layout::Write& write : writes) {
      Table& table = Of(write.family);
      if (write.value) {
        table.insert_or_assign(write.key, *write.value);
      } else {
        table.erase(write.key);
      }
    }
    return absl::OkStatus();
  }

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  Table& Of(layout::Family family) { return tables_[static_cast<size_t>(family)]; }

  // A shared hold on the backend's maps for one read, unless this thread holds one already.
  class ReadLock {
   public:
    explicit ReadLock(const MemoryBackend* backend) : backend_(backend) {
      if (std::find(held_.begin(), held_.end(), backend_) != held_.end()) return;
      backend_->mu_.lock_shared();
      held_.push_back(backend_);
      owner_ = true;
    }
    ~ReadLock() {
      if (!owner_) return;
      held_.erase(std::find(held_.begin(), held_.end(), backend_));
      backend_->mu_.unlock_shared();
    }
    ReadLock(const ReadLock&) = delete;
    ReadLock& operator=(const ReadLock&) = delete;

   private:
    static thread_local std::vector<const MemoryBackend*> held_;
    const MemoryBackend* backend_;
    bool owner_ = false;
  };

  mutable std::shared_mutex mu_;
  std::array<Table, layout::kFamilyCount> tables_;
};

thread_local std::vector<const MemoryBackend*> MemoryBackend::ReadLock::held_;

}  // namespace

std::unique_ptr<StateStore> NewMemoryStore() {
  return NewKvStateStore(std::make_unique<MemoryBackend>(), "<memory>", /*next_outbox_seq=*/1, /*read_only=*/false);
}

}  // namespace alertd::state
