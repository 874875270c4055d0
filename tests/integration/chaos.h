// The chaos verifier's driver: weeks of a health grid's input with a known count of readings per worker.
#pragma once

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

// Produces records[begin, end) in runs of one topic, each run confirmed by the broker before the next
// starts. Stream mode merges a partition's topics by timestamp and takes a topic at its end for
// having no more to give; confirming each run first means a record is never in flight on one topic
// while a later record of another topic is already readable.
void ProduceInOrder(TestProducer& producer, const std::vector<InputRecord>& records, std::size_t begin,
                    std::size_t end);

}  // namespace alertd::testing
