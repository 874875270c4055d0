// Key and value encodings of the state store, and CommitBatch -> writes; see layout.h.
#include "engine/state/layout.h"

#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "alertd_state.pb.h"
#include "engine/state/worker_record.h"
#include "engine/wire/convert.h"

namespace alertd::state::layout {
namespace {

void AppendBigEndian32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

void AppendBigEndian64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

// `bytes` must hold at least sizeof(T) bytes.
template <typename T>
T ReadBigEndian(std::string_view bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value = static_cast<T>((value << 8) | static_cast<unsigned char>(bytes[i]));
  return value;
}

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

}  // namespace

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

absl::StatusOr<WorkerKey> ParseWorkerKey(absl::string_view store, std::string_view bytes) {
  const uint32_t partition = bytes.size() >= 4 ? ReadBigEndian<uint32_t>(bytes) : 0;
  if (bytes.size() <= 4 || partition > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return Corrupt(store, Family::kWorkers, absl::StrCat("key \"", Escape(bytes), "\""),
                   "not a 4-byte partition followed by a worker id");
  }
  return WorkerKey{.partition = static_cast<int32_t>(partition),
                   .worker = domain::WorkerId{std::string(bytes.substr(4))}};
}

std::string OffsetKeyBytes(const InputPosition& position) {
  std::string bytes;
  bytes.reserve(position.topic.size() + 5);
  bytes.append(position.topic);
  bytes.push_back('\0');
  AppendBigEndian32(bytes, static_cast<uint32_t>(position.partition));
  return bytes;
}

std::string SeqKeyBytes(uint64_t seq) {
  std::string bytes;
  bytes.reserve(8);
  AppendBigEndian64(bytes, seq);
  return bytes;
}

std::string Describe(const WorkerKey& key) {
  return absl::StrCat("partition ", key.partition, " worker ", Escape(key.worker.value));
}

std::string Describe(const InputPosition& position) {
  return absl::StrCat("topic ", Escape(position.topic), " partition ", position.partition);
}

// --- Values -----------------------------------------------------------------------------------

absl::StatusOr<EncodedCommit> EncodeCommit(absl::string_view store, const CommitBatch& batch,
                                           uint64_t next_outbox_seq) {
  EncodedCommit commit;
  commit.next_outbox_seq = next_outbox_seq;
  commit.writes.reserve(batch.workers.size() + batch.next_offsets.size() + batch.outbox_put.size() +
                        batch.outbox_delete.size() + 1);

  for (const auto& [key, state] : batch.workers) {
    if (absl::Status status = CheckKey(store, key); !status.ok()) return status;
    Write& write =
        commit.writes.emplace_back(Write{.family = Family::kWorkers, .key = WorkerKeyBytes(key), .value = {}});
    if (!state) continue;  // delete
    absl::StatusOr<std::string> value = EncodeWorkerState(*state);
    if (!value.ok()) return CannotEncode(store, Family::kWorkers, Describe(key), value.status().message());
    write.value = *std::move(value);
  }

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

  for (const OutboxEntry& entry : batch.outbox_put) {
    const std::string what = absl::StrCat("outbox seq ", entry.seq);
    // Reusing a seq would overwrite a record that may not have been delivered yet.
    if (entry.seq < commit.next_outbox_seq) {
      return CannotEncode(store, Family::kOutbox, what,
                          absl::StrCat("seqs must be strictly ascending from NextOutboxSeq() = ", next_outbox_seq));
    }
    if (entry.seq == std::numeric_limits<uint64_t>::max()) {
      return CannotEncode(store, Family::kOutbox, what, "the seq space is exhausted");
    }
    if (!wire::IsValidUtf8(entry.topic)) return CannotEncode(store, Family::kOutbox, what, "topic is not valid UTF-8");
    state::v1::OutboxRecord record;
    record.set_topic(entry.topic);
    record.set_key(entry.key);
    record.set_value(entry.value);
    record.set_source_partition(entry.source_partition);
    std::string value;
    if (!record.SerializeToString(&value)) return CannotEncode(store, Family::kOutbox, what, "serialization failed");
    commit.writes.push_back(Write{.family = Family::kOutbox, .key = SeqKeyBytes(entry.seq), .value = std::move(value)});
    commit.next_outbox_seq = entry.seq + 1;
  }

  for (uint64_t seq : batch.outbox_delete) {
    commit.writes.push_back(Write{.family = Family::kOutbox, .key = SeqKeyBytes(seq), .value = std::nullopt});
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

absl::StatusOr<domain::WorkerState> DecodeWorker(absl::string_view store, const WorkerKey& key,
                                                 std::string_view value) {
  absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(value);
  if (!state.ok()) return Corrupt(store, Family::kWorkers, Describe(key), state.status().message());
  return state;
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
  if (key.size() != 8) {
    return Corrupt(store, Family::kOutbox, absl::StrCat("key \"", Escape(key), "\""), "not an 8-byte seq");
  }
  OutboxEntry entry;
  entry.seq = ReadBigEndian<uint64_t>(key);
  state::v1::OutboxRecord record;
  if (!record.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Corrupt(store, Family::kOutbox, absl::StrCat("seq ", entry.seq),
                   absl::StrCat("not an OutboxRecord (", value.size(), " bytes)"));
  }
  entry.topic = std::move(*record.mutable_topic());
  entry.key = std::move(*record.mutable_key());
  entry.value = std::move(*record.mutable_value());
  entry.source_partition = record.source_partition();
  return entry;
}

absl::StatusOr<uint64_t> DecodeOutboxNextSeq(absl::string_view store, std::string_view value) {
  if (value.size() != 8) {
    return Corrupt(store, Family::kMeta, kOutboxNextSeqKey, absl::StrCat("value has ", value.size(), " bytes, not 8"));
  }
  return ReadBigEndian<uint64_t>(value);
}

}  // namespace alertd::state::layout
