// How the state store lays its data out as ordered bytes: column families, key and value encodings,
// and the translation of a CommitBatch into writes. Both store backends share it, so they agree on
// validation, ordering and error messages.
//
// Column families (RocksDB names):
//   workers  key: 4-byte big-endian partition + worker id bytes   value: WorkerStateRecord head
//   samples  a worker's profile and window samples, one key each (worker_parts.h)
//   offsets  key: topic bytes + '\0' + 4-byte big-endian partition value: 8-byte big-endian int64;
//            topic "<stream-time>": the partition's stream time in ms (StreamTimePosition)
//   outbox   key: 4-byte big-endian partition + 4-byte big-endian epoch + 8-byte big-endian seq
//            (an OutboxId)                                         value: OutboxRecord
//   meta     "schema_version" -> decimal text; "outbox_next_seq" -> 8-byte big-endian uint64;
//            "changelog_checkpoint/" + 4-byte big-endian partition -> ChangelogCheckpointRecord
//   timers   key: 4-byte big-endian partition + 8-byte fire time + 1-byte rule + 4-byte big-endian
//            kind + worker id bytes                                value: empty
//   parked   key: as outbox (the entry's OutboxId)                 value: ParkedRecord
// Big-endian numbers make bytewise key order numeric order, so partitions scan as ranges, the
// outbox reads back in id order (one range per partition) and each partition's timers in fire
// order: the due timers of one partition are one key range, which no other partition's timers can
// crowd. The fire time is its ms as a big-endian uint64 with the sign bit flipped, so negative times
// sort before positive ones. Workers, samples, outbox and timers of a partition share the prefix
// PartitionPrefix(partition); its offsets are the keys of the offsets family that end with it.
//
// Internal to engine/state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/domain/timer.h"
#include "engine/state/store.h"

namespace alertd::state::layout {

using Family = state::Family;
inline constexpr std::array<Family, 7> kFamilies = {Family::kWorkers, Family::kOffsets, Family::kOutbox,
                                                    Family::kMeta,    Family::kTimers,  Family::kParked,
                                                    Family::kSamples};
inline constexpr size_t kFamilyCount = kFamilies.size();
const char* Name(Family family);

// Bump when a record or key changes in a way the previous build cannot read. (Adding a family does
// not: older builds open families they do not know and leave them alone.) Version 2 put the partition
// first in timer keys; version 3 keys outbox and parked entries by OutboxId instead of the bare seq;
// version 4 splits a worker into a head and its parts (worker_parts.h); version 5 stores window
// samples in runs (ibid.). Older stores are migrated when opened read-write (migrate.h).
inline constexpr int kSchemaVersion = 5;
inline constexpr char kSchemaVersionKey[] = "schema_version";
inline constexpr char kOutboxNextSeqKey[] = "outbox_next_seq";
inline constexpr char kCheckpointKeyPrefix[] = "changelog_checkpoint/";

// One change to one column family. nullopt value = delete.
using Write = state::Change;

// A CommitBatch validated and fully encoded, ready to apply atomically in order.
struct EncodedCommit {
  std::vector<Write> writes;
  uint64_t next_outbox_seq = 1;  // NextOutboxSeq() once applied
};

// Text for messages is absl::string_view: this abseil build does not alias it to std::string_view,
// so absl::StrCat and absl::Status take only the former. Byte keys and values are std::string_view.

// Names the store in every error: "state store <store>: ...".
[[nodiscard]] absl::Status StoreError(absl::StatusCode code, absl::string_view store, absl::string_view message);

// --- Bytes of keys and values ---------------------------------------------------------------------

void AppendBigEndian32(std::string& out, uint32_t value);
void AppendBigEndian64(std::string& out, uint64_t value);
// `bytes` must hold at least sizeof(T) bytes.
template <typename T>
T ReadBigEndian(std::string_view bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>((value << 8) | static_cast<unsigned char>(bytes[i]));
  return value;
}
// A time in ms as 8 bytes that sort bytewise in time order, negative times first (big-endian with
// the sign bit flipped), and back; `bytes` must hold at least 8 bytes.
void AppendOrderedTime(std::string& out, int64_t ms);
int64_t ReadOrderedTime(std::string_view bytes);

// --- Keys -------------------------------------------------------------------------------------

// InvalidArgument unless the key can be stored (partition >= 0, non-empty worker id).
[[nodiscard]] absl::Status CheckKey(absl::string_view store, const WorkerKey& key);
[[nodiscard]] absl::Status CheckPosition(absl::string_view store, const InputPosition& position);

std::string WorkerKeyBytes(const WorkerKey& key);
// Prefix shared by every worker key and every timer key of the partition (>= 0).
std::string PartitionPrefix(int32_t partition);
// The partition a worker or timer key starts with; `key` must hold at least 4 bytes.
int32_t PartitionOf(std::string_view key);
[[nodiscard]] absl::StatusOr<WorkerKey> ParseWorkerKey(absl::string_view store, std::string_view bytes);

std::string OffsetKeyBytes(const InputPosition& position);
// Where a partition's stream time (CommitBatch::stream_times) is kept: an offsets-family key under a
// topic name Kafka cannot have ('<' is not allowed in topic names), so it travels with the
// partition's offsets through the changelog and never meets a real topic.
InputPosition StreamTimePosition(int32_t partition);
// DataLoss naming the store and key unless `key` is a topic, '\0' and a 4-byte partition >= 0. The
// topic is not checked (CheckPosition does).
[[nodiscard]] absl::StatusOr<InputPosition> ParseOffsetKey(absl::string_view store, std::string_view key);
// 8 bytes big-endian: the outbox counter's value, and the outbox key of schema versions 1 and 2.
std::string SeqKeyBytes(uint64_t seq);
// The key of an outbox or parked entry; `id.partition` >= 0.
std::string OutboxKeyBytes(const OutboxId& id);
// DataLoss naming the store, family and key unless `key` is 16 bytes with a partition >= 0.
[[nodiscard]] absl::StatusOr<OutboxId> ParseOutboxKey(absl::string_view store, Family family, std::string_view key);
// The meta key of the partition's (>= 0) ChangelogCheckpoint.
std::string CheckpointKeyBytes(int32_t partition);

// InvalidArgument unless the timer can be stored (partition >= 0, non-empty worker id, known rule).
[[nodiscard]] absl::Status CheckTimer(absl::string_view store, const domain::Timer& timer);
// InvalidArgument unless partition >= 0.
[[nodiscard]] absl::Status CheckPartition(absl::string_view store, int32_t partition);
std::string TimerKeyBytes(const domain::Timer& timer);
// The 8 bytes that follow the partition in a timer key: every timer firing at `time` sorts after every
// timer of the partition firing earlier.
std::string FireTimeBytes(domain::ProcessingTime time);
// The key range of the timers of `partition` (>= 0) due at `now` is [PartitionPrefix(partition),
// DueTimersEnd(partition, now)); at INT64_MAX it is the whole partition.
std::string DueTimersEnd(int32_t partition, domain::ProcessingTime now);
// DataLoss naming the store, family and key unless `key` is a timer key and `value` empty.
[[nodiscard]] absl::StatusOr<domain::Timer> ParseTimer(absl::string_view store, std::string_view key,
                                                       std::string_view value);

// The smallest key greater than every key starting with `prefix`; empty if there is none (then the
// keys starting with `prefix` run to the end of the family).
std::string PrefixSuccessor(std::string_view prefix);

// For messages: "partition 3 worker W001" with unprintable bytes escaped.
std::string Describe(const WorkerKey& key);
std::string Describe(const InputPosition& position);
// "partition 3 epoch 2 seq 17"
std::string Describe(const OutboxId& id);
// "column family workers key \"\x00\x00\x00\x03W001\"": any change, including one of a family
// this build does not know (a changelog is input).
std::string Describe(const Change& change);
// "timer fire_at 1717000000000 partition 3 worker W001 rule 3 kind 1"
std::string Describe(const domain::Timer& timer);

// --- Values -----------------------------------------------------------------------------------

// The worker's committed state as the store holds it (nullopt: none) and how its samples are stored,
// for a worker of the batch whose state before it the caller did not pass (CommitBatch::workers_before).
// Without one, such a worker is refused (InvalidArgument).
using StoredWorkerFn =
    std::function<absl::StatusOr<std::optional<domain::WorkerState>>(const WorkerKey&, SampleLayout* layout)>;
[[nodiscard]] absl::StatusOr<EncodedCommit> EncodeCommit(absl::string_view store, const CommitBatch& batch,
                                                         uint64_t next_outbox_seq, const StoredWorkerFn& stored = {});

// DataLoss naming the store, family and key when the bytes are not a valid record.
[[nodiscard]] absl::StatusOr<int64_t> DecodeOffset(absl::string_view store, const InputPosition& position,
                                                   std::string_view value);
[[nodiscard]] absl::StatusOr<OutboxEntry> DecodeOutbox(absl::string_view store, std::string_view key,
                                                       std::string_view value);
[[nodiscard]] absl::StatusOr<uint64_t> DecodeOutboxNextSeq(absl::string_view store, std::string_view value);
[[nodiscard]] absl::StatusOr<ParkedEntry> DecodeParked(absl::string_view store, std::string_view key,
                                                       std::string_view value);

// InvalidArgument unless the checkpoint can be stored for `partition`: partition >= 0,
// next_offset >= 0 and fence_offset >= -1 (offsets are never negative; -1 is "no fence").
[[nodiscard]] absl::Status CheckCheckpoint(absl::string_view store, int32_t partition,
                                           const ChangelogCheckpoint& checkpoint);
// The meta write of a checkpoint that passed CheckCheckpoint.
Write CheckpointWrite(int32_t partition, const ChangelogCheckpoint& checkpoint);
[[nodiscard]] absl::StatusOr<ChangelogCheckpoint> DecodeCheckpoint(absl::string_view store, int32_t partition,
                                                                   std::string_view value);

// InvalidArgument (naming the store, the change's family and escaped key) unless `change` may be
// restored into `partition` from its changelog: a family that goes to a changelog, a key of that
// partition in that family's shape, and for a put a value that decodes as that family's record.
[[nodiscard]] absl::Status CheckRestoredChange(absl::string_view store, int32_t partition, const Change& change);

}  // namespace alertd::state::layout
