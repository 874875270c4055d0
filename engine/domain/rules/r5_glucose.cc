// R5 glucose: severe hypoglycaemia at once, and repeated high glucose with a routine referral.
//
// One episode per worker (one open escalation per (worker, rule), DESIGN §4) whose severity names the
// finding: HIGH = high glucose r5_high_min_readings times within r5_high_window_ms, URGENT = severe
// hypoglycaemia. Choices:
// - A severe hypoglycaemia opens URGENT at once (no referral: it is treated on the spot). On an open
//   high-glucose episode it raises it to URGENT and restarts the ack (Raise); the referral already sent
//   stands.
// - High glucose opens HIGH with a routine referral when a high reading brings the window's count of
//   high readings to r5_high_min_readings (a normal reading never opens it, even if the window still
//   holds enough highs after a manual resolve). Further highs update the evidence silently.
// - An URGENT (hypoglycaemia) episode resolves on a glucose reading at or above glucose_hypo measured
//   after its last severe reading; a mild hypoglycaemia keeps it open. If that reading is high and
//   makes the high count, a new HIGH episode (with its own referral) opens in the same call: the
//   worker's problem changed, and the clinic hears of it.
// - A HIGH episode resolves on a reading that is not high, measured after its last high one, once fewer
//   than r5_high_min_readings high readings remain in the window (like R2, it ends when the window
//   slides past the highs).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/domain/reason_words.h"
#include "engine/domain/rules/glucose_findings.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

std::string SevereHypoWords(const GlucoseSample& s, const Policy& p) {
  return "Severe hypoglycaemia: " + GlucoseText(s) + " at " + LocalTimeText(s.measured_at, p) +
         (s.station_id.empty() ? "" : ", station " + s.station_id.str()) +
         ": retest and treat now; urgent follow-up by the health manager";
}

// The newest max_evidence high readings of the glucose window, which holds only the R5 window (newest
// reading's event time minus r5_high_window_ms, exclusive, up to it).
std::vector<GlucoseSample> HighEvidence(const std::vector<GlucoseSample>& window, const Policy& p) {
  std::vector<GlucoseSample> highs;
  for (const GlucoseSample& s : window) {
    if (HighGlucose(s, p)) highs.push_back(s);
  }
  KeepNewest(highs, p.max_evidence);
  return highs;
}

// An open severe-hypoglycaemia episode and a new reading. True if the episode resolved and the reading
// may open a high-glucose episode of its own.
bool UpdateHypoEpisode(OpenEpisode& r5, const GlucoseSample& sample, const RuleContext& c) {
  const Policy& p = c.policy;
  if (SevereHypoglycaemia(sample, p)) {
    Retrigger(r5, sample.measured_at);
    AddEvidence(r5, sample, p.max_evidence);
    return false;
  }
  if (Hypoglycaemia(sample, p) || sample.measured_at <= r5.last_trigger_at) return false;
  c.emit.Resolve(r5, sample.measured_at, std::nullopt,
                 "Glucose back above " + MmolText(p.glucose_hypo) + ": " + GlucoseText(sample) + " at " +
                     LocalTimeText(sample.measured_at, p) + " after severe hypoglycaemia",
                 {}, {sample});
  return true;
}

void UpdateHighEpisode(OpenEpisode& r5, const GlucoseSample& sample, std::size_t high_count, bool high_finding,
                       const RuleContext& c) {
  const Policy& p = c.policy;
  if (SevereHypoglycaemia(sample, p)) {
    Retrigger(r5, sample.measured_at);
    AddEvidence(r5, sample, p.max_evidence);
    c.emit.Raise(r5, Severity::kUrgent, EscalationLevel::kHealthManager, SevereHypoWords(sample, p));
  } else if (HighGlucose(sample, p)) {
    Retrigger(r5, sample.measured_at);
    r5.glucose_evidence = HighEvidence(c.state.glucose_window, p);
  } else if (sample.measured_at > r5.last_trigger_at && !high_finding) {
    c.emit.Resolve(r5, sample.measured_at, std::nullopt,
                   "Glucose no longer high: " + GlucoseText(sample) + " at " + LocalTimeText(sample.measured_at, p) +
                       "; " + CountText(static_cast<int64_t>(high_count), "high reading") + " in the last " +
                       DurationText(p.r5_high_window_ms),
                   {}, {sample});
  }
}

}  // namespace

void ApplyR5(const GlucoseSample& sample, const RuleContext& c) {
  const Policy& p = c.policy;
  const std::vector<GlucoseSample>& window = c.state.glucose_window;
  const auto high_count = static_cast<std::size_t>(
      std::count_if(window.begin(), window.end(), [&](const GlucoseSample& s) { return HighGlucose(s, p); }));
  const bool high_finding = high_count >= static_cast<std::size_t>(std::max(p.r5_high_min_readings, 1));

  if (OpenEpisode* r5 = FindOpen(c.state, Rule::kR5Glucose)) {
    if (r5->severity < Severity::kUrgent) {
      UpdateHighEpisode(*r5, sample, high_count, high_finding, c);
      return;
    }
    if (!UpdateHypoEpisode(*r5, sample, c)) return;
  }

  if (SevereHypoglycaemia(sample, p)) {
    c.emit.Open(Rule::kR5Glucose, Severity::kUrgent, EscalationLevel::kHealthManager, sample.measured_at, {},
                std::nullopt, SevereHypoWords(sample, p), {sample});
  } else if (HighGlucose(sample, p) && high_finding) {
    std::vector<GlucoseSample> evidence = HighEvidence(window, p);
    const std::string finding = "High glucose " + TimesWords(high_count) + " in " + DurationText(p.r5_high_window_ms) +
                                ": " + GlucoseListText(evidence, p);
    OpenEpisode& e = c.emit.Open(Rule::kR5Glucose, Severity::kHigh, EscalationLevel::kHealthManager,
                                 sample.measured_at, {}, std::nullopt,
                                 finding + ": follow-up by the health manager and a routine clinic referral",
                                 std::move(evidence));
    c.emit.Refer(e, ReferralUrgency::kRoutine, finding + ": routine clinic review of glucose control", std::nullopt);
  }
}

}  // namespace alertd::domain
