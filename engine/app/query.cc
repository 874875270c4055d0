// Grid and unit answers of the query API: gathered per worker, merged across instances.
#include "engine/app/query.h"

#include <algorithm>
#include <set>

#include "engine/app/worker_json.h"

namespace alertd::app {
namespace {

using nlohmann::json;

constexpr int64_t kWeekMs = 7 * domain::kDayMs;

const char* ListKey(GroupAnswer answer) {
  switch (answer) {
    case GroupAnswer::kWorkers:
      return "workers";
    case GroupAnswer::kEscalations:
      return "escalations";
    case GroupAnswer::kCompliance:
      return "overdue";
  }
  return "workers";
}

// Workers by id; escalations oldest open first; overdue workers longest overdue first.
bool Before(GroupAnswer answer, const json& a, const json& b) {
  switch (answer) {
    case GroupAnswer::kWorkers:
      return a.at("id").get<std::string>() < b.at("id").get<std::string>();
    case GroupAnswer::kEscalations:
      return std::make_pair(a.at("opened_at_ms").get<int64_t>(), a.at("episode_id").get<std::string>()) <
             std::make_pair(b.at("opened_at_ms").get<int64_t>(), b.at("episode_id").get<std::string>());
    case GroupAnswer::kCompliance:
      return std::make_pair(a.at("due_at_ms").get<int64_t>(), a.at("worker_id").get<std::string>()) <
             std::make_pair(b.at("due_at_ms").get<int64_t>(), b.at("worker_id").get<std::string>());
  }
  return false;
}

// Sorts and keeps the first `max`; true if it dropped any.
bool SortAndCap(GroupAnswer answer, std::vector<json>& items, std::size_t max) {
  std::sort(items.begin(), items.end(), [answer](const json& a, const json& b) { return Before(answer, a, b); });
  if (items.size() <= max) return false;
  items.resize(max);
  return true;
}

}  // namespace

bool GroupScope::Holds(const domain::WorkerState& state) const {
  if (!state.profile) return false;
  if (!within_unit.empty() && state.profile->unit_id != within_unit) return false;
  return (kind == GroupKind::kGrid ? state.profile->grid_id : state.profile->unit_id) == id;
}

std::optional<GroupKind> ParseGroupKind(std::string_view kind) {
  if (kind == "grids") return GroupKind::kGrid;
  if (kind == "units") return GroupKind::kUnit;
  return std::nullopt;
}

std::optional<GroupAnswer> ParseGroupAnswer(std::string_view answer) {
  if (answer == "workers") return GroupAnswer::kWorkers;
  if (answer == "escalations") return GroupAnswer::kEscalations;
  if (answer == "compliance") return GroupAnswer::kCompliance;
  return std::nullopt;
}

GroupReport::GroupReport(GroupScope scope, GroupAnswer answer, const domain::Policy& global, int64_t now_ms,
                         std::size_t max_listed)
    : scope_(std::move(scope)), answer_(answer), global_(global), now_ms_(now_ms), max_listed_(max_listed) {}

void GroupReport::Add(const std::string& worker_id, const domain::WorkerState& state) {
  if (!scope_.Holds(state)) return;
  switch (answer_) {
    case GroupAnswer::kWorkers:
      items_.push_back(WorkerRowJson(state, worker_id, global_));
      break;
    case GroupAnswer::kEscalations:
      for (const domain::OpenEpisode& e : state.open) items_.push_back(EpisodeJson(state, worker_id, e));
      break;
    case GroupAnswer::kCompliance: {
      const SelfTestClock clock = SelfTestOf(state);
      if (!clock.enrolled) break;
      ++enrolled_;
      if (state.newest_bp_at && state.newest_bp_at->ms > now_ms_ - kWeekMs) ++tested_this_week_;
      const bool overdue = std::any_of(state.open.begin(), state.open.end(), [](const domain::OpenEpisode& e) {
        return e.rule == domain::Rule::kR3SelfTestMissed;
      });
      if (overdue) {
        items_.push_back({{"worker_id", worker_id}, {"name", state.profile->name}, {"due_at_ms", *clock.due_at_ms}});
      }
      break;
    }
  }
  // Bounded memory for a group of any size: what falls past the cap now would fall past it later too.
  if (items_.size() >= 2 * max_listed_) truncated_ |= SortAndCap(answer_, items_, max_listed_);
}

json GroupReport::Json() const {
  std::vector<json> items = items_;
  const bool truncated = SortAndCap(answer_, items, max_listed_) || truncated_;
  json out = {{ListKey(answer_), items}, {"truncated", truncated}};
  if (answer_ == GroupAnswer::kCompliance) {
    out["enrolled"] = enrolled_;
    out["tested_this_week"] = tested_this_week_;
  }
  return out;
}

json MergeGroupParts(GroupAnswer answer, const std::vector<json>& parts, const std::vector<int32_t>& missing,
                     std::size_t max_listed) {
  std::vector<json> items;
  bool truncated = false;
  int64_t enrolled = 0;
  int64_t tested = 0;
  for (const json& part : parts) {
    for (const json& item : part.value(ListKey(answer), json::array())) items.push_back(item);
    truncated |= part.value("truncated", false);
    enrolled += part.value("enrolled", int64_t{0});
    tested += part.value("tested_this_week", int64_t{0});
  }
  truncated |= SortAndCap(answer, items, max_listed);
  const std::set<int32_t> sorted(missing.begin(), missing.end());
  json out = {{ListKey(answer), items},
              {"truncated", truncated},
              {"partial", !sorted.empty()},
              {"missing_partitions", std::vector<int32_t>(sorted.begin(), sorted.end())}};
  if (answer == GroupAnswer::kCompliance) {
    out["enrolled"] = enrolled;
    out["tested_this_week"] = tested;
  }
  return out;
}

}  // namespace alertd::app
