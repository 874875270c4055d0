// R4 pre-shift fitness of workers in high-risk posts: an unfit pre-shift reading, a clock-in without a
// pre-shift check, and a clock-in while unfit, and the fit readings that answer them.
//
// R4 keeps one episode per worker whose severity names the finding, so a worse finding escalates the
// open episode instead of opening a second one (one open escalation per (worker, rule), DESIGN §4):
// HIGH = no pre-shift check, URGENT = unfit for duty, CRITICAL = unfit and clocked in.
#include <algorithm>
#include <string>

#include "engine/domain/blood_pressure.h"
#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

bool HoldsHighRiskPost(const WorkerState& s) { return s.profile && !s.profile->high_risk_posts.empty(); }

bool UnfitForDuty(const BpClassification& c, const Policy& p) {
  return c.category >= p.r4_unfit_min_category || (p.r4_hypotension_unfit && c.hypotension);
}

bool UnfitFinding(const OpenEpisode& e) { return e.severity >= Severity::kUrgent; }

// The newest PRE_SHIFT reading measured in [t - window, t]. bp_window covers 7 days of event time, far
// more than the pre-shift window.
const BpSample* PreShiftCheck(const WorkerState& state, EventTime t, const Policy& policy) {
  const BpSample* check = nullptr;
  for (const BpSample& s : state.bp_window) {
    if (s.context == ReadingContext::kPreShift && s.measured_at.ms >= t.ms - policy.pre_shift_window_ms &&
        s.measured_at <= t) {
      check = &s;  // ascending measured_at: the last match is the newest
    }
  }
  return check;
}

}  // namespace

std::optional<bool> PreShiftFit(const BpInput& in, const RuleContext& c) {
  if (in.sample.context != ReadingContext::kPreShift || !HoldsHighRiskPost(c.state)) return std::nullopt;
  return !UnfitForDuty(in.classification, c.policy);
}

void ApplyR4(const BpInput& in, const RuleContext& c) {
  const BpSample& sample = in.sample;
  const Policy& policy = c.policy;
  if (sample.context != ReadingContext::kPreShift) return;
  const bool unfit = UnfitForDuty(in.classification, policy);
  const std::string unfit_words = "unfit for duty: " + BpText(sample) + " before shift; " + policy.r4_retest_advice +
                                  " (measured " + LocalTimeText(sample.measured_at, policy) + ")";
  OpenEpisode* r4 = FindOpen(c.state, Rule::kR4PreShiftFitness);
  if (r4 == nullptr) {
    if (unfit && HoldsHighRiskPost(c.state)) {
      c.emit.Open(Rule::kR4PreShiftFitness, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at,
                  {sample}, std::nullopt, unfit_words);
    }
    return;
  }
  if (unfit) {
    Retrigger(*r4, sample.measured_at);
    AddEvidence(*r4, sample, policy.max_evidence);
    if (!UnfitFinding(*r4)) c.emit.Raise(*r4, Severity::kUrgent, EscalationLevel::kHealthManager, unfit_words);
  } else if (UnfitFinding(*r4) ? sample.measured_at > r4->last_trigger_at
                               : sample.measured_at.ms >= r4->last_trigger_at.ms - policy.pre_shift_window_ms) {
    // A fit check answers "no pre-shift check" even when measured just before the clock-in it missed
    // (uploaded late); an unfit finding needs a retest after the unfit reading.
    const char* what = UnfitFinding(*r4) ? "Fit for duty on retest: " : "Pre-shift check done, fit for duty: ";
    c.emit.Resolve(*r4, sample.measured_at, std::nullopt,
                   what + BpText(sample) + " at " + LocalTimeText(sample.measured_at, policy), {sample});
  }
}

// At clock-in: NO_PRE_SHIFT_CHECK without a PRE_SHIFT reading in the window before it, UNFIT_CLOCKED_IN
// while an unfit reading has no fit retest.
void ApplyR4AtClockIn(const ShiftEvent& shift, const RuleContext& c) {
  const Policy& policy = c.policy;
  const EventTime t = shift.clock_in_at;
  const std::string where = std::string(Text(shift.post)) + (shift.site.empty() ? "" : " at " + shift.site) + " at " +
                            LocalTimeText(t, policy);
  const BpSample* check = PreShiftCheck(c.state, t, policy);
  const bool check_unfit =
      check != nullptr &&
      UnfitForDuty(ClassifyBp(check->systolic_mmhg, check->diastolic_mmhg, policy.bp), policy);
  OpenEpisode* r4 = FindOpen(c.state, Rule::kR4PreShiftFitness);
  // Unfit and clocked in: an open unfit finding from a reading at or before clock-in (no fit retest has
  // resolved it), or the newest check in the window was unfit (the retest came only after clock-in).
  const bool unfit_open = r4 != nullptr && UnfitFinding(*r4) && r4->last_trigger_at <= t;
  if (unfit_open || check_unfit) {
    std::string reason = "Unfit clocked in: started " + where + " after an unfit pre-shift reading" +
                         (check_unfit ? " of " + BpText(*check) : std::string()) + " with no fit retest";
    if (r4 == nullptr) {
      OpenEpisode& e = c.emit.Open(Rule::kR4PreShiftFitness, Severity::kCritical, EscalationLevel::kUnitSupervisor,
                                   t, {*check}, std::nullopt, std::move(reason));
      e.last_trigger_at = check->measured_at;
    } else if (r4->severity < Severity::kCritical) {
      r4->trigger_count += 1;
      c.emit.Raise(*r4, Severity::kCritical, EscalationLevel::kUnitSupervisor, std::move(reason));
    } else {
      r4->trigger_count += 1;  // already known to be on duty unfit: no second page
    }
  } else if (check == nullptr) {
    if (r4 == nullptr) {
      c.emit.Open(Rule::kR4PreShiftFitness, Severity::kHigh, EscalationLevel::kHealthManager, t, {}, std::nullopt,
                  "No pre-shift check: clocked in to " + where +
                      " with no pre-shift blood-pressure reading in the previous " +
                      DurationText(policy.pre_shift_window_ms));
    } else {
      r4->trigger_count += 1;
      if (!UnfitFinding(*r4)) r4->last_trigger_at = std::max(r4->last_trigger_at, t);
    }
  }
}

}  // namespace alertd::domain
