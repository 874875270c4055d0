// One worker's state as the query API's JSON, graded by the worker's effective policy.
#include "engine/app/worker_json.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/domain/blood_pressure.h"
#include "engine/domain/rules/glucose_findings.h"
#include "engine/domain/worker_policy.h"
#include "engine/notify/words.h"
#include "engine/wire/convert.h"

namespace alertd::app {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

json OptionalMs(const std::optional<domain::ProcessingTime>& t) { return t ? json(t->ms) : json(nullptr); }

json PostsJson(const domain::WorkerProfile& profile) {
  json posts = json::array();
  for (domain::HighRiskPost post : profile.high_risk_posts) posts.push_back(domain::Name(post));
  return posts;
}

json ConditionsJson(const domain::WorkerProfile& profile) {
  json conditions = json::array();
  if (profile.diagnosed_hypertension_grade > 0) {
    conditions.push_back("hypertension_grade" + std::to_string(profile.diagnosed_hypertension_grade));
  }
  if (profile.coronary_heart_disease) conditions.push_back("coronary_heart_disease");
  if (profile.diabetes) conditions.push_back("diabetes");
  return conditions;
}

// "HEALTH_MANAGER" and the like, as levels are spelled: the role's proto name without its "ROLE_".
std::string RoleWord(domain::RecipientRole role) {
  const std::string name = pb::RecipientRole_Name(wire::ToProto(role));
  return name.starts_with("ROLE_") ? name.substr(5) : name;
}

json RecipientsJson(const std::vector<domain::Recipient>& recipients) {
  json people = json::array();
  for (const domain::Recipient& r : recipients) {
    people.push_back({{"role", RoleWord(r.role)}, {"staff_id", r.id}, {"name", r.name}});
  }
  return people;
}

json StepJson(const domain::EpisodeStep& step) {
  return {{"sequence", step.sequence},
          {"state", pb::EscalationState_Name(wire::ToProto(step.state))},
          {"level", pb::EscalationLevel_Name(wire::ToProto(step.level))},
          {"severity", pb::Severity_Name(wire::ToProto(step.severity))},
          {"at_ms", step.at.ms},
          {"recipients", RecipientsJson(step.recipients)}};
}

// The newest step, compact: enough for a list of a grid's escalations to say who has it now.
json ToldJson(const domain::OpenEpisode& e) {
  if (e.history.empty()) return nullptr;  // a record from before the history existed
  const domain::EpisodeStep& newest = e.history.back();
  return {{"at_ms", newest.at.ms},
          {"state", pb::EscalationState_Name(wire::ToProto(newest.state))},
          {"recipients", RecipientsJson(newest.recipients)}};
}

json WorkerIdentity(const domain::WorkerState& state, const std::string& worker_id) {
  const domain::WorkerProfile* p = state.profile ? &*state.profile : nullptr;
  return {{"id", worker_id},
          {"name", p ? p->name : ""},
          {"unit_id", p ? p->unit_id : ""},
          {"grid_id", p ? p->grid_id : ""}};
}

}  // namespace

const char* CategoryWord(domain::BpCategory category) {
  switch (category) {
    case domain::BpCategory::kNormal:
      return "normal";
    case domain::BpCategory::kHighNormal:
      return "elevated";
    case domain::BpCategory::kGrade1:
      return "grade1";
    case domain::BpCategory::kGrade2:
      return "grade2";
    case domain::BpCategory::kGrade3:
      return "grade3";
  }
  return "unknown";
}

json BpJson(const domain::BpSample& s, const domain::Policy& p) {
  const domain::BpClassification c = domain::ClassifyBp(s.systolic_mmhg, s.diastolic_mmhg, p.bp);
  const bool abnormal = c.category >= domain::BpCategory::kGrade1 || c.hypotension ||
                        s.systolic_mmhg >= p.r6_abnormal_systolic || s.diastolic_mmhg >= p.r6_abnormal_diastolic ||
                        s.systolic_mmhg >= p.r1_critical_systolic || s.diastolic_mmhg >= p.r1_critical_diastolic;
  return {{"measured_at_ms", s.measured_at.ms},
          {"systolic", s.systolic_mmhg},
          {"diastolic", s.diastolic_mmhg},
          {"pulse", s.pulse_bpm == 0 ? json(nullptr) : json(s.pulse_bpm)},
          {"category", CategoryWord(c.category)},
          {"hypotension", c.hypotension},
          {"abnormal", abnormal}};
}

json GlucoseJson(const domain::GlucoseSample& s, const domain::Policy& p) {
  return {{"measured_at_ms", s.measured_at.ms},
          {"mmol_per_l", s.mmol_per_l},
          {"fasting", s.timing == domain::GlucoseTiming::kFasting},
          {"abnormal", domain::HighGlucose(s, p) || domain::Hypoglycaemia(s, p)}};
}

json EpisodeJson(const domain::WorkerState& state, const std::string& worker_id, const domain::OpenEpisode& e) {
  const pb::Rule rule = wire::ToProto(e.rule);
  return {{"episode_id", e.episode_id},
          {"worker_id", worker_id},
          {"worker_name", state.profile ? state.profile->name : ""},
          {"rule", notify::RuleCode(rule)},
          {"rule_zh", notify::RuleWords(rule, notify::Language::kZhCN)},
          {"rule_en", notify::RuleWords(rule, notify::Language::kEn)},
          {"severity", pb::Severity_Name(wire::ToProto(e.severity))},
          {"level", pb::EscalationLevel_Name(wire::ToProto(e.level))},
          {"opened_at_ms", e.opened_at.ms},
          {"last_trigger_at_ms", e.last_trigger_at.ms},
          {"trigger_count", e.trigger_count},
          {"acknowledged", e.acknowledged},
          {"acked_by", e.acknowledged ? json{{"id", e.acked_by.id}, {"name", e.acked_by.name}} : json(nullptr)},
          {"acked_at_ms", e.acknowledged ? json(e.acked_at.ms) : json(nullptr)},
          {"snoozed_until_ms", OptionalMs(e.snoozed_until)},
          {"next_deadline_ms", OptionalMs(e.next_deadline)},
          {"told", ToldJson(e)}};
}

json HistoryJson(const domain::OpenEpisode& e) {
  json steps = json::array();
  for (const domain::EpisodeStep& step : e.history) steps.push_back(StepJson(step));
  return steps;
}

SelfTestClock SelfTestOf(const domain::WorkerState& state) {
  // An open R3 episode is the overdue self-test itself: its opened_at is the due time it missed.
  for (const domain::OpenEpisode& e : state.open) {
    if (e.rule == domain::Rule::kR3SelfTestMissed) return {true, e.opened_at.ms};
  }
  SelfTestClock clock;
  clock.enrolled = state.self_test_since.has_value() || state.self_test_due.has_value();
  if (state.self_test_due) clock.due_at_ms = state.self_test_due->ms;
  return clock;
}

json WorkerJson(const domain::WorkerState& state, const std::string& worker_id, const domain::Policy& global,
                int32_t partition, const std::string& owner) {
  const domain::WorkerPolicy worker_policy(global, state);
  const domain::Policy& p = worker_policy.get();
  json worker = WorkerIdentity(state, worker_id);
  worker["posts"] = state.profile ? PostsJson(*state.profile) : json::array();
  worker["conditions"] = state.profile ? ConditionsJson(*state.profile) : json::array();
  json bp = json::array();
  for (const domain::BpSample& s : state.bp_window) bp.push_back(BpJson(s, p));
  json glucose = json::array();
  for (const domain::GlucoseSample& s : state.glucose_window) glucose.push_back(GlucoseJson(s, p));
  json episodes = json::array();
  for (const domain::OpenEpisode& e : state.open) {
    json episode = EpisodeJson(state, worker_id, e);
    episode["history"] = HistoryJson(e);
    episodes.push_back(std::move(episode));
  }
  const SelfTestClock self_test = SelfTestOf(state);
  return {{"worker", worker},
          {"partition", partition},
          {"owner", owner},
          {"bp", bp},
          {"glucose", glucose},
          {"thresholds",
           {{"bp_high_systolic", std::min(p.bp.grade1_systolic, p.r6_abnormal_systolic)},
            {"bp_high_diastolic", std::min(p.bp.grade1_diastolic, p.r6_abnormal_diastolic)},
            {"bp_critical_systolic", p.r1_critical_systolic},
            {"bp_critical_diastolic", p.r1_critical_diastolic},
            {"bp_low_systolic", p.bp.hypotension_systolic},
            {"bp_low_diastolic", p.bp.hypotension_diastolic},
            {"glucose_high_mmol", p.glucose_fasting_high},
            {"glucose_high_fasting_mmol", p.glucose_fasting_high},
            {"glucose_high_random_mmol", p.glucose_random_high},
            {"glucose_low_mmol", p.glucose_hypo}}},
          {"episodes", episodes},
          {"self_test",
           {{"enrolled", self_test.enrolled},
            {"due_at_ms", self_test.due_at_ms ? json(*self_test.due_at_ms) : json(nullptr)},
            {"newest_bp_at_ms", state.newest_bp_at ? json(state.newest_bp_at->ms) : json(nullptr)}}}};
}

json WorkerRowJson(const domain::WorkerState& state, const std::string& worker_id, const domain::Policy& global) {
  const domain::WorkerPolicy worker_policy(global, state);
  const domain::Policy& p = worker_policy.get();
  json row = WorkerIdentity(state, worker_id);
  row["latest_bp"] = state.bp_window.empty() ? json(nullptr) : BpJson(state.bp_window.back(), p);
  row["latest_glucose"] = state.glucose_window.empty() ? json(nullptr) : GlucoseJson(state.glucose_window.back(), p);
  row["open_episodes"] = state.open.size();
  std::optional<domain::Severity> highest;
  for (const domain::OpenEpisode& e : state.open) {
    if (!highest || e.severity > *highest) highest = e.severity;
  }
  row["highest_severity"] = highest ? json(pb::Severity_Name(wire::ToProto(*highest))) : json(nullptr);
  return row;
}

}  // namespace alertd::app
