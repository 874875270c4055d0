// Free space on the state directory's filesystem, checked before RocksDB is asked to write, so that
// a full disk ends in a refused commit (ResourceExhausted) instead of a failed write inside RocksDB.
//
// Internal to engine/state.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace alertd::state {

// What a write asks of the filesystem, to name each part in the refusal.
struct SpaceNeed {
  uint64_t write_bytes = 0;     // this commit's WAL record, or the WAL that an open replays into SSTs
  uint64_t flush_bytes = 0;     // memtables RocksDB has yet to write to SST files (as WAL bytes)
  uint64_t reserve_bytes = 0;   // StoreOptions::disk_reserve_bytes
  uint64_t total() const { return write_bytes + flush_bytes + reserve_bytes; }
};

// Bytes an unprivileged process may still write on the filesystem holding `dir` (statvfs f_bavail).
[[nodiscard]] absl::StatusOr<uint64_t> FreeBytes(const std::string& dir);

// OK when the filesystem of `dir` has need.total() bytes free; else ResourceExhausted naming the
// directory, the free and needed bytes and what `action` ("commit", "open") would have written.
[[nodiscard]] absl::Status CheckFreeSpace(const std::string& dir, const SpaceNeed& need, const char* action);

// Sum of the sizes of the WAL files (*.log) in `dir`: what an open replays and flushes. It also
// bounds what the memtables hold (a WAL file is deleted only once all it holds is flushed), so it
// stands for what RocksDB may yet write to SST files.
[[nodiscard]] uint64_t WalBytes(const std::string& dir);

// CheckFreeSpace for a commit of `write_bytes`. The memtables RocksDB may yet flush are counted as
// `memtable_bound` (every family's write buffers full) while that fits, which costs one statvfs;
// only near a full disk as the WAL bytes, which lists the directory.
[[nodiscard]] absl::Status CheckRoomForCommit(const std::string& dir, uint64_t write_bytes, uint64_t memtable_bound,
                                              uint64_t reserve_bytes);

}  // namespace alertd::state
