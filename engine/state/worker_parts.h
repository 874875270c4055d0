// Schema 4's split of a worker's state: a head in column family `workers`, its profile and one record
// per window sample in `samples`, so a commit writes what changed and a reading costs O(1) bytes
// whatever the size of its worker's windows (README "Scale-out and failover"; issue 8 item 1).
//
//   workers  key: 4-byte big-endian partition + worker id bytes        value: WorkerStateRecord head
//            (no profile, no windows; bp_samples, glucose_samples and profile_stored say which parts exist)
//   samples  key: 4-byte big-endian partition + 4-byte big-endian worker id length + worker id bytes
//            + 1-byte PartKind, then for a sample 8-byte measured_at (ms, sign bit flipped) + 4-byte
//            big-endian ordinal                                         value: WorkerProfile,
//            EvidenceReading or EvidenceGlucose without measured_at (the key holds it)
// The partition first keeps every key of a partition under PartitionPrefix (changelog, snapshot,
// DropPartition); the length prefix makes one worker's parts one key range that no other worker's
// id can enter (ids may hold any byte, NUL and 0xFF included). Within it the profile sorts first, then
// the blood-pressure window and the glucose window, each in ascending measured_at: the window's own
// order. Samples measured at the same ms are told apart by their ordinal, their place among those of
// the window: a commit compares the windows before and after by (measured_at, ordinal), writes the
// keys whose sample changed and deletes the keys gone. An eviction or insertion inside a group of
// equal times rewrites that group's later keys, and only those: a few, in the worst case.
//
// Internal to engine/state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/domain/worker_state.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_image.h"

namespace alertd::state::layout {

enum class PartKind : uint8_t { kProfile = 0, kBpSample = 1, kGlucoseSample = 2 };

struct PartKey {
  WorkerKey worker;
  PartKind kind = PartKind::kProfile;
  domain::EventTime measured_at = {};  // samples only
  uint32_t ordinal = 0;           // samples only: place among the window's samples of the same measured_at
  friend bool operator==(const PartKey&, const PartKey&) = default;
};

// The prefix every part of the worker starts with (the worker's key range in `samples`).
std::string WorkerPartsPrefix(const WorkerKey& key);
std::string PartKeyBytes(const PartKey& key);
// DataLoss naming the store, the family and the escaped key unless `bytes` has the shape above with a
// partition >= 0, a non-empty worker id and a known kind.
[[nodiscard]] absl::StatusOr<PartKey> ParsePartKey(absl::string_view store, std::string_view bytes);

// Appends the writes that turn the worker's stored state, as `before` images it (nullptr: none stored), into `after`
// (nullptr: delete the worker): the head, the profile if it changed, the samples added or changed and
// deletions of those gone. InvalidArgument (nothing appended) for a state the parts cannot hold, e.g.
// a window out of measured_at order.
[[nodiscard]] absl::Status AppendWorkerWrites(absl::string_view store, const WorkerKey& key,
                                              const WorkerImage* before, const domain::WorkerState* after,
                                              std::vector<Change>& writes);

// AppendWorkerWrites for every worker of the batch, in order, each against its state before it: an
// earlier entry of the same worker, else CommitBatch::workers_before, else what `stored` reads.
// InvalidArgument for a batch whose workers_before does not match its workers.
[[nodiscard]] absl::Status AppendBatchWorkerWrites(absl::string_view store, const CommitBatch& batch,
                                                   const StoredWorkerFn& stored, std::vector<Change>& writes);

// Visits the stored parts of one worker in key order (a scan of its WorkerPartsPrefix range).
using PartScan = std::function<absl::Status(const std::function<bool(std::string_view key, std::string_view value)>&)>;

// The worker's state from its head and its parts. DataLoss naming the store, family and key for a
// head or part that does not decode, and for parts that disagree with the head (one missing, one left
// behind, ordinals with a gap).
[[nodiscard]] absl::StatusOr<domain::WorkerState> AssembleWorker(absl::string_view store, const WorkerKey& key,
                                                                 std::string_view head, const PartScan& scan_parts);

// A changelog written before schema 4 holds whole worker records, and compaction keeps a worker's last
// one until the worker changes again. Fills `out` with `changes`, each such put in the workers family
// replaced by the head and parts it stands for, and returns true; returns false (out untouched) when
// there is none. A put that is neither a head nor a whole record is left for CheckRestoredChange to refuse.
bool SplitWholeWorkerRecords(const std::vector<Change>& changes, std::vector<Change>& out);

// DataLoss as above unless `value` is a valid head.
[[nodiscard]] absl::Status CheckHead(absl::string_view store, const WorkerKey& key, std::string_view value);
// DataLoss as above unless `change` (of family samples) has a part key and, for a put, a value of its kind.
[[nodiscard]] absl::Status CheckPart(absl::string_view store, const Change& change);

}  // namespace alertd::state::layout
