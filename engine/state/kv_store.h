// The StateStore logic over an ordered key-value backend with column families; the RocksDB store and
// the in-memory twin differ only in the backend, which is what keeps their semantics identical.
//
// Internal to engine/state.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"

namespace alertd::state {

// Ordered byte storage with column families, keys compared bytewise (memcmp order).
// Thread-compatible, except that Get and Scan may run beside Apply (store.h, "Threads"). Errors are
// already named after the store.
class KvBackend {
 public:
  virtual ~KvBackend() = default;

  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> Get(layout::Family family, std::string_view key) = 0;
  // Visits the keys in [begin, end) in order, over a consistent view; an empty `end` runs to the end of
  // the family. Stops when fn returns false. Reads nothing at or past `end`: a bounded scan costs
  // what lies in its range (live keys and tombstones), whatever follows it.
  [[nodiscard]] virtual absl::Status Scan(
      layout::Family family, std::string_view begin, std::string_view end,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;
  // Applies all writes, in order, atomically.
  [[nodiscard]] virtual absl::Status Apply(const std::vector<layout::Write>& writes) = 0;
  // What opening the backend dropped of its write-ahead log; nothing for one without a WAL.
  virtual RecoveryReport Recovery() const { return {}; }
};

// `name` names the store in errors (its path); `next_outbox_seq` is the stored counter (1 if none).
std::unique_ptr<StateStore> NewKvStateStore(std::unique_ptr<KvBackend> backend, std::string name,
                                            uint64_t next_outbox_seq, bool read_only);

}  // namespace alertd::state
