// The health managers' routine acknowledgements and snoozes in the week scenario, drawn from what they see.
#include <algorithm>
#include <set>

#include "engine/cli/sim/week_script.h"

namespace alertd::cli::sim {
namespace {

// A reading as its health manager sees it: when measured, when it arrived, and what it said.
struct BpSeen {
  int64_t measured, arrival;
  int systolic, diastolic;
};
struct GlucoseSeen {
  int64_t measured, arrival;
  bool high;
};

// What each worker's health manager has seen: readings by worker, valid ones only.
struct Seen {
  std::vector<std::vector<BpSeen>> bp;
  std::vector<std::vector<GlucoseSeen>> glucose;
};

// Urgent pages acknowledged within minutes (mostly), focus-tracking alerts within hours; what was seen.
Seen AckDrawnReadings(const Population& pop, const std::vector<TimedReading>& readings, std::vector<PlannedAck>& acks,
                      Rng& rng) {
  Seen seen;
  std::vector<std::vector<BpSeen>>& bp = seen.bp;
  std::vector<std::vector<GlucoseSeen>>& glucose = seen.glucose;
  bp.resize(pop.workers.size());
  glucose.resize(pop.workers.size());
  for (const TimedReading& t : readings) {
    const PlannedReading& r = t.reading;
    if (r.impossible || r.garbage) continue;
    const Worker& w = pop.workers[r.worker];
    const bool individual = w.bp_group == BpGroup::kGrade3HighRisk;  // MakeProfile: critical 170/105
    if (r.measure == Measure::kBloodPressure) {
      bp[r.worker].push_back({r.measured_at_ms, t.arrival_ms, r.systolic, r.diastolic});
      if (t.scripted) continue;
      const bool critical = individual ? r.systolic >= 170 || r.diastolic >= 105 : r.systolic >= 180 || r.diastolic >= 110;
      if (critical && Chance(rng, 0.8)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 4 * 60, 25 * 60) * kSecondMs, r.worker, hg::R1_CRITICAL_BP,
                        hg::ACKNOWLEDGE, 0, false});
      }
      const int abnormal_s = w.abnormal_systolic > 0 ? w.abnormal_systolic : 140;
      const int abnormal_d = w.abnormal_diastolic > 0 ? w.abnormal_diastolic : 90;
      const bool abnormal = r.systolic >= abnormal_s || r.diastolic >= abnormal_d || r.systolic < 90 || r.diastolic < 60;
      if (individual && abnormal && Chance(rng, 0.9)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 20 * 60, 150 * 60) * kSecondMs, r.worker, hg::R6_FOCUS_TRACKING,
                        hg::ACKNOWLEDGE, 0, false});
      }
    } else if (r.measure == Measure::kGlucose) {
      const double mmol = r.glucose_tenths / 10.0;
      glucose[r.worker].push_back(
          {r.measured_at_ms, t.arrival_ms, r.glucose_timing == hg::FASTING ? mmol >= 7.0 : mmol >= 11.1});
      if (!t.scripted && mmol < 3.0 && Chance(rng, 0.9)) {
        acks.push_back({t.arrival_ms + UniformInt(rng, 5 * 60, 20 * 60) * kSecondMs, r.worker, hg::R5_GLUCOSE,
                        hg::ACKNOWLEDGE, 0, false});
      }
    }
  }
  return seen;
}

// The morning round: what the manager's app shows in red, as the engine's rules would see it. Sustained
// hypertension and high glucose of referred workers are snoozed for a week.
void MorningRounds(const Population& pop, const WeekFrame& week, const Seen& seen, std::vector<PlannedAck>& acks,
                   Rng& rng) {
  const std::vector<std::vector<BpSeen>>& bp = seen.bp;
  const std::vector<std::vector<GlucoseSeen>>& glucose = seen.glucose;
  std::vector<std::vector<uint32_t>> by_grid(pop.grids.size());
  for (uint32_t i = 0; i < pop.workers.size(); ++i) by_grid[pop.workers[i].grid].push_back(i);
  std::vector<int64_t> r2_snoozed_until(pop.workers.size(), 0), r5_snoozed_until(pop.workers.size(), 0);
  const int64_t first = GridDay(week.history_start_ms), last = GridDay(week.end_ms - 1);
  for (int64_t day = first; day <= last; ++day) {
    for (uint32_t g = 0; g < pop.grids.size(); ++g) {
      const int64_t round = GridDayStartMs(day) + 9 * kHourMs + UniformInt(rng, 0, 90 * 60) * kSecondMs;
      if (round >= week.end_ms) continue;
      for (uint32_t i : by_grid[g]) {
        int64_t newest = 0;
        for (const BpSeen& s : bp[i]) {
          if (s.arrival <= round) newest = std::max(newest, s.measured);
        }
        int count = 0;
        double sum_s = 0, sum_d = 0;
        std::set<int64_t> days;
        for (const BpSeen& s : bp[i]) {
          if (s.arrival > round || s.measured <= newest - 7 * kDayMs || s.measured > newest) continue;
          ++count;
          sum_s += s.systolic;
          sum_d += s.diastolic;
          days.insert(GridDay(s.measured));
        }
        const bool sustained = count >= 3 && days.size() >= 2 && (sum_s / count >= 160 || sum_d / count >= 100);
        if (sustained && r2_snoozed_until[i] <= round) {
          r2_snoozed_until[i] = round + 7 * kDayMs;
          acks.push_back({round, i, hg::R2_SUSTAINED_HYPERTENSION, hg::SNOOZE, r2_snoozed_until[i], false});
        }
        int64_t newest_glucose = 0;
        for (const GlucoseSeen& s : glucose[i]) {
          if (s.arrival <= round) newest_glucose = std::max(newest_glucose, s.measured);
        }
        const auto highs = std::count_if(glucose[i].begin(), glucose[i].end(), [&](const GlucoseSeen& s) {
          return s.high && s.arrival <= round && s.measured > newest_glucose - 30 * kDayMs;
        });
        if (highs >= 2 && r5_snoozed_until[i] <= round) {
          r5_snoozed_until[i] = round + 7 * kDayMs;
          acks.push_back({round + kMinuteMs, i, hg::R5_GLUCOSE, hg::SNOOZE, r5_snoozed_until[i], false});
        }
      }
    }
  }
}

}  // namespace

void RoutineAcks(const Population& pop, const WeekFrame& week, const std::vector<TimedReading>& readings,
                 const ShiftPlan& shifts, std::vector<PlannedAck>& acks, Rng& rng) {
  const Seen seen = AckDrawnReadings(pop, readings, acks, rng);
  // Sent home after an unfit retest: the health manager acknowledges before the page climbs.
  for (const auto& [worker, retest_ms] : shifts.stood_down) {
    if (Chance(rng, 0.85)) {
      acks.push_back({retest_ms + UniformInt(rng, 3 * 60, 12 * 60) * kSecondMs, worker, hg::R4_PRE_SHIFT_FITNESS,
                      hg::ACKNOWLEDGE, 0, false});
    }
  }
  MorningRounds(pop, week, seen, acks, rng);
}

}  // namespace alertd::cli::sim
