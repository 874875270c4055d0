// A worker's state apart: a head in column family `workers`, its profile and its window samples in
// `samples`, so a commit writes what changed and a reading costs O(1) bytes whatever the size of its
// worker's windows (README "Scale-out and failover"; issue 8 item 1). Schema 5 keeps the samples in
// runs of consecutive samples, one key each; schema 4 kept one sample a key.
//
//   workers  key: 4-byte big-endian partition + worker id bytes        value: WorkerStateRecord head
//            (no profile, no windows; bp_samples, glucose_samples and profile_stored say which parts exist)
//   samples  key: 4-byte big-endian partition + 4-byte big-endian worker id length + worker id bytes
//            + 1-byte PartKind, then for samples 8-byte measured_at (ms, sign bit flipped) + 4-byte
//            big-endian ordinal of the first sample                 value: WorkerProfile, a run (below),
//            or (schema 4) one EvidenceReading or EvidenceGlucose without measured_at (the key holds it)
// The partition first keeps every key of a partition under PartitionPrefix (changelog, snapshot,
// DropPartition); the length prefix makes one worker's parts one key range that no other worker's
// id can enter (ids may hold any byte, NUL and 0xFF included). Within it the profile sorts first, then
// the blood-pressure window and the glucose window, each in ascending measured_at: the window's own
// order. Samples measured at the same ms are told apart by their ordinal, their place among those of
// the window.
//
// Runs. A window is cut into runs by its samples alone: a run starts at the window's first sample,
// at a sample measured kRunGapMs or more after the one before it, at a sample whose (measured_at,
// ordinal) hashes to a cut (RunCutBefore: one in kRunTarget on average), and after kRunMax samples.
// A hashed cut does not depend on the samples around it and a gap only on the one before, so an
// insertion or eviction changes the runs between the cuts around it only, and a commit compares
// the runs before and after by their keys and samples, writes the runs that changed and deletes the
// keys gone: a reading appended to a window rewrites the last run (about kRunTarget / 2 samples,
// kRunMax at most), an eviction the runs before the first hashed cut (usually one). In a backlog,
// where a commit brings tens of readings of each worker, a run holds up to kRunMax of them in one
// record where schema 4 wrote one each. The cut rule is part of the format: a commit finds the keys
// it replaces by cutting the window before it. The gap keeps a worker who reads once a day or less
// at one sample a run: a reading appended writes one sample, as schema 4 did, where a run growing
// over days would be rewritten whole for each (issue 12 target 3: sparse and dense workers' bytes per
// reading within 2x of each other).
//   run value: for each sample, a varint of its measured_at's ms after the previous sample's (the
//   first's after the key's: 0), a varint of its record's length, and its EvidenceReading or
//   EvidenceGlucose without measured_at.
// Schema 4's single samples (PartKind kBpSample, kGlucoseSample) are read as they are; the first
// commit of such a worker deletes them and writes its runs (SampleLayout::kSingles), so a worker
// never holds both, and a changelog holds the same sequence of writes.
//
// Internal to engine/state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/domain/worker_state.h"
#include "engine/state/layout.h"
#include "engine/state/store.h"
#include "engine/state/worker_image.h"

namespace alertd::state::layout {

// kBpSample and kGlucoseSample: one sample (schema 4, read only); kBpRun and kGlucoseRun: a run.
enum class PartKind : uint8_t { kProfile = 0, kBpSample = 1, kGlucoseSample = 2, kBpRun = 3, kGlucoseRun = 4 };

// The cut rule of runs (above); part of the stored format.
inline constexpr size_t kRunMax = 16;
inline constexpr uint64_t kRunTarget = 8;
inline constexpr int64_t kRunGapMs = 12 * 3'600'000;
bool RunCutBefore(int64_t measured_at_ms, uint32_t ordinal);

struct PartKey {
  WorkerKey worker;
  PartKind kind = PartKind::kProfile;
  domain::EventTime measured_at = {};  // samples and runs: of the (first) sample
  uint32_t ordinal = 0;                // samples and runs: place among the window's samples of the same measured_at
  friend bool operator==(const PartKey&, const PartKey&) = default;
};

// The prefix every part of the worker starts with (the worker's key range in `samples`).
std::string WorkerPartsPrefix(const WorkerKey& key);
std::string PartKeyBytes(const PartKey& key);
// DataLoss naming the store, the family and the escaped key unless `bytes` has the shape above with a
// partition >= 0, a non-empty worker id and a known kind.
[[nodiscard]] absl::StatusOr<PartKey> ParsePartKey(absl::string_view store, std::string_view bytes);

// Appends the writes that turn the worker's stored state, as `before` images it (nullptr: none stored),
// into `after` (nullptr: delete the worker): the head, the profile if it changed, the runs added or
// changed and deletions of those gone (of every single sample, for a `before` of SampleLayout::kSingles).
// InvalidArgument (nothing appended) for a state the parts cannot hold, e.g. a window out of
// measured_at order.
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

// The worker's state from its head and its parts, and (when `layout` is given) how its samples are
// stored. DataLoss naming the store, family and key for a head or part that does not decode, and for
// parts that disagree with the head (one missing, one left behind, ordinals with a gap, runs and
// single samples in one worker).
[[nodiscard]] absl::StatusOr<domain::WorkerState> AssembleWorker(absl::string_view store, const WorkerKey& key,
                                                                 std::string_view head, const PartScan& scan_parts,
                                                                 SampleLayout* layout = nullptr);

// Each worker's state as the changes split so far leave it (nullopt: deleted), by worker key bytes.
using SplitSoFar = std::unordered_map<std::string, std::optional<domain::WorkerState>>;

// A changelog written before schema 4 holds whole worker records, and compaction keeps a worker's last
// one until the worker changes again (and, until it runs, each one before). Fills `out` with
// `changes`, each such put in the workers family replaced by the writes of a commit from the worker's
// state before it (an earlier change: of `changes`, else `earlier`, which the call keeps up to date for
// the next changes of one application; else what `stored` reads) to the record's: its head
// and parts, and deletions of the parts the record no longer has. A deletion of a worker's key (as
// schema 3 deleted a worker) takes the worker's parts with it the same way. Returns true, or false
// (out untouched) when `changes` hold neither. A put that is neither a head nor a whole record is left
// for CheckRestoredChange to refuse. An error of `stored` is returned as it is.
[[nodiscard]] absl::StatusOr<bool> SplitWholeWorkerRecords(absl::string_view store, const std::vector<Change>& changes,
                                                           const StoredWorkerFn& stored, SplitSoFar& earlier,
                                                           std::vector<Change>& out);

// DataLoss as above unless `value` is a valid head.
[[nodiscard]] absl::Status CheckHead(absl::string_view store, const WorkerKey& key, std::string_view value);
// DataLoss as above unless `change` (of family samples) has a part key and, for a put, a value of its kind.
[[nodiscard]] absl::Status CheckPart(absl::string_view store, const Change& change);

}  // namespace alertd::state::layout
