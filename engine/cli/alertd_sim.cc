// alertd-sim: simulates a health grid's workers and their station readings, produced to Kafka as protobuf.
//
// It builds a population (units with supervisors, grids with health managers and stations, workers
// with hypertension grades, diabetes, high-risk posts and "one person, one policy"), produces every
// WorkerProfile, then D days of backfilled readings in event-time order, then optionally live ones.
// A run is reproducible from --seed, apart from "now".
#include <google/protobuf/stubs/logging.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/cli/grid_time.h"
#include "engine/cli/kafka_client.h"
#include "engine/cli/stop_signal.h"
#include "engine/cli/tool_log.h"
#include "health.pb.h"

namespace alertd::cli {
namespace {

namespace hg = healthgrid::v1;
using Rng = std::mt19937_64;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kProgressInterval = std::chrono::seconds(5);
constexpr auto kMetadataTimeout = std::chrono::seconds(10);
constexpr int kPollWhileQueueFullMs = 100;
constexpr int kFlushStepMs = 500;

struct SimOptions {
  KafkaClientOptions kafka;
  int workers = 2000;
  int units = 17;
  int grids = 200;
  uint64_t seed = 42;
  int days = 7;
  double readings_per_day = 1.0;
  double live_seconds = 0;
  double rate = 200;
  double impossible_ratio = 0.002;
  double garbage_ratio = 0.0005;
  std::string readings_topic = "readings";
  std::string profiles_topic = "worker-profiles";
  std::string shifts_topic = "shifts";
  std::string acks_topic = "escalation-acks";
  // --scenario week: a scripted week of history with Kafka timestamps, for alertd --clock=stream.
  std::string scenario = "backfill";
  std::string start;     // YYYY-MM-DD, local: the week's first day; empty = --days before today
  int lead_in_days = 7;  // history before the week, so weekly deadlines fall due inside it
  std::string story_file;
  bool quiet = false;
  bool verbose = false;
};

// ---------------------------------------------------------------------------------------------
// Random draws. std::mt19937_64 and libstdc++'s distributions make a run reproducible on one build.

double Normal(Rng& rng, double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng); }
double Uniform(Rng& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
int UniformInt(Rng& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
bool Chance(Rng& rng, double p) { return p > 0 && std::bernoulli_distribution(std::min(p, 1.0))(rng); }
int Poisson(Rng& rng, double mean) { return mean > 0 ? std::poisson_distribution<int>(mean)(rng) : 0; }

template <size_t N>
std::string_view Pick(Rng& rng, const std::array<std::string_view, N>& items) {
  return items[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

// ---------------------------------------------------------------------------------------------
// Names, in pinyin as the health grid writes them. Common surnames first; they are drawn more often.

constexpr std::array<std::string_view, 40> kSurnames = {
    "Wang", "Li",   "Zhang", "Liu",  "Chen", "Yang", "Huang", "Zhao", "Wu",   "Zhou", "Xu",    "Sun",  "Ma",  "Zhu",
    "Hu",   "Guo",  "He",    "Gao",  "Lin",  "Luo",  "Zheng", "Liang", "Xie", "Song", "Tang",  "Han",  "Feng", "Deng",
    "Cao",  "Peng", "Zeng",  "Xiao", "Tian", "Dong", "Pan",   "Yuan", "Cai",  "Jiang", "Yu",   "Du"};

constexpr std::array<std::string_view, 48> kGivenNames = {
    "Wei",     "Fang",    "Na",      "Min",      "Jing",     "Li",       "Qiang",   "Lei",     "Jun",    "Yang",
    "Yong",    "Yan",     "Jie",     "Juan",     "Tao",      "Ming",     "Chao",    "Xiuying", "Xia",    "Ping",
    "Gang",    "Guiying", "Hui",     "Jian",     "Hong",     "Bo",       "Peng",    "Hao",     "Xin",    "Dan",
    "Lin",     "Hua",     "Ying",    "Kai",      "Zhiqiang", "Haiyan",   "Jianguo", "Jianjun", "Xiaoming", "Xiaohong",
    "Guoqiang", "Yuxuan", "Zihan",   "Haoran",   "Shuang",   "Lili",     "Dongmei", "Chunhua"};

// An oilfield's operating units; beyond the list, units are numbered.
constexpr std::array<std::string_view, 17> kUnitNames = {
    "No. 1 Oil Production Plant", "No. 2 Oil Production Plant",  "No. 3 Oil Production Plant",
    "No. 4 Oil Production Plant", "No. 5 Oil Production Plant",  "Gas Production Plant",
    "Drilling Company",           "Downhole Operations Company", "Well Testing Company",
    "Oilfield Construction Company", "Transport Company",        "Power Supply Company",
    "Water Supply Company",       "Equipment Repair Plant",      "Exploration and Development Institute",
    "Pipeline and Storage Company", "Headquarters and Logistics"};

constexpr std::array<std::string_view, 13> kGridKinds = {
    "Well Team",     "Joint Station",  "Gathering Station", "Water Injection Station", "Drilling Crew",
    "Workover Crew", "Transport Fleet", "Repair Workshop",  "Substation",              "Office Block",
    "Laboratory",    "Pipeline Patrol Team", "Field Camp"};

class NameDrawer {
 public:
  NameDrawer() {
    std::vector<double> weights;
    for (size_t rank = 0; rank < kSurnames.size(); ++rank) weights.push_back(1.0 / (static_cast<double>(rank) + 4));
    surname_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
  }
  std::string Draw(Rng& rng) {
    return fmt::format("{} {}", kSurnames[surname_(rng)], Pick(rng, kGivenNames));
  }

 private:
  std::discrete_distribution<size_t> surname_;
};

// ---------------------------------------------------------------------------------------------
// Population.

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

hg::Person MakePerson(std::string id, std::string name) {
  hg::Person p;
  p.set_id(std::move(id));
  p.set_name(std::move(name));
  return p;
}

Population BuildPopulation(const SimOptions& options, int64_t now_ms, Rng& rng) {
  Population pop;
  NameDrawer names;
  for (int u = 0; u < options.units; ++u) {
    Unit unit;
    unit.id = fmt::format("U{:02}", u + 1);
    unit.name = u < static_cast<int>(kUnitNames.size()) ? std::string(kUnitNames[static_cast<size_t>(u)])
                                                        : fmt::format("Operating Unit {}", u + 1);
    unit.supervisor = MakePerson("US-" + unit.id, names.Draw(rng));
    unit.physician = MakePerson("OP-" + unit.id, names.Draw(rng));
    pop.units.push_back(std::move(unit));
  }

  // Grids go round-robin over units, so each unit gets grids/units of them (~12 by default).
  std::vector<int> grids_in_unit(pop.units.size(), 0);
  std::vector<double> grid_weights;
  for (int g = 0; g < options.grids; ++g) {
    Grid grid;
    grid.unit = static_cast<uint32_t>(g % options.units);
    const Unit& unit = pop.units[grid.unit];
    const int number = ++grids_in_unit[grid.unit];
    grid.id = fmt::format("{}-G{:02}", unit.id, number);
    const std::string_view kind = Pick(rng, kGridKinds);
    // Drilling crews carry five-digit crew numbers in Chinese oilfields; other sites count up.
    grid.name = kind == "Drilling Crew" ? fmt::format("{} {}", kind, UniformInt(rng, 30000, 79999))
                                        : fmt::format("{} {}", kind, number);
    grid.station_id = "ST-" + grid.id;
    grid.bp_monitors = UniformInt(rng, 1, 2);
    grid.manager = MakePerson("HM-" + grid.id, names.Draw(rng));
    // Camps, crews and patrols work where the mobile network does not reach.
    grid.remote = kind == "Field Camp" || kind == "Drilling Crew" || kind == "Pipeline Patrol Team" ||
                  kind == "Workover Crew";
    pop.grids.push_back(std::move(grid));
    // Sites differ in headcount: a field camp is not an office block.
    grid_weights.push_back(std::lognormal_distribution<double>(0.0, 0.5)(rng));
  }
  std::discrete_distribution<uint32_t> pick_grid(grid_weights.begin(), grid_weights.end());
  std::gamma_distribution<double> engagement(2.0, 0.5);  // mean 1: some test often, some rarely

  for (int w = 0; w < options.workers; ++w) {
    Worker worker;
    worker.id = fmt::format("W{:06}", w + 1);
    worker.name = names.Draw(rng);
    worker.grid = pick_grid(rng);
    worker.pulse_mean = std::clamp(Normal(rng, 74, 8), 55.0, 95.0);
    worker.weight_kg = std::clamp(Normal(rng, 68, 11), 42.0, 130.0);
    worker.height_cm = std::clamp(Normal(rng, 168, 7), 148.0, 195.0);
    worker.habit_minute = static_cast<int>(std::clamp(
        Chance(rng, 0.6) ? Normal(rng, 7.5 * 60, 40) : Normal(rng, 19 * 60, 60), 6.0 * 60, 21.5 * 60));
    const double engaged = engagement(rng);

    // About 25% hypertensive: ~1% high-risk grade 3, ~5% grade 2, the rest grade 1.
    const double r = Uniform(rng, 0, 1);
    if (r < 0.01) {
      worker.bp_group = BpGroup::kGrade3HighRisk;
      worker.diagnosed_grade = 3;
      // Under treatment and followed closely: mostly grade 1, with their own limits above that
      // (MakeProfile), so their escalations are the spikes, not every other reading.
      worker.systolic_mean = Normal(rng, 150, 4);
      worker.diastolic_mean = Normal(rng, 94, 3);
      worker.systolic_sd = 8;
      worker.diastolic_sd = 5;
      worker.abnormal_systolic = 160;
      worker.abnormal_diastolic = 100;
      worker.self_tests_per_day = 2.0 * std::max(engaged, 0.8);  // followed closely
    } else if (r < 0.06) {
      worker.bp_group = BpGroup::kGrade2;
      worker.diagnosed_grade = 2;
      // Home readings scatter less than the grade is wide: a grade-3 value is a spike (~2% of
      // readings), not every tenth reading, so R1 pages stay rare as they are in the field.
      worker.systolic_mean = Normal(rng, 165, 3);
      worker.diastolic_mean = Normal(rng, 101, 2);
      worker.systolic_sd = 6;
      worker.diastolic_sd = 4;
      // Enrolled in weekly self-tests and mostly compliant: enough readings for the 7-day rule.
      worker.self_tests_per_day = 1.5 * std::max(engaged, 0.8);
      // Some stopped testing over a week ago: they are what the weekly self-test rule is for.
      if (Chance(rng, 0.10)) worker.lapsed_since_ms = now_ms - static_cast<int64_t>(Uniform(rng, 8, 12) * kDayMs);
    } else if (r < 0.25) {
      worker.bp_group = BpGroup::kGrade1;
      worker.diagnosed_grade = Chance(rng, 0.7) ? 1 : 0;  // awareness is incomplete
      worker.systolic_mean = Normal(rng, 148, 3);
      worker.diastolic_mean = Normal(rng, 94, 2);
      worker.systolic_sd = 8;
      worker.diastolic_sd = 6;
      worker.self_tests_per_day = engaged;
    } else {
      worker.systolic_mean = Normal(rng, 118, 6);
      worker.diastolic_mean = Normal(rng, 76, 4);
      worker.systolic_sd = 8;
      worker.diastolic_sd = 5.5;
      worker.self_tests_per_day = engaged;
    }
    const bool hypertensive = worker.bp_group != BpGroup::kNormotensive;
    worker.diabetic = Chance(rng, hypertensive ? 0.12 : 0.05);
    worker.coronary = Chance(rng, worker.bp_group == BpGroup::kGrade3HighRisk ? 0.3
                                  : worker.bp_group == BpGroup::kGrade2      ? 0.05
                                                                             : 0.01);

    // ~8% hold high-risk posts. Grade-3 high-risk workers have been moved off them.
    if (worker.bp_group != BpGroup::kGrade3HighRisk && Chance(rng, 0.08 / 0.99)) {
      const double p = Uniform(rng, 0, 1);
      if (p < 0.55 || p >= 0.9) worker.posts.push_back(hg::DRIVER);
      if (p >= 0.55) worker.posts.push_back(hg::WORK_AT_HEIGHT);
      constexpr std::array<int, 5> kShiftStarts = {7 * 60, 7 * 60 + 30, 8 * 60, 8 * 60 + 30, 14 * 60};
      constexpr std::array<double, 5> kShiftWeights = {0.2, 0.2, 0.4, 0.1, 0.1};
      std::discrete_distribution<size_t> shift(kShiftWeights.begin(), kShiftWeights.end());
      worker.shift_start_minute = kShiftStarts[shift(rng)];
      worker.rota_offset = UniformInt(rng, 0, 6);
    }
    worker.active = !Chance(rng, 0.005);
    if (!worker.active) worker.self_tests_per_day *= 0.3;  // left the programme, still tests now and then
    worker.profile_updated_ms = now_ms - static_cast<int64_t>(Uniform(rng, 14, 400) * kDayMs);
    pop.workers.push_back(std::move(worker));
  }
  return pop;
}

hg::WorkerProfile MakeProfile(const Population& pop, const Worker& worker) {
  const Grid& grid = pop.grids[worker.grid];
  const Unit& unit = pop.units[grid.unit];
  hg::WorkerProfile profile;
  profile.set_worker_id(worker.id);
  profile.set_name(worker.name);
  profile.set_unit_id(unit.id);
  profile.set_unit_name(unit.name);
  profile.set_grid_id(grid.id);
  profile.set_grid_name(grid.name);
  *profile.mutable_health_manager() = grid.manager;
  *profile.mutable_unit_supervisor() = unit.supervisor;
  for (hg::HighRiskPost post : worker.posts) profile.add_high_risk_posts(post);
  profile.mutable_conditions()->set_hypertension_grade(static_cast<uint32_t>(worker.diagnosed_grade));
  profile.mutable_conditions()->set_coronary_heart_disease(worker.coronary);
  profile.mutable_conditions()->set_diabetes(worker.diabetic);
  if (worker.bp_group == BpGroup::kGrade3HighRisk) {
    // "One person, one policy": tighter thresholds, tests every 3 days, every abnormal value followed.
    hg::IndividualPolicy* policy = profile.mutable_policy();
    policy->set_critical_systolic_mmhg(170);
    policy->set_critical_diastolic_mmhg(105);
    policy->set_self_test_interval_days(3);
    policy->set_focus_tracking(true);
    *policy->add_extra_recipients() = unit.physician;
    if (worker.abnormal_systolic > 0) policy->set_abnormal_systolic_mmhg(static_cast<uint32_t>(worker.abnormal_systolic));
    if (worker.abnormal_diastolic > 0) {
      policy->set_abnormal_diastolic_mmhg(static_cast<uint32_t>(worker.abnormal_diastolic));
    }
  }
  profile.set_active(worker.active);
  profile.set_updated_at_ms(worker.profile_updated_ms);
  return profile;
}

// ---------------------------------------------------------------------------------------------
// Readings. They are planned as compact records (a day of a large population at a time, so memory
// stays bounded), sorted by event time, and only then turned into protobuf.

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

uint16_t ToU16(double value) { return static_cast<uint16_t>(std::clamp(std::lround(value), 0L, 65535L)); }

class ReadingModel {
 public:
  ReadingModel(const SimOptions& options, const Population& pop, Rng& rng)
      : options_(options), pop_(pop), rng_(rng) {}

  // A reading of the kind a worker usually takes: mostly BP, ~10% glucose, ~5% body.
  PlannedReading Any(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
    const Worker& w = pop_.workers[worker];
    const double glucose_share = w.scripted_glucose ? 0.0 : w.diabetic ? 0.35 : 0.08;  // ~10% overall
    const double r = Uniform(rng_, 0, 1);
    if (context == hg::PRE_SHIFT || r >= glucose_share + 0.05) return BloodPressure(worker, at_ms, context, 0, 0);
    if (r < glucose_share) return Glucose(worker, at_ms, context);
    return Body(worker, at_ms, context);
  }

  // `rest_systolic`/`rest_diastolic` lower the draw for a retest after five minutes' rest.
  PlannedReading BloodPressure(uint32_t worker, int64_t at_ms, hg::MeasurementContext context,
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

  PlannedReading Glucose(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
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

  PlannedReading Body(uint32_t worker, int64_t at_ms, hg::MeasurementContext context) {
    const Worker& w = pop_.workers[worker];
    PlannedReading r = Start(worker, at_ms, context, Measure::kBody);
    r.impossible = false;  // impossible values are simulated where the engine grades: BP and glucose
    r.weight_tenths = ToU16((w.weight_kg + Normal(rng_, 0, 0.7)) * 10);
    if (Chance(rng_, 0.3)) r.height_tenths = ToU16(w.height_cm * 10);
    return r;
  }

 private:
  static constexpr double kGrade3SpikeShare = 0.003;

  PlannedReading Start(uint32_t worker, int64_t at_ms, hg::MeasurementContext context, Measure measure) {
    PlannedReading r;
    r.measured_at_ms = at_ms;
    r.worker = worker;
    r.context = context;
    r.measure = measure;
    r.impossible = Chance(rng_, options_.impossible_ratio);
    r.garbage = Chance(rng_, options_.garbage_ratio);
    return r;
  }

  const SimOptions& options_;
  const Population& pop_;
  Rng& rng_;
};

// What the station app shows in red; the worker then rests and retests. A simulated person's habit,
// deliberately not the engine's classifier.
bool LooksUnfit(const PlannedReading& r) {
  return r.systolic >= 160 || r.diastolic >= 100 || r.systolic < 90 || r.diastolic < 60;
}

constexpr int kDayOpensMinute = 6 * 60;    // stations and phones: readings between 06:00
constexpr int kDayClosesMinute = 22 * 60;  // and 22:00 local

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

// Everything measured on one local day that falls in (window_start_ms, window_end_ms]. With `shifts`
// (--scenario week), workers in high-risk posts also clock in after a fit check, and are sent home
// when the retest is still unfit.
void PlanDay(const Population& pop, const SimOptions& options, int64_t grid_day, int64_t window_start_ms,
             int64_t window_end_ms, ReadingModel& model, Rng& rng, std::vector<PlannedReading>* out,
             ShiftPlan* shifts = nullptr) {
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

// ---------------------------------------------------------------------------------------------
// Encoding.

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

class ReadingEncoder {
 public:
  ReadingEncoder(const Population& pop, Rng& rng) : pop_(pop), rng_(rng), sequence_(pop.grids.size() * 3, 0) {}

  std::string Encode(const PlannedReading& r) {
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

 private:
  const Population& pop_;
  Rng& rng_;
  std::vector<uint64_t> sequence_;
  hg::Reading reading_;  // reused: keeps its allocations between readings
};

// ---------------------------------------------------------------------------------------------
// Kafka.

// Counts delivery outcomes. librdkafka calls it from poll()/flush(), i.e. on the main thread.
class DeliveryTally : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      ++delivered_;
      return;
    }
    ++failed_;
    if (failed_ <= kReportedFailures) {
      spdlog::error("delivery to {} failed: {}", message.topic_name(), message.errstr());
    } else if (failed_ == kReportedFailures + 1) {
      spdlog::error("more deliveries failed; only counting them from now on");
    }
  }
  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }

 private:
  static constexpr uint64_t kReportedFailures = 5;
  uint64_t delivered_ = 0;
  uint64_t failed_ = 0;
};

class SimProducer {
 public:
  // engine/kafka's producer settings, the engine's own: idempotent, linger.ms=5, and the Java
  // client's murmur2_random partitioner, so that every producer of these topics, in any language,
  // puts a worker on the same partition number and co-partitioning holds.
  explicit SimProducer(const SimOptions& options) {
    auto producer = kafka::NewProducer(options.kafka.bootstrap, ClientProperties(options.kafka, "alertd-sim"),
                                       &deliveries_, &events_);
    if (!producer.ok()) throw std::runtime_error(std::string(producer.status().message()));
    producer_ = std::move(*producer);
  }

  RdKafka::Producer& handle() { return *producer_; }
  const DeliveryTally& deliveries() const { return deliveries_; }

  // Queues one record. Returns false if a stop was requested while waiting for queue space.
  // `timestamp_ms` is the record's CreateTime; 0 means now.
  bool Send(const std::string& topic, const std::string& key, const std::string& value, int64_t timestamp_ms = 0) {
    for (;;) {
      ThrowIfFatal();
      // librdkafka copies the payload (RK_MSG_COPY) and never writes through the pointer. The backfill
      // sends timestamp 0 (= now), not measured_at: a real broker with retention.ms of 7 days would
      // delete a week-old backfill as soon as it arrived. --scenario week sets the simulated moment
      // each record reached Kafka, for alertd --clock=stream (topics then need retention beyond it).
      const RdKafka::ErrorCode err =
          producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                             timestamp_ms, /*msg_opaque=*/nullptr);
      if (err == RdKafka::ERR_NO_ERROR) {
        producer_->poll(0);  // serve delivery reports as we go
        return true;
      }
      if (err != RdKafka::ERR__QUEUE_FULL) {
        throw std::runtime_error(fmt::format("produce to {}: {}", topic, RdKafka::err2str(err)));
      }
      // Backpressure: the local queue is full until the broker acknowledges some of it.
      if (StopRequested()) return false;
      producer_->poll(kPollWhileQueueFullMs);
    }
  }

  // Serves delivery reports for up to `timeout`, returning early when there are some. Used as the
  // pacing sleep, so waiting for the next send slot is never a busy loop.
  void Poll(std::chrono::milliseconds timeout) { producer_->poll(static_cast<int>(timeout.count())); }

  // Waits until every queued record is delivered or failed (message.timeout.ms bounds that).
  void Drain(const std::function<void()>& on_tick) {
    while (producer_->outq_len() > 0) {
      ThrowIfFatal();
      producer_->flush(kFlushStepMs);
      on_tick();
    }
  }

 private:
  void ThrowIfFatal() {
    if (!events_.fatal()) return;
    std::string reason;
    const RdKafka::ErrorCode err = producer_->fatal_error(reason);
    throw std::runtime_error(fmt::format("Kafka producer failed fatally: {}: {}", RdKafka::err2str(err), reason));
  }

  KafkaEventLog events_;
  DeliveryTally deliveries_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

// Holds the send rate at --rate records per second; 0 means as fast as the producer takes them.
class Pacer {
 public:
  explicit Pacer(double rate) : rate_(rate) {}

  void Restart() {
    start_ = SteadyClock::now();
    sent_ = 0;
  }

  // Waits for the next slot, serving delivery reports meanwhile. False if a stop was requested.
  bool Wait(SimProducer& producer) {
    if (rate_ <= 0) return !StopRequested();
    const auto due = start_ + std::chrono::duration_cast<SteadyClock::duration>(
                                  std::chrono::duration<double>(static_cast<double>(sent_) / rate_));
    ++sent_;
    for (;;) {
      if (StopRequested()) return false;
      const auto now = SteadyClock::now();
      // After a stall (planning a day, a full queue) forgive the lag rather than burst to catch up.
      if (now - due > std::chrono::seconds(1)) {
        start_ = now;
        sent_ = 1;
        return true;
      }
      // Under a millisecond early is close enough; poll() cannot sleep less anyway.
      if (due - now < std::chrono::milliseconds(1)) return true;
      producer.Poll(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(due - now),
                             std::chrono::milliseconds(200)));
    }
  }

 private:
  double rate_;
  SteadyClock::time_point start_ = SteadyClock::now();
  uint64_t sent_ = 0;
};

class Progress {
 public:
  Progress(bool quiet, const SimProducer& producer) : quiet_(quiet), producer_(producer) {}

  void Tick(const ReadingCounts& counts, const std::string& phase) {
    const auto now = SteadyClock::now();
    if (quiet_ || now - last_report_ < kProgressInterval) return;
    const uint64_t sent = counts.total() + counts.garbage;
    const double seconds = std::chrono::duration<double>(now - last_report_).count();
    spdlog::info("{}: {} readings sent, {:.0f}/s, {} records delivered", phase, sent,
                 static_cast<double>(sent - sent_at_last_report_) / seconds, producer_.deliveries().delivered());
    last_report_ = now;
    sent_at_last_report_ = sent;
  }

 private:
  bool quiet_;
  const SimProducer& producer_;
  SteadyClock::time_point last_report_ = SteadyClock::now();
  uint64_t sent_at_last_report_ = 0;
};

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

// The engine's design assumes every input topic has the same partition count; refuse to fill topics
// it could not join, and refuse to let a metadata request auto-create them with a default count.
void CheckTopics(SimProducer& producer, const SimOptions& options) {
  std::vector<std::string> topics = {options.readings_topic, options.profiles_topic};
  if (options.scenario == "week") {
    topics.push_back(options.shifts_topic);
    topics.push_back(options.acks_topic);
  }
  const std::map<std::string, int> counts =
      TopicPartitionCounts(producer.handle(), options.kafka.bootstrap, topics, kMetadataTimeout);
  for (const std::string& topic : topics) {
    if (counts.count(topic) == 0) {
      throw std::runtime_error(fmt::format("topic '{}' does not exist on {} (start alertd-kafka, or create it)", topic,
                                           options.kafka.bootstrap));
    }
  }
  const int readings = counts.at(options.readings_topic);
  for (const std::string& topic : topics) {
    if (counts.at(topic) != readings) {
      throw std::runtime_error(fmt::format("'{}' has {} partitions but '{}' has {}: input topics must be co-partitioned",
                                           options.readings_topic, readings, topic, counts.at(topic)));
    }
  }
  spdlog::debug("topics {} and {} have {} partitions", options.readings_topic, options.profiles_topic, readings);
}

void LogPopulation(const Population& pop) {
  std::array<int, 4> groups{};
  int posts = 0, diabetic = 0, lapsed = 0;
  for (const Worker& w : pop.workers) {
    ++groups[static_cast<size_t>(w.bp_group)];
    posts += w.posts.empty() ? 0 : 1;
    diabetic += w.diabetic ? 1 : 0;
    lapsed += w.lapsed_since_ms != 0 ? 1 : 0;
  }
  spdlog::info(
      "population: {} workers in {} units, {} grids; {} normotensive, {} grade 1, {} grade 2, {} grade 3 high-risk; "
      "{} in high-risk posts, {} diabetic, {} lapsed self-testers",
      pop.workers.size(), pop.units.size(), pop.grids.size(), groups[0], groups[1], groups[2], groups[3], posts,
      diabetic, lapsed);
}

// ---------------------------------------------------------------------------------------------
// --scenario week: a week of history as alertd --clock=stream replays it. Every record carries, as its
// Kafka timestamp, the simulated moment it reached Kafka (for a late upload, days after measured_at),
// and records are produced in that order. The drawn population lives its week as in the backfill,
// plus clock-ins and the health managers' routine acknowledgements; a script (CastWeek, ScriptWeek)
// makes sure the week also tells each rule's story with a few named workers.

// The week's frame, in health-grid local days.
struct WeekFrame {
  int64_t first_day = 0;  // the week's first local day
  int64_t history_start_ms = 0;  // lead-in start: profiles arrive just before it
  int64_t end_ms = 0;     // the week's end (exclusive)
  int64_t DayStart(int64_t offset_days) const { return GridDayStartMs(first_day + offset_days); }
};

// "2026-03-02" as a local day number (days since 1970-01-01), or nullopt.
std::optional<int64_t> ParseGridDate(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char dash1 = 0, dash2 = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d%c%2u%c%2u", &y, &dash1, &m, &dash2, &d) != 5 ||
      dash1 != '-' || dash2 != '-') {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

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

int64_t UploadDelayMs(Rng& rng) { return static_cast<int64_t>(Uniform(rng, 3, 90) * kSecondMs); }

// Chooses the cast, preferring workers the population already made fit for the part, and gives each
// what the part needs (a diagnosis, a post, a lapse in testing). Everyone else keeps the model's draw.
WeekCast CastWeek(Population& pop, const WeekFrame& week, Rng& rng) {
  WeekCast cast;
  const auto n = static_cast<uint32_t>(pop.workers.size());
  const uint32_t offset = static_cast<uint32_t>(UniformInt(rng, 0, static_cast<int>(n) - 1));
  auto choose = [&](const std::function<bool(const Worker&)>& fits) {
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t k = 0; k < n; ++k) {
        const uint32_t i = (offset + k * 7919) % n;  // a stride prime to most sizes spreads the cast out
        if (cast.all.count(i) > 0 || !pop.workers[i].active) continue;
        if (pass == 0 && !fits(pop.workers[i])) continue;
        cast.all.insert(i);
        return i;
      }
      for (uint32_t i = 0; i < n; ++i) {  // the stride missed some (sizes divisible by 7919)
        if (cast.all.count(i) == 0 && (pass == 1 || fits(pop.workers[i]))) {
          cast.all.insert(i);
          return i;
        }
      }
    }
    throw std::runtime_error("--scenario week needs at least 9 workers (--workers)");
  };
  auto grade2 = [](const Worker& w) { return w.bp_group == BpGroup::kGrade2 && w.posts.empty() && w.lapsed_since_ms == 0; };
  auto make_grade2 = [](Worker& w) {
    w.bp_group = BpGroup::kGrade2;
    w.diagnosed_grade = 2;
    w.systolic_mean = 165;
    w.diastolic_mean = 102;
    w.systolic_sd = 8;
    w.diastolic_sd = 6;
    w.self_tests_per_day = std::max(w.self_tests_per_day, 1.5);
    w.posts.clear();
    w.lapsed_since_ms = 0;
  };
  // R3: stop testing on a day chosen so that the due time (last reading + 7 days) falls in the week.
  cast.ladder = choose(grade2);
  make_grade2(pop.workers[cast.ladder]);
  pop.workers[cast.ladder].lapsed_since_ms = week.DayStart(-4);
  cast.acked = choose(grade2);
  make_grade2(pop.workers[cast.acked]);
  pop.workers[cast.acked].lapsed_since_ms = week.DayStart(-5);
  pop.workers[cast.acked].resumed_at_ms = week.DayStart(3);
  cast.late = choose([&](const Worker& w) { return grade2(w) && pop.grids[w.grid].remote; });
  Worker& late = pop.workers[cast.late];
  make_grade2(late);
  if (!pop.grids[late.grid].remote) {
    const auto remote = std::find_if(pop.grids.begin(), pop.grids.end(), [](const Grid& g) { return g.remote; });
    if (remote != pop.grids.end()) {
      late.grid = static_cast<uint32_t>(remote - pop.grids.begin());
    } else {
      pop.grids[late.grid].remote = true;  // a small grid: its one site is out of reach this week
    }
  }
  late.lapsed_since_ms = week.DayStart(-6);
  late.resumed_at_ms = week.DayStart(4);  // after the late upload (ScriptWeek moves it if needed)

  // R4: a post, a day shift, and a rota that has them at work on their scripted day.
  auto posted = [&](hg::HighRiskPost post, int64_t day_offset) {
    const uint32_t i = choose([&](const Worker& w) {
      return w.posts.size() == 1 && w.posts.front() == post && w.bp_group <= BpGroup::kGrade1;
    });
    Worker& w = pop.workers[i];
    w.posts = {post};
    if (w.bp_group > BpGroup::kGrade1) {
      w.bp_group = BpGroup::kGrade1;
      w.diagnosed_grade = 1;
      w.systolic_mean = 146;
      w.diastolic_mean = 92;
    }
    if (w.shift_start_minute > 12 * 60) w.shift_start_minute = 8 * 60;
    const int64_t day = week.first_day + day_offset;
    w.rota_offset = static_cast<int>(((7 - day % 7) % 7 + 7) % 7);  // (day + rota) % 7 == 0: a work day
    return i;
  };
  cast.unfit_retest = posted(hg::DRIVER, cast.unfit_retest_day);
  cast.unfit_clocked_in = posted(hg::WORK_AT_HEIGHT, cast.unfit_clocked_in_day);
  cast.no_check = posted(hg::DRIVER, cast.no_check_day);

  // R5: glucose only from the script, so the story is not lost among drawn readings.
  cast.glucose_high = choose([](const Worker& w) { return !w.diabetic && w.posts.empty(); });
  pop.workers[cast.glucose_high].scripted_glucose = true;
  cast.hypoglycaemia = choose([](const Worker& w) { return w.diabetic && w.posts.empty(); });
  pop.workers[cast.hypoglycaemia].diabetic = true;
  pop.workers[cast.hypoglycaemia].scripted_glucose = true;

  // R6: a grade-3 worker controlled on treatment, with thresholds of their own (MakeProfile).
  cast.focus = choose([](const Worker& w) { return w.bp_group == BpGroup::kGrade3HighRisk; });
  Worker& focus = pop.workers[cast.focus];
  focus.bp_group = BpGroup::kGrade3HighRisk;
  focus.diagnosed_grade = 3;
  focus.systolic_mean = 124;
  focus.diastolic_mean = 79;
  focus.systolic_sd = 6;
  focus.diastolic_sd = 4;
  focus.self_tests_per_day = 2;
  focus.posts.clear();
  focus.lapsed_since_ms = 0;
  focus.abnormal_systolic = 135;
  focus.abnormal_diastolic = 85;
  return cast;
}

// The worker's last valid blood-pressure reading measured before `before_ms` (what R3's clock runs
// from), or 0.
int64_t LastBpBefore(const std::vector<TimedReading>& readings, uint32_t worker, int64_t before_ms) {
  int64_t last = 0;
  for (const TimedReading& t : readings) {
    const PlannedReading& r = t.reading;
    if (r.worker == worker && r.measure == Measure::kBloodPressure && !r.impossible && !r.garbage &&
        r.measured_at_ms < before_ms) {
      last = std::max(last, r.measured_at_ms);
    }
  }
  return last;
}

PlannedReading ScriptedBp(uint32_t worker, int64_t at_ms, hg::MeasurementContext context, int systolic, int diastolic,
                          int pulse) {
  PlannedReading r;
  r.worker = worker;
  r.measured_at_ms = at_ms;
  r.context = context;
  r.measure = Measure::kBloodPressure;
  r.systolic = static_cast<uint16_t>(systolic);
  r.diastolic = static_cast<uint16_t>(diastolic);
  r.pulse = static_cast<uint16_t>(pulse);
  return r;
}

PlannedReading ScriptedGlucose(uint32_t worker, int64_t at_ms, hg::GlucoseTiming timing, double mmol_per_l) {
  PlannedReading r;
  r.worker = worker;
  r.measured_at_ms = at_ms;
  r.measure = Measure::kGlucose;
  r.glucose_timing = timing;
  r.glucose_tenths = ToU16(mmol_per_l * 10);
  return r;
}

std::string When(int64_t ms) { return FormatGridTime(ms).substr(5, 11); }  // "03-04 08:14"

// Adds the cast's scripted readings, clock-ins and acknowledgements to the drawn week, and says what
// alertd should make of them.
std::vector<StoryLine> ScriptWeek(const Population& pop, const WeekCast& cast, const WeekFrame& week,
                                  std::vector<TimedReading>& readings, ShiftPlan& shifts,
                                  std::vector<PlannedAck>& acks, Rng& rng) {
  std::vector<StoryLine> story;
  auto add = [&](const PlannedReading& r, int64_t arrival_ms = 0) {
    readings.push_back({r, arrival_ms != 0 ? arrival_ms : r.measured_at_ms + UploadDelayMs(rng), true});
    return readings.back().arrival_ms;
  };
  auto id = [&](uint32_t i) { return pop.workers[i].id; };
  auto habit = [&](uint32_t i, int64_t day_offset) {
    return week.DayStart(day_offset) + pop.workers[i].habit_minute * kMinuteMs;
  };
  auto self_test = [&](uint32_t i, int64_t at_ms) {
    const Worker& w = pop.workers[i];
    return ScriptedBp(i, at_ms, hg::SELF_TEST, static_cast<int>(w.systolic_mean), static_cast<int>(w.diastolic_mean),
                      static_cast<int>(w.pulse_mean));
  };

  // R3 ladder: the last self-test, then nothing.
  add(self_test(cast.ladder, habit(cast.ladder, -5)));
  const int64_t ladder_due = LastBpBefore(readings, cast.ladder, pop.workers[cast.ladder].lapsed_since_ms) + 7 * kDayMs;
  story.push_back({id(cast.ladder), "R3 ladder",
                   fmt::format("stops self-testing: reminder to the worker {}, health manager {}, unit supervisor {}",
                               When(ladder_due), When(ladder_due + 24 * kHourMs), When(ladder_due + 72 * kHourMs))});

  // R3 acknowledged: the health manager acknowledges the reminder a few hours after it.
  add(self_test(cast.acked, habit(cast.acked, -6)));
  const int64_t acked_due = LastBpBefore(readings, cast.acked, pop.workers[cast.acked].lapsed_since_ms) + 7 * kDayMs;
  const int64_t ack_at = acked_due + 3 * kHourMs + UniformInt(rng, 0, 1800) * kSecondMs;
  acks.push_back({ack_at, cast.acked, hg::R3_SELF_TEST_MISSED, hg::ACKNOWLEDGE, 0, false});
  story.push_back({id(cast.acked), "R3 acknowledged",
                   fmt::format("reminder {}; health manager acknowledges {}: no climb at {}; re-notified {}; "
                               "tests again from {}: resolved",
                               When(acked_due), When(ack_at), When(acked_due + 24 * kHourMs), When(ack_at + 24 * kHourMs),
                               When(pop.workers[cast.acked].resumed_at_ms).substr(0, 5))});

  // R3 late upload: measured before the deadline at a remote site, uploaded two days later.
  add(self_test(cast.late, habit(cast.late, -7)));
  const int64_t late_due = LastBpBefore(readings, cast.late, pop.workers[cast.late].lapsed_since_ms) + 7 * kDayMs;
  const int64_t measured = late_due - 150 * kMinuteMs;
  const int64_t uploaded = add(self_test(cast.late, measured), measured + 48 * kHourMs + UniformInt(rng, 0, 3600) * kSecondMs);
  const Grid& remote = pop.grids[pop.workers[cast.late].grid];
  story.push_back({id(cast.late), "R3 late upload",
                   fmt::format("at {} ({}): reminder {}, health manager {}; the reading measured {} uploads {}: "
                               "escalation retracted",
                               remote.name, remote.id, When(late_due), When(late_due + 24 * kHourMs), When(measured),
                               When(uploaded))});

  // R4: shift at the worker's usual start on the scripted day.
  auto shift_ms = [&](uint32_t i, int64_t day_offset) {
    return week.DayStart(day_offset) + pop.workers[i].shift_start_minute * kMinuteMs;
  };
  {
    const uint32_t i = cast.unfit_retest;
    const int64_t shift = shift_ms(i, cast.unfit_retest_day);
    add(ScriptedBp(i, shift - 35 * kMinuteMs, hg::PRE_SHIFT, 165, 102, 88));
    add(ScriptedBp(i, shift - 23 * kMinuteMs, hg::PRE_SHIFT, 136, 86, 78));
    shifts.clock_ins.push_back({shift + 2 * kMinuteMs, i, pop.workers[i].posts.front()});
    story.push_back({id(i), "R4 unfit, fit retest",
                     fmt::format("driver: 165/102 before the {} shift: UNFIT_FOR_DUTY; retest 136/86: resolved; clocks in",
                                 When(shift))});
  }
  {
    const uint32_t i = cast.unfit_clocked_in;
    const int64_t shift = shift_ms(i, cast.unfit_clocked_in_day);
    add(ScriptedBp(i, shift - 30 * kMinuteMs, hg::PRE_SHIFT, 168, 104, 92));
    shifts.clock_ins.push_back({shift + 1 * kMinuteMs, i, pop.workers[i].posts.front()});
    story.push_back({id(i), "R4 unfit, clocked in",
                     fmt::format("work at height: 168/104 before the {} shift, no retest, clocks in: UNFIT_CLOCKED_IN "
                                 "(CRITICAL, unit supervisor)",
                                 When(shift))});
  }
  {
    const uint32_t i = cast.no_check;
    const int64_t shift = shift_ms(i, cast.no_check_day);
    shifts.clock_ins.push_back({shift, i, pop.workers[i].posts.front()});
    add(ScriptedBp(i, shift + 20 * kMinuteMs, hg::PRE_SHIFT, 128, 80, 72));
    story.push_back({id(i), "R4 no check",
                     fmt::format("driver clocks in {} without a check: NO_PRE_SHIFT_CHECK; checks fit 20 min later",
                                 When(shift))});
  }

  // R5: high glucose twice (not known diabetic), and a severe hypoglycaemia.
  {
    const uint32_t i = cast.glucose_high;
    add(ScriptedGlucose(i, week.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs, hg::RANDOM, 13.2));
    add(ScriptedGlucose(i, week.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs, hg::FASTING, 8.1));
    story.push_back({id(i), "R5 high twice",
                     fmt::format("random 13.2 mmol/L {}, fasting 8.1 {}: HIGH, routine referral",
                                 When(week.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs),
                                 When(week.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs))});
  }
  {
    const uint32_t i = cast.hypoglycaemia;
    const int64_t at = week.DayStart(3) + 10 * kHourMs + 15 * kMinuteMs;
    const int64_t arrival = add(ScriptedGlucose(i, at, hg::RANDOM, 2.6));
    acks.push_back({arrival + 12 * kMinuteMs, i, hg::R5_GLUCOSE, hg::ACKNOWLEDGE, 0, false});
    add(ScriptedGlucose(i, at + 25 * kMinuteMs, hg::RANDOM, 5.4));
    story.push_back({id(i), "R5 severe hypoglycaemia",
                     fmt::format("2.6 mmol/L {}: URGENT; acknowledged 12 min later; 5.4 after 25 min: resolved", When(at))});
  }

  // R6 and R1 under the worker's own thresholds.
  {
    const uint32_t i = cast.focus;
    const int64_t at = week.DayStart(2) + 8 * kHourMs + 5 * kMinuteMs;
    const int64_t arrival = add(ScriptedBp(i, at, hg::SELF_TEST, 172, 104, 96));
    acks.push_back({arrival + 10 * kMinuteMs, i, hg::R1_CRITICAL_BP, hg::ACKNOWLEDGE, 0, false});
    story.push_back({id(i), "R6 focus tracking",
                     fmt::format("grade 3, own policy: critical 170/105, abnormal 135/85, focus tracking, unit physician "
                                 "as extra recipient; 172/104 {}: R1 URGENT (global 180/110 would not fire) and R6",
                                 When(at))});
  }
  return story;
}

// What the health managers do without a script: acknowledge urgent pages within minutes (mostly),
// focus-tracking alerts within hours, and on a morning round snooze for a week the sustained
// hypertension and high glucose of workers they have referred. An acknowledgement names no episode:
// alertd applies it to the worker's open episode of the rule, and ignores it if none is open.
void RoutineAcks(const Population& pop, const WeekFrame& week, const std::vector<TimedReading>& readings,
                 const ShiftPlan& shifts, std::vector<PlannedAck>& acks, Rng& rng) {
  struct BpSeen {
    int64_t measured, arrival;
    int systolic, diastolic;
  };
  struct GlucoseSeen {
    int64_t measured, arrival;
    bool high;
  };
  std::vector<std::vector<BpSeen>> bp(pop.workers.size());
  std::vector<std::vector<GlucoseSeen>> glucose(pop.workers.size());
  for (const TimedReading& t : readings) {
    const PlannedReading& r = t.reading;
    if (r.impossible || r.garbage) continue;
    const Worker& w = pop.workers[r.worker];
    const bool individual = w.bp_group == BpGroup::kGrade3HighRisk;  // MakeProfile: critical 170/105
    if (r.measure == Measure::kBloodPressure) {
      bp[r.worker].push_back({r.measured_at_ms, t.arrival_ms, r.systolic, r.diastolic});
      if (t.scripted) continue;
      const bool critical = individual ? r.systolic >= 170 || r.diastolic >= 105 : r.systolic >= 180 || r.diastolic >= 110;
      if (critical && Chance(rng, 0.8)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 4 * 60, 25 * 60) * kSecondMs, r.worker, hg::R1_CRITICAL_BP,
                        hg::ACKNOWLEDGE, 0, false});
      }
      const int abnormal_s = w.abnormal_systolic > 0 ? w.abnormal_systolic : 140;
      const int abnormal_d = w.abnormal_diastolic > 0 ? w.abnormal_diastolic : 90;
      const bool abnormal = r.systolic >= abnormal_s || r.diastolic >= abnormal_d || r.systolic < 90 || r.diastolic < 60;
      if (individual && abnormal && Chance(rng, 0.9)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 20 * 60, 150 * 60) * kSecondMs, r.worker, hg::R6_FOCUS_TRACKING,
                        hg::ACKNOWLEDGE, 0, false});
      }
    } else if (r.measure == Measure::kGlucose) {
      const double mmol = r.glucose_tenths / 10.0;
      glucose[r.worker].push_back(
          {r.measured_at_ms, t.arrival_ms, r.glucose_timing == hg::FASTING ? mmol >= 7.0 : mmol >= 11.1});
      if (!t.scripted && mmol < 3.0 && Chance(rng, 0.9)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 5 * 60, 20 * 60) * kSecondMs, r.worker, hg::R5_GLUCOSE,
                        hg::ACKNOWLEDGE, 0, false});
      }
    }
  }
  // Sent home after an unfit retest: the health manager acknowledges before the page climbs.
  for (const auto& [worker, retest_ms] : shifts.stood_down) {
    if (Chance(rng, 0.85)) {
      acks.push_back({retest_ms + UniformInt(rng, 3 * 60, 12 * 60) * kSecondMs, worker, hg::R4_PRE_SHIFT_FITNESS,
                      hg::ACKNOWLEDGE, 0, false});
    }
  }

  // The morning round: what the manager's app shows in red, as the engine's rules would see it.
  std::vector<std::vector<uint32_t>> by_grid(pop.grids.size());
  for (uint32_t i = 0; i < pop.workers.size(); ++i) by_grid[pop.workers[i].grid].push_back(i);
  std::vector<int64_t> r2_snoozed_until(pop.workers.size(), 0), r5_snoozed_until(pop.workers.size(), 0);
  const int64_t first = GridDay(week.history_start_ms), last = GridDay(week.end_ms - 1);
  for (int64_t day = first; day <= last; ++day) {
    for (uint32_t g = 0; g < pop.grids.size(); ++g) {
      const int64_t round = GridDayStartMs(day) + 9 * kHourMs + UniformInt(rng, 0, 90 * 60) * kSecondMs;
      if (round >= week.end_ms) continue;
      for (uint32_t i : by_grid[g]) {
        int64_t newest = 0;
        for (const BpSeen& s : bp[i]) {
          if (s.arrival <= round) newest = std::max(newest, s.measured);
        }
        int count = 0;
        double sum_s = 0, sum_d = 0;
        std::set<int64_t> days;
        for (const BpSeen& s : bp[i]) {
          if (s.arrival > round || s.measured <= newest - 7 * kDayMs || s.measured > newest) continue;
          ++count;
          sum_s += s.systolic;
          sum_d += s.diastolic;
          days.insert(GridDay(s.measured));
        }
        const bool sustained = count >= 3 && days.size() >= 2 && (sum_s / count >= 160 || sum_d / count >= 100);
        if (sustained && r2_snoozed_until[i] <= round) {
          r2_snoozed_until[i] = round + 7 * kDayMs;
          acks.push_back({round, i, hg::R2_SUSTAINED_HYPERTENSION, hg::SNOOZE, r2_snoozed_until[i], false});
        }
        int64_t newest_glucose = 0;
        for (const GlucoseSeen& s : glucose[i]) {
          if (s.arrival <= round) newest_glucose = std::max(newest_glucose, s.measured);
        }
        const auto highs = std::count_if(glucose[i].begin(), glucose[i].end(), [&](const GlucoseSeen& s) {
          return s.high && s.arrival <= round && s.measured > newest_glucose - 30 * kDayMs;
        });
        if (highs >= 2 && r5_snoozed_until[i] <= round) {
          r5_snoozed_until[i] = round + 7 * kDayMs;
          acks.push_back({round + kMinuteMs, i, hg::R5_GLUCOSE, hg::SNOOZE, r5_snoozed_until[i], false});
        }
      }
    }
  }
}

// One record of the week, in the order it reaches Kafka.
struct WeekRecord {
  int64_t timestamp_ms = 0;
  uint64_t seq = 0;  // tie-break: the order it was planned in, so the run is reproducible
  enum class Kind : uint8_t { kProfile, kReading, kShift, kAck } kind = Kind::kReading;
  uint32_t index = 0;  // into the workers, readings, clock-ins or acks
};

struct WeekCounts {
  uint64_t profiles = 0, shifts = 0, acks = 0, late_uploads = 0;
};

// Plans the whole history (lead-in and week), then produces it in timestamp order. False if stopped.
bool ProduceWeek(const SimOptions& options, const Population& pop, const WeekCast& cast, const WeekFrame& week,
                 ReadingModel& model, ReadingEncoder& encoder, Rng& rng, SimProducer& producer, Progress& progress,
                 ReadingCounts& counts, WeekCounts& week_counts, std::vector<StoryLine>& story) {
  std::vector<TimedReading> readings;
  ShiftPlan shifts;
  shifts.scripted_days = {{cast.unfit_retest, week.first_day + cast.unfit_retest_day},
                          {cast.unfit_clocked_in, week.first_day + cast.unfit_clocked_in_day},
                          {cast.no_check, week.first_day + cast.no_check_day}};
  std::vector<PlannedReading> day;
  for (int64_t d = GridDay(week.history_start_ms); d < week.first_day + options.days; ++d) {
    day.clear();
    PlanDay(pop, options, d, week.history_start_ms, week.end_ms - 1, model, rng, &day, &shifts);
    for (const PlannedReading& r : day) {
      int64_t arrival = r.measured_at_ms + UploadDelayMs(rng);
      // Remote stations upload self-tests when they next reach the network: hours, sometimes a day.
      if (pop.grids[pop.workers[r.worker].grid].remote && r.context == hg::SELF_TEST &&
          cast.all.count(r.worker) == 0 && Chance(rng, 0.05)) {
        arrival = r.measured_at_ms + static_cast<int64_t>(Uniform(rng, 2, 36) * kHourMs);
      }
      readings.push_back({r, arrival, false});
    }
  }
  std::vector<PlannedAck> acks;
  story = ScriptWeek(pop, cast, week, readings, shifts, acks, rng);
  RoutineAcks(pop, week, readings, shifts, acks, rng);

  std::vector<WeekRecord> records;
  records.reserve(pop.workers.size() + readings.size() + shifts.clock_ins.size() + acks.size());
  uint64_t seq = 0;
  // Profiles first, just before the history: alertd knows every worker before their first reading.
  for (uint32_t i = 0; i < pop.workers.size(); ++i) {
    records.push_back({week.history_start_ms - kHourMs, seq++, WeekRecord::Kind::kProfile, i});
  }
  for (uint32_t i = 0; i < readings.size(); ++i) {
    if (readings[i].arrival_ms >= week.end_ms) continue;  // still on its way when the week ends
    if (readings[i].arrival_ms - readings[i].reading.measured_at_ms > kHourMs) ++week_counts.late_uploads;
    records.push_back({readings[i].arrival_ms, seq++, WeekRecord::Kind::kReading, i});
  }
  for (uint32_t i = 0; i < shifts.clock_ins.size(); ++i) {
    const int64_t at = shifts.clock_ins[i].clock_in_ms + UniformInt(rng, 1, 20) * kSecondMs;
    if (at < week.end_ms) records.push_back({at, seq++, WeekRecord::Kind::kShift, i});
  }
  for (uint32_t i = 0; i < acks.size(); ++i) {
    if (acks[i].at_ms < week.end_ms) records.push_back({acks[i].at_ms, seq++, WeekRecord::Kind::kAck, i});
  }
  std::sort(records.begin(), records.end(), [](const WeekRecord& a, const WeekRecord& b) {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms : a.seq < b.seq;
  });

  hg::ShiftEvent shift;
  hg::EscalationAck ack;
  const std::string phase = fmt::format("week of {}", FormatGridTime(week.DayStart(0)).substr(0, 10));
  for (const WeekRecord& rec : records) {
    if (StopRequested() || producer.deliveries().failed() > 0) return false;
    switch (rec.kind) {
      case WeekRecord::Kind::kProfile: {
        const Worker& w = pop.workers[rec.index];
        if (!producer.Send(options.profiles_topic, w.id, MakeProfile(pop, w).SerializeAsString(), rec.timestamp_ms)) {
          return false;
        }
        ++week_counts.profiles;
        break;
      }
      case WeekRecord::Kind::kReading: {
        const PlannedReading& r = readings[rec.index].reading;
        if (!producer.Send(options.readings_topic, pop.workers[r.worker].id, encoder.Encode(r), rec.timestamp_ms)) {
          return false;
        }
        Count(r, &counts);
        break;
      }
      case WeekRecord::Kind::kShift: {
        const PlannedShift& s = shifts.clock_ins[rec.index];
        const Worker& w = pop.workers[s.worker];
        shift.Clear();
        shift.set_worker_id(w.id);
        shift.set_post(s.post);
        shift.set_clock_in_at_ms(s.clock_in_ms);
        shift.set_site(pop.grids[w.grid].name);
        if (!producer.Send(options.shifts_topic, w.id, shift.SerializeAsString(), rec.timestamp_ms)) return false;
        ++week_counts.shifts;
        break;
      }
      case WeekRecord::Kind::kAck: {
        const PlannedAck& a = acks[rec.index];
        const Worker& w = pop.workers[a.worker];
        const Grid& grid = pop.grids[w.grid];
        ack.Clear();
        ack.set_worker_id(w.id);
        ack.set_rule(a.rule);  // no episode_id: "the worker's open episode of this rule"
        ack.set_action(a.action);
        if (a.action == hg::SNOOZE) ack.set_snooze_until_ms(a.snooze_until_ms);
        *ack.mutable_by() = a.by_supervisor ? pop.units[grid.unit].supervisor : grid.manager;
        ack.set_at_ms(a.at_ms);
        if (!producer.Send(options.acks_topic, w.id, ack.SerializeAsString(), rec.timestamp_ms)) return false;
        ++week_counts.acks;
        break;
      }
    }
    progress.Tick(counts, phase);
  }
  return true;
}

// worker TAB story TAB expectation, for tools (deploy/demo.sh) that pick the cast out of the tail.
// Written to a temporary name and renamed, so a reader never sees half of it.
bool WriteStory(const std::string& path, const std::vector<StoryLine>& story) {
  const std::string tmp = path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "w");
  if (out == nullptr) {
    spdlog::error("cannot write --story-file {}", path);
    return false;
  }
  for (const StoryLine& line : story) fmt::print(out, "{}\t{}\t{}\n", line.worker, line.story, line.expect);
  const bool written = std::fclose(out) == 0 && std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!written) spdlog::error("cannot write --story-file {}", path);
  return written;
}

int Run(const SimOptions& options) {
  InstallStopHandlers();
  const auto started = SteadyClock::now();
  const int64_t now_ms = NowMs();
  Rng rng(options.seed);

  // Kafka first: a wrong flag or an unreachable cluster should fail before a large population is built.
  SimProducer producer(options);
  CheckTopics(producer, options);

  // The week's population lives up to the week's end, as the backfill's lives up to now.
  const bool week_mode = options.scenario == "week";
  WeekFrame week;
  if (week_mode) {
    week.first_day = options.start.empty() ? GridDay(now_ms) - options.days : *ParseGridDate(options.start);
    week.history_start_ms = GridDayStartMs(week.first_day - options.lead_in_days);
    week.end_ms = GridDayStartMs(week.first_day + options.days);
  }
  Population pop = BuildPopulation(options, week_mode ? week.end_ms : now_ms, rng);
  WeekCast cast;
  if (week_mode) cast = CastWeek(pop, week, rng);
  if (!options.quiet) LogPopulation(pop);
  Progress progress(options.quiet, producer);
  ReadingCounts counts;
  uint64_t profiles = 0;

  // Producing on after a delivery failed only queues records that will fail the same way.
  auto halted = [&] { return StopRequested() || producer.deliveries().failed() > 0; };

  // Profiles first, all delivered, so an engine reading both topics knows workers before readings.
  // (The week sends them in its own timestamp order, first of all.)
  for (const Worker& w : pop.workers) {
    if (halted() || week_mode) break;
    if (!producer.Send(options.profiles_topic, w.id, MakeProfile(pop, w).SerializeAsString())) break;
    ++profiles;
  }
  producer.Drain([&] { progress.Tick(counts, "profiles"); });

  ReadingModel model(options, pop, rng);
  ReadingEncoder encoder(pop, rng);
  WeekCounts week_counts;
  std::vector<StoryLine> story;
  if (week_mode && !halted()) {
    ProduceWeek(options, pop, cast, week, model, encoder, rng, producer, progress, counts, week_counts, story);
    profiles = week_counts.profiles;
    producer.Drain([&] { progress.Tick(counts, "week"); });
    // Written once the week is delivered, before any live readings: a script may wait for the file.
    fmt::print("alertd-sim: week {} .. {} (history from {}): {} workers; {} readings, {} clock-ins, {} acknowledgements "
               "and snoozes, {} late uploads (> 1 h)\n",
               FormatGridTime(week.DayStart(0)).substr(0, 10), FormatGridTime(week.end_ms - 1).substr(0, 10),
               FormatGridTime(week.history_start_ms).substr(0, 10), pop.workers.size(), counts.total() + counts.garbage,
               week_counts.shifts, week_counts.acks, week_counts.late_uploads);
    std::fflush(stdout);
    if (!options.story_file.empty() && !WriteStory(options.story_file, story)) return 1;
    spdlog::info("the week is delivered ({} records){}", week_counts.profiles + counts.total() + counts.garbage +
                 week_counts.shifts + week_counts.acks, options.live_seconds > 0 ? "; live readings follow" : "");
  }
  Pacer pacer(options.rate);
  auto send = [&](const PlannedReading& r) {
    if (halted() || !pacer.Wait(producer)) return false;
    if (!producer.Send(options.readings_topic, pop.workers[r.worker].id, encoder.Encode(r))) return false;
    Count(r, &counts);
    return true;
  };

  // Backfill: one local day at a time, in event-time order across workers.
  if (!week_mode && options.days > 0 && !halted()) {
    const int64_t window_start_ms = now_ms - options.days * kDayMs;
    const int64_t first_day = GridDay(window_start_ms), last_day = GridDay(now_ms);
    std::vector<PlannedReading> day;
    pacer.Restart();
    for (int64_t d = first_day; d <= last_day && !halted(); ++d) {
      day.clear();
      PlanDay(pop, options, d, window_start_ms, now_ms, model, rng, &day);
      // Stable, with the worker as tie-break, so the order (and the run) is reproducible.
      std::sort(day.begin(), day.end(), [](const PlannedReading& a, const PlannedReading& b) {
        return a.measured_at_ms != b.measured_at_ms ? a.measured_at_ms < b.measured_at_ms : a.worker < b.worker;
      });
      const std::string phase = fmt::format("backfill day {}/{} ({})", d - first_day + 1, last_day - first_day + 1,
                                            FormatGridTime(GridDayStartMs(d)).substr(0, 10));
      for (const PlannedReading& r : day) {
        if (!send(r)) break;
        progress.Tick(counts, phase);
      }
    }
  }

  // Live: measured now, workers drawn in proportion to how often they test.
  if (options.live_seconds > 0 && !halted()) {
    if (options.rate <= 0) {
      spdlog::warn("live readings are unthrottled (--rate 0); the embedded cluster keeps only ~5 MiB per partition");
    }
    std::vector<double> weights;
    for (const Worker& w : pop.workers) {
      weights.push_back(w.self_tests_per_day * options.readings_per_day + (w.posts.empty() ? 0.0 : 5.0 / 7.0));
    }
    if (std::all_of(weights.begin(), weights.end(), [](double x) { return x <= 0; })) {
      std::fill(weights.begin(), weights.end(), 1.0);
    }
    std::discrete_distribution<uint32_t> pick(weights.begin(), weights.end());
    const auto live_until = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                     std::chrono::duration<double>(options.live_seconds));
    pacer.Restart();
    while (SteadyClock::now() < live_until) {
      const uint32_t i = pick(rng);
      const bool pre_shift = !pop.workers[i].posts.empty() && Chance(rng, 0.5);
      const PlannedReading r = model.Any(i, NowMs(), pre_shift ? hg::PRE_SHIFT : hg::SELF_TEST);
      if (!send(r)) break;
      progress.Tick(counts, "live");
    }
  }

  if (StopRequested()) spdlog::info("{}: stopped producing; waiting for deliveries", StopSignalName());
  if (producer.deliveries().failed() > 0) spdlog::error("stopped producing: deliveries are failing");
  producer.Drain([&] { progress.Tick(counts, "flush"); });

  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  fmt::print("alertd-sim: produced {} profiles, {} readings (bp {}, glucose {}, body {}), {} impossible, {} garbage, "
             "in {:.1f} s\n",
             profiles, counts.total(), counts.bp, counts.glucose, counts.body, counts.impossible, counts.garbage,
             seconds);
  if (!story.empty()) {
    fmt::print("alertd-sim: the week's script:\n");
    for (const StoryLine& line : story) fmt::print("  {}  {:<24} {}\n", line.worker, line.story, line.expect);
  }
  std::fflush(stdout);
  if (producer.deliveries().failed() > 0) {
    spdlog::error("{} of {} records were not delivered", producer.deliveries().failed(),
                  producer.deliveries().failed() + producer.deliveries().delivered());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace alertd::cli

int main(int argc, char** argv) {
  using namespace alertd::cli;
  SimOptions o;
  CLI::App app{"alertd-sim: simulate health-grid workers and their station readings into Kafka (protobuf)"};
  AddKafkaClientOptions(app, &o.kafka);
  app.add_option("--workers", o.workers, "Workers (W000001...)")->capture_default_str()->check(CLI::Range(1, 9999999));
  app.add_option("--units", o.units, "Operating units (U01...)")->capture_default_str()->check(CLI::Range(1, 99));
  app.add_option("--grids", o.grids, "Grids, spread over the units (U01-G01...)")
      ->capture_default_str()
      ->check(CLI::Range(1, 9999));
  app.add_option("--seed", o.seed, "Random seed: same seed, same population and readings")->capture_default_str();
  app.add_option("--days", o.days, "Backfill readings over the last D days before now")
      ->capture_default_str()
      ->check(CLI::Range(0, 3650));
  app.add_option("--readings-per-day", o.readings_per_day,
                 "Self-tests per ordinary worker per day (diagnosed grade 2: 1.5x; plus PRE_SHIFT checks)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  // Bounded so that now + S stays representable on the steady clock; 1e9 s is three decades.
  app.add_option("--live-seconds", o.live_seconds, "After the backfill, produce live readings for S seconds")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  app.add_option("--rate", o.rate, "Readings per second, live and backfill (0 = as fast as possible)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e7));
  app.add_option("--impossible-ratio", o.impossible_ratio, "Share of physiologically impossible readings")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--garbage-ratio", o.garbage_ratio, "Share of records that are not protobuf at all")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--readings-topic", o.readings_topic, "Topic of Reading messages")->capture_default_str();
  app.add_option("--profiles-topic", o.profiles_topic, "Topic of WorkerProfile messages")->capture_default_str();
  app.add_option("--shifts-topic", o.shifts_topic, "Topic of ShiftEvent messages (--scenario week)")
      ->capture_default_str();
  app.add_option("--acks-topic", o.acks_topic, "Topic of EscalationAck messages (--scenario week)")
      ->capture_default_str();
  app.add_option("--scenario", o.scenario,
                 "backfill: --days of readings before now, stamped now (live engines). week: a scripted week of "
                 "history from --start (R3 ladders, acks, a late upload, pre-shift checks and clock-ins, glucose, "
                 "focus tracking), each record stamped with the simulated moment it reached Kafka and produced in "
                 "that order as fast as possible, for alertd --clock=stream; --days is the week's length")
      ->check(CLI::IsMember({"backfill", "week"}))
      ->capture_default_str();
  app.add_option("--start", o.start, "--scenario week: first local day, YYYY-MM-DD (default: --days before today)");
  app.add_option("--lead-in-days", o.lead_in_days,
                 "--scenario week: history before --start, so that weekly self-tests fall due in the week")
      ->capture_default_str()
      ->check(CLI::Range(7, 60));
  app.add_option("--story-file", o.story_file, "--scenario week: write the script's workers here (worker TAB story TAB expectation)");
  app.add_flag("-q,--quiet", o.quiet, "No progress on stderr");
  app.add_flag("-v,--verbose", o.verbose, "Show debug logs");
  try {
    app.parse(argc, argv);
    // Slower than one reading in 1000 s would stretch the pacing schedule past what the clock holds.
    if (o.rate > 0 && o.rate < 0.001) throw CLI::ValidationError("--rate", "must be 0 or at least 0.001 readings/s");
    if (!o.start.empty() && !ParseGridDate(o.start)) {
      throw CLI::ValidationError("--start", "expected a date YYYY-MM-DD, got '" + o.start + "'");
    }
    if (o.scenario == "week" && o.workers < 9) {
      throw CLI::ValidationError("--workers", "--scenario week casts 9 workers in its script: give at least 9");
    }
    if (o.grids < o.units) {
      throw CLI::ValidationError(
          "--grids", fmt::format("{} grids cannot cover {} units (--units): every unit needs one", o.grids, o.units));
    }
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  InitToolLog("alertd-sim", o.verbose);
  try {
    return Run(o);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
