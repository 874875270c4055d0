// The query API's JSON from worker states (pure: state in, JSON out): abnormal by the worker's own
// policy at its boundaries, episodes, self-test clock, grid reports and the merge of instances' parts.
#include "engine/app/worker_json.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "engine/app/query.h"

namespace alertd::app {
namespace {

using domain::BpCategory;
using nlohmann::json;

constexpr int64_t kNow = 1795476614000;  // 2026-11-24 07:30:14 +08:00

domain::BpSample Bp(int systolic, int diastolic, int64_t at = kNow) {
  return {.measured_at = {at}, .systolic_mmhg = systolic, .diastolic_mmhg = diastolic, .pulse_bpm = 72,
          .category = BpCategory::kNormal, .station_id = "S1", .device_id = "D1",
          .context = domain::ReadingContext::kSelfTest};
}

domain::WorkerState Worker(const std::string& grid, const std::string& unit) {
  domain::WorkerState s;
  s.profile = domain::WorkerProfile{};
  s.profile->name = "李明";
  s.profile->grid_id = grid;
  s.profile->unit_id = unit;
  return s;
}

struct BpRow {
  const char* name;
  int systolic;
  int diastolic;
  bool lowered_thresholds;  // the worker's own policy: abnormal from 130/85, critical from 170/105
  const char* category;
  bool abnormal;
  friend void PrintTo(const BpRow& r, std::ostream* os) { *os << r.name; }
};

class BpAbnormalTest : public ::testing::TestWithParam<BpRow> {};

TEST_P(BpAbnormalTest, AbnormalFollowsTheWorkersEffectivePolicy) {
  const BpRow& row = GetParam();
  domain::WorkerState s = Worker("G1", "U1");
  if (row.lowered_thresholds) {
    s.profile->policy.abnormal_systolic_mmhg = 130;
    s.profile->policy.abnormal_diastolic_mmhg = 85;
    s.profile->policy.critical_systolic_mmhg = 170;
    s.profile->policy.critical_diastolic_mmhg = 105;
  }
  s.bp_window = {Bp(row.systolic, row.diastolic)};
  const json got = WorkerJson(s, "W1", domain::Policy{}, 3, "alertd-a");
  ASSERT_EQ(got["bp"].size(), 1u);
  EXPECT_EQ(got["bp"][0]["category"], row.category);
  EXPECT_EQ(got["bp"][0]["abnormal"], row.abnormal);
  const json row_json = WorkerRowJson(s, "W1", domain::Policy{});
  EXPECT_EQ(row_json["latest_bp"]["abnormal"], row.abnormal);
}

INSTANTIATE_TEST_SUITE_P(
    Boundaries, BpAbnormalTest,
    ::testing::Values(BpRow{"normal_119_79", 119, 79, false, "normal", false},
                      BpRow{"elevated_139_89", 139, 89, false, "elevated", false},
                      BpRow{"grade1_systolic_140", 140, 80, false, "grade1", true},
                      BpRow{"grade1_diastolic_90", 130, 90, false, "grade1", true},
                      BpRow{"grade3_180_110", 180, 110, false, "grade3", true},
                      BpRow{"hypotension_89_59", 89, 59, false, "normal", true},
                      BpRow{"own_policy_129_84_normal", 129, 84, true, "elevated", false},
                      BpRow{"own_policy_130_systolic", 130, 70, true, "elevated", true},
                      BpRow{"own_policy_85_diastolic", 120, 85, true, "elevated", true}),
    [](const ::testing::TestParamInfo<BpRow>& param) { return std::string(param.param.name); });

TEST(WorkerJson, ThresholdsAreTheWorkersOwn) {
  domain::WorkerState s = Worker("G1", "U1");
  s.profile->policy.abnormal_systolic_mmhg = 130;
  s.profile->policy.critical_systolic_mmhg = 170;
  s.profile->policy.critical_diastolic_mmhg = 105;
  const json t = WorkerJson(s, "W1", domain::Policy{}, 0, "a")["thresholds"];
  EXPECT_EQ(t["bp_high_systolic"], 130);
  EXPECT_EQ(t["bp_high_diastolic"], 90);
  EXPECT_EQ(t["bp_critical_systolic"], 170);
  EXPECT_EQ(t["bp_critical_diastolic"], 105);
  EXPECT_EQ(t["glucose_low_mmol"], 3.9);
  const json plain = WorkerJson(Worker("G1", "U1"), "W2", domain::Policy{}, 0, "a")["thresholds"];
  EXPECT_EQ(plain["bp_high_systolic"], 140);
  EXPECT_EQ(plain["bp_critical_systolic"], 180);
}

TEST(WorkerJson, GlucoseIsAbnormalAsR5CallsIt) {
  domain::WorkerState s = Worker("G1", "U1");
  auto glucose = [](double mmol, domain::GlucoseTiming timing) {
    return domain::GlucoseSample{.measured_at = {kNow}, .mmol_per_l = mmol, .timing = timing, .station_id = "",
                                 .device_id = "", .context = domain::ReadingContext::kSelfTest};
  };
  s.glucose_window = {glucose(6.9, domain::GlucoseTiming::kFasting), glucose(7.0, domain::GlucoseTiming::kFasting),
                      glucose(11.0, domain::GlucoseTiming::kRandom), glucose(11.1, domain::GlucoseTiming::kRandom),
                      glucose(3.9, domain::GlucoseTiming::kRandom), glucose(3.8, domain::GlucoseTiming::kRandom)};
  const json g = WorkerJson(s, "W1", domain::Policy{}, 0, "a")["glucose"];
  ASSERT_EQ(g.size(), 6u);
  EXPECT_EQ(g[0]["abnormal"], false);
  EXPECT_EQ(g[0]["fasting"], true);
  EXPECT_EQ(g[1]["abnormal"], true);
  EXPECT_EQ(g[2]["abnormal"], false);
  EXPECT_EQ(g[3]["abnormal"], true);
  EXPECT_EQ(g[4]["abnormal"], false);
  EXPECT_EQ(g[5]["abnormal"], true);
}

domain::OpenEpisode Episode(domain::Rule rule, int64_t opened, domain::Severity severity) {
  domain::OpenEpisode e;
  e.rule = rule;
  e.episode_id = "ep-" + std::to_string(opened);
  e.severity = severity;
  e.level = domain::EscalationLevel::kHealthManager;
  e.opened_at = {opened};
  e.last_trigger_at = {opened};
  return e;
}

TEST(WorkerJson, AnEpisodeSaysWhoAcknowledgedAndWhatIsPending) {
  domain::WorkerState s = Worker("G1", "U1");
  domain::OpenEpisode e = Episode(domain::Rule::kR1CriticalBp, kNow, domain::Severity::kUrgent);
  e.acknowledged = true;
  e.acked_by = {"HM-7", "周波"};
  e.acked_at = {kNow + 60000};
  e.next_deadline = domain::ProcessingTime{kNow + domain::kDayMs};
  s.open = {e, Episode(domain::Rule::kR2SustainedHypertension, kNow, domain::Severity::kHigh)};
  const json got = WorkerJson(s, "W1", domain::Policy{}, 5, "alertd-b");
  EXPECT_EQ(got["partition"], 5);
  EXPECT_EQ(got["owner"], "alertd-b");
  ASSERT_EQ(got["episodes"].size(), 2u);
  const json& r1 = got["episodes"][0];
  EXPECT_EQ(r1["rule"], "R1");
  EXPECT_EQ(r1["severity"], "URGENT");
  EXPECT_EQ(r1["level"], "HEALTH_MANAGER");
  EXPECT_EQ(r1["worker_name"], "李明");
  EXPECT_EQ(r1["acknowledged"], true);
  EXPECT_EQ(r1["acked_by"], (json{{"id", "HM-7"}, {"name", "周波"}}));
  EXPECT_EQ(r1["acked_at_ms"], kNow + 60000);
  EXPECT_EQ(r1["next_deadline_ms"], kNow + domain::kDayMs);
  EXPECT_TRUE(r1["snoozed_until_ms"].is_null());
  EXPECT_FALSE(r1["rule_zh"].get<std::string>().empty());
  EXPECT_TRUE(got["episodes"][1]["acked_by"].is_null());
  EXPECT_EQ(WorkerRowJson(s, "W1", domain::Policy{})["highest_severity"], "URGENT");
  EXPECT_EQ(WorkerRowJson(s, "W1", domain::Policy{})["open_episodes"], 2);
}

// An R1 episode told to the health manager, climbed to the unit supervisor, then re-sent to both.
domain::OpenEpisode ToldThrice() {
  domain::OpenEpisode e = Episode(domain::Rule::kR1CriticalBp, kNow, domain::Severity::kUrgent);
  const domain::Recipient manager{"HM-7", "周波", domain::RecipientRole::kHealthManager};
  const domain::Recipient supervisor{"SUP-2", "陈军", domain::RecipientRole::kUnitSupervisor};
  const domain::Recipient doctor{"DR-9", "刘医生", domain::RecipientRole::kExtra};
  e.history = {{1, domain::EscalationState::kOpen, domain::EscalationLevel::kHealthManager, domain::Severity::kUrgent,
                domain::ProcessingTime{kNow + 1000}, {manager, doctor}},
               {2, domain::EscalationState::kEscalated, domain::EscalationLevel::kUnitSupervisor,
                domain::Severity::kUrgent, domain::ProcessingTime{kNow + 1000 + 30 * 60000}, {manager, supervisor}},
               {5, domain::EscalationState::kRenotified, domain::EscalationLevel::kUnitSupervisor,
                domain::Severity::kCritical, domain::ProcessingTime{kNow + 3 * domain::kDayMs}, {manager, supervisor}}};
  e.last_sequence = 5;
  return e;
}

TEST(WorkerJson, AnEpisodesHistorySaysWhoWasToldAndWhen) {
  domain::WorkerState s = Worker("G1", "U1");
  s.open = {ToldThrice()};
  const json got = WorkerJson(s, "W1", domain::Policy{}, 0, "a")["episodes"][0];
  const json manager = {{"role", "HEALTH_MANAGER"}, {"staff_id", "HM-7"}, {"name", "周波"}};
  const json supervisor = {{"role", "UNIT_SUPERVISOR"}, {"staff_id", "SUP-2"}, {"name", "陈军"}};
  const json doctor = {{"role", "EXTRA"}, {"staff_id", "DR-9"}, {"name", "刘医生"}};
  EXPECT_EQ(got["history"], json::parse(R"([
    {"sequence": 1, "state": "OPEN", "level": "HEALTH_MANAGER", "severity": "URGENT", "at_ms": 1795476615000,
     "recipients": [)" + manager.dump() + "," + doctor.dump() + R"(]},
    {"sequence": 2, "state": "ESCALATED", "level": "UNIT_SUPERVISOR", "severity": "URGENT", "at_ms": 1795478415000,
     "recipients": [)" + manager.dump() + "," + supervisor.dump() + R"(]},
    {"sequence": 5, "state": "RENOTIFIED", "level": "UNIT_SUPERVISOR", "severity": "CRITICAL", "at_ms": 1795735814000,
     "recipients": [)" + manager.dump() + "," + supervisor.dump() + R"(]}])"));
  EXPECT_EQ(got["told"], (json{{"at_ms", kNow + 3 * domain::kDayMs},
                               {"state", "RENOTIFIED"},
                               {"recipients", {manager, supervisor}}}));
}

TEST(WorkerJson, AnEpisodeStoredWithoutHistoryHasAnEmptyOneAndNobodyTold) {
  domain::WorkerState s = Worker("G1", "U1");
  s.open = {Episode(domain::Rule::kR2SustainedHypertension, kNow, domain::Severity::kHigh)};
  const json got = WorkerJson(s, "W1", domain::Policy{}, 0, "a")["episodes"][0];
  EXPECT_EQ(got["history"], json::array());
  EXPECT_TRUE(got["told"].is_null());
}

TEST(GroupReport, EscalationsSayWhoWasToldLastButNotTheWholeHistory) {
  domain::WorkerState a = Worker("G1", "U1");
  a.open = {ToldThrice()};
  GroupReport escalations({GroupKind::kGrid, "G1"}, GroupAnswer::kEscalations, domain::Policy{}, kNow);
  escalations.Add("A", a);
  const json e = escalations.Json()["escalations"];
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0]["told"]["at_ms"], kNow + 3 * domain::kDayMs);
  EXPECT_EQ(e[0]["told"]["recipients"].size(), 2u);
  EXPECT_EQ(e[0]["told"]["recipients"][1]["staff_id"], "SUP-2");
  EXPECT_FALSE(e[0].contains("history"));
}

TEST(WorkerJson, AnOpenR3EpisodeIsTheMissedDueTime) {
  domain::WorkerState s = Worker("G1", "U1");
  EXPECT_FALSE(SelfTestOf(s).enrolled);
  s.self_test_since = domain::ProcessingTime{kNow - 9 * domain::kDayMs};
  s.self_test_due = domain::ProcessingTime{kNow + domain::kDayMs};
  EXPECT_TRUE(SelfTestOf(s).enrolled);
  EXPECT_EQ(SelfTestOf(s).due_at_ms, kNow + domain::kDayMs);
  s.self_test_due.reset();
  s.open = {Episode(domain::Rule::kR3SelfTestMissed, kNow - domain::kDayMs, domain::Severity::kHigh)};
  const json st = WorkerJson(s, "W1", domain::Policy{}, 0, "a")["self_test"];
  EXPECT_EQ(st["enrolled"], true);
  EXPECT_EQ(st["due_at_ms"], kNow - domain::kDayMs);
  EXPECT_TRUE(st["newest_bp_at_ms"].is_null());
}

TEST(GroupReport, ListsOnlyTheGroupsWorkersSortedAndCapped) {
  GroupReport report({GroupKind::kGrid, "G1"}, GroupAnswer::kWorkers, domain::Policy{}, kNow, 2);
  report.Add("W3", Worker("G1", "U1"));
  report.Add("W9", Worker("G2", "U1"));
  report.Add("W1", Worker("G1", "U1"));
  domain::WorkerState no_profile;
  report.Add("W0", no_profile);
  json got = report.Json();
  ASSERT_EQ(got["workers"].size(), 2u);
  EXPECT_EQ(got["workers"][0]["id"], "W1");
  EXPECT_EQ(got["workers"][1]["id"], "W3");
  EXPECT_EQ(got["truncated"], false);
  report.Add("W2", Worker("G1", "U1"));
  got = report.Json();
  EXPECT_EQ(got["truncated"], true);
  EXPECT_EQ(got["workers"][1]["id"], "W2");
}

TEST(GroupReport, EscalationsOldestFirstAndComplianceCountsTheUnit) {
  domain::WorkerState a = Worker("G1", "U1");
  a.open = {Episode(domain::Rule::kR2SustainedHypertension, kNow - 5000, domain::Severity::kHigh)};
  domain::WorkerState b = Worker("G2", "U1");
  b.open = {Episode(domain::Rule::kR1CriticalBp, kNow - 9000, domain::Severity::kUrgent),
            Episode(domain::Rule::kR3SelfTestMissed, kNow - 1000, domain::Severity::kHigh)};
  b.self_test_since = domain::ProcessingTime{kNow - 20 * domain::kDayMs};
  domain::WorkerState c = Worker("G2", "U1");
  c.self_test_since = domain::ProcessingTime{kNow - 20 * domain::kDayMs};
  c.self_test_due = domain::ProcessingTime{kNow + domain::kDayMs};
  c.newest_bp_at = domain::EventTime{kNow - 2 * domain::kDayMs};

  GroupReport escalations({GroupKind::kUnit, "U1"}, GroupAnswer::kEscalations, domain::Policy{}, kNow);
  GroupReport compliance({GroupKind::kUnit, "U1"}, GroupAnswer::kCompliance, domain::Policy{}, kNow);
  for (auto* r : {&escalations, &compliance}) {
    r->Add("A", a);
    r->Add("B", b);
    r->Add("C", c);
  }
  const json e = escalations.Json()["escalations"];
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0]["rule"], "R1");
  EXPECT_EQ(e[1]["rule"], "R2");
  EXPECT_EQ(e[2]["rule"], "R3");
  const json got = compliance.Json();
  EXPECT_EQ(got["enrolled"], 2);
  EXPECT_EQ(got["tested_this_week"], 1);
  ASSERT_EQ(got["overdue"].size(), 1u);
  EXPECT_EQ(got["overdue"][0]["worker_id"], "B");
  EXPECT_EQ(got["overdue"][0]["due_at_ms"], kNow - 1000);
}

TEST(MergeGroupParts, JoinsSortsAddsAndSaysWhatIsMissing) {
  const json a = {{"workers", {{{"id", "W5"}}}}, {"truncated", false}, {"partitions", {0, 1}}};
  const json b = {{"workers", {{{"id", "W2"}}, {{"id", "W7"}}}}, {"truncated", false}, {"partitions", {2}}};
  json got = MergeGroupParts(GroupAnswer::kWorkers, {a, b}, {3}, 2);
  ASSERT_EQ(got["workers"].size(), 2u);
  EXPECT_EQ(got["workers"][0]["id"], "W2");
  EXPECT_EQ(got["workers"][1]["id"], "W5");
  EXPECT_EQ(got["truncated"], true);
  EXPECT_EQ(got["partial"], true);
  EXPECT_EQ(got["missing_partitions"], json({3}));
  got = MergeGroupParts(GroupAnswer::kCompliance,
                        {{{"overdue", json::array()}, {"enrolled", 3}, {"tested_this_week", 2}},
                         {{"overdue", json::array()}, {"enrolled", 4}, {"tested_this_week", 1}}},
                        {});
  EXPECT_EQ(got["enrolled"], 7);
  EXPECT_EQ(got["tested_this_week"], 3);
  EXPECT_EQ(got["partial"], false);
  EXPECT_EQ(got["missing_partitions"], json::array());
}

}  // namespace
}  // namespace alertd::app
