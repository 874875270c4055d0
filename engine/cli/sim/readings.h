// The reading model: what a worker measures on a day, planned as compact records, and their wire bytes.
//
// Readings are planned as compact records (a day of a large population at a time, so memory stays
// bounded), sorted by event time, and only then turned into protobuf. Pure: no Kafka, no clock.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/cli/sim/population.h"
#include "engine/cli/sim/random.h"
#include "health.pb.h"

namespace alertd::cli::sim {

// How often workers test and how much of it is broken (alertd-sim's --readings-per-day,
// --impossible-ratio, --garbage-ratio).
struct ReadingOptions {
  double readings_per_day = 1.0;
  double impossible_ratio = 0.002;
  double garbage_ratio = 0.0005;
};

enum class Measure : uint8_t { kBloodPressure, kGlucose, kBody };

struct PlannedReading {
  int64_t measured_at_ms = 0;
  uint32_t worker = 0;
  Measure measure = Measure::kBloodPressure;
  hg::MeasurementContext context = hg::SELF_TEST;
  hg::GlucoseTiming glucose_timing = hg::GLUCOSE_TIMING_UNSPECIFIED;
  uint8_t device = 1;      // which of the grid's BP monitors
  bool impossible = false;  // deliberately outside physiology: must end in dead-letters
  bool garbage = false;     // sent as bytes that are not a Reading at all
  uint16_t systolic = 0, diastolic = 0, pulse = 0;
  uint16_t glucose_tenths = 0;  // mmol/L x 10
  uint16_t weight_tenths = 0;   // kg x 10
  uint16_t height_tenths = 0;   // cm x 10; 0 = not measured
};

struct ReadingCounts {
  uint64_t bp = 0, glucose = 0, body = 0, impossible = 0, garbage = 0;
  uint64_t total() const { return bp + glucose + body; }
};

// A value rounded into a PlannedReading's 16-bit field, clamped at its ends.
inline uint16_t ToU16(double value) {
  return static_cast<uint16_t>(std::clamp(std::lround(value), 0L, 65535L));
}

// Adds one produced reading to the counts.
void Count(const PlannedReading& r, ReadingCounts* counts);

// Draws single readings of a worker. Not thread-safe: every draw advances the shared `rng`.
class ReadingModel {
 public:
  ReadingModel(const ReadingOptions& options, const Population& pop, Rng& rng)
      : options_(options), pop_(pop), rng_(rng) {}

  // A reading of the kind a worker usually takes: mostly BP, ~10% glucose, ~5% body.
  PlannedReading Any(uint32_t worker, int64_t at_ms, hg::MeasurementContext context);

  // `rest_systolic`/`rest_diastolic` lower the draw for a retest after five minutes' rest.
  PlannedReading BloodPressure(uint32_t worker, int64_t at_ms, hg::MeasurementContext context,
                               double rest_systolic, double rest_diastolic);
  PlannedReading Glucose(uint32_t worker, int64_t at_ms, hg::MeasurementContext context);
  PlannedReading Body(uint32_t worker, int64_t at_ms, hg::MeasurementContext context);

 private:
  static constexpr double kGrade3SpikeShare = 0.003;

  PlannedReading Start(uint32_t worker, int64_t at_ms, hg::MeasurementContext context, Measure measure);

  const ReadingOptions& options_;
  const Population& pop_;
  Rng& rng_;
};

// A clock-in to a high-risk post (topic `shifts`).
struct PlannedShift {
  int64_t clock_in_ms = 0;
  uint32_t worker = 0;
  hg::HighRiskPost post = hg::DRIVER;
};

// What --scenario week plans besides readings: clock-ins, the workers sent home after an unfit retest,
// and the (worker, local day)s whose pre-shift check the week's script writes by hand.
struct ShiftPlan {
  std::vector<PlannedShift> clock_ins;
  std::vector<std::pair<uint32_t, int64_t>> stood_down;  // (worker, measured_at of the unfit retest)
  std::set<std::pair<uint32_t, int64_t>> scripted_days;
};

// Everything measured on one local day that falls in (window_start_ms, window_end_ms]. With `shifts`
// (--scenario week), workers in high-risk posts also clock in after a fit check, and are sent home
// when the retest is still unfit.
void PlanDay(const Population& pop, const ReadingOptions& options, int64_t grid_day, int64_t window_start_ms,
             int64_t window_end_ms, ReadingModel& model, Rng& rng, std::vector<PlannedReading>* out,
             ShiftPlan* shifts = nullptr);

// Turns planned readings into the bytes a station sends: a serialized Reading, or for a garbage
// reading bytes no decoder accepts. Device sequence numbers count up per grid, so encode in the
// order the records are sent. Not thread-safe.
class ReadingEncoder {
 public:
  ReadingEncoder(const Population& pop, Rng& rng) : pop_(pop), rng_(rng), sequence_(pop.grids.size() * 3, 0) {}

  std::string Encode(const PlannedReading& r);

 private:
  const Population& pop_;
  Rng& rng_;
  std::vector<uint64_t> sequence_;
  hg::Reading reading_;  // reused: keeps its allocations between readings
};

}  // namespace alertd::cli::sim
