// The backtest's comparison of two policies' escalations (see comparison.h).
#include "engine/backtest/comparison.h"

#include <algorithm>
#include <functional>

namespace alertd::backtest {
namespace {

constexpr int64_t kDayMs = 24 * 3600 * 1000;
constexpr int64_t kWeekMs = 7 * kDayMs;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A 64-bit FNV-1a: std::hash may differ between builds, and the fingerprint only needs to tell
// apart the events of one worker.
uint64_t Fnv(uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return (h ^ 0x1f) * 1099511628211ull;
}

uint64_t Fingerprint(const EventSummary& e) {
  uint64_t h = 14695981039346656037ull;
  for (const std::string* s : {&e.rule, &e.severity, &e.level, &e.state}) h = Fnv(h, *s);
  return Fnv(h, std::to_string(e.trigger_at_ms));
}

Fatigue FatigueOf(std::vector<uint64_t> per_day) {
  Fatigue f;
  if (per_day.empty()) return f;
  std::sort(per_day.begin(), per_day.end());
  f.worker_days = per_day.size();
  for (uint64_t n : per_day) f.alerts += n;
  f.mean = static_cast<double>(f.alerts) / static_cast<double>(f.worker_days);
  // Nearest rank: the smallest value with at least 95% of the worker-days at or below it.
  const std::size_t rank = (per_day.size() * 95 + 99) / 100;
  f.p95 = per_day[std::max<std::size_t>(rank, 1) - 1];
  f.max = per_day.back();
  return f;
}

}  // namespace

int WeeksIn(const Period& period) {
  if (period.to_ms <= period.from_ms) return 0;
  return static_cast<int>((period.to_ms - period.from_ms + kWeekMs - 1) / kWeekMs);
}

void Comparison::AddEvent(Side side, const EventSummary& e) {
  if (!InPeriod(e.trigger_at_ms)) return;
  const int week = static_cast<int>((e.trigger_at_ms - period_.from_ms) / kWeekMs);
  by_week_[{week, e.rule, e.severity, e.unit}].of(side) += 1;
  by_state_[{e.rule, e.state}].of(side) += 1;
  WorkerTrack& w = workers_[e.worker];
  if (w.unit.empty()) w.unit = e.unit;
  w.events.of(side) += 1;
  w.fingerprint[static_cast<int>(side)] += Fingerprint(e);
  const int64_t day = FloorDiv(e.emitted_at_ms + period_.utc_offset_ms, kDayMs);
  worker_days_[e.worker + '\x1f' + std::to_string(day)].of(side) += 1;
}

void Comparison::AddReferral(Side side, const ReferralSummary& r) {
  if (!InPeriod(r.trigger_at_ms)) return;
  referrals_[{r.rule, r.urgency}].of(side) += 1;
}

ComparisonResult Comparison::Result(std::size_t max_changed) const {
  ComparisonResult out;
  out.period = period_;
  out.weeks = WeeksIn(period_);
  for (const auto& [key, pair] : by_week_) {
    const auto& [week, rule, severity, unit] = key;
    out.by_week.push_back({week, rule, severity, unit, pair});
    out.total.baseline += pair.baseline;
    out.total.candidate += pair.candidate;
  }
  for (const auto& [key, pair] : by_state_) out.by_state.push_back({key.first, key.second, pair});
  for (const auto& [worker, track] : workers_) {
    if (track.fingerprint[0] == track.fingerprint[1] && track.events.baseline == track.events.candidate) continue;
    ++out.changed_workers;
    out.changed.push_back({worker, track.unit, track.events});
  }
  std::sort(out.changed.begin(), out.changed.end(),
            [](const WorkerChange& a, const WorkerChange& b) { return a.worker < b.worker; });
  if (out.changed.size() > max_changed) out.changed.resize(max_changed);
  std::array<std::vector<uint64_t>, kSides> per_day;
  for (const auto& [_, pair] : worker_days_) {
    if (pair.baseline > 0) per_day[0].push_back(pair.baseline);
    if (pair.candidate > 0) per_day[1].push_back(pair.candidate);
  }
  for (int side = 0; side < kSides; ++side) out.fatigue[static_cast<std::size_t>(side)] = FatigueOf(per_day[side]);
  for (const auto& [key, pair] : referrals_) {
    out.referrals.push_back({key.first, key.second, pair});
    out.referrals_total.baseline += pair.baseline;
    out.referrals_total.candidate += pair.candidate;
  }
  return out;
}

}  // namespace alertd::backtest
