// Schema migrations of the state store; see migrate.h.
#include "engine/state/migrate.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/state/layout.h"

namespace alertd::state {
namespace {

using layout::Family;

// Version 1 keyed timers by 8-byte fire time, then 4-byte partition, 1-byte rule, 4-byte kind and the
// worker id; version 2 puts the partition first. The rest of the key is unchanged.
constexpr std::size_t kV1TimerFixedBytes = 8 + 4 + 1 + 4;

absl::Status TimersPartitionFirst(KvBackend& backend, absl::string_view store, std::vector<layout::Write>& writes) {
  std::vector<std::string> old_keys;
  absl::Status bad;
  absl::Status scan = backend.Scan(Family::kTimers, "", "", [&](std::string_view key, std::string_view) {
    if (key.size() <= kV1TimerFixedBytes) {
      bad = absl::DataLossError(absl::StrCat("state store ", store, ": column family timers: key of ", key.size(),
                                             " bytes is not a version-1 timer key; not migrated"));
      return false;
    }
    old_keys.emplace_back(key);
    return true;
  });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  // Deletions first: a new key equal to some old one is then put after that old one is gone.
  for (const std::string& key : old_keys) writes.push_back({.family = Family::kTimers, .key = key, .value = std::nullopt});
  for (const std::string& key : old_keys) {
    std::string moved = key.substr(8, 4) + key.substr(0, 8) + key.substr(12);
    writes.push_back({.family = Family::kTimers, .key = std::move(moved), .value = std::string()});
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MigrateSchema(KvBackend& backend, absl::string_view store, int from) {
  if (from != 1) {
    return absl::FailedPreconditionError(absl::StrCat("state store ", store, ": no migration from schema version ",
                                                      from, " to ", layout::kSchemaVersion));
  }
  std::vector<layout::Write> writes;
  if (absl::Status status = TimersPartitionFirst(backend, store, writes); !status.ok()) return status;
  writes.push_back({.family = Family::kMeta,
                    .key = std::string(layout::kSchemaVersionKey),
                    .value = std::to_string(layout::kSchemaVersion)});
  return backend.Apply(writes);
}

}  // namespace alertd::state
