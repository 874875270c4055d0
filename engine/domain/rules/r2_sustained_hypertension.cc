// R2 sustained hypertension: the mean of the 7-day event-time window, over enough readings on enough
// local days, reaches the policy's category; the episode resolves once the mean is clearly below it.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/domain/local_time.h"
#include "engine/domain/reason_words.h"
#include "engine/domain/rules/rules.h"

namespace alertd::domain {
namespace {

// Lower bounds (systolic, diastolic) of a blood-pressure category.
std::pair<int, int> CategoryFloor(const BpThresholds& t, BpCategory c) {
  switch (c) {
    case BpCategory::kNormal: return {0, 0};
    case BpCategory::kHighNormal: return {t.high_normal_systolic, t.high_normal_diastolic};
    case BpCategory::kGrade1: return {t.grade1_systolic, t.grade1_diastolic};
    case BpCategory::kGrade2: return {t.grade2_systolic, t.grade2_diastolic};
    case BpCategory::kGrade3: return {t.grade3_systolic, t.grade3_diastolic};
  }
  return {0, 0};
}

// The newest `n` samples with measured_at after `start`, oldest first, written into `out` (reusing its
// storage: this runs for every reading of a worker with an open R2 episode).
void AssignNewestSamples(const std::vector<BpSample>& window, EventTime start, std::size_t n,
                         std::vector<BpSample>& out) {
  auto first = std::upper_bound(window.begin(), window.end(), start,
                                [](EventTime t, const BpSample& s) { return t < s.measured_at; });
  if (static_cast<std::size_t>(window.end() - first) > n) first = window.end() - static_cast<std::ptrdiff_t>(n);
  out.assign(first, window.end());
}

std::vector<BpSample> NewestSamples(const std::vector<BpSample>& window, EventTime start, std::size_t n) {
  std::vector<BpSample> out;
  AssignNewestSamples(window, start, n, out);
  return out;
}

// "162/101 mmHg over 4 readings on 3 days to 2026-11-29 08:12"
std::string StatsText(const WindowStats& w, const Policy& p) {
  return MeanText(w) + " over " + CountText(w.readings, "reading") + " on " + CountText(w.days, "day") + " to " +
         LocalTimeText(w.end, p);
}

}  // namespace

WindowStats ComputeWindow(const std::vector<BpSample>& samples, EventTime end, int64_t window_ms,
                          const Policy& policy) {
  WindowStats w;
  w.end = end;
  w.start = EventTime{end.ms - window_ms};
  double sum_sys = 0, sum_dia = 0;
  // Samples are sorted by event time, so distinct days are counted by watching the day change.
  int64_t last_day = 0;
  for (const auto& s : samples) {
    if (s.measured_at <= w.start || s.measured_at > end) continue;
    w.readings += 1;
    sum_sys += s.systolic_mmhg;
    sum_dia += s.diastolic_mmhg;
    const int64_t day = LocalDay(s.measured_at.ms, UtcOffset{policy.day_offset_minutes});
    if (w.days == 0 || day != last_day) w.days += 1;
    last_day = day;
  }
  if (w.readings > 0) {
    w.mean_systolic_mmhg = sum_sys / w.readings;
    w.mean_diastolic_mmhg = sum_dia / w.readings;
    w.mean_category = ClassifyMeanBp(w.mean_systolic_mmhg, w.mean_diastolic_mmhg, policy.bp);
  }
  return w;
}

void ApplyR2(const BpInput& in, const RuleContext& c) {
  const BpSample& sample = in.sample;
  const Policy& policy = c.policy;
  WorkerState& state = c.state;
  const WindowStats w = ComputeWindow(state.bp_window, *state.newest_bp_at, policy.r2_window_ms, policy);
  const bool high_mean = w.mean_category >= policy.r2_min_category;
  const bool enough = w.readings >= policy.r2_min_readings && w.days >= policy.r2_min_days;
  if (OpenEpisode* r2 = FindOpen(state, Rule::kR2SustainedHypertension)) {
    const auto [floor_sys, floor_dia] = CategoryFloor(policy.bp, policy.r2_min_category);
    const int margin = policy.r2_resolve_margin_mmhg;
    const bool clearly_below =
        !high_mean && w.mean_systolic_mmhg < floor_sys - margin && w.mean_diastolic_mmhg < floor_dia - margin;
    if (clearly_below) {
      c.emit.Resolve(*r2, sample.measured_at, w,
                     std::string("7-day mean back below ") + Text(policy.r2_min_category) + ": " +
                         StatsText(w, policy),
                     NewestSamples(state.bp_window, w.start, policy.max_evidence));
      return;
    }
    // Still high, or within the margin below the bound: still open, with the evidence kept current.
    if (high_mean) Retrigger(*r2, sample.measured_at);
    AssignNewestSamples(state.bp_window, w.start, policy.max_evidence, r2->evidence);
    return;
  }
  if (!high_mean || !enough) return;
  const std::string finding =
      std::string("Sustained ") + Text(w.mean_category) + " hypertension: 7-day mean " + StatsText(w, policy);
  OpenEpisode& e = c.emit.Open(Rule::kR2SustainedHypertension, Severity::kHigh, EscalationLevel::kHealthManager,
                               sample.measured_at, NewestSamples(state.bp_window, w.start, policy.max_evidence), w,
                               finding + ": follow-up by the health manager and a routine clinic referral");
  c.emit.Refer(e, ReferralUrgency::kRoutine, finding + ": routine clinic review of blood-pressure control", w);
}

}  // namespace alertd::domain
