// Key and value encodings of the state store, and CommitBatch -> writes; see layout.h.
#include "engine/state/layout.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "alertd_state.pb.h"
#include "engine/state/worker_parts.h"
#include "engine/wire/convert.h"

namespace alertd::state::layout {
namespace {

// Flipping the sign bit maps int64 order onto uint64 order: INT64_MIN -> 0, -1 -> 2^63 - 1, 0 -> 2^63.
constexpr uint64_t kTimeSignBit = uint64_t{1} << 63;
// Partition, fire time, rule, kind; the worker id fills the rest of the key.
constexpr size_t kTimerFixedBytes = 4 + 8 + 1 + 4;

// Keys are arbitrary bytes; messages show them with unprintable bytes escaped.
std::string Escape(std::string_view bytes) { return absl::CHexEscape(absl::string_view(bytes.data(), bytes.size())); }

std::string FamilyPrefix(absl::string_view store, Family family) {
  return absl::StrCat("state store ", store, ": column family ", Name(family), ": ");
}

absl::Status Corrupt(absl::string_view store, Family family, absl::string_view what, absl::string_view detail) {
  return absl::DataLossError(absl::StrCat(FamilyPrefix(store, family), "corrupt record for ", what, ": ", detail));
}

absl::Status CannotEncode(absl::string_view store, Family family, absl::string_view what, absl::string_view detail) {
  return absl::InvalidArgumentError(absl::StrCat(FamilyPrefix(store, family), "cannot store ", what, ": ", detail));
}

// Outbox and parked keys: partition, epoch, seq.
constexpr size_t kOutboxKeyBytes = 4 + 4 + 8;
// An offsets key ends with '\0' and the partition.
constexpr size_t kOffsetKeySuffixBytes = 1 + 4;

bool IsKnown(Family family) { return static_cast<uint8_t>(family) <= static_cast<uint8_t>(Family::kSamples); }

state::v1::OutboxRecord ToRecord(const OutboxEntry& entry) {
  state::v1::OutboxRecord record;
  record.set_topic(entry.topic);
  record.set_key(entry.key);
  record.set_value(entry.value);
  record.set_source_partition(entry.source_partition);
  return record;
}

// The key is authoritative for the id; the record must agree on the partition, or it was written
// under another key than its own.
absl::StatusOr<OutboxEntry> FromRecord(absl::string_view store, Family family, const OutboxId& id,
                                       state::v1::OutboxRecord& record) {
  if (record.source_partition() != id.partition) {
    return Corrupt(store, family, Describe(id),
                   absl::StrCat("the record's source_partition is ", record.source_partition(), ", the key's ",
                                id.partition));
  }
  OutboxEntry entry;
  entry.seq = id.seq;
  entry.epoch = id.epoch;
  entry.source_partition = id.partition;
  entry.topic = std::move(*record.mutable_topic());
  entry.key = std::move(*record.mutable_key());
  entry.value = std::move(*record.mutable_value());
  return entry;
}

// Shared by outbox puts and parked entries: what makes an entry storable under its id.
absl::Status CheckOutboxEntry(absl::string_view store, Family family, const OutboxEntry& entry) {
  const std::string what =
      absl::StrCat(family == Family::kParked ? "parked" : "outbox", " entry ", Describe(entry.id()));
  if (entry.source_partition < 0) return CannotEncode(store, family, what, "source partition is negative");
  if (entry.seq == std::numeric_limits<uint64_t>::max()) {
    return CannotEncode(store, family, what, "the seq space is exhausted");
  }
  if (!wire::IsValidUtf8(entry.topic)) return CannotEncode(store, family, what, "topic is not valid UTF-8");
  return absl::OkStatus();
}

}  // namespace

void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

void AppendBigEndian64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}


const char* Name(Family family) {
  switch (family) {
    case Family::kWorkers:
      return "workers";
    case Family::kOffsets:
      return "offsets";
    case Family::kOutbox:
      return "outbox";
    case Family::kMeta:
      return "meta";
    case Family::kTimers:
      return "timers";
    case Family::kParked:
      return "parked";
    case Family::kSamples:
      return "samples";
  }
  return "unknown";
}

absl::Status StoreError(absl::StatusCode code, absl::string_view store, absl::string_view message) {
  return absl::Status(code, absl::StrCat("state store ", store, ": ", message));
}

// --- Keys -------------------------------------------------------------------------------------

absl::Status CheckKey(absl::string_view store, const WorkerKey& key) {
  if (key.partition < 0) {
    return StoreError(absl::StatusCode::kInvalidArgument, store,
                      absl::StrCat("invalid worker key (", Describe(key), "): partition is negative"));
  }
  if (key.worker.value.empty()) {
    return StoreError(absl::StatusCode::kInvalidArgument, store,
                      absl::StrCat("invalid worker key (", Describe(key), "): worker id is empty"));
  }
  return absl::OkStatus();
}

absl::Status CheckPosition(absl::string_view store, const InputPosition& position) {
  const char* problem = nullptr;
  if (position.partition < 0) {
    problem = "partition is negative";
  } else if (position.topic.empty()) {
    problem = "topic is empty";
  } else if (position.topic.find('\0') != std::string::npos) {
    problem = "topic contains a NUL byte, which separates topic and partition in the key";
  } else if (!wire::IsValidUtf8(position.topic)) {
    problem = "topic is not valid UTF-8";
  }
  if (problem == nullptr) return absl::OkStatus();
  return StoreError(absl::StatusCode::kInvalidArgument, store,
                    absl::StrCat("invalid input position (", Describe(position), "): ", problem));
}

std::string WorkerKeyBytes(const WorkerKey& key) {
  std::string bytes = PartitionPrefix(key.partition);
  bytes.append(key.worker.value);
  return bytes;
}

std::string PartitionPrefix(int32_t partition) {
  std::string bytes;
  bytes.reserve(4);
  AppendBigEndian32(bytes, static_cast<uint32_t>(partition));
  return bytes;
}

int32_t PartitionOf(std::string_view key) { return static_cast<int32_t>(ReadBigEndian<uint32_t>(key)); }

absl::StatusOr<WorkerKey> ParseWorkerKey(absl::string_view store, std::string_view bytes) {
  const uint32_t partition = bytes.size() >= 4 ? ReadBigEndian<uint32_t>(bytes) : 0;
  if (bytes.size() <= 4 || partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return Corrupt(store, Family::kWorkers, absl::StrCat("key \"", Escape(bytes), "\""),
                   "not a 4-byte partition followed by a worker id");
  }
  return WorkerKey{.partition = static_cast<int32_t>(partition),
                   .worker = domain::WorkerId{std::string(bytes.substr(4))}};
}

InputPosition StreamTimePosition(int32_t partition) { return InputPosition{"<stream-time>", partition}; }

std::string OffsetKeyBytes(const InputPosition& position) {
  std::string bytes;
  bytes.reserve(position.topic.size() + 5);
  bytes.append(position.topic);
  bytes.push_back('\0');
  AppendBigEndian32(bytes, static_cast<uint32_t>(position.partition));
  return bytes;
}

absl::StatusOr<InputPosition> ParseOffsetKey(absl::string_view store, std::string_view key) {
  const int32_t partition = key.size() >= kOffsetKeySuffixBytes ? PartitionOf(key.substr(key.size() - 4)) : -1;
  if (partition < 0 || key[key.size() - kOffsetKeySuffixBytes] != '\0') {
    return Corrupt(store, Family::kOffsets, absl::StrCat("key \"", Escape(key), "\""),
                   "not a topic, a NUL byte and a 4-byte partition");
  }
  return InputPosition{.topic = std::string(key.substr(0, key.size() - kOffsetKeySuffixBytes)), .partition = partition};
}

std::string OutboxKeyBytes(const OutboxId& id) {
  std::string bytes;
  bytes.reserve(kOutboxKeyBytes);
  AppendBigEndian32(bytes, static_cast<uint32_t>(id.partition));
  AppendBigEndian32(bytes, id.epoch);
  AppendBigEndian64(bytes, id.seq);
  return bytes;
}

absl::StatusOr<OutboxId> ParseOutboxKey(absl::string_view store, Family family, std::string_view key) {
  if (key.size() != kOutboxKeyBytes || PartitionOf(key) < 0) {
    return Corrupt(store, family, absl::StrCat("key \"", Escape(key), "\""),
                   "not a 4-byte partition, 4-byte epoch and 8-byte seq");
  }
  return OutboxId{.partition = PartitionOf(key),
                  .epoch = ReadBigEndian<uint32_t>(key.substr(4)),
                  .seq = ReadBigEndian<uint64_t>(key.substr(8))};
}

std::string CheckpointKeyBytes(int32_t partition) {
  std::string bytes(kCheckpointKeyPrefix);
  AppendBigEndian32(bytes, static_cast<uint32_t>(partition));
  return bytes;
}

std::string SeqKeyBytes(uint64_t seq) {
  std::string bytes;
  bytes.reserve(8);
  AppendBigEndian64(bytes, seq);
  return bytes;
}

absl::Status CheckTimer(absl::string_view store, const domain::Timer& timer) {
  const char* problem = nullptr;
  if (timer.partition < 0) {
    problem = "partition is negative";
  } else if (timer.worker.value.empty()) {
    problem = "worker id is empty";
  } else if (static_cast<int>(wire::ToProto(timer.rule)) == 0) {
    problem = "rule is not one of its enumerators";
  }
  if (problem == nullptr) return absl::OkStatus();
  return CannotEncode(store, Family::kTimers, Describe(timer), problem);
}

absl::Status CheckPartition(absl::string_view store, int32_t partition) {
  if (partition >= 0) return absl::OkStatus();
  return StoreError(absl::StatusCode::kInvalidArgument, store, absl::StrCat("invalid partition ", partition));
}

void AppendOrderedTime(std::string& out, int64_t ms) { AppendBigEndian64(out, static_cast<uint64_t>(ms) ^ kTimeSignBit); }

int64_t ReadOrderedTime(std::string_view bytes) {
  return static_cast<int64_t>(ReadBigEndian<uint64_t>(bytes) ^ kTimeSignBit);
}

std::string FireTimeBytes(domain::ProcessingTime time) {
  std::string bytes;
  bytes.reserve(8);
  AppendOrderedTime(bytes, time.ms);
  return bytes;
}

std::string DueTimersEnd(int32_t partition, domain::ProcessingTime now) {
  if (now.ms == std::numeric_limits<int64_t>::max()) return PrefixSuccessor(PartitionPrefix(partition));
  std::string bytes = PartitionPrefix(partition);
  bytes.append(FireTimeBytes(domain::ProcessingTime{now.ms + 1}));
  return bytes;
}

std::string TimerKeyBytes(const domain::Timer& timer) {
  std::string bytes;
  bytes.reserve(kTimerFixedBytes + timer.worker.value.size());
  AppendBigEndian32(bytes, static_cast<uint32_t>(timer.partition));
  bytes.append(FireTimeBytes(timer.fire_at));
  bytes.push_back(static_cast<char>(timer.rule));
  AppendBigEndian32(bytes, domain::TimerKindCode(timer.kind));
  bytes.append(timer.worker.value);
  return bytes;
}

absl::StatusOr<domain::Timer> ParseTimer(absl::string_view store, std::string_view key, std::string_view value) {
  const auto corrupt = [&](absl::string_view detail) {
    return Corrupt(store, Family::kTimers, absl::StrCat("key \"", Escape(key), "\""), detail);
  };
  if (key.size() <= kTimerFixedBytes) {
    return corrupt("not a 4-byte partition, 8-byte fire time, 1-byte rule and 4-byte kind followed by a worker id");
  }
  domain::Timer timer;
  const uint32_t partition = ReadBigEndian<uint32_t>(key);
  if (partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) return corrupt("negative partition");
  timer.partition = static_cast<int32_t>(partition);
  timer.fire_at.ms = ReadOrderedTime(key.substr(4));
  timer.rule = static_cast<domain::Rule>(static_cast<unsigned char>(key[12]));
  if (static_cast<int>(wire::ToProto(timer.rule)) == 0) {
    return corrupt(absl::StrCat("rule ", static_cast<int>(timer.rule), " is not one of its enumerators"));
  }
  timer.kind = domain::TimerKindFromCode(ReadBigEndian<uint32_t>(key.substr(13)));
  timer.worker.value.assign(key.substr(kTimerFixedBytes));
  // A timer is its key; a value would be a payload this build does not know how to honour.
  if (!value.empty()) return corrupt(absl::StrCat("value has ", value.size(), " bytes, not 0"));
  return timer;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty()) {
    auto last = static_cast<unsigned char>(bound.back());
    if (last != 0xFF) {
      bound.back() = static_cast<char>(last + 1);
      return bound;
    }
    bound.pop_back();
  }
  return bound;
}

std::string Describe(const domain::Timer& timer) {
  return absl::StrCat("timer fire_at ", timer.fire_at.ms, " partition ", timer.partition, " worker ",
                      Escape(timer.worker.value), " rule ", static_cast<int>(timer.rule), " kind ",
                      domain::TimerKindCode(timer.kind));
}

std::string Describe(const WorkerKey& key) {
  return absl::StrCat("partition ", key.partition, " worker ", Escape(key.worker.value));
}

std::string Describe(const InputPosition& position) {
  return absl::StrCat("topic ", Escape(position.topic), " partition ", position.partition);
}

std::string Describe(const OutboxId& id) {
  return absl::StrCat("partition ", id.partition, " epoch ", id.epoch, " seq ", id.seq);
}

std::string Describe(const Change& change) {
  const std::string family = IsKnown(change.family)
                                 ? std::string(Name(change.family))
                                 : absl::StrCat("#", static_cast<int>(change.family), " (unknown)");
  return absl::StrCat("column family ", family, " key \"", Escape(change.key), "\"");
}

// --- Values -----------------------------------------------------------------------------------

absl::StatusOr<EncodedCommit> EncodeCommit(absl::string_view store, const CommitBatch& batch,
                                           uint64_t next_outbox_seq, const StoredWorkerFn& stored) {
  EncodedCommit commit;
  commit.next_outbox_seq = next_outbox_seq;
  commit.writes.reserve(3 * batch.workers.size() + batch.next_offsets.size() + batch.stream_times.size() +
                        batch.outbox_put.size() +
                        batch.outbox_delete.size() + batch.timers_put.size() + batch.timers_delete.size() +
                        2 * batch.parked_put.size() + 1);

  if (absl::Status status = AppendBatchWorkerWrites(store, batch, stored, commit.writes); !status.ok()) return status;

  for (const auto& [position, offset] : batch.next_offsets) {
    if (absl::Status status = CheckPosition(store, position); !status.ok()) return status;
    if (offset < 0) {
      return CannotEncode(store, Family::kOffsets, Describe(position),
                          absl::StrCat("next offset ", offset, " is negative; only real offsets are stored"));
    }
    std::string value;
    AppendBigEndian64(value, static_cast<uint64_t>(offset));
    commit.writes.push_back(
        Write{.family = Family::kOffsets, .key = OffsetKeyBytes(position), .value = std::move(value)});
  }
  for (const auto& [partition, ms] : batch.stream_times) {
    const InputPosition position = StreamTimePosition(partition);
    if (absl::Status status = CheckPosition(store, position); !status.ok()) return status;
    if (ms < 0) {
      return CannotEncode(store, Family::kOffsets, Describe(position),
                          absl::StrCat("stream time ", ms, " is negative; processing time starts at 0"));
    }
    std::string value;
    AppendBigEndian64(value, static_cast<uint64_t>(ms));
    commit.writes.push_back(
        Write{.family = Family::kOffsets, .key = OffsetKeyBytes(position), .value = std::move(value)});
  }

  for (const OutboxEntry& entry : batch.outbox_put) {
    if (absl::Status status = CheckOutboxEntry(store, Family::kOutbox, entry); !status.ok()) return status;
    // Reusing a seq would overwrite a record that may not have been delivered yet.
    if (entry.seq < commit.next_outbox_seq) {
      return CannotEncode(store, Family::kOutbox, absl::StrCat("outbox entry ", Describe(entry.id())),
                          absl::StrCat("seqs must be strictly ascending from NextOutboxSeq() = ", next_outbox_seq));
    }
    std::string value;
    if (!ToRecord(entry).SerializeToString(&value)) {
      return CannotEncode(store, Family::kOutbox, absl::StrCat("outbox entry ", Describe(entry.id())),
                          "serialization failed");
    }
    commit.writes.push_back(
        Write{.family = Family::kOutbox, .key = OutboxKeyBytes(entry.id()), .value = std::move(value)});
    commit.next_outbox_seq = entry.seq + 1;
  }

  for (const OutboxId& id : batch.outbox_delete) {
    // No entry can live under a negative partition; deleting one means the caller mixed up its ids.
    if (id.partition < 0) {
      return CannotEncode(store, Family::kOutbox, absl::StrCat("the deletion of outbox entry ", Describe(id)),
                          "partition is negative");
    }
    commit.writes.push_back(Write{.family = Family::kOutbox, .key = OutboxKeyBytes(id), .value = std::nullopt});
  }

  for (const domain::Timer& timer : batch.timers_put) {
    if (absl::Status status = CheckTimer(store, timer); !status.ok()) return status;
    commit.writes.push_back(Write{.family = Family::kTimers, .key = TimerKeyBytes(timer), .value = std::string()});
  }
  for (const domain::Timer& timer : batch.timers_delete) {
    if (absl::Status status = CheckTimer(store, timer); !status.ok()) return status;
    commit.writes.push_back(Write{.family = Family::kTimers, .key = TimerKeyBytes(timer), .value = std::nullopt});
  }

  for (const ParkedEntry& parked : batch.parked_put) {
    if (absl::Status status = CheckOutboxEntry(store, Family::kParked, parked.entry); !status.ok()) return status;
    // Output parked before it ever reached the outbox still takes its seq for good.
    commit.next_outbox_seq = std::max(commit.next_outbox_seq, parked.entry.seq + 1);
    state::v1::ParkedRecord record;
    *record.mutable_record() = ToRecord(parked.entry);
    record.set_reason(wire::IsValidUtf8(parked.reason) ? parked.reason : "(reason not valid UTF-8)");
    record.set_parked_at_ms(parked.parked_at_ms);
    std::string value;
    if (!record.SerializeToString(&value)) {
      return CannotEncode(store, Family::kParked, absl::StrCat("parked entry ", Describe(parked.entry.id())),
                          "serialization failed");
    }
    const std::string key = OutboxKeyBytes(parked.entry.id());
    commit.writes.push_back(Write{.family = Family::kOutbox, .key = key, .value = std::nullopt});
    commit.writes.push_back(Write{.family = Family::kParked, .key = key, .value = std::move(value)});
  }

  // The counter rides in the same batch as the entries, so it can never fall behind them.
  if (commit.next_outbox_seq != next_outbox_seq) {
    std::string value;
    AppendBigEndian64(value, commit.next_outbox_seq);
    commit.writes.push_back(
        Write{.family = Family::kMeta, .key = std::string(kOutboxNextSeqKey), .value = std::move(value)});
  }
  return commit;
}

absl::StatusOr<int64_t> DecodeOffset(absl::string_view store, const InputPosition& position, std::string_view value) {
  if (value.size() != 8) {
    return Corrupt(store, Family::kOffsets, Describe(position),
                   absl::StrCat("value has ", value.size(), " bytes, not 8"));
  }
  const auto offset = static_cast<int64_t>(ReadBigEndian<uint64_t>(value));
  if (offset < 0) return Corrupt(store, Family::kOffsets, Describe(position), absl::StrCat("negative offset ", offset));
  return offset;
}

absl::StatusOr<OutboxEntry> DecodeOutbox(absl::string_view store, std::string_view key, std::string_view value) {
  absl::StatusOr<OutboxId> id = ParseOutboxKey(store, Family::kOutbox, key);
  if (!id.ok()) return id.status();
  state::v1::OutboxRecord record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Corrupt(store, Family::kOutbox, Describe(*id),
                   absl::StrCat("not an OutboxRecord (", value.size(), " bytes)"));
  }
  return FromRecord(store, Family::kOutbox, *id, record);
}

absl::StatusOr<ParkedEntry> DecodeParked(absl::string_view store, std::string_view key, std::string_view value) {
  absl::StatusOr<OutboxId> id = ParseOutboxKey(store, Family::kParked, key);
  if (!id.ok()) return id.status();
  state::v1::ParkedRecord record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Corrupt(store, Family::kParked, Describe(*id),
                   absl::StrCat("not a ParkedRecord (", value.size(), " bytes)"));
  }
  absl::StatusOr<OutboxEntry> entry = FromRecord(store, Family::kParked, *id, *record.mutable_record());
  if (!entry.ok()) return entry.status();
  ParkedEntry parked;
  parked.entry = *std::move(entry);
  parked.reason = std::move(*record.mutable_reason());
  parked.parked_at_ms = record.parked_at_ms();
  return parked;
}

absl::StatusOr<uint64_t> DecodeOutboxNextSeq(absl::string_view store, std::string_view value) {
  if (value.size() != 8) {
    return Corrupt(store, Family::kMeta, kOutboxNextSeqKey, absl::StrCat("value has ", value.size(), " bytes, not 8"));
  }
  return ReadBigEndian<uint64_t>(value);
}

absl::Status CheckCheckpoint(absl::string_view store, int32_t partition, const ChangelogCheckpoint& checkpoint) {
  const char* problem = nullptr;
  if (partition < 0) {
    problem = "partition is negative";
  } else if (checkpoint.next_offset < 0) {
    problem = "next_offset is negative";
  } else if (checkpoint.fence_offset < -1) {
    problem = "fence_offset is below -1 (no fence)";
  }
  if (problem == nullptr) return absl::OkStatus();
  return CannotEncode(store, Family::kMeta,
                      absl::StrCat("changelog checkpoint of partition ", partition, " (next_offset ",
                                   checkpoint.next_offset, ", epoch ", checkpoint.epoch, ", fence_offset ",
                                   checkpoint.fence_offset, ")"),
                      problem);
}

Write CheckpointWrite(int32_t partition, const ChangelogCheckpoint& checkpoint) {
  state::v1::ChangelogCheckpointRecord record;
  record.set_next_offset(checkpoint.next_offset);
  record.set_epoch(checkpoint.epoch);
  record.set_fence_offset(checkpoint.fence_offset);
  record.set_contiguous(checkpoint.contiguous);
  return Write{.family = Family::kMeta, .key = CheckpointKeyBytes(partition), .value = record.SerializeAsString()};
}

absl::StatusOr<ChangelogCheckpoint> DecodeCheckpoint(absl::string_view store, int32_t partition,
                                                     std::string_view value) {
  const std::string what = absl::StrCat("changelog checkpoint of partition ", partition);
  state::v1::ChangelogCheckpointRecord record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Corrupt(store, Family::kMeta, what,
                   absl::StrCat("not a ChangelogCheckpointRecord (", value.size(), " bytes)"));
  }
  const ChangelogCheckpoint checkpoint{.next_offset = record.next_offset(),
                                       .epoch = record.epoch(),
                                       .fence_offset = record.fence_offset(),
                                       .contiguous = record.contiguous()};
  if (absl::Status status = CheckCheckpoint(store, partition, checkpoint); !status.ok()) {
    return Corrupt(store, Family::kMeta, what, status.message());
  }
  return checkpoint;
}

absl::Status CheckRestoredChange(absl::string_view store, int32_t partition, const Change& change) {
  const auto refuse = [&](absl::string_view problem) {
    return StoreError(absl::StatusCode::kInvalidArgument, store,
                      absl::StrCat("cannot restore ", Describe(change), " into partition ", partition, ": ", problem));
  };
  if (!IsKnown(change.family)) return refuse("not a column family of this build");
  if (change.family == Family::kMeta || change.family == Family::kParked) {
    return refuse("a store-wide family, which never goes to a changelog");
  }
  const int32_t of = PartitionOfChange(change);
  if (of != partition) {
    return refuse(of < 0 ? std::string("the key holds no partition") : absl::StrCat("the key is of partition ", of));
  }
  // Keys are checked for deletions too: a malformed one is a damaged changelog, not a harmless no-op.
  absl::Status status;
  switch (change.family) {
    case Family::kWorkers: {
      absl::StatusOr<WorkerKey> key = ParseWorkerKey(store, change.key);
      status = key.status();
      if (status.ok() && change.value) status = CheckHead(store, *key, *change.value);
      break;
    }
    case Family::kSamples:
      status = CheckPart(store, change);
      break;
    case Family::kOffsets: {
      absl::StatusOr<InputPosition> position = ParseOffsetKey(store, change.key);
      status = position.status();
      if (status.ok()) status = CheckPosition(store, *position);
      if (status.ok() && change.value) status = DecodeOffset(store, *position, *change.value).status();
      break;
    }
    case Family::kOutbox:
      status = change.value ? DecodeOutbox(store, change.key, *change.value).status()
                            : ParseOutboxKey(store, Family::kOutbox, change.key).status();
      break;
    case Family::kTimers:
      status = ParseTimer(store, change.key, change.value.value_or(std::string())).status();
      break;
    case Family::kMeta:
    case Family::kParked:
      break;
  }
  if (status.ok()) return status;
  // The decoders' messages already name the store; repeat only what they found wrong.
  absl::string_view detail = status.message();
  const std::string prefix = absl::StrCat("state store ", store, ": ");
  if (absl::StartsWith(detail, prefix)) detail.remove_prefix(prefix.size());
  return refuse(detail);
}

}  // namespace alertd::state::layout

namespace alertd::state {

int32_t PartitionOfChange(const Change& change) {
  int32_t partition = -1;
  switch (change.family) {
    case Family::kWorkers:
    case Family::kOutbox:
    case Family::kTimers:
    case Family::kSamples:
      if (change.key.size() >= 4) partition = layout::PartitionOf(change.key);
      break;
    case Family::kOffsets:
      // The topic cannot hold a NUL byte, so the separator is exactly where the suffix begins.
      if (change.key.size() >= 5 && change.key[change.key.size() - 5] == '\0') {
        partition = layout::PartitionOf(std::string_view(change.key).substr(change.key.size() - 4));
      }
      break;
    case Family::kMeta:
    case Family::kParked:
      break;
  }
  return partition < 0 ? -1 : partition;
}

}  // namespace alertd::state
