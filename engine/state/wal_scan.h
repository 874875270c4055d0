// Reads RocksDB's write-ahead log files before the store opens them, so that what point-in-time
// recovery drops (a torn tail after a crash, or everything after damage in the middle) is counted
// and named instead of passing in silence.
//
// WAL format (RocksDB wiki, "Write Ahead Log File Format"): 32 KiB blocks of records; a record is a
// 7-byte header (masked crc32c of type + payload, 2-byte little-endian length, 1-byte type) and its
// payload; types FULL=1, FIRST=2, MIDDLE=3, LAST=4 fragment one logical record (a WriteBatch) over
// blocks; 5..8 are the same with an 11-byte header (+ 4-byte log number) for recycled files; 9 sets
// the WAL's compression; a block's last < 7 bytes are zero padding. A WriteBatch starts with its
// 8-byte little-endian sequence number and 4-byte entry count.
//
// Internal to engine/state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/state/store.h"

namespace alertd::state {

// What the WAL files of a store directory hold, before RocksDB replays them.
struct WalScan {
  struct Batch {
    uint64_t sequence = 0;  // of its first entry
    uint64_t bytes = 0;     // its records on disk, headers included
    std::string file;       // WAL file name, e.g. "000012.log"
  };
  struct Damage {
    std::string file;
    uint64_t offset = 0;  // in the file
    uint64_t bytes = 0;
    bool tail = false;      // a record cut short by the end of the file: a torn write, as a crash leaves
    bool uncounted = false;  // unreadable headers: the batches in these bytes cannot be counted
  };
  std::vector<Batch> batches;  // every intact WriteBatch, in file then offset order
  std::vector<Damage> damage;  // one per damaged record or unreadable range
  uint64_t damaged_batches = 0;  // records (or fragment chains) whose checksum or framing failed
  uint64_t files = 0;
};

// Scans every *.log file in `dir` in file-number order. Never fails: an unreadable file is recorded
// as damage.
WalScan ScanWal(const std::string& dir);

// What point-in-time recovery dropped, given the scan taken before the open and the newest sequence
// number the opened DB holds: every intact batch past it, and every damaged one.
RecoveryReport ReportDropped(const WalScan& scan, uint64_t recovered_sequence);

}  // namespace alertd::state
