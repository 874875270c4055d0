// Draws readings, plans a day of them and encodes them for the wire.
#include "engine/cli/sim/readings.h"

#include <google/protobuf/stubs/logging.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "engine/cli/grid_time.h"

namespace alertd::cli::sim {
namespace {

// What the station app shows in red; the worker then rests and retests. A simulated person's habit,
// deliberately not the engine's classifier.
bool LooksUnfit(const PlannedReading& r) {
  return r.systolic >= 160 || r.diastolic >= 100 || r.systolic < 90 || r.diastolic < 60;
}

constexpr int kDayOpensMinute = 6 * 60;    // stations and phones: readings between 06:00
constexpr int kDayClosesMinute = 22 * 60;  // and 22:00 local

constexpr double kForgotCheckShare = 0.004;  // clock-ins with no pre-shift check at all

// A valid PRE_SHIFT reading: a check the station could not read is simply taken again.
PlannedReading PreShiftCheck(ReadingModel& model, uint32_t worker, int64_t at_ms, double rest_systolic,
                             double rest_diastolic) {
  PlannedReading r = model.BloodPressure(worker, at_ms, hg::PRE_SHIFT, rest_systolic, rest_diastolic);
  for (int attempt = 0; attempt < 4 && (r.impossible || r.garbage); ++attempt) {
    r = model.BloodPressure(worker, at_ms + (attempt + 1) * kMinuteMs, hg::PRE_SHIFT, rest_systolic, rest_diastolic);
  }
  r.impossible = r.garbage = false;  // after four failures the fifth is kept as drawn, values and all
  return r;
}

// `site` is a grid ("U03-G07") or a unit's clinic ("CL-U03").
std::string DeviceId(std::string_view site, const PlannedReading& r) {
  switch (r.measure) {
    case Measure::kBloodPressure: return fmt::format("BPM-{}-{}", site, r.device);
    case Measure::kGlucose: return fmt::format("GLU-{}-1", site);
    case Measure::kBody: return fmt::format("SCL-{}-1", site);
  }
  return {};
}

// Bytes that cannot be parsed as a Reading: binary noise, or text from a misconfigured gateway.
std::string MakeGarbage(const PlannedReading& r, const Worker& w, Rng& rng) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string bytes;
    if (Chance(rng, 0.5)) {
      bytes = Chance(rng, 0.5) ? fmt::format(R"({{"emp":"{}","sys":{},"dia":{},"ts":{}}})", w.id, r.systolic,
                                             r.diastolic, r.measured_at_ms / kSecondMs)
                               : fmt::format("{},{},{},{}\r\n", w.id, r.systolic, r.diastolic, r.pulse);
    } else {
      const int length = UniformInt(rng, 4, 64);
      for (int i = 0; i < length; ++i) bytes.push_back(static_cast<char>(UniformInt(rng, 0, 255)));
    }
    // Protobuf is permissive: some noise parses. Only send what a decoder must reject. (Protobuf
    // logs why a parse fails, e.g. invalid UTF-8; that is the point here, so silence it.)
    const google::protobuf::LogSilencer quiet_protobuf;
    if (hg::Reading probe; !probe.ParseFromString(bytes)) return bytes;
  }
  return std::string("\x0a\xff", 2);  // field 1, length-delimited, truncated length varint
}

}  // namespace

void Count(const PlannedReading& r, ReadingCounts* counts) {
  if (r.garbage) {
    ++counts->garbage;
    return;
  }
  if (r.impossible) ++counts->impossible;
  switch (r.measure) {
    case Measure::kBloodPressure: ++counts->bp; break;
    case Measure::kGlucose: ++counts->glucose; break;
    case Measure::kBody: ++counts->body; break;
  }
}

PlannedReading ReadingModel::Any(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
  const Worker& w = pop_.workers[worker];
  const double glucose_share = w.scripted_glucose ? 0.0 : w.diabetic ? 0.35 : 0.08;  // ~10% overall
  const double r = Uniform(rng_, 0, 1);
  if (context == hg::PRE_SHIFT || r >= glucose_share + 0.05) return BloodPressure(worker, at_ms, context, 0, 0);
  if (r < glucose_share) return Glucose(worker, at_ms, context);
  return Body(worker, at_ms, context);
}

PlannedReading ReadingModel::BloodPressure(uint32_t worker, int64_t at_ms, hg::MeasurementContext context,
                                           double rest_systolic, double rest_diastolic) {
  const Worker& w = pop_.workers[worker];
  PlannedReading r = Start(worker, at_ms, context, Measure::kBloodPressure);
  r.device = static_cast<uint8_t>(UniformInt(rng_, 1, pop_.grids[w.grid].bp_monitors));
  // Systolic and diastolic move together (correlation ~0.6).
  const double z1 = Normal(rng_, 0, 1), z2 = Normal(rng_, 0, 1);
  double systolic = w.systolic_mean - rest_systolic + w.systolic_sd * z1;
  double diastolic = w.diastolic_mean - rest_diastolic + w.diastolic_sd * (0.6 * z1 + 0.8 * z2);
  double pulse = w.pulse_mean + Normal(rng_, 0, 6);
  if (!r.impossible && Chance(rng_, kGrade3SpikeShare)) {
    // A grade-3 spike: mostly systolic-led, sometimes diastolic-led.
    if (Chance(rng_, 0.7)) {
      systolic = Uniform(rng_, 180, 205);
      diastolic = Uniform(rng_, 100, 122);
    } else {
      systolic = Uniform(rng_, 165, 190);
      diastolic = Uniform(rng_, 110, 122);
    }
    pulse += 10;
  }
  systolic = std::clamp(systolic, 82.0, 240.0);
  diastolic = std::clamp(diastolic, 48.0, std::min(140.0, systolic - 20));
  pulse = std::clamp(pulse, 42.0, 140.0);
  if (r.impossible) {
    switch (UniformInt(rng_, 0, 2)) {
      case 0: systolic = Uniform(rng_, 310, 420); break;            // systolic 400: a device fault
      case 1: diastolic = systolic + Uniform(rng_, 0, 15); break;  // diastolic >= systolic: swapped
      default: pulse = Uniform(rng_, 260, 320); break;             // pulse 300: motion artefact
    }
  }
  r.systolic = ToU16(systolic);
  r.diastolic = ToU16(diastolic);
  r.pulse = ToU16(pulse);
  return r;
}

PlannedReading ReadingModel::Glucose(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
  const Worker& w = pop_.workers[worker];
  PlannedReading r = Start(worker, at_ms, context, Measure::kGlucose);
  const int64_t local_minute = (at_ms - GridDayStartMs(GridDay(at_ms))) / kMinuteMs;
  r.glucose_timing = local_minute < 9 * 60 ? hg::FASTING : Chance(rng_, 0.7) ? hg::RANDOM : hg::POSTPRANDIAL_2H;
  const bool fasting = r.glucose_timing == hg::FASTING;
  double value = w.diabetic ? (fasting ? Normal(rng_, 7.8, 1.4) : Normal(rng_, 10.5, 2.5))
                            : (fasting ? Normal(rng_, 5.1, 0.5) : Normal(rng_, 6.4, 1.0));
  value = std::clamp(value, w.diabetic ? 3.2 : 3.9, w.diabetic ? 22.0 : 10.5);
  if (w.diabetic && Chance(rng_, 0.01)) value = Uniform(rng_, 2.5, 3.8);  // hypoglycaemia on treatment
  // mg/dL typed where mmol/L is expected: 95 "mmol/L" is no human's glucose.
  if (r.impossible) value = Uniform(rng_, 60, 180);
  r.glucose_tenths = ToU16(value * 10);
  return r;
}

PlannedReading ReadingModel::Body(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
  const Worker& w = pop_.workers[worker];
  PlannedReading r = Start(worker, at_ms, context, Measure::kBody);
  r.impossible = false;  // impossible values are simulated where the engine grades: BP and glucose
  r.weight_tenths = ToU16((w.weight_kg + Normal(rng_, 0, 0.7)) * 10);
  if (Chance(rng_, 0.3)) r.height_tenths = ToU16(w.height_cm * 10);
  return r;
}

PlannedReading ReadingModel::Start(uint32_t worker, int64_t at_ms, hg::MeasurementContext context, Measure measure) {
  PlannedReading r;
  r.measured_at_ms = at_ms;
  r.worker = worker;
  r.context = context;
  r.measure = measure;
  r.impossible = Chance(rng_, options_.impossible_ratio);
  r.garbage = Chance(rng_, options_.garbage_ratio);
  return r;
}

void PlanDay(const Population& pop, const ReadingOptions& options, int64_t grid_day, int64_t window_start_ms,
             int64_t window_end_ms, ReadingModel& model, Rng& rng, std::vector<PlannedReading>* out,
             ShiftPlan* shifts) {
  const int64_t day_start_ms = GridDayStartMs(grid_day);
  auto at = [&](double minute) {
    const double clamped = std::clamp(minute, double{kDayOpensMinute}, double{kDayClosesMinute} - 1);
    return day_start_ms + static_cast<int64_t>(clamped * kMinuteMs) + UniformInt(rng, 0, 59) * kSecondMs;
  };
  auto keep = [&](const PlannedReading& r) {
    if (r.measured_at_ms > window_start_ms && r.measured_at_ms <= window_end_ms) out->push_back(r);
  };
  for (uint32_t i = 0; i < pop.workers.size(); ++i) {
    const Worker& w = pop.workers[i];
    // Before every shift in a high-risk post: a PRE_SHIFT reading, and a retest after rest if red.
    const bool works_today = !w.posts.empty() && (grid_day + w.rota_offset) % 7 < 5;
    const bool in_window = day_start_ms + kDayMs > window_start_ms && day_start_ms <= window_end_ms;
    if (works_today && shifts != nullptr && in_window && shifts->scripted_days.count({i, grid_day}) == 0) {
      const int64_t shift_ms = day_start_ms + w.shift_start_minute * kMinuteMs;
      int64_t clock_in = shift_ms + static_cast<int64_t>(Uniform(rng, -5, 5) * kMinuteMs);
      if (!Chance(rng, kForgotCheckShare)) {
        const PlannedReading check = PreShiftCheck(model, i, at(w.shift_start_minute - Uniform(rng, 10, 50)), 0, 0);
        keep(check);
        int64_t last_ms = check.measured_at_ms;
        if (LooksUnfit(check)) {
          const PlannedReading retest =
              PreShiftCheck(model, i, last_ms + static_cast<int64_t>(Uniform(rng, 6, 15) * kMinuteMs),
                            Normal(rng, 8, 4), Normal(rng, 4, 3));
          keep(retest);
          last_ms = retest.measured_at_ms;
          if (LooksUnfit(retest)) {
            shifts->stood_down.emplace_back(i, last_ms);
            clock_in = 0;  // sent home: no clock-in
          }
        }
        if (clock_in != 0) clock_in = std::max(clock_in, last_ms + 2 * kMinuteMs);
      }
      if (clock_in > window_start_ms && clock_in <= window_end_ms) {
        shifts->clock_ins.push_back({clock_in, i, w.posts.front()});
      }
    } else if (works_today && shifts == nullptr) {
      const int64_t t = at(w.shift_start_minute - Uniform(rng, 10, 50));
      const PlannedReading first = model.BloodPressure(i, t, hg::PRE_SHIFT, 0, 0);
      keep(first);
      if (!first.impossible && !first.garbage && LooksUnfit(first)) {
        keep(model.BloodPressure(i, t + static_cast<int64_t>(Uniform(rng, 6, 15) * kMinuteMs), hg::PRE_SHIFT,
                                 Normal(rng, 8, 4), Normal(rng, 4, 3)));
      }
    }
    const int self_tests = Poisson(rng, w.self_tests_per_day * options.readings_per_day);
    for (int k = 0; k < self_tests; ++k) {
      // Further tests of the day come some hours after a morning habit, or before an evening one.
      const double direction = w.habit_minute < 14 * 60 ? 1.0 : -1.0;
      const double minute = w.habit_minute + Normal(rng, 0, 40) + direction * k * Normal(rng, 300, 60);
      const int64_t t = at(minute);
      if (w.lapsed_since_ms != 0 && t >= w.lapsed_since_ms && (w.resumed_at_ms == 0 || t < w.resumed_at_ms)) continue;
      // A few readings are taken by clinic staff on a visit (mobile clinics reach remote sites).
      const hg::MeasurementContext context =
          w.bp_group != BpGroup::kNormotensive && Chance(rng, 0.01) ? hg::CLINIC : hg::SELF_TEST;
      keep(model.Any(i, t, context));
    }
  }
}

std::string ReadingEncoder::Encode(const PlannedReading& r) {
  const Worker& w = pop_.workers[r.worker];
  if (r.garbage) return MakeGarbage(r, w, rng_);
  const Grid& grid = pop_.grids[w.grid];
  const Unit& unit = pop_.units[grid.unit];
  reading_.Clear();
  reading_.set_worker_id(w.id);
  if (r.context == hg::CLINIC) {
    const std::string clinic = "CL-" + unit.id;
    reading_.set_device_id(DeviceId(clinic, r));
    reading_.set_station_id(clinic);
  } else {
    reading_.set_device_id(DeviceId(grid.id, r));
    reading_.set_station_id(grid.station_id);
  }
  reading_.set_measured_at_ms(r.measured_at_ms);
  reading_.set_context(r.context);
  // Devices number their readings; one counter per grid and kind of device is close enough.
  uint64_t& sequence = sequence_[w.grid * 3 + static_cast<size_t>(r.measure)];
  reading_.set_reading_id(fmt::format("{}-{:06}", reading_.device_id(), ++sequence));
  switch (r.measure) {
    case Measure::kBloodPressure: {
      hg::BloodPressure* bp = reading_.mutable_blood_pressure();
      bp->set_systolic_mmhg(r.systolic);
      bp->set_diastolic_mmhg(r.diastolic);
      bp->set_pulse_bpm(r.pulse);
      break;
    }
    case Measure::kGlucose: {
      hg::Glucose* glucose = reading_.mutable_glucose();
      glucose->set_mmol_per_l(r.glucose_tenths / 10.0);
      glucose->set_timing(r.glucose_timing);
      break;
    }
    case Measure::kBody: {
      hg::BodyMeasurement* body = reading_.mutable_body();
      body->set_weight_kg(r.weight_tenths / 10.0);
      body->set_height_cm(r.height_tenths / 10.0);
      break;
    }
  }
  return reading_.SerializeAsString();
}

}  // namespace alertd::cli::sim
