// The chaos verifier's driver: weeks of a health grid's input with a known count of readings per worker.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace alertd::testing {

// One input record as the grid's systems send it; `timestamp_ms` is its CreateTime, which
// `alertd --clock stream` takes as processing time.
struct InputRecord {
  std::string topic;
  std::string key;
  std::string value;
  int64_t timestamp_ms = 0;
  int32_t partition = -1;  // by key (the Java-compatible partitioner) when < 0
};

struct GridHistoryOptions {
  int workers = 240;
  int days = 28;        // of simulated time after the profiles arrive
  int partitions = 16;  // every partition gets a last record, so its stream time passes the last deadlines
  uint32_t seed = 1;
};

// Weeks of readings, clock-ins and acknowledgements for `workers` workers, in record-time order:
// - every worker measures blood pressure most days, now and then a critical value (R1), and the
//   health manager acknowledges half of those within the ack timeout;
// - a quarter have grade-2 hypertension (enrolled in the weekly self-test, R3); half of those stop
//   measuring after a few days so the R3 ladder climbs to the unit supervisor, and half of the
//   stopped ones have the climb stopped by an acknowledgement;
// - a fifth are drivers: a pre-shift check (sometimes unfit, sometimes retested, sometimes missing)
//   and a clock-in every working day (R4).
// Every reading is valid, so alertd accepts each exactly once: `readings_of` is the count each worker
// must end with.
struct GridHistory {
  std::vector<InputRecord> records;
  std::map<std::string, int> readings_of;
  int readings = 0, clock_ins = 0, acks = 0, profiles = 0;
};

GridHistory MakeGridHistory(const GridHistoryOptions& options);

// Runs of one topic in `records`: the number of times the topic changes, plus one.
std::size_t CountRuns(const std::vector<InputRecord>& records);

// Produces `records` in runs of one topic, each run confirmed by the broker and followed by `pause`
// before the next starts. Stream mode merges a partition's topics by timestamp and takes a topic
// that reported its end and received nothing since as having no more to give, so a record of one
// topic must never be readable before an earlier record of another: confirming each run first
// ensures that on the broker. The pause gives live consumers time to fetch a run before the next
// one: a consumer that sees a later run of another topic before it has fetched this one merges out
// of order (alertd's merge trusts an end-of-partition report that may be stale by then).
void ProduceInOrder(TestProducer& producer, const std::vector<InputRecord>& records,
                    std::chrono::milliseconds pause = std::chrono::milliseconds(0));

}  // namespace alertd::testing
