// The vocabulary tables of words.h: each code's words in Simplified Chinese and English.
#include "engine/notify/words.h"

#include <string>

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;

// One phrase in both languages; a table row, so a missing translation is a compile error.
struct Words {
  std::string_view zh;
  std::string_view en;
};

constexpr Words kUnknown{"未知", "unknown"};

std::string_view Pick(const Words& w, Language language) { return language == Language::kZhCN ? w.zh : w.en; }

// Severe hypoglycaemia is below 3.0 mmol/L, hypoglycaemia below 3.9 (DESIGN.md §4): the newest
// glucose quoted tells a low from a high R5 episode.
constexpr double kHypoBelowMmolPerL = 3.9;

bool NewestGlucoseIsLow(const pb::Escalation& event) {
  const int n = event.glucose_evidence_size();
  return n > 0 && event.glucose_evidence(n - 1).mmol_per_l() < kHypoBelowMmolPerL;
}

// Actions by level: worker, health manager, unit supervisor.
struct LadderWords {
  Words worker;
  Words health_manager;
  Words unit_supervisor;
};

const Words& AtLevel(const LadderWords& ladder, pb::EscalationLevel level) {
  switch (level) {
    case pb::WORKER:
      return ladder.worker;
    case pb::HEALTH_MANAGER:
      return ladder.health_manager;
    case pb::UNIT_SUPERVISOR:
      return ladder.unit_supervisor;
    default:
      return ladder.health_manager;  // an unknown level: the grid's health manager acts
  }
}

constexpr LadderWords kR1{
    {"请立即休息,5分钟后复测;如有头痛、胸闷、视物模糊,立即就医",
     "Rest now and retest in 5 minutes; see a doctor at once with headache, chest tightness or blurred vision"},
    {"请立即联系职工,安排复测,必要时转诊就医;30分钟内确认",
     "Contact the worker now, arrange a retest and refer to a doctor if needed; acknowledge within 30 minutes"},
    {"健康管理员未及时确认:请立即督办,确保职工得到诊治",
     "The health manager did not acknowledge in time: follow up now and make sure the worker sees a doctor"}};
constexpr LadderWords kR2{{"请按时服药,近期到门诊复诊", "Take your medication as prescribed and see the clinic soon"},
                          {"请联系职工安排复诊,调整干预方案",
                           "Contact the worker, arrange a clinic follow-up and review the intervention plan"},
                          {"请督促健康管理员跟进复诊", "Make sure the health manager follows up with a clinic visit"}};
constexpr LadderWords kR3{
    {"请今天完成一次血压自测", "Please take a blood-pressure self-test today"},
    {"请提醒职工完成每周血压自测并确认",
     "Remind the worker to take the weekly blood-pressure self-test, then acknowledge"},
    {"请督促该网格落实每周血压自测", "Make sure the grid carries out the weekly blood-pressure self-tests"}};
constexpr LadderWords kR4Unfit{
    {"暂不上岗:请休息5分钟后复测,复测合格前不得上岗",
     "Do not start work: rest 5 minutes and retest; no duty until a fit retest"},
    {"请在15分钟内复测并确认,复测合格前不得安排上岗",
     "Retest within 15 minutes and acknowledge; no duty until a fit retest"},
    {"请确认该职工未上岗,并安排复测", "Confirm the worker has not started work and arrange a retest"}};
constexpr LadderWords kR4ClockedIn{
    {"请立即停止作业,复测血压并联系健康管理员",
     "Stop work now, retest your blood pressure and call your health manager"},
    {"请立即让职工停止作业并复测", "Have the worker stop work now and retest"},
    {"班前检测不合格仍已上岗:请立即让职工停止作业并复测",
     "Clocked in after an unfit pre-shift check: have the worker stop work now and retest"}};
constexpr LadderWords kR4NoCheck{
    {"请在上岗前完成班前血压检测", "Take the pre-shift blood-pressure check before starting work"},
    {"请确认职工已完成班前血压检测", "Make sure the worker takes the pre-shift blood-pressure check"},
    {"请督促该网格落实班前血压检测", "Make sure the grid carries out the pre-shift blood-pressure checks"}};
constexpr LadderWords kR5Low{
    {"请立即进食含糖食物,15分钟后复测血糖;如意识不清立即就医",
     "Eat something sugary now and retest in 15 minutes; get medical help at once if confused"},
    {"请立即联系职工,确认低血糖已处理,必要时送医",
     "Contact the worker now, make sure the low blood sugar is treated, send to a doctor if needed"},
    {"健康管理员未及时确认:请立即联系职工并确保得到救治",
     "The health manager did not acknowledge in time: contact the worker now and make sure they get care"}};
constexpr LadderWords kR5High{
    {"请复测血糖并预约门诊", "Retest your blood glucose and book a clinic visit"},
    {"请联系职工,安排复查血糖并转诊", "Contact the worker, arrange a glucose recheck and a referral"},
    {"请督促健康管理员跟进血糖复查", "Make sure the health manager follows up the glucose recheck"}};
constexpr LadderWords kR6{
    {"请按个人干预方案复测,并联系健康管理员", "Retest as your personal plan says and contact your health manager"},
    {"请按\"一人一策\"方案跟进该职工", "Follow up the worker as their personal (\"one person, one policy\") plan says"},
    {"请督促落实\"一人一策\"跟进", "Make sure the personal plan's follow-up happens"}};

constexpr Words kResolvedAction{"无需进一步处理", "No further action needed"};

}  // namespace

std::string_view LanguageTag(Language language) { return language == Language::kZhCN ? "zh-CN" : "en"; }

std::optional<Language> ParseLanguage(std::string_view tag) {
  if (tag == "zh-CN") return Language::kZhCN;
  if (tag == "en") return Language::kEn;
  return std::nullopt;
}

std::string_view RuleCode(pb::Rule rule) {
  switch (rule) {
    case pb::R1_CRITICAL_BP:
      return "R1";
    case pb::R2_SUSTAINED_HYPERTENSION:
      return "R2";
    case pb::R3_SELF_TEST_MISSED:
      return "R3";
    case pb::R4_PRE_SHIFT_FITNESS:
      return "R4";
    case pb::R5_GLUCOSE:
      return "R5";
    case pb::R6_FOCUS_TRACKING:
      return "R6";
    default:
      return "R?";
  }
}

std::string_view RuleWords(pb::Rule rule, Language language) {
  switch (rule) {
    case pb::R1_CRITICAL_BP:
      return Pick({"危急血压", "critical blood pressure"}, language);
    case pb::R2_SUSTAINED_HYPERTENSION:
      return Pick({"持续高血压", "sustained hypertension"}, language);
    case pb::R3_SELF_TEST_MISSED:
      return Pick({"未按时每周自测血压", "weekly self-test missed"}, language);
    case pb::R4_PRE_SHIFT_FITNESS:
      return Pick({"班前适岗检测", "pre-shift fitness"}, language);
    case pb::R5_GLUCOSE:
      return Pick({"血糖异常", "abnormal blood glucose"}, language);
    case pb::R6_FOCUS_TRACKING:
      return Pick({"一人一策重点跟踪", "focus tracking (personal plan)"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view SeverityWords(pb::Severity severity, Language language) {
  switch (severity) {
    case pb::INFO:
      return Pick({"提示", "info"}, language);
    case pb::HIGH:
      return Pick({"高", "high"}, language);
    case pb::URGENT:
      return Pick({"紧急", "urgent"}, language);
    case pb::CRITICAL:
      return Pick({"危急", "critical"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view StateWords(pb::EscalationState state, Language language) {
  switch (state) {
    case pb::OPEN:
      return Pick({"新发", "new"}, language);
    case pb::ESCALATED:
      return Pick({"已升级", "escalated"}, language);
    case pb::RENOTIFIED:
      return Pick({"再次提醒", "reminder"}, language);
    case pb::RESOLVED:
      return Pick({"已解除", "resolved"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view LevelWords(pb::EscalationLevel level, Language language) {
  switch (level) {
    case pb::WORKER:
      return Pick({"职工本人", "the worker"}, language);
    case pb::HEALTH_MANAGER:
      return Pick({"健康管理员", "health manager"}, language);
    case pb::UNIT_SUPERVISOR:
      return Pick({"单位健康主管", "unit health supervisor"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view RoleWords(pb::RecipientRole role, Language language) {
  switch (role) {
    case pb::ROLE_WORKER:
      return Pick({"职工本人", "worker"}, language);
    case pb::ROLE_HEALTH_MANAGER:
      return Pick({"健康管理员", "health manager"}, language);
    case pb::ROLE_UNIT_SUPERVISOR:
      return Pick({"单位健康主管", "unit health supervisor"}, language);
    case pb::ROLE_EXTRA:
      return Pick({"指定联系人", "named contact"}, language);
    default:
      return Pick({"值班台", "on-call desk"}, language);  // no recipient named: the desk
  }
}

std::string_view CategoryWords(pb::BpCategory category, Language language) {
  switch (category) {
    case pb::NORMAL:
      return Pick({"正常", "normal"}, language);
    case pb::HIGH_NORMAL:
      return Pick({"正常高值", "high-normal"}, language);
    case pb::GRADE_1:
      return Pick({"1级高血压", "grade 1 hypertension"}, language);
    case pb::GRADE_2:
      return Pick({"2级高血压", "grade 2 hypertension"}, language);
    case pb::GRADE_3:
      return Pick({"3级高血压", "grade 3 hypertension"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view ContextWords(pb::MeasurementContext context, Language language) {
  switch (context) {
    case pb::MEASUREMENT_CONTEXT_UNSPECIFIED:  // treated as a self-test (health.proto)
    case pb::SELF_TEST:
      return Pick({"自测", "self-test"}, language);
    case pb::PRE_SHIFT:
      return Pick({"班前检测", "pre-shift check"}, language);
    case pb::CHECKUP:
      return Pick({"体检", "checkup"}, language);
    case pb::CLINIC:
      return Pick({"门诊", "clinic"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string_view TimingWords(pb::GlucoseTiming timing, Language language) {
  switch (timing) {
    case pb::FASTING:
      return Pick({"空腹", "fasting"}, language);
    case pb::GLUCOSE_TIMING_UNSPECIFIED:  // treated as random (health.proto)
    case pb::RANDOM:
      return Pick({"随机", "random"}, language);
    case pb::POSTPRANDIAL_2H:
      return Pick({"餐后2小时", "2 h after a meal"}, language);
    default:
      return Pick(kUnknown, language);
  }
}

std::string ActionWords(const pb::Escalation& event, Language language) {
  if (event.state() == pb::RESOLVED) return std::string(Pick(kResolvedAction, language));
  const LadderWords* ladder = nullptr;
  switch (event.rule()) {
    case pb::R1_CRITICAL_BP:
      ladder = &kR1;
      break;
    case pb::R2_SUSTAINED_HYPERTENSION:
      ladder = &kR2;
      break;
    case pb::R3_SELF_TEST_MISSED:
      ladder = &kR3;
      break;
    case pb::R4_PRE_SHIFT_FITNESS:
      // The rulebook raises R4 as HIGH (no check), URGENT (unfit) and CRITICAL (clocked in unfit).
      ladder = event.severity() >= pb::CRITICAL ? &kR4ClockedIn
               : event.severity() >= pb::URGENT ? &kR4Unfit
                                                : &kR4NoCheck;
      break;
    case pb::R5_GLUCOSE:
      ladder = NewestGlucoseIsLow(event) ? &kR5Low : &kR5High;
      break;
    case pb::R6_FOCUS_TRACKING:
      ladder = &kR6;
      break;
    default:
      return std::string(Pick({"请查看详情并跟进", "Please review and follow up"}, language));
  }
  return std::string(Pick(AtLevel(*ladder, event.level()), language));
}

}  // namespace alertd::notify
