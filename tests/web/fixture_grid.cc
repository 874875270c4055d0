// The grid view's fixture grid: five workers of unit U01 (grids G01 and G02), thirty days of readings.
#include "tests/web/fixture_grid.h"

#include <algorithm>

namespace alertd::web::fixture {
namespace {

using nlohmann::json;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// China 2018 guideline grades, spelled like the engine's labels.
std::string BpCategory(int systolic, int diastolic) {
  if (systolic >= 180 || diastolic >= 110) return "grade_3";
  if (systolic >= 160 || diastolic >= 100) return "grade_2";
  if (systolic >= 140 || diastolic >= 90) return "grade_1";
  if (systolic >= 120 || diastolic >= 80) return "high_normal";
  return "normal";
}

json Thresholds(int high_systolic, int high_diastolic) {
  return {{"bp_high_systolic", high_systolic}, {"bp_high_diastolic", high_diastolic},
          {"bp_critical_systolic", 180},       {"bp_critical_diastolic", 110},
          {"glucose_high_mmol", 11.1},         {"glucose_low_mmol", 3.9}};
}

void AddBp(FixtureWorker& w, int64_t at_ms, int systolic, int diastolic) {
  const bool abnormal = systolic >= w.thresholds["bp_high_systolic"].get<int>() ||
                        diastolic >= w.thresholds["bp_high_diastolic"].get<int>();
  w.bp.push_back({{"measured_at_ms", at_ms}, {"systolic", systolic}, {"diastolic", diastolic}, {"pulse", 72},
                  {"category", BpCategory(systolic, diastolic)}, {"abnormal", abnormal}});
}

void AddGlucose(FixtureWorker& w, int64_t at_ms, double mmol, bool fasting) {
  const bool abnormal = mmol >= w.thresholds["glucose_high_mmol"].get<double>() ||
                        mmol < w.thresholds["glucose_low_mmol"].get<double>();
  w.glucose.push_back({{"measured_at_ms", at_ms}, {"mmol_per_l", mmol}, {"fasting", fasting}, {"abnormal", abnormal}});
}

// Thirty days of one reading a day, a deterministic wave around the worker's usual pressure.
void AddMonth(FixtureWorker& w, int64_t now_ms, int systolic, int diastolic) {
  for (int day = 29; day >= 1; --day) {
    AddBp(w, now_ms - day * kDay - 3 * kHour, systolic + (day * 7) % 23 - 11, diastolic + (day * 5) % 13 - 6);
  }
}

FixtureWorker MakeWorker(const std::string& id, const std::string& name, const std::string& grid, int partition,
                         json posts = json::array()) {
  FixtureWorker w;
  w.profile = {{"id", id}, {"name", name}, {"unit_id", "U01"}, {"grid_id", grid},
               {"posts", std::move(posts)}, {"conditions", json::array()}};
  w.thresholds = Thresholds(140, 90);
  w.self_test = {{"enrolled", false}, {"due_at_ms", nullptr}, {"newest_bp_at_ms", nullptr}};
  w.partition = partition;
  return w;
}

json Episode(const FixtureWorker& w, const std::string& rule, const std::string& rule_zh, const std::string& rule_en,
             const std::string& severity, const std::string& level, int64_t opened_at_ms) {
  return {{"episode_id", "ep-" + w.profile["id"].get<std::string>() + "-" + rule},
          {"worker_id", w.profile["id"]}, {"worker_name", w.profile["name"]},
          {"rule", rule}, {"rule_zh", rule_zh}, {"rule_en", rule_en},
          {"severity", severity}, {"level", level},
          {"opened_at_ms", opened_at_ms}, {"last_trigger_at_ms", opened_at_ms}, {"trigger_count", 1},
          {"acknowledged", false}, {"acked_by", nullptr}, {"acked_at_ms", nullptr},
          {"snoozed_until_ms", nullptr}, {"next_deadline_ms", opened_at_ms + 4 * kHour}};
}

json Told(const std::string& role, const std::string& staff_id, const std::string& name) {
  return {{"role", role}, {"staff_id", staff_id}, {"name", name}};
}

// One step of an episode's history, as GET /api/v1/workers/<id> lists them.
json Step(int sequence, const std::string& state, const std::string& level, const std::string& severity,
          int64_t at_ms, json recipients) {
  return {{"sequence", sequence}, {"state", state}, {"level", level}, {"severity", severity}, {"at_ms", at_ms},
          {"recipients", std::move(recipients)}};
}

// Sets the episode's history and "told" (its newest step, compact) together, as alertd answers them.
void SetHistory(json& episode, json history) {
  const json& newest = history.back();
  episode["told"] = {{"at_ms", newest["at_ms"]}, {"state", newest["state"]}, {"recipients", newest["recipients"]}};
  episode["history"] = std::move(history);
}

const json kManager = Told("HEALTH_MANAGER", "hm-g01", "王芳");
const json kSupervisor = Told("UNIT_SUPERVISOR", "sup-u01", "刘洋");

int SeverityRank(const std::string& severity) {
  static const std::vector<std::string> kOrder = {"INFO", "HIGH", "URGENT", "CRITICAL"};
  return static_cast<int>(std::find(kOrder.begin(), kOrder.end(), severity) - kOrder.begin());
}

}  // namespace

FixtureGrid::FixtureGrid(int64_t now_ms) {
  // A driver unfit before his shift: 168/104 two hours ago, R4 open and not acknowledged.
  FixtureWorker zhang = MakeWorker("W001", "张伟", "G01", 0, json::array({"driver"}));
  AddMonth(zhang, now_ms, 150, 95);
  AddBp(zhang, now_ms - 2 * kHour, 168, 104);
  AddGlucose(zhang, now_ms - 2 * kHour, 5.4, true);
  json fitness = Episode(zhang, "R4", "上岗前体检", "pre-shift fitness", "URGENT", "HEALTH_MANAGER", now_ms - 2 * kHour);
  SetHistory(fitness, {Step(1, "OPEN", "HEALTH_MANAGER", "URGENT", now_ms - 2 * kHour + 2000, {kManager})});
  episodes_.push_back(fitness);

  // Focus-tracked with thresholds of her own (135/85): 128/82 is normal for her, glucose 13.2 is not.
  FixtureWorker li = MakeWorker("W002", "李娜", "G01", 1);
  li.thresholds = Thresholds(135, 85);
  li.profile["conditions"] = json::array({"diabetes"});
  AddMonth(li, now_ms, 128, 80);
  AddBp(li, now_ms - 5 * kHour, 128, 82);
  for (int day = 29; day >= 1; day -= 2) AddGlucose(li, now_ms - day * kDay, 6.0 + (day % 7) * 0.6, day % 4 == 1);
  AddGlucose(li, now_ms - 10 * kDay + kHour, 3.1, false);
  std::sort(li.glucose.begin(), li.glucose.end(),
            [](const json& a, const json& b) { return a["measured_at_ms"] < b["measured_at_ms"]; });
  AddGlucose(li, now_ms - 3 * kHour, 13.2, true);
  json glucose_episode = Episode(li, "R5", "血糖异常", "glucose", "HIGH", "WORKER", now_ms - 3 * kHour);
  glucose_episode["acknowledged"] = true;
  glucose_episode["acked_by"] = {{"id", "hm-g01"}, {"name", "王芳"}};
  glucose_episode["acked_at_ms"] = now_ms - 30 * kMinute;
  SetHistory(glucose_episode, {Step(1, "OPEN", "WORKER", "HIGH", now_ms - 3 * kHour + 1000,
                                    {Told("WORKER", "W002", "李娜")})});
  episodes_.push_back(glucose_episode);

  // A name a page must print as text, never run.
  FixtureWorker zhao = MakeWorker("W003", "<img src=x onerror=\"window.__xss=1\">赵六", "G01", 2);
  AddBp(zhao, now_ms - 26 * kHour, 118, 76);
  AddGlucose(zhao, now_ms - 26 * kHour, 3.2, false);

  // Grade-2 hypertension, enrolled in the weekly self-test, two days overdue, nothing measured in the window.
  FixtureWorker chen = MakeWorker("W004", "陈静", "G01", 3);
  chen.self_test = {{"enrolled", true}, {"due_at_ms", now_ms - 2 * kDay}, {"newest_bp_at_ms", now_ms - 9 * kDay}};
  // Reminded, climbed to the health manager, then told again after a snooze; the step between is one
  // the engine no longer keeps (sequence 3).
  json self_test = Episode(chen, "R3", "每周自测未完成", "self-test missed", "HIGH", "HEALTH_MANAGER",
                           now_ms - 26 * kHour);
  SetHistory(self_test, {Step(1, "OPEN", "WORKER", "HIGH", now_ms - 2 * kDay, {Told("WORKER", "W004", "陈静")}),
                         Step(2, "ESCALATED", "HEALTH_MANAGER", "HIGH", now_ms - kDay, {kManager}),
                         Step(4, "RENOTIFIED", "HEALTH_MANAGER", "HIGH", now_ms - kHour, {kManager})});
  episodes_.push_back(self_test);

  // The other grid of the unit: critical blood pressure at the unit supervisor.
  FixtureWorker zhou = MakeWorker("W005", "周强", "G02", 3, json::array({"work_at_height"}));
  AddBp(zhou, now_ms - 50 * kMinute, 182, 112);
  json critical = Episode(zhou, "R1", "危急血压", "critical blood pressure", "CRITICAL", "UNIT_SUPERVISOR",
                          now_ms - 50 * kMinute);
  SetHistory(critical, {Step(1, "OPEN", "HEALTH_MANAGER", "CRITICAL", now_ms - 50 * kMinute, {kManager}),
                        Step(2, "ESCALATED", "UNIT_SUPERVISOR", "CRITICAL", now_ms - 20 * kMinute,
                             {kManager, kSupervisor})});
  episodes_.push_back(critical);

  for (FixtureWorker* w : {&zhang, &li, &zhao, &chen, &zhou}) workers_[w->profile["id"].get<std::string>()] = std::move(*w);
  std::sort(episodes_.begin(), episodes_.end(),
            [](const json& a, const json& b) { return a["opened_at_ms"] < b["opened_at_ms"]; });
}

bool FixtureGrid::Covers(const Viewer& viewer, const std::string& worker_id) const {
  const auto it = workers_.find(worker_id);
  if (it == workers_.end()) return viewer.scope == "*";
  const json& p = it->second.profile;
  return viewer.scope == "*" || viewer.scope == "worker:" + worker_id ||
         viewer.scope == "grid:" + p["grid_id"].get<std::string>() ||
         viewer.scope == "unit:" + p["unit_id"].get<std::string>();
}

bool FixtureGrid::CoversScope(const Viewer& viewer, const std::string& scope) const {
  if (viewer.scope == "*" || viewer.scope == scope) return true;
  if (scope.starts_with("worker:")) return Covers(viewer, scope.substr(7));
  // A unit token covers the unit's grids.
  if (scope.starts_with("grid:") && viewer.scope.starts_with("unit:")) {
    for (const auto& [id, w] : workers_) {
      if (w.profile["grid_id"] == scope.substr(5) && w.profile["unit_id"] == viewer.scope.substr(5)) return true;
    }
  }
  return false;
}

std::vector<const FixtureWorker*> FixtureGrid::Members(const std::string& group, const std::string& id) const {
  const std::string field = group == "units" ? "unit_id" : "grid_id";
  std::vector<const FixtureWorker*> members;
  for (const auto& [worker_id, w] : workers_) {
    // The unit's answer misses partition 3, as if the instance that owns it did not answer in time.
    if (PartialAnswer(group) && w.partition == 3) continue;
    if (w.profile[field] == id) members.push_back(&w);
  }
  return members;
}

std::vector<json> FixtureGrid::OpenEpisodes(const std::string& worker_id) const {
  std::vector<json> open;
  for (const json& e : episodes_) {
    if (e["worker_id"] == worker_id) open.push_back(e);
  }
  return open;
}

std::optional<json> FixtureGrid::Worker(const std::string& id) const {
  const auto it = workers_.find(id);
  if (it == workers_.end()) return std::nullopt;
  const FixtureWorker& w = it->second;
  return json{{"worker", w.profile}, {"partition", w.partition}, {"owner", "fixture"},
              {"bp", w.bp}, {"glucose", w.glucose}, {"thresholds", w.thresholds},
              {"episodes", OpenEpisodes(id)}, {"self_test", w.self_test}};
}

json FixtureGrid::Workers(const std::string& group, const std::string& id) const {
  json list = json::array();
  for (const FixtureWorker* w : Members(group, id)) {
    const std::vector<json> open = OpenEpisodes(w->profile["id"]);
    json highest = nullptr;
    for (const json& e : open) {
      if (highest.is_null() || SeverityRank(e["severity"]) > SeverityRank(highest)) highest = e["severity"];
    }
    list.push_back({{"id", w->profile["id"]}, {"name", w->profile["name"]}, {"unit_id", w->profile["unit_id"]},
                    {"grid_id", w->profile["grid_id"]},
                    {"latest_bp", w->bp.empty() ? json(nullptr) : w->bp.back()},
                    {"latest_glucose", w->glucose.empty() ? json(nullptr) : w->glucose.back()},
                    {"open_episodes", open.size()}, {"highest_severity", highest}});
  }
  return {{"workers", list}, {"partial", PartialAnswer(group)},
          {"missing_partitions", PartialAnswer(group) ? json::array({3}) : json::array()}, {"truncated", false}};
}

json FixtureGrid::Escalations(const std::string& group, const std::string& id) const {
  json list = json::array();
  for (const json& e : episodes_) {
    for (const FixtureWorker* w : Members(group, id)) {
      if (w->profile["id"] != e["worker_id"]) continue;
      json compact = e;
      compact.erase("history");  // the worker's answer alone lists it
      list.push_back(std::move(compact));
    }
  }
  return {{"escalations", list}, {"partial", PartialAnswer(group)},
          {"missing_partitions", PartialAnswer(group) ? json::array({3}) : json::array()}};
}

json FixtureGrid::Compliance(const std::string& group, const std::string& id, int64_t now_ms) const {
  int enrolled = 0;
  int tested = 0;
  json overdue = json::array();
  for (const FixtureWorker* w : Members(group, id)) {
    if (!w->self_test["enrolled"].get<bool>()) continue;
    ++enrolled;
    const json& due = w->self_test["due_at_ms"];
    if (!due.is_null() && due.get<int64_t>() < now_ms) {
      overdue.push_back({{"worker_id", w->profile["id"]}, {"name", w->profile["name"]}, {"due_at_ms", due}});
    } else {
      ++tested;
    }
  }
  return {{"enrolled", enrolled}, {"tested_this_week", tested}, {"overdue", overdue}, {"partial", PartialAnswer(group)}};
}

bool FixtureGrid::Act(const json& ack, const Viewer& viewer, int64_t now_ms) {
  const auto it = std::find_if(episodes_.begin(), episodes_.end(), [&](const json& e) {
    return e["episode_id"] == ack["episode_id"] && e["worker_id"] == ack["worker_id"] && e["rule"] == ack["rule"];
  });
  if (it == episodes_.end()) return false;
  const std::string action = ack["action"];
  if (action == "resolve") {
    episodes_.erase(it);
  } else if (action == "snooze") {
    (*it)["snoozed_until_ms"] = ack["snooze_until_ms"];
  } else {
    (*it)["acknowledged"] = true;
    (*it)["acked_by"] = {{"id", viewer.person_id}, {"name", viewer.person_name}};
    (*it)["acked_at_ms"] = now_ms;
  }
  return true;
}

}  // namespace alertd::web::fixture
