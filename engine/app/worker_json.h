// The query API's JSON of one worker's state (i10 contract, /work/briefs/i10_api.md): readings with
// their category and `abnormal`, thresholds, open episodes, self-test clock.
//
// `abnormal` and every threshold come from the worker's effective policy (domain::WorkerPolicy) and
// the domain's own classification, so the page and the rules never disagree: a blood pressure is
// abnormal at grade 1 or worse, with hypotension, or at or above the worker's R6 abnormal or R1
// critical bounds; a glucose when R5 calls it high or a hypoglycaemia. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/domain/policy.h"
#include "engine/domain/worker_state.h"

namespace alertd::app {

// "normal", "elevated", "grade1", "grade2", "grade3": the contract's words for the categories.
const char* CategoryWord(domain::BpCategory category);

nlohmann::json BpJson(const domain::BpSample& sample, const domain::Policy& policy);
nlohmann::json GlucoseJson(const domain::GlucoseSample& sample, const domain::Policy& policy);
// The contract's Episode, for a worker whose profile names them (or not: empty name), with "told": the
// newest step of its history, {"at_ms","state","recipients":[{"role","staff_id","name"}]}, or null
// when the store has no history for it (a record written before episodes kept one).
nlohmann::json EpisodeJson(const domain::WorkerState& state, const std::string& worker_id,
                           const domain::OpenEpisode& episode);
// Who was told and when, oldest first: [{"sequence","state","level","severity","at_ms","recipients"}].
// The OPEN step and the newest Policy::max_history; a gap in the sequences is steps left out.
nlohmann::json HistoryJson(const domain::OpenEpisode& episode);

// Enrolled in weekly self-tests, with the due time (an open R3 episode's due time while it is open).
struct SelfTestClock {
  bool enrolled = false;
  std::optional<int64_t> due_at_ms;
};
SelfTestClock SelfTestOf(const domain::WorkerState& state);

// GET /api/v1/workers/<id>: the whole answer, each open episode with its "history". `global` is the
// engine's policy; the worker's own overrides are applied here.
nlohmann::json WorkerJson(const domain::WorkerState& state, const std::string& worker_id, const domain::Policy& global,
                          int32_t partition, const std::string& owner);

// One row of a grid's or unit's worker list.
nlohmann::json WorkerRowJson(const domain::WorkerState& state, const std::string& worker_id,
                             const domain::Policy& global);

}  // namespace alertd::app
