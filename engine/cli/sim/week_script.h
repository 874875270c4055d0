// The week scenario's script: its frame, the named workers it casts, what they do, and the health
// managers' routine acknowledgements. Internal to engine/cli/sim (week.h is the scenario's interface).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/cli/grid_time.h"
#include "engine/cli/sim/population.h"
#include "engine/cli/sim/random.h"
#include "engine/cli/sim/readings.h"
#include "health.pb.h"

namespace alertd::cli::sim {

// The week's frame, in health-grid local days.
struct WeekFrame {
  int64_t first_day = 0;  // the week's first local day
  int64_t history_start_ms = 0;  // lead-in start: profiles arrive just before it
  int64_t end_ms = 0;     // the week's end (exclusive)
  int64_t DayStart(int64_t offset_days) const { return GridDayStartMs(first_day + offset_days); }
};

struct PlannedAck {
  int64_t at_ms = 0;
  uint32_t worker = 0;
  hg::Rule rule = hg::R1_CRITICAL_BP;
  hg::AckAction action = hg::ACKNOWLEDGE;
  int64_t snooze_until_ms = 0;
  bool by_supervisor = false;  // else the grid's health manager
};

// A reading and the moment its station uploaded it.
struct TimedReading {
  PlannedReading reading;
  int64_t arrival_ms = 0;
  bool scripted = false;  // written by the script: the routine acknowledgements leave it to the script
};

// One line of the story: who, which rule's story, and what should happen when.
struct StoryLine {
  std::string worker;
  std::string story;
  std::string expect;
};

// The named workers of the week's script (indices into Population::workers).
struct WeekCast {
  uint32_t ladder = 0, acked = 0, late = 0;                 // R3
  uint32_t unfit_retest = 0, unfit_clocked_in = 0, no_check = 0;  // R4
  uint32_t glucose_high = 0, hypoglycaemia = 0;             // R5
  uint32_t focus = 0;                                       // R6 and an individual R1 threshold
  int64_t unfit_retest_day = 1, unfit_clocked_in_day = 2, no_check_day = 3;  // week day offsets
  std::set<uint32_t> all;
};

// How long a connected station takes to upload a reading: seconds.
inline int64_t UploadDelayMs(Rng& rng) { return static_cast<int64_t>(Uniform(rng, 3, 90) * kSecondMs); }

// Chooses the cast, preferring workers the population already made fit for the part, and gives each
// what the part needs (a diagnosis, a post, a lapse in testing). Everyone else keeps the model's draw.
WeekCast CastWeek(Population& pop, const WeekFrame& week, Rng& rng);

// Adds the cast's scripted readings, clock-ins and acknowledgements to the drawn week, and says what
// alertd should make of them.
std::vector<StoryLine> ScriptWeek(const Population& pop, const WeekCast& cast, const WeekFrame& week,
                                  std::vector<TimedReading>& readings, ShiftPlan& shifts,
                                  std::vector<PlannedAck>& acks, Rng& rng);

// What the health managers do without a script: acknowledge urgent pages within minutes (mostly),
// focus-tracking alerts within hours, and on a morning round snooze for a week the sustained
// hypertension and high glucose of workers they have referred. An acknowledgement names no episode:
// alertd applies it to the worker's open episode of the rule, and ignores it if none is open.
void RoutineAcks(const Population& pop, const WeekFrame& week, const std::vector<TimedReading>& readings,
                 const ShiftPlan& shifts, std::vector<PlannedAck>& acks, Rng& rng);

}  // namespace alertd::cli::sim
