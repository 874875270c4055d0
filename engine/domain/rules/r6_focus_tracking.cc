// R6 focus tracking ("one person, one policy"): for a focus-tracked worker every abnormal reading
// escalates, on top of whatever R1/R2/R5 make of it.
//
// One episode per worker: HIGH to the health manager; later abnormal readings of either kind join its
// evidence without a new event. It resolves once every kind it found abnormal (blood pressure, glucose)
// has a later normal reading (FocusRecovered), and is withdrawn when the worker's policy stops focus
// tracking.
#include <string>
#include <vector>

#include "engine/domain/reason_words.h"
#include "engine/domain/rules/glucose_findings.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

bool FocusTracked(const WorkerState& s) { return s.profile && s.profile->policy.focus_tracking; }

bool LowBp(const BpSample& s, const Policy& p) {
  return s.systolic_mmhg < p.bp.hypotension_systolic || s.diastolic_mmhg < p.bp.hypotension_diastolic;
}

bool AbnormalBpForFocus(const BpSample& s, const Policy& p) {
  return s.systolic_mmhg >= p.r6_abnormal_systolic || s.diastolic_mmhg >= p.r6_abnormal_diastolic || LowBp(s, p);
}

bool AbnormalGlucoseForFocus(const GlucoseSample& s, const Policy& p) {
  return HighGlucose(s, p) || Hypoglycaemia(s, p);
}

// Whether every kind of reading the episode found abnormal has since been measured normal: the newest
// reading of that kind (by event time) is newer than the kind's newest abnormal one and normal for the
// worker, by the worker's current policy.
bool FocusRecovered(const OpenEpisode& e, const WorkerState& s, const Policy& p) {
  if (!e.evidence.empty()) {
    if (s.bp_window.empty()) return false;
    const BpSample& newest = s.bp_window.back();
    if (newest.measured_at <= e.evidence.back().measured_at || AbnormalBpForFocus(newest, p)) return false;
  }
  if (!e.glucose_evidence.empty()) {
    if (s.glucose_window.empty()) return false;
    const GlucoseSample& newest = s.glucose_window.back();
    if (newest.measured_at <= e.glucose_evidence.back().measured_at || AbnormalGlucoseForFocus(newest, p)) {
      return false;
    }
  }
  return true;
}

// What was abnormal about a blood-pressure reading, naming the value that crossed: "127/87 mmHg at or
// above 135/85" would read as both.
std::string AbnormalBpWords(const BpSample& bp, const Policy& p) {
  if (LowBp(bp, p)) return "low blood pressure " + BpText(bp);
  const bool sys = bp.systolic_mmhg >= p.r6_abnormal_systolic;
  const bool dia = bp.diastolic_mmhg >= p.r6_abnormal_diastolic;
  const std::string systolic = std::to_string(p.r6_abnormal_systolic);
  const std::string diastolic = std::to_string(p.r6_abnormal_diastolic);
  const std::string limit =
      sys && dia ? "systolic and diastolic at or above the worker's limits of " + systolic + "/" + diastolic + " mmHg"
      : sys      ? "systolic at or above the worker's limit of " + systolic + " mmHg"
                 : "diastolic at or above the worker's limit of " + diastolic + " mmHg";
  return "blood pressure " + BpText(bp) + ", " + limit;
}

std::string AbnormalGlucoseWords(const GlucoseSample& g, const Policy& p) {
  return (HighGlucose(g, p) ? "high glucose " : "low glucose ") + GlucoseText(g);
}

// One reading of either kind: exactly one of `bp` and `glucose` is set.
void ApplyR6(const BpSample* bp, const GlucoseSample* glucose, const RuleContext& c) {
  if (!FocusTracked(c.state)) return;
  const Policy& p = c.policy;
  const EventTime at = bp != nullptr ? bp->measured_at : glucose->measured_at;
  const bool abnormal = bp != nullptr ? AbnormalBpForFocus(*bp, p) : AbnormalGlucoseForFocus(*glucose, p);
  const std::vector<BpSample> bp_evidence = bp != nullptr ? std::vector<BpSample>{*bp} : std::vector<BpSample>{};
  const std::vector<GlucoseSample> glucose_evidence =
      glucose != nullptr ? std::vector<GlucoseSample>{*glucose} : std::vector<GlucoseSample>{};
  OpenEpisode* r6 = FindOpen(c.state, Rule::kR6FocusTracking);
  if (abnormal && r6 != nullptr) {
    Retrigger(*r6, at);
    if (bp != nullptr) AddEvidence(*r6, *bp, p.max_evidence);
    if (glucose != nullptr) AddEvidence(*r6, *glucose, p.max_evidence);
  } else if (abnormal) {
    const std::string what = bp != nullptr ? AbnormalBpWords(*bp, p) : AbnormalGlucoseWords(*glucose, p);
    c.emit.Open(Rule::kR6FocusTracking, Severity::kHigh, EscalationLevel::kHealthManager, at, bp_evidence,
                std::nullopt,
                "Focus tracking: " + what + " at " + LocalTimeText(at, p) +
                    ": follow-up by the health manager (individual policy)",
                glucose_evidence);
  } else if (r6 != nullptr && FocusRecovered(*r6, c.state, p)) {
    const std::string what = bp != nullptr ? BpText(*bp) : GlucoseText(*glucose);
    c.emit.Resolve(*r6, at, std::nullopt,
                   "Focus tracking: back within the worker's limits: " + what + " at " + LocalTimeText(at, p),
                   bp_evidence, glucose_evidence);
  }
}

}  // namespace

void ApplyR6(const BpInput& in, const RuleContext& c) { ApplyR6(&in.sample, nullptr, c); }

void ApplyR6(const GlucoseSample& sample, const RuleContext& c) { ApplyR6(nullptr, &sample, c); }

void EndFocusTrackingIfDropped(const RuleContext& c) {
  const OpenEpisode* r6 = FindOpen(c.state, Rule::kR6FocusTracking);
  if (r6 == nullptr || FocusTracked(c.state)) return;
  c.emit.Resolve(*r6, r6->last_trigger_at, std::nullopt,
                 "Focus tracking ended by the worker's individual policy: the follow-up is closed", r6->evidence,
                 r6->glucose_evidence);
}

}  // namespace alertd::domain
