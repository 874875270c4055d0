// The in-memory twin of the RocksDB store: the same layout over std::map, which orders keys bytewise
// exactly like RocksDB's default comparator.
#include <array>
#include <map>
#include <utility>

#include "engine/state/kv_store.h"
#include "engine/state/store.h"

namespace alertd::state {
namespace {

class MemoryBackend final : public KvBackend {
 public:
  absl::StatusOr<std::optional<std::string>> Get(layout::Family family, std::string_view key) override {
    const Table& table = Of(family);
    auto it = table.find(key);
    if (it == table.end()) return std::nullopt;
    return it->second;
  }

  absl::Status Scan(layout::Family family, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& fn) override {
    const Table& table = Of(family);
    for (auto it = table.lower_bound(begin); it != table.end() && (end.empty() || it->first < end); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

  absl::Status Apply(const std::vector<layout::Write>& writes) override {
    // Nothing below can fail once the store validated the writes (EncodeCommit, CheckRestoredChange),
    // so applying in place is all-or-nothing.
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

  std::array<Table, layout::kFamilyCount> tables_;
};

}  // namespace

std::unique_ptr<StateStore> NewMemoryStore() {
  return NewKvStateStore(std::make_unique<MemoryBackend>(), "<memory>", /*next_outbox_seq=*/1, /*read_only=*/false);
}

}  // namespace alertd::state
