// The week scenario (alertd-sim --scenario week): a scripted week of history as records, without Kafka.
//
// Every record carries, as its Kafka timestamp, the simulated moment it reached Kafka (for a late
// upload, days after measured_at), and records come in that order. The drawn population lives its week
// as in the backfill, plus clock-ins and the health managers' routine acknowledgements; a script makes
// sure the week also tells each rule's story with a few named workers. The records are a pure function
// of the seed, the options and the dates: no clock, no Kafka. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cli/sim/simulation.h"
#include "engine/cli/sim/week_script.h"

namespace alertd::cli::sim {

// "2026-03-02" as a local day number (days since 1970-01-01), or nullopt.
std::optional<int64_t> ParseGridDate(const std::string& text);

// The week's dates: `days` local days from `first_day`, after `lead_in_days` of history.
WeekFrame MakeWeekFrame(int64_t first_day, int days, int lead_in_days);

// The four input topics of alertd a week fills.
enum class WeekTopic : uint8_t { kProfiles, kReadings, kShifts, kAcks };

// One record of the week, in the order it reaches Kafka.
struct WeekRecord {
  WeekTopic topic = WeekTopic::kReadings;
  std::string_view key;       // the worker id (lives in the population)
  std::string value;          // a serialized message, or for a garbage reading bytes that are none
  int64_t timestamp_ms = 0;   // the simulated moment it reached Kafka
  const PlannedReading* reading = nullptr;  // kReadings: what was planned (to count it)
};

// Plays a week on a simulation whose population was built with "now" at the week's end.
class WeekScenario {
 public:
  // Casts the script's workers (at least 9), adjusting their health and habits to their parts.
  WeekScenario(const WeekFrame& frame, Simulation& simulation);

  // Plans the whole history (lead-in and week) and hands each record to `sink` in timestamp order.
  // Returns false as soon as `sink` does. Call once: it draws from the simulation's stream.
  bool Play(const std::function<bool(const WeekRecord&)>& sink);

  const WeekFrame& frame() const { return frame_; }
  // What alertd should make of the script, worker by worker; filled by Play.
  const std::vector<StoryLine>& story() const { return story_; }
  // Readings uploaded more than an hour after they were measured; counted by Play.
  uint64_t late_uploads() const { return late_uploads_; }

 private:
  std::vector<TimedReading> PlanReadings(ShiftPlan& shifts);

  WeekFrame frame_;
  Simulation& sim_;
  WeekCast cast_;
  std::vector<StoryLine> story_;
  uint64_t late_uploads_ = 0;
};

}  // namespace alertd::cli::sim
