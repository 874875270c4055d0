// Everything the engine remembers about one worker, as a plain value the store persists whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/types.h"

namespace alertd::domain {

// One open (worker, rule) episode. At most one per rule: repeated triggers update it in place.
struct OpenEpisode {
  Rule rule = Rule::kR1CriticalBp;
  std::string episode_id;
  uint32_t last_sequence = 1;  // sequence of the last event emitted for this episode
  Severity severity = Severity::kUrgent;
  EscalationLevel level = EscalationLevel::kHealthManager;
  EventTime opened_at;        // event time of the reading that opened it
  EventTime last_trigger_at;  // event time of the newest reading that (still) triggers it
  uint32_t trigger_count = 1;
  std::vector<BpSample> evidence;  // newest last, bounded by Policy::max_evidence
  friend bool operator==(const OpenEpisode&, const OpenEpisode&) = default;
};

struct WorkerState {
  std::optional<WorkerProfile> profile;
  uint64_t readings_accepted = 0;  // every valid reading, any kind; never counts one twice
  uint64_t bp_readings = 0;
  std::optional<EventTime> newest_bp_at;  // newest blood-pressure event time seen
  std::vector<BpSample> bp_window;        // ascending measured_at, within the R2 window
  std::vector<OpenEpisode> open;          // at most one per rule
  uint64_t episodes_opened = 0;           // feeds deterministic episode ids
  friend bool operator==(const WorkerState&, const WorkerState&) = default;
};

}  // namespace alertd::domain
