// Referrals as the rulebook emits them (R1 urgent, R2 routine with a window, R5 glucose) and the
// R4 escalations behind a pre-shift Flag: the table the unit tests and the FHIR validator share.
#pragma once

#include <string>
#include <vector>

#include "health.pb.h"

namespace alertd::fhir::testing {

namespace pb = healthgrid::v1;

// 2026-11-24 07:30:14 at +08:00 (23:30:14 UTC the day before).
inline constexpr int64_t kMorningMs = 1795476614000;
inline constexpr int64_t kDayMs = 86400000;

inline pb::EvidenceReading Bp(int64_t at_ms, uint32_t systolic, uint32_t diastolic, uint32_t pulse) {
  pb::EvidenceReading r;
  r.set_measured_at_ms(at_ms);
  r.set_systolic_mmhg(systolic);
  r.set_diastolic_mmhg(diastolic);
  r.set_pulse_bpm(pulse);
  r.set_category(systolic >= 180 || diastolic >= 110 ? pb::GRADE_3 : pb::GRADE_2);
  r.set_station_id("ST-03");
  r.set_device_id("OMRON-HBP-1320-0042");
  r.set_context(pb::SELF_TEST);
  return r;
}

inline pb::EvidenceGlucose Glucose(int64_t at_ms, double mmol, pb::GlucoseTiming timing) {
  pb::EvidenceGlucose g;
  g.set_measured_at_ms(at_ms);
  g.set_mmol_per_l(mmol);
  g.set_timing(timing);
  g.set_station_id("ST-03");
  g.set_device_id("SINO-GA3-0007");
  return g;
}

// A referral of worker W000155 with a health manager on file and no conditions.
inline pb::Referral BaseReferral(pb::Rule rule, pb::ReferralUrgency urgency) {
  pb::Referral r;
  r.set_referral_id("rf-3c9e01d2");
  r.set_episode_id("ep-19c2");
  r.set_worker_id("W000155");
  r.set_worker_name("杨建国");
  r.set_unit_id("U08");
  r.set_unit_name("第八运营单位");
  r.set_grid_id("U08-G02");
  r.set_grid_name("机务二班");
  r.set_rule(rule);
  r.set_urgency(urgency);
  r.mutable_health_manager()->set_id("HM0012");
  r.mutable_health_manager()->set_name("周波");
  r.set_trigger_at_ms(kMorningMs);
  r.set_emitted_at_ms(kMorningMs + 1234);
  return r;
}

struct ReferralCase {
  std::string name;
  pb::Referral referral;
};

inline std::vector<ReferralCase> ReferralCases() {
  std::vector<ReferralCase> cases;
  {
    pb::Referral r = BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
    r.set_reason("血压 186/112 mmHg, grade 3: see a doctor today");
    *r.add_evidence() = Bp(kMorningMs, 186, 112, 96);
    cases.push_back({"r1_urgent_with_pulse", r});
  }
  {
    pb::Referral r = BaseReferral(pb::R2_SUSTAINED_HYPERTENSION, pb::REFERRAL_ROUTINE);
    r.set_reason("mean 166/101 mmHg over 4 readings on 3 days: routine clinic review of blood-pressure control");
    for (int i = 3; i >= 0; --i) *r.add_evidence() = Bp(kMorningMs - i * kDayMs, 164 + i, 100 + i, i % 2 ? 0 : 80);
    pb::WindowStats* w = r.mutable_window();
    w->set_start_ms(kMorningMs - 7 * kDayMs);
    w->set_end_ms(kMorningMs);
    w->set_readings(4);
    w->set_days(3);
    w->set_mean_systolic_mmhg(165.5);
    w->set_mean_diastolic_mmhg(101.5);
    w->set_mean_category(pb::GRADE_2);
    cases.push_back({"r2_routine_with_window", r});
  }
  {
    pb::Referral r = BaseReferral(pb::R5_GLUCOSE, pb::REFERRAL_ROUTINE);
    r.set_reason("空腹血糖 11.2 mmol/L, 3 high readings: routine clinic review of glucose control");
    *r.add_glucose_evidence() = Glucose(kMorningMs - 2 * kDayMs, 10.4, pb::FASTING);
    *r.add_glucose_evidence() = Glucose(kMorningMs - kDayMs, 13.9, pb::POSTPRANDIAL_2H);
    *r.add_glucose_evidence() = Glucose(kMorningMs, 11.2, pb::FASTING);
    r.mutable_conditions()->set_diabetes(true);
    cases.push_back({"r5_glucose_high", r});
  }
  {
    // A low reading quoted by a high-glucose episode that a hypoglycaemia later raised.
    pb::Referral r = BaseReferral(pb::R5_GLUCOSE, pb::REFERRAL_ROUTINE);
    r.set_reason("血糖 2.6 mmol/L after 3 high readings: routine clinic review of glucose control");
    *r.add_glucose_evidence() = Glucose(kMorningMs - kDayMs, 12.1, pb::RANDOM);
    *r.add_glucose_evidence() = Glucose(kMorningMs, 2.6, pb::GLUCOSE_TIMING_UNSPECIFIED);
    cases.push_back({"r5_glucose_low", r});
  }
  {
    pb::Referral r = BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
    r.set_reason("181/109 mmHg: see a doctor today");
    *r.add_evidence() = Bp(kMorningMs, 181, 109, 0);
    r.clear_health_manager();
    r.clear_worker_name();
    cases.push_back({"no_conditions_no_manager_no_name", r});
  }
  {
    pb::Referral r = BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
    r.set_reason("192/118 mmHg: see a doctor today");
    *r.add_evidence() = Bp(kMorningMs, 192, 118, 104);
    r.mutable_conditions()->set_hypertension_grade(2);
    r.mutable_conditions()->set_coronary_heart_disease(true);
    r.mutable_conditions()->set_diabetes(true);
    r.mutable_health_manager()->clear_id();  // a display-only requester
    cases.push_back({"many_conditions", r});
  }
  {
    pb::Referral r = BaseReferral(pb::R2_SUSTAINED_HYPERTENSION, pb::REFERRAL_ROUTINE);
    r.set_worker_id("W|00,01$\\ä");  // FHIR search separators and non-ASCII in an id
    r.set_worker_name("欧阳·娜仁托娅 Ñúñez 👩‍⚕️");
    r.mutable_health_manager()->set_name("司马 懿");
    r.set_reason("平均血压 158/98 mmHg（二级）：建议门诊复查");
    *r.add_evidence() = Bp(kMorningMs, 158, 98, 72);
    cases.push_back({"unicode_names", r});
  }
  return cases;
}

// An R4 pre-shift escalation of the same worker.
inline pb::Escalation PreShiftEscalation(pb::EscalationState state) {
  pb::Escalation e;
  e.set_event_id("ev-7f3a");
  e.set_episode_id("ep-4d01");
  e.set_sequence(state == pb::OPEN ? 1 : 2);
  e.set_worker_id("W000155");
  e.set_worker_name("杨建国");
  e.set_rule(pb::R4_PRE_SHIFT_FITNESS);
  e.set_severity(pb::URGENT);
  e.set_level(pb::HEALTH_MANAGER);
  e.set_state(state);
  e.set_reason("unfit for duty: 168/104 mmHg before shift");
  e.set_opened_at_ms(kMorningMs);
  e.set_trigger_at_ms(state == pb::OPEN ? kMorningMs : kMorningMs + 20 * 60000);
  e.set_emitted_at_ms(e.trigger_at_ms() + 500);
  return e;
}

}  // namespace alertd::fhir::testing
