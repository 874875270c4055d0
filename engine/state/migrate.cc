// Schema migrations of the state store; see migrate.h.
#include "engine/state/migrate.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "alertd_state.pb.h"
#include "engine/state/layout.h"
#include "engine/state/worker_parts.h"
#include "engine/state/worker_record.h"

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

// Versions 1 and 2 keyed outbox and parked entries by the 8-byte seq alone; version 3 by OutboxId
// (partition, epoch, seq). Entries made before changelogs existed took epoch 0, the epoch of a
// partition that never had one; the partition is the record's source_partition.
absl::Status OutboxKeysById(KvBackend& backend, absl::string_view store, Family family,
                            std::vector<layout::Write>& writes) {
  std::vector<std::pair<std::string, std::string>> moved;  // old key, new key
  std::vector<std::string> values;
  absl::Status bad;
  absl::Status scan = backend.Scan(family, "", "", [&](std::string_view key, std::string_view value) {
    const auto refuse = [&](absl::string_view problem) {
      bad = absl::DataLossError(absl::StrCat("state store ", store, ": column family ", layout::Name(family),
                                             ": key \"", absl::CHexEscape(absl::string_view(key.data(), key.size())),
                                             "\" ", problem, "; not migrated"));
      return false;
    };
    if (key.size() != 8) return refuse("is not a version-2 key (an 8-byte seq)");
    v1::ParkedRecord parked;  // a parked entry holds its outbox record
    v1::OutboxRecord outbox;
    const bool parsed = family == Family::kParked ? parked.ParseFromArray(value.data(), static_cast<int>(value.size()))
                                                  : outbox.ParseFromArray(value.data(), static_cast<int>(value.size()));
    if (!parsed) return refuse("holds no readable record");
    const v1::OutboxRecord& record = family == Family::kParked ? parked.record() : outbox;
    if (record.source_partition() < 0) {
      return refuse(absl::StrCat("holds a record of negative source_partition ", record.source_partition()));
    }
    uint64_t seq = 0;
    for (char byte : key) seq = (seq << 8) | static_cast<unsigned char>(byte);
    moved.emplace_back(std::string(key),
                       layout::OutboxKeyBytes({.partition = record.source_partition(), .epoch = 0, .seq = seq}));
    values.emplace_back(value);
    return true;
  });
  if (!scan.ok()) return scan;
  if (!bad.ok()) return bad;
  // Deletions first, as for timers; old and new keys differ in length, so none can collide anyway.
  for (const auto& [old_key, new_key] : moved) {
    writes.push_back({.family = family, .key = old_key, .value = std::nullopt});
  }
  for (size_t i = 0; i < moved.size(); ++i) {
    writes.push_back({.family = family, .key = moved[i].second, .value = std::move(values[i])});
  }
  return absl::OkStatus();
}

// Versions 1 to 3 held each worker whole in its `workers` record; version 4 keeps a head there and the
// profile and window samples under keys of their own (worker_parts.h). The parts are written as a
// commit from nothing writes them; the head takes the old record's key.
absl::Status WorkersSplit(KvBackend& backend, absl::string_view store, std::vector<layout::Write>& writes) {
  absl::Status bad;
  absl::Status scan = backend.Scan(Family::kWorkers, "", "", [&](std::string_view key, std::string_view value) {
    const auto refuse = [&](absl::string_view problem) {
      bad = absl::DataLossError(absl::StrCat("state store ", store, ": column family workers: key \"",
                                             absl::CHexEscape(absl::string_view(key.data(), key.size())), "\" ",
                                             problem, "; not migrated"));
      return false;
    };
    absl::StatusOr<WorkerKey> worker = layout::ParseWorkerKey(store, key);
    if (!worker.ok()) return refuse("is not a worker key");
    absl::StatusOr<domain::WorkerState> state = DecodeWorkerState(value);
    if (!state.ok()) return refuse(absl::StrCat("holds no readable version-3 record: ", state.status().message()));
    absl::Status split = layout::AppendWorkerWrites(store, *worker, nullptr, &*state, writes);
    if (!split.ok()) return refuse(absl::StrCat("cannot be split: ", split.message()));
    return true;
  });
  if (!scan.ok()) return scan;
  return bad;
}

}  // namespace

absl::Status MigrateSchema(KvBackend& backend, absl::string_view store, int from) {
  if (from < 1 || from >= layout::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("state store ", store, ": no migration from schema version ",
                                                      from, " to ", layout::kSchemaVersion));
  }
  // The steps touch different families and read only what is stored, so their writes chain into one.
  std::vector<layout::Write> writes;
  if (from <= 1) {
    if (absl::Status status = TimersPartitionFirst(backend, store, writes); !status.ok()) return status;
  }
  if (from <= 2) {
    for (Family family : {Family::kOutbox, Family::kParked}) {
      if (absl::Status status = OutboxKeysById(backend, store, family, writes); !status.ok()) return status;
    }
  }
  if (from <= 3) {
    if (absl::Status status = WorkersSplit(backend, store, writes); !status.ok()) return status;
  }
  // 4 -> 5 rewrites nothing: schema 4's single samples read as they are, and each worker's next commit
  // replaces them with runs (worker_parts.h). The version keeps a build of schema 4, which cannot read
  // runs, from opening the store.
  writes.push_back({.family = Family::kMeta,
                    .key = std::string(layout::kSchemaVersionKey),
                    .value = std::to_string(layout::kSchemaVersion)});
  return backend.Apply(writes);
}

}  // namespace alertd::state
