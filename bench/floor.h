// The stack's floor: the least a durable pipeline costs per record on this machine with alertd's
// libraries, so that alertd's CPU per record is read against a measured bar and not only a target.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "bench/bench_support.h"

namespace alertd::bench {

// What the floor writes for the records it drains.
enum class FloorWrites {
  kPerRecord,           // one RocksDB put and one changelog record per record: today's per-sample layout
  kPerWorkerPerCommit,  // one of each per worker and commit, holding that worker's records of the commit
};

struct FloorRun {
  double rate = 0;               // records/s, from the first record to the last commit
  double cpu_us_per_record = 0;  // this process's CPU, all threads (consumer, producer, RocksDB)
  int64_t commits = 0;
  int64_t writes = 0;  // RocksDB puts, each also a changelog record
  Clock::time_point done;  // the last commit written
};

// Drains the `n` records of `topic` (a new consumer group) doing only what any engine with a changelog
// must. kPerRecord: for each record, one RocksDB put (key = partition and offset, value = the record's)
// and one record to the same partition of `changelog_topic` (idempotent, acks=all).
// kPerWorkerPerCommit: the records of one worker (the Kafka key) in one commit gathered into one put
// and one changelog record (key = partition, worker and commit number, value = their payloads one
// after the other), as a layout that coalesced a commit's new samples of a worker would write. Every
// `records_per_commit` records it waits for the broker's acknowledgements, then writes the batch with
// fsync, as alertd's commit does. No decoding, no rules, no state read. Dies if a record is refused
// or the drain stalls. `joined`, if given, is called once the consumer has its partitions and before it
// reads: the live floor starts producing the records there.
FloorRun DrainFloor(const std::string& bootstrap, const std::string& topic, const std::string& changelog_topic,
                    int64_t n, const std::string& db_path, int records_per_commit, FloorWrites writes,
                    const std::function<void()>& joined = {});

}  // namespace alertd::bench
