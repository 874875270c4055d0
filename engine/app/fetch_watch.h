// Notices an input partition that stopped fetching, so it can be assigned again.
//
// librdkafka 2.0 gives each pause, resume, fetch start and fetch stop of a partition a version number
// when the operation is created, and drops an operation that reaches the partition after one with a
// higher number. The application thread (pause, resume) and librdkafka's own thread (fetch start
// after an assignment, the pause it puts on every partition during a rebalance) create them
// concurrently, so now and then one is dropped (confluentinc/librdkafka#5591): a resume, leaving the
// partition paused for good, or a fetch start, leaving it assigned but never fetched. Nothing is
// reported; the partition's records are simply never read. The engine avoids the pattern where it can
// (an input is assigned only when it may be read, never assigned paused); this catches what is left.
//
// The decision is pure: the engine hands in, once per housekeeping pass, where each input partition
// that should be fetching stands, and asks the broker for the ends of those reported idle.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "engine/app/commit_window.h"

namespace alertd::app {

// How long an assigned, unpaused input may go without moving while its log holds records (of time the
// engine spent polling) before it is assigned again: far above any pause of a healthy fetcher, well
// below the time an operator would take to notice.
inline constexpr int64_t kFetchStallMs = 15000;

class FetchWatch {
 public:
  // A partition is idle when its consumer position has not moved for `stall_ms` of polling.
  explicit FetchWatch(int64_t stall_ms) : stall_ms_(stall_ms) {}

  // `fetching`: each input partition that is assigned and not paused, with its consumer position
  // (-1 while it has delivered nothing since its assignment). Returns those idle for `stall_ms`; each
  // is reported again only after another `stall_ms`. Partitions missing from `fetching` are
  // forgotten. A pass long after the previous one (the engine was busy elsewhere, or stopped) starts
  // every clock again: a partition is judged only on time the engine spent polling.
  std::vector<TopicPartition> Idle(const std::map<TopicPartition, int64_t>& fetching, int64_t now_ms);

  // An idle partition is stuck when the broker answered for it and either librdkafka never had a
  // fetch answer for it (`cached_high` < 0) or the log holds records past where it stands: its
  // position, or while it has delivered nothing, the offset it was assigned at (if known).
  static bool Stuck(int64_t cached_high, int64_t position, std::optional<int64_t> assigned_at, int64_t end);

 private:
  struct Progress {
    int64_t position = -1;
    int64_t since_ms = 0;  // last move, or last report
  };
  int64_t stall_ms_;
  int64_t last_pass_ms_ = -1;
  std::map<TopicPartition, Progress> progress_;
};

}  // namespace alertd::app
