// Free-space checks of the state directory (statvfs), refused with ResourceExhausted.
#include "engine/state/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "engine/state/layout.h"

namespace alertd::state {

absl::StatusOr<uint64_t> FreeBytes(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) {
    return layout::StoreError(absl::StatusCode::kInternal, dir,
                              absl::StrCat("cannot read the free space of its filesystem (statvfs): ",
                                           std::strerror(errno)));
  }
  return static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
}

absl::Status CheckFreeSpace(const std::string& dir, const SpaceNeed& need, const char* action) {
  absl::StatusOr<uint64_t> free = FreeBytes(dir);
  if (!free.ok()) return free.status();
  if (*free >= need.total()) return absl::OkStatus();
  return layout::StoreError(
      absl::StatusCode::kResourceExhausted, dir,
      absl::StrCat("No space left on device for the ", action, ": ", *free, " bytes free on the filesystem, ",
                   need.total(), " needed (", need.write_bytes, " to write, ", need.flush_bytes,
                   " of WAL for RocksDB to flush, ", need.reserve_bytes,
                   " reserved for RocksDB's flushes and compactions); nothing was written. Free space on that "
                   "filesystem, then restart"));
}

uint64_t WalBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".log") continue;
    std::error_code size_ec;
    const uintmax_t size = entry.file_size(size_ec);
    if (!size_ec) total += size;
  }
  return total;
}

absl::Status CheckRoomForCommit(const std::string& dir, uint64_t write_bytes, uint64_t memtable_bound,
                                uint64_t reserve_bytes) {
  absl::StatusOr<uint64_t> free = FreeBytes(dir);
  if (!free.ok()) return free.status();
  if (*free >= write_bytes + memtable_bound + reserve_bytes) return absl::OkStatus();
  return CheckFreeSpace(dir, {.write_bytes = write_bytes, .flush_bytes = WalBytes(dir), .reserve_bytes = reserve_bytes},
                        "commit");
}

}  // namespace alertd::state
