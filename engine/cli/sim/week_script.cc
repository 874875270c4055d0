// The week's cast (who plays each rule's story) and script (their readings, clock-ins and acknowledgements).
#include "engine/cli/sim/week_script.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <stdexcept>

namespace alertd::cli::sim {
namespace {

// The worker's last valid blood-pressure reading measured before `before_ms` (what R3's clock runs
// from), or 0.
int64_t LastBpBefore(const std::vector<TimedReading>& readings, uint32_t worker, int64_t before_ms) {
  int64_t last = 0;
  for (const TimedReading& t : readings) {
    const PlannedReading& r = t.reading;
    if (r.worker == worker && r.measure == Measure::kBloodPressure && !r.impossible && !r.garbage &&
        r.measured_at_ms < before_ms) {
      last = std::max(last, r.measured_at_ms);
    }
  }
  return last;
}

PlannedReading ScriptedBp(uint32_t worker, int64_t at_ms, hg::MeasurementContext context, int systolic, int diastolic,
                          int pulse) {
  PlannedReading r;
  r.worker = worker;
  r.measured_at_ms = at_ms;
  r.context = context;
  r.measure = Measure::kBloodPressure;
  r.systolic = static_cast<uint16_t>(systolic);
  r.diastolic = static_cast<uint16_t>(diastolic);
  r.pulse = static_cast<uint16_t>(pulse);
  return r;
}

PlannedReading ScriptedGlucose(uint32_t worker, int64_t at_ms, hg::GlucoseTiming timing, double mmol_per_l) {
  PlannedReading r;
  r.worker = worker;
  r.measured_at_ms = at_ms;
  r.measure = Measure::kGlucose;
  r.glucose_timing = timing;
  r.glucose_tenths = ToU16(mmol_per_l * 10);
  return r;
}

std::string When(int64_t ms) { return FormatGridTime(ms).substr(5, 11); }  // "03-04 08:14"

}  // namespace

WeekCast CastWeek(Population& pop, const WeekFrame& week, Rng& rng) {
  WeekCast cast;
  const auto n = static_cast<uint32_t>(pop.workers.size());
  const uint32_t offset = static_cast<uint32_t>(UniformInt(rng, 0, static_cast<int>(n) - 1));
  auto choose = [&](const std::function<bool(const Worker&)>& fits) {
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t k = 0; k < n; ++k) {
        const uint32_t i = (offset + k * 7919) % n;  // a stride prime to most sizes spreads the cast out
        if (cast.all.count(i) > 0 || !pop.workers[i].active) continue;
        if (pass == 0 && !fits(pop.workers[i])) continue;
        cast.all.insert(i);
        return i;
      }
      for (uint32_t i = 0; i < n; ++i) {  // the stride missed some (sizes divisible by 7919)
        if (cast.all.count(i) == 0 && (pass == 1 || fits(pop.workers[i]))) {
          cast.all.insert(i);
          return i;
        }
      }
    }
    throw std::runtime_error("--scenario week needs at least 9 workers (--workers)");
  };
  auto grade2 = [](const Worker& w) { return w.bp_group == BpGroup::kGrade2 && w.posts.empty() && w.lapsed_since_ms == 0; };
  auto make_grade2 = [](Worker& w) {
    w.bp_group = BpGroup::kGrade2;
    w.diagnosed_grade = 2;
    w.systolic_mean = 165;
    w.diastolic_mean = 102;
    w.systolic_sd = 8;
    w.diastolic_sd = 6;
    w.self_tests_per_day = std::max(w.self_tests_per_day, 1.5);
    w.posts.clear();
    w.lapsed_since_ms = 0;
  };
  // R3: stop testing on a day chosen so that the due time (last reading + 7 days) falls in the week.
  cast.ladder = choose(grade2);
  make_grade2(pop.workers[cast.ladder]);
  pop.workers[cast.ladder].lapsed_since_ms = week.DayStart(-4);
  cast.acked = choose(grade2);
  make_grade2(pop.workers[cast.acked]);
  pop.workers[cast.acked].lapsed_since_ms = week.DayStart(-5);
  pop.workers[cast.acked].resumed_at_ms = week.DayStart(3);
  cast.late = choose([&](const Worker& w) { return grade2(w) && pop.grids[w.grid].remote; });
  Worker& late = pop.workers[cast.late];
  make_grade2(late);
  if (!pop.grids[late.grid].remote) {
    const auto remote = std::find_if(pop.grids.begin(), pop.grids.end(), [](const Grid& g) { return g.remote; });
    if (remote != pop.grids.end()) {
      late.grid = static_cast<uint32_t>(remote - pop.grids.begin());
    } else {
      pop.grids[late.grid].remote = true;  // a small grid: its one site is out of reach this week
    }
  }
  late.lapsed_since_ms = week.DayStart(-6);
  late.resumed_at_ms = week.DayStart(4);  // after the late upload (ScriptWeek moves it if needed)

  // R4: a post, a day shift, and a rota that has them at work on their scripted day.
  auto posted = [&](hg::HighRiskPost post, int64_t day_offset) {
    const uint32_t i = choose([&](const Worker& w) {
      return w.posts.size() == 1 && w.posts.front() == post && w.bp_group <= BpGroup::kGrade1;
    });
    Worker& w = pop.workers[i];
    w.posts = {post};
    if (w.bp_group > BpGroup::kGrade1) {
      w.bp_group = BpGroup::kGrade1;
      w.diagnosed_grade = 1;
      w.systolic_mean = 146;
      w.diastolic_mean = 92;
    }
    if (w.shift_start_minute > 12 * 60) w.shift_start_minute = 8 * 60;
    const int64_t day = week.first_day + day_offset;
    w.rota_offset = static_cast<int>(((7 - day % 7) % 7 + 7) % 7);  // (day + rota) % 7 == 0: a work day
    return i;
  };
  cast.unfit_retest = posted(hg::DRIVER, cast.unfit_retest_day);
  cast.unfit_clocked_in = posted(hg::WORK_AT_HEIGHT, cast.unfit_clocked_in_day);
  cast.no_check = posted(hg::DRIVER, cast.no_check_day);

  // R5: glucose only from the script, so the story is not lost among drawn readings.
  cast.glucose_high = choose([](const Worker& w) { return !w.diabetic && w.posts.empty(); });
  pop.workers[cast.glucose_high].scripted_glucose = true;
  cast.hypoglycaemia = choose([](const Worker& w) { return w.diabetic && w.posts.empty(); });
  pop.workers[cast.hypoglycaemia].diabetic = true;
  pop.workers[cast.hypoglycaemia].scripted_glucose = true;

  // R6: a grade-3 worker controlled on treatment, with thresholds of their own (MakeProfile).
  cast.focus = choose([](const Worker& w) { return w.bp_group == BpGroup::kGrade3HighRisk; });
  Worker& focus = pop.workers[cast.focus];
  focus.bp_group = BpGroup::kGrade3HighRisk;
  focus.diagnosed_grade = 3;
  focus.systolic_mean = 124;
  focus.diastolic_mean = 79;
  focus.systolic_sd = 6;
  focus.diastolic_sd = 4;
  focus.self_tests_per_day = 2;
  focus.posts.clear();
  focus.lapsed_since_ms = 0;
  focus.abnormal_systolic = 135;
  focus.abnormal_diastolic = 85;
  return cast;
}

std::vector<StoryLine> ScriptWeek(const Population& pop, const WeekCast& cast, const WeekFrame& week,
                                  std::vector<TimedReading>& readings, ShiftPlan& shifts,
                                  std::vector<PlannedAck>& acks, Rng& rng) {
  std::vector<StoryLine> story;
  auto add = [&](const PlannedReading& r, int64_t arrival_ms = 0) {
    readings.push_back({r, arrival_ms != 0 ? arrival_ms : r.measured_at_ms + UploadDelayMs(rng), true});
    return readings.back().arrival_ms;
  };
  auto id = [&](uint32_t i) { return pop.workers[i].id; };
  auto habit = [&](uint32_t i, int64_t day_offset) {
    return week.DayStart(day_offset) + pop.workers[i].habit_minute * kMinuteMs;
  };
  auto self_test = [&](uint32_t i, int64_t at_ms) {
    const Worker& w = pop.workers[i];
    return ScriptedBp(i, at_ms, hg::SELF_TEST, static_cast<int>(w.systolic_mean), static_cast<int>(w.diastolic_mean),
                      static_cast<int>(w.pulse_mean));
  };

  // R3 ladder: the last self-test, then nothing.
  add(self_test(cast.ladder, habit(cast.ladder, -5)));
  const int64_t ladder_due = LastBpBefore(readings, cast.ladder, pop.workers[cast.ladder].lapsed_since_ms) + 7 * kDayMs;
  story.push_back({id(cast.ladder), "R3 ladder",
                   fmt::format("stops self-testing: reminder to the worker {}, health manager {}, unit supervisor {}",
                               When(ladder_due), When(ladder_due + 24 * kHourMs), When(ladder_due + 72 * kHourMs))});

  // R3 acknowledged: the health manager acknowledges the reminder a few hours after it.
  add(self_test(cast.acked, habit(cast.acked, -6)));
  const int64_t acked_due = LastBpBefore(readings, cast.acked, pop.workers[cast.acked].lapsed_since_ms) + 7 * kDayMs;
  const int64_t ack_at = acked_due + 3 * kHourMs + UniformInt(rng, 0, 1800) * kSecondMs;
  acks.push_back({ack_at, cast.acked, hg::R3_SELF_TEST_MISSED, hg::ACKNOWLEDGE, 0, false});
  story.push_back({id(cast.acked), "R3 acknowledged",
                   fmt::format("reminder {}; health manager acknowledges {}: no climb at {}; re-notified {}; "
                               "tests again from {}: resolved",
                               When(acked_due), When(ack_at), When(acked_due + 24 * kHourMs), When(ack_at + 24 * kHourMs),
                               When(pop.workers[cast.acked].resumed_at_ms).substr(0, 5))});

  // R3 late upload: measured before the deadline at a remote site, uploaded two days later.
  add(self_test(cast.late, habit(cast.late, -7)));
  const int64_t late_due = LastBpBefore(readings, cast.late, pop.workers[cast.late].lapsed_since_ms) + 7 * kDayMs;
  const int64_t measured = late_due - 150 * kMinuteMs;
  const int64_t uploaded = add(self_test(cast.late, measured), measured + 48 * kHourMs + UniformInt(rng, 0, 3600) * kSecondMs);
  const Grid& remote = pop.grids[pop.workers[cast.late].grid];
  story.push_back({id(cast.late), "R3 late upload",
                   fmt::format("at {} ({}): reminder {}, health manager {}; the reading measured {} uploads {}: "
                               "escalation retracted",
                               remote.name, remote.id, When(late_due), When(late_due + 24 * kHourMs), When(measured),
                               When(uploaded))});

  // R4: shift at the worker's usual start on the scripted day.
  auto shift_ms = [&](uint32_t i, int64_t day_offset) {
    return week.DayStart(day_offset) + pop.workers[i].shift_start_minute * kMinuteMs;
  };
  {
    const uint32_t i = cast.unfit_retest;
    const int64_t shift = shift_ms(i, cast.unfit_retest_day);
    add(ScriptedBp(i, shift - 35 * kMinuteMs, hg::PRE_SHIFT, 165, 102, 88));
    add(ScriptedBp(i, shift - 23 * kMinuteMs, hg::PRE_SHIFT, 136, 86, 78));
    shifts.clock_ins.push_back({shift + 2 * kMinuteMs, i, pop.workers[i].posts.front()});
    story.push_back({id(i), "R4 unfit, fit retest",
                     fmt::format("driver: 165/102 before the {} shift: UNFIT_FOR_DUTY; retest 136/86: resolved; clocks in",
                                 When(shift))});
  }
  {
    const uint32_t i = cast.unfit_clocked_in;
    const int64_t shift = shift_ms(i, cast.unfit_clocked_in_day);
    add(ScriptedBp(i, shift - 30 * kMinuteMs, hg::PRE_SHIFT, 168, 104, 92));
    shifts.clock_ins.push_back({shift + 1 * kMinuteMs, i, pop.workers[i].posts.front()});
    story.push_back({id(i), "R4 unfit, clocked in",
                     fmt::format("work at height: 168/104 before the {} shift, no retest, clocks in: UNFIT_CLOCKED_IN "
                                 "(CRITICAL, unit supervisor)",
                                 When(shift))});
  }
  {
    const uint32_t i = cast.no_check;
    const int64_t shift = shift_ms(i, cast.no_check_day);
    shifts.clock_ins.push_back({shift, i, pop.workers[i].posts.front()});
    add(ScriptedBp(i, shift + 20 * kMinuteMs, hg::PRE_SHIFT, 128, 80, 72));
    story.push_back({id(i), "R4 no check",
                     fmt::format("driver clocks in {} without a check: NO_PRE_SHIFT_CHECK; checks fit 20 min later",
                                 When(shift))});
  }

  // R5: high glucose twice (not known diabetic), and a severe hypoglycaemia.
  {
    const uint32_t i = cast.glucose_high;
    add(ScriptedGlucose(i, week.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs, hg::RANDOM, 13.2));
    add(ScriptedGlucose(i, week.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs, hg::FASTING, 8.1));
    story.push_back({id(i), "R5 high twice",
                     fmt::format("random 13.2 mmol/L {}, fasting 8.1 {}: HIGH, routine referral",
                                 When(week.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs),
                                 When(week.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs))});
  }
  {
    const uint32_t i = cast.hypoglycaemia;
    const int64_t at = week.DayStart(3) + 10 * kHourMs + 15 * kMinuteMs;
    const int64_t arrival = add(ScriptedGlucose(i, at, hg::RANDOM, 2.6));
    acks.push_back({arrival + 12 * kMinuteMs, i, hg::R5_GLUCOSE, hg::ACKNOWLEDGE, 0, false});
    add(ScriptedGlucose(i, at + 25 * kMinuteMs, hg::RANDOM, 5.4));
    story.push_back({id(i), "R5 severe hypoglycaemia",
                     fmt::format("2.6 mmol/L {}: URGENT; acknowledged 12 min later; 5.4 after 25 min: resolved", When(at))});
  }

  // R6 and R1 under the worker's own thresholds.
  {
    const uint32_t i = cast.focus;
    const int64_t at = week.DayStart(2) + 8 * kHourMs + 5 * kMinuteMs;
    const int64_t arrival = add(ScriptedBp(i, at, hg::SELF_TEST, 172, 104, 96));
    acks.push_back({arrival + 10 * kMinuteMs, i, hg::R1_CRITICAL_BP, hg::ACKNOWLEDGE, 0, false});
    story.push_back({id(i), "R6 focus tracking",
                     fmt::format("grade 3, own policy: critical 170/105, abnormal 135/85, focus tracking, unit physician "
                                 "as extra recipient; 172/104 {}: R1 URGENT (global 180/110 would not fire) and R6",
                                 When(at))});
  }
  return story;
}

}  // namespace alertd::cli::sim
