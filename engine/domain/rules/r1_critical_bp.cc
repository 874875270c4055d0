// R1 critical blood pressure: a critical reading pages the health manager once per episode, with an
// urgent referral; the episode resolves on a later reading below the threshold.
#include <string>

#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {

void ApplyR1(const BpInput& in, const RuleContext& c) {
  const BpSample& sample = in.sample;
  const Policy& policy = c.policy;
  // The thresholds are the worker's own when its policy sets them, and the words say so.
  const int critical_sys = policy.r1_critical_systolic;
  const int critical_dia = policy.r1_critical_diastolic;
  const bool individual =
      critical_sys != c.grid_policy.r1_critical_systolic || critical_dia != c.grid_policy.r1_critical_diastolic;
  const bool critical = sample.systolic_mmhg >= critical_sys || sample.diastolic_mmhg >= critical_dia;
  if (OpenEpisode* r1 = FindOpen(c.state, Rule::kR1CriticalBp)) {
    if (critical) {
      Retrigger(*r1, sample.measured_at);
      AddEvidence(*r1, sample, policy.max_evidence);
    } else if (sample.measured_at > r1->last_trigger_at) {
      c.emit.Resolve(*r1, sample.measured_at, std::nullopt,
                     "Blood pressure back below the critical threshold: " + BpText(sample) + " at " +
                         LocalTimeText(sample.measured_at, policy) + " (" +
                         CountText(r1->trigger_count, "critical reading") + " in this episode)",
                     {sample});
    }
    return;
  }
  if (!critical) return;
  const std::string what =
      individual ? "Blood pressure " + BpText(sample) + " at or above the individual critical threshold " +
                       std::to_string(critical_sys) + "/" + std::to_string(critical_dia) + " mmHg"
                 : std::string(in.classification.category == BpCategory::kGrade3 ? "Grade-3 blood pressure "
                                                                                 : "Blood pressure ") +
                       BpText(sample);
  const std::string pulse = sample.pulse_bpm ? ", pulse " + std::to_string(sample.pulse_bpm) : std::string();
  const std::string finding = what + pulse + " at " + LocalTimeText(sample.measured_at, policy) +
                              (sample.station_id.empty() ? "" : ", station " + sample.station_id.str());
  OpenEpisode& e = c.emit.Open(Rule::kR1CriticalBp, Severity::kUrgent, EscalationLevel::kHealthManager,
                               sample.measured_at, {sample}, std::nullopt,
                               finding + ": urgent follow-up by the health manager");
  c.emit.Refer(e, ReferralUrgency::kUrgent, finding + ": see a doctor today", std::nullopt);
}

}  // namespace alertd::domain
