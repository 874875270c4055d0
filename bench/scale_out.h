// alertd-bench's scale-out measurements: what the state changelog costs per reading, how fast a fresh
// instance restores from it, and how long a partition stands still when its owner is killed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace alertd::bench {

struct ScaleOut {
  std::string alertd_bin, bootstrap, work;
  int partitions = 0;
  int roster_workers = 0;  // profiles on `worker-profiles`, committed before any reading is counted
  int64_t now_ms = 0;
  std::vector<std::string> alertd_flags;
  pid_t kafka = 0;
  std::string kafka_log;
};

// The topics these measurements read and write, for alertd-kafka's --topics: the readings topic and
// changelog of each MeasureStateCost `name`, and those of the failover with each standby setting.
std::vector<std::string> ScaleOutTopics(const std::vector<std::string>& state_cost_names,
                                        const std::vector<int>& failover_standbys);

struct StateCost {
  std::string name;
  int workers = 0;
  int64_t readings = 0;
  double changelog_bytes_per_reading = 0, changelog_records_per_reading = 0;
  double disk_bytes_per_reading = 0, db_growth_per_reading = 0;
  double rate = 0;  // readings/s committed
  // The restore of everything this run left, by a fresh instance on an empty disk.
  double restore_records = 0, restore_bytes = 0, restore_seconds = 0, start_to_ready_seconds = 0;
  double changelog_records_written = 0;
};

// `readings` readings of `workers` workers (round-robin, 14 days of event time) graded by a fresh
// alertd with the changelog on; then a second fresh alertd of the same group on an empty disk restores
// every partition. Prints one line for each.
StateCost MeasureStateCost(const ScaleOut& s, const std::string& name, int workers, int64_t readings);

struct Failover {
  int session_timeout_ms = 0;
  int standby_replicas = 0;
  double restored_records = 0;  // changelog records the survivor read to take the moved partitions over
  int moved_partitions = 0;
  int probes_seen = 0;
  double first_probe_s = 0, last_probe_s = 0;     // kill -> the moved partitions' probe escalations
  double assigned_s = 0, restored_s = 0;          // kill -> survivor owns all, has restored all
};

// Two alertd in one group with a short session timeout and `standby_replicas`: the first grades the
// readings alone, the second joins and takes half; then kill -9 of the first (once the second stands
// by for its partitions and has caught up, with a standby), and one grade-3 probe reading to each
// partition it owned, which the second never did. Prints what it measured.
Failover MeasureFailover(const ScaleOut& s, int session_timeout_ms, int standby_replicas, int workers,
                         int64_t readings);

}  // namespace alertd::bench
