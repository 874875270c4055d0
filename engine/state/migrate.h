// Upgrades a store written by an older build to this build's layout (layout.h, kSchemaVersion).
//
// Internal to engine/state.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/state/kv_store.h"

namespace alertd::state {

// Rewrites what changed since schema version `from` (>= 1, < layout::kSchemaVersion) and records the
// new version, all in one atomic write: a crash during the migration leaves the old store as it was,
// and the next open migrates again. FailedPrecondition for a version it cannot migrate; DataLoss
// (nothing written) for a record the migration cannot place. Steps chain: 1 -> 2 moves the partition
// to the front of timer keys, 2 -> 3 keys outbox and parked entries by OutboxId, 3 -> 4 splits each
// worker into a head and its parts (worker_parts.h), 4 -> 5 only records the version (runs).
[[nodiscard]] absl::Status MigrateSchema(KvBackend& backend, absl::string_view store, int from);

}  // namespace alertd::state
