// crc32c (Castagnoli), the checksum of RocksDB's WAL records: with the CPU's crc32 instruction where
// it has one (SSE 4.2), else a table. Internal to engine/state.
#pragma once

#include <cstddef>
#include <cstdint>

namespace alertd::state {

// The checksum of `n` bytes at `data`, continuing `crc` (0 to start).
uint32_t Crc32c(const char* data, std::size_t n, uint32_t crc = 0);
// The same with the table only, whatever the CPU (for tests).
uint32_t Crc32cPortable(const char* data, std::size_t n, uint32_t crc = 0);

}  // namespace alertd::state
