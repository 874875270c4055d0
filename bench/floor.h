// The stack's floor: the least a durable pipeline costs per record on this machine with alertd's
// libraries, so that alertd's CPU per record is read against a measured bar and not only a target.
#pragma once

#include <cstdint>
#include <string>

namespace alertd::bench {

struct FloorRun {
  double rate = 0;               // records/s, from the first record to the last commit
  double cpu_us_per_record = 0;  // this process's CPU, all threads (consumer, producer, RocksDB)
  int64_t commits = 0;
};

// Drains the `n` records of `topic` (a new consumer group) doing, for each record, only what any
// engine with a changelog must: one RocksDB put (key = partition and offset, value = the record's) and
// one record to the same partition of `changelog_topic` (idempotent, acks=all). Every
// `records_per_commit` records it waits for the broker's acknowledgements, then writes the batch with
// fsync, as alertd's commit does. No decoding, no rules, no state read. Dies if a record is refused
// or the drain stalls.
FloorRun DrainFloor(const std::string& bootstrap, const std::string& topic, const std::string& changelog_topic,
                    int64_t n, const std::string& db_path, int records_per_commit);

}  // namespace alertd::bench
