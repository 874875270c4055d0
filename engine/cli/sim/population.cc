// Draws the simulated population: names, units, grids, workers and their profiles.
#include "engine/cli/sim/population.h"

#include <spdlog/spdlog.h>

#include <array>
#include <string_view>
#include <utility>

#include "engine/cli/grid_time.h"

namespace alertd::cli::sim {
namespace {

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

hg::Person MakePerson(std::string id, std::string name) {
  hg::Person p;
  p.set_id(std::move(id));
  p.set_name(std::move(name));
  return p;
}

void DrawUnits(const PopulationOptions& options, NameDrawer& names, Rng& rng, Population& pop) {
  for (int u = 0; u < options.units; ++u) {
    Unit unit;
    unit.id = fmt::format("U{:02}", u + 1);
    unit.name = u < static_cast<int>(kUnitNames.size()) ? std::string(kUnitNames[static_cast<size_t>(u)])
                                                        : fmt::format("Operating Unit {}", u + 1);
    unit.supervisor = MakePerson("US-" + unit.id, names.Draw(rng));
    unit.physician = MakePerson("OP-" + unit.id, names.Draw(rng));
    pop.units.push_back(std::move(unit));
  }
}

// Grids go round-robin over units, so each unit gets grids/units of them (~12 by default). Returns each
// grid's share of the workers.
std::vector<double> DrawGrids(const PopulationOptions& options, NameDrawer& names, Rng& rng, Population& pop) {
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
  return grid_weights;
}

// About 25% hypertensive: ~1% high-risk grade 3, ~5% grade 2, the rest grade 1. `engaged` scales how
// often the worker self-tests.
void DrawBloodPressure(double engaged, int64_t now_ms, Rng& rng, Worker& worker) {
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
}

Worker DrawWorker(int number, NameDrawer& names, std::discrete_distribution<uint32_t>& pick_grid,
                  std::gamma_distribution<double>& engagement, int64_t now_ms, Rng& rng) {
  Worker worker;
  worker.id = fmt::format("W{:06}", number);
  worker.name = names.Draw(rng);
  worker.grid = pick_grid(rng);
  worker.pulse_mean = std::clamp(Normal(rng, 74, 8), 55.0, 95.0);
  worker.weight_kg = std::clamp(Normal(rng, 68, 11), 42.0, 130.0);
  worker.height_cm = std::clamp(Normal(rng, 168, 7), 148.0, 195.0);
  worker.habit_minute = static_cast<int>(std::clamp(
      Chance(rng, 0.6) ? Normal(rng, 7.5 * 60, 40) : Normal(rng, 19 * 60, 60), 6.0 * 60, 21.5 * 60));
  DrawBloodPressure(engagement(rng), now_ms, rng, worker);
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
  return worker;
}

}  // namespace

Population BuildPopulation(const PopulationOptions& options, int64_t now_ms, Rng& rng) {
  Population pop;
  NameDrawer names;
  DrawUnits(options, names, rng, pop);
  const std::vector<double> grid_weights = DrawGrids(options, names, rng, pop);
  std::discrete_distribution<uint32_t> pick_grid(grid_weights.begin(), grid_weights.end());
  std::gamma_distribution<double> engagement(2.0, 0.5);  // mean 1: some test often, some rarely
  for (int w = 0; w < options.workers; ++w) {
    pop.workers.push_back(DrawWorker(w + 1, names, pick_grid, engagement, now_ms, rng));
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
  if (!worker.active) profile.set_enrolment(hg::LEFT_PROGRAMME);
  profile.set_updated_at_ms(worker.profile_updated_ms);
  return profile;
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

}  // namespace alertd::cli::sim
