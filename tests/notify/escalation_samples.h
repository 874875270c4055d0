// Escalations for the notify tests: one per rule, shaped as the rulebook emits them.
#pragma once

#include <string>
#include <string_view>

#include "health.pb.h"

namespace alertd::notify::testing {

namespace pb = healthgrid::v1;

// 2026-11-24 07:30:14 at +08:00 (23:30:14 UTC the day before).
inline constexpr int64_t kMorningMs = 1795476614000;

inline pb::Recipient Person(const std::string& id, const std::string& name, pb::RecipientRole role) {
  pb::Recipient r;
  r.set_id(id);
  r.set_name(name);
  r.set_role(role);
  return r;
}

// An event of `rule` with the evidence that rule quotes, addressed to the grid's health manager.
inline pb::Escalation SampleEscalation(pb::Rule rule, pb::EscalationState state = pb::OPEN,
                                       pb::EscalationLevel level = pb::HEALTH_MANAGER) {
  pb::Escalation e;
  e.set_event_id("ev-7f3a");
  e.set_episode_id("ep-19c2");
  e.set_sequence(state == pb::OPEN ? 1 : 2);
  e.set_worker_id("W000155");
  e.set_worker_name("杨建国");
  e.set_unit_id("U08");
  e.set_grid_id("U08-G02");
  e.set_rule(rule);
  e.set_level(level);
  e.set_state(state);
  e.set_severity(rule == pb::R1_CRITICAL_BP || rule == pb::R4_PRE_SHIFT_FITNESS ? pb::URGENT : pb::HIGH);
  e.set_reason("unfit for duty: 168/104 mmHg before shift; retest after 5 min rest");
  e.set_opened_at_ms(kMorningMs);
  e.set_trigger_at_ms(kMorningMs);
  e.set_emitted_at_ms(kMorningMs + 1000);
  if (rule == pb::R5_GLUCOSE) {
    pb::EvidenceGlucose* g = e.add_glucose_evidence();
    g->set_mmol_per_l(2.6);
    g->set_timing(pb::RANDOM);
    g->set_measured_at_ms(kMorningMs);
  } else if (rule != pb::R3_SELF_TEST_MISSED) {
    pb::EvidenceReading* bp = e.add_evidence();
    bp->set_systolic_mmhg(168);
    bp->set_diastolic_mmhg(104);
    bp->set_pulse_bpm(88);
    bp->set_category(pb::GRADE_2);
    bp->set_context(pb::PRE_SHIFT);
    bp->set_measured_at_ms(kMorningMs);
  }
  if (rule == pb::R2_SUSTAINED_HYPERTENSION) {
    pb::WindowStats* w = e.mutable_window();
    w->set_readings(4);
    w->set_days(3);
    w->set_mean_systolic_mmhg(166.4);
    w->set_mean_diastolic_mmhg(101.2);
    w->set_mean_category(pb::GRADE_2);
    w->set_start_ms(kMorningMs - 7LL * 86400000);
    w->set_end_ms(kMorningMs);
  }
  *e.add_recipients() = Person("HM0012", "周波", pb::ROLE_HEALTH_MANAGER);
  return e;
}

}  // namespace alertd::notify::testing

namespace alertd::notify::testing {

// A parameterised case's readable name as a gtest name: letters and digits, the rest '_'.
inline std::string CaseName(std::string_view words, std::size_t index) {
  std::string out;
  for (char c : words) out += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
  return out + "_" + std::to_string(index);
}

}  // namespace alertd::notify::testing
