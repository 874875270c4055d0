// One memory budget for the daemon (--memory-budget), split between the parts that grow with the data.
//
//   RocksDB      the block cache (data, index and filter blocks of every family), shared, with the
//                memtables charged into it by a write-buffer manager: the two together never exceed
//                `rocks_cache`, and the memtables start flushing at `memtables`;
//   state cache  committed worker states kept decoded (CommitWindow), bounded by their estimated bytes;
//   prefetch     records the input consumer fetched ahead of the engine (librdkafka's queue);
//   restore      records the changelog's consumer fetched ahead of a restore or a standby (its own
//                queue, beside the input's: a restore runs while the engine reads its other inputs);
//   the rest     everything not sized by the data: code, the commit window of up to
//                --commit-max-records records, the outbox, timers, allocator slack.
// Each share is a fixed fraction, so an operator sizes one number to the container's limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "engine/domain/worker_state.h"

namespace alertd::app {

inline constexpr uint64_t kMinMemoryBudgetMiB = 64;
inline constexpr uint64_t kDefaultMemoryBudgetMiB = 512;

struct MemoryShares {
  uint64_t budget = 0;
  uint64_t rocks_cache = 0;  // block cache capacity, memtables included
  uint64_t memtables = 0;    // the write-buffer manager's size: memtables flush from here on
  uint64_t state_cache = 0;  // decoded worker states
  uint64_t prefetch = 0;     // the input consumer's queue
  uint64_t restore = 0;      // the changelog consumer's queue (restores, standbys, the members topic)
};

// `budget_bytes` >= kMinMemoryBudgetMiB MiB.
MemoryShares SplitMemoryBudget(uint64_t budget_bytes);

// A record in the consumer's queue, payload included: a 90-byte record takes ~380 bytes
// (integration.PrefetchTest prints what it measures), a realistic reading ~400; the margin is for
// larger payloads.
inline constexpr uint64_t kQueuedRecordBytes = 512;
// librdkafka refuses a fetch.max.bytes below message.max.bytes (1,000,000 unless set).
inline constexpr uint64_t kMinFetchBytes = 1'000'000;

// The consumer properties that hold its prefetch within `prefetch_bytes`. librdkafka stops fetching
// once its queue passes queued.min.messages records or queued.max.messages.kbytes, but only before a
// fetch: the fetch in flight lands whole, up to fetch.max.bytes (50 MiB unless set) and a partition's
// max.partition.fetch.bytes more, so all four are set. See memory_budget.cc for the split.
std::map<std::string, std::string> PrefetchProperties(uint64_t prefetch_bytes);

// A consumer's properties within `prefetch_bytes`: PrefetchProperties, overridden by the operator's
// own (`given`, each --kafka-property wins). librdkafka refuses a fetch.max.bytes below
// message.max.bytes, so a message.max.bytes given above the budget's fetch bound raises it (unless
// fetch.max.bytes is given too); one that is no number is left for librdkafka to name.
std::map<std::string, std::string> BudgetedConsumerProperties(uint64_t prefetch_bytes,
                                                              const std::map<std::string, std::string>& given);

// The heap a decoded state holds, estimated from its containers' capacities and its strings beyond the
// small-string buffer: what the state cache counts against its share.
std::size_t ApproxBytes(const domain::WorkerState& state);

}  // namespace alertd::app
