// The query API's answers about a grid or a unit: its workers, open escalations and self-test
// compliance, gathered from worker states visited one at a time, and the parts of several instances
// merged into one answer (i10 contract, /work/briefs/i10_api.md).
// Thread-compatible values; pure apart from the states they are given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/policy.h"
#include "engine/domain/worker_state.h"

namespace alertd::app {

// A JSON answer lists at most this many workers (or escalations, or overdue workers), then says
// "truncated": true.
inline constexpr std::size_t kMaxListed = 2000;

// What a grid or unit route asks about.
enum class GroupKind { kGrid, kUnit };
enum class GroupAnswer { kWorkers, kEscalations, kCompliance };

struct GroupScope {
  GroupKind kind = GroupKind::kGrid;
  std::string id;
  // Non-empty: only the workers of this unit (a unit's view link reading one of the unit's grids).
  std::string within_unit = {};
  // The worker's profile puts them in this grid or unit (and in `within_unit`).
  bool Holds(const domain::WorkerState& state) const;
};

// Parses the path parts "grids"|"units" and "workers"|"escalations"|"compliance".
std::optional<GroupKind> ParseGroupKind(std::string_view kind);
std::optional<GroupAnswer> ParseGroupAnswer(std::string_view answer);

// Collects one answer about one group from the workers it is shown.
class GroupReport {
 public:
  GroupReport(GroupScope scope, GroupAnswer answer, const domain::Policy& global, int64_t now_ms,
              std::size_t max_listed = kMaxListed);
  // A worker of any group; those of other groups are passed over.
  void Add(const std::string& worker_id, const domain::WorkerState& state);
  // The answer: workers {"workers":[...],"truncated"}, escalations {"escalations":[...],"truncated"},
  // compliance {"enrolled","tested_this_week","overdue":[...],"truncated"}; sorted (workers by id,
  // escalations and overdue workers oldest first). No "partial": that is the gathering's to say.
  nlohmann::json Json() const;

 private:
  GroupScope scope_;
  GroupAnswer answer_;
  const domain::Policy& global_;
  int64_t now_ms_;
  std::size_t max_listed_;
  std::vector<nlohmann::json> items_;
  int64_t enrolled_ = 0;
  int64_t tested_this_week_ = 0;
  bool truncated_ = false;
};

// The answers of several instances (each a GroupReport::Json()) as one: lists joined, sorted again and
// capped, counts added, "truncated" if any part was; "partial" and "missing_partitions" (ascending)
// say which partitions no instance answered for.
nlohmann::json MergeGroupParts(GroupAnswer answer, const std::vector<nlohmann::json>& parts,
                               const std::vector<int32_t>& missing_partitions, std::size_t max_listed = kMaxListed);

}  // namespace alertd::app
