// The simulated health grid: operating units, grids with stations, and workers with their true health.
//
// A population is drawn from a seed; the same seed and options give the same people on one build.
// Pure: no Kafka, no clock (the caller says what "now" is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/cli/sim/random.h"
#include "health.pb.h"

namespace alertd::cli::sim {

namespace hg = healthgrid::v1;

// How large a grid to draw (alertd-sim's --workers, --units, --grids).
struct PopulationOptions {
  int workers = 2000;
  int units = 17;
  int grids = 200;  // at least `units`: every unit needs one
};

struct Unit {
  std::string id;  // "U03"
  std::string name;
  hg::Person supervisor;  // "US-U03"
  hg::Person physician;   // "OP-U03": the extra recipient of high-risk workers' policies
};

struct Grid {
  std::string id;  // "U03-G07"
  std::string name;
  std::string station_id;  // "ST-U03-G07"
  uint32_t unit = 0;
  int bp_monitors = 1;  // "BPM-U03-G07-1", ...; one glucometer "GLU-..-1" and one scale "SCL-..-1"
  hg::Person manager;   // "HM-U03-G07"
  bool remote = false;  // a field site whose station uploads when it has a connection (--scenario week)
};

// The worker's true blood-pressure state, which the readings sample.
enum class BpGroup : uint8_t { kNormotensive, kGrade1, kGrade2, kGrade3HighRisk };

struct Worker {
  std::string id;  // "W000123"
  std::string name;
  uint32_t grid = 0;
  BpGroup bp_group = BpGroup::kNormotensive;
  int diagnosed_grade = 0;  // what the profile says; not every grade-1 worker is diagnosed
  double systolic_mean = 118, diastolic_mean = 76, pulse_mean = 74;
  double systolic_sd = 8, diastolic_sd = 5.5;
  bool diabetic = false;
  bool coronary = false;
  double weight_kg = 68, height_cm = 168;
  std::vector<hg::HighRiskPost> posts;
  int shift_start_minute = 8 * 60;  // local minute of day
  int rota_offset = 0;              // works five days in seven; which five differs per worker
  int habit_minute = 7 * 60 + 30;   // when the worker usually self-tests
  double self_tests_per_day = 1.0;  // before --readings-per-day scaling
  int64_t lapsed_since_ms = 0;      // stopped self-testing then (exercises R3); 0 = never
  int64_t resumed_at_ms = 0;        // tests again from then on; 0 = never
  bool scripted_glucose = false;    // glucose readings only from the week's script, none drawn
  // "One person, one policy" thresholds the week's script gives one high-risk worker; 0 = MakeProfile's.
  int abnormal_systolic = 0, abnormal_diastolic = 0;
  bool active = true;
  int64_t profile_updated_ms = 0;
};

struct Population {
  std::vector<Unit> units;
  std::vector<Grid> grids;
  std::vector<Worker> workers;
};

// Draws the population. Lapses in self-testing and profile update times are placed before `now_ms`.
Population BuildPopulation(const PopulationOptions& options, int64_t now_ms, Rng& rng);

// The worker's WorkerProfile as the health grid's registry publishes it.
hg::WorkerProfile MakeProfile(const Population& pop, const Worker& worker);

// One info line: how many workers of each group, in posts, diabetic, lapsed.
void LogPopulation(const Population& pop);

}  // namespace alertd::cli::sim
