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

// Writes the cast's parts into the drawn week: what each scripted worker measures, when they clock in and
// who acknowledges what, and the story line that says what alertd should make of it. The parts are
// written in a fixed order (R3, R4, R5, R6): each draws from the one stream.
class WeekScript {
 public:
  WeekScript(const Population& pop, const WeekCast& cast, const WeekFrame& week, std::vector<TimedReading>& readings,
             ShiftPlan& shifts, std::vector<PlannedAck>& acks, Rng& rng)
      : pop_(pop), cast_(cast), week_(week), readings_(readings), shifts_(shifts), acks_(acks), rng_(rng) {}

  void R3();
  void R4();
  void R5();
  void R6();
  std::vector<StoryLine> TakeStory() { return std::move(story_); }

 private:
  // Adds a scripted reading, uploaded at `arrival_ms` or (0) seconds after it is measured; its arrival.
  int64_t Add(const PlannedReading& r, int64_t arrival_ms = 0) {
    readings_.push_back({r, arrival_ms != 0 ? arrival_ms : r.measured_at_ms + UploadDelayMs(rng_), true});
    return readings_.back().arrival_ms;
  }
  const std::string& Id(uint32_t i) const { return pop_.workers[i].id; }
  // The worker's usual self-test time on the week's day `day_offset`.
  int64_t Habit(uint32_t i, int64_t day_offset) const {
    return week_.DayStart(day_offset) + pop_.workers[i].habit_minute * kMinuteMs;
  }
  // The worker's usual shift start on the week's day `day_offset`.
  int64_t ShiftAt(uint32_t i, int64_t day_offset) const {
    return week_.DayStart(day_offset) + pop_.workers[i].shift_start_minute * kMinuteMs;
  }
  // A self-test at the worker's own mean values.
  PlannedReading SelfTest(uint32_t i, int64_t at_ms) const {
    const Worker& w = pop_.workers[i];
    return ScriptedBp(i, at_ms, hg::SELF_TEST, static_cast<int>(w.systolic_mean), static_cast<int>(w.diastolic_mean),
                      static_cast<int>(w.pulse_mean));
  }

  const Population& pop_;
  const WeekCast& cast_;
  const WeekFrame& week_;
  std::vector<TimedReading>& readings_;
  ShiftPlan& shifts_;
  std::vector<PlannedAck>& acks_;
  Rng& rng_;
  std::vector<StoryLine> story_;
};

// R3: a ladder, an acknowledged reminder, and a late upload that retracts an escalation.
void WeekScript::R3() {
  // R3 ladder: the last self-test, then nothing.
  Add(SelfTest(cast_.ladder, Habit(cast_.ladder, -5)));
  const int64_t ladder_due = LastBpBefore(readings_, cast_.ladder, pop_.workers[cast_.ladder].lapsed_since_ms) + 7 * kDayMs;
  story_.push_back({Id(cast_.ladder), "R3 ladder",
                    fmt::format("stops self-testing: reminder to the worker {}, health manager {}, unit supervisor {}",
                                When(ladder_due), When(ladder_due + 24 * kHourMs), When(ladder_due + 72 * kHourMs))});

  // R3 acknowledged: the health manager acknowledges the reminder a few hours after it.
  Add(SelfTest(cast_.acked, Habit(cast_.acked, -6)));
  const int64_t acked_due = LastBpBefore(readings_, cast_.acked, pop_.workers[cast_.acked].lapsed_since_ms) + 7 * kDayMs;
  const int64_t ack_at = acked_due + 3 * kHourMs + UniformInt(rng_, 0, 1800) * kSecondMs;
  acks_.push_back({ack_at, cast_.acked, hg::R3_SELF_TEST_MISSED, hg::ACKNOWLEDGE, 0, false});
  story_.push_back({Id(cast_.acked), "R3 acknowledged",
                    fmt::format("reminder {}; health manager acknowledges {}: no climb at {}; re-notified {}; "
                                "tests again from {}: resolved",
                                When(acked_due), When(ack_at), When(acked_due + 24 * kHourMs), When(ack_at + 24 * kHourMs),
                                When(pop_.workers[cast_.acked].resumed_at_ms).substr(0, 5))});

  // R3 late upload: measured before the deadline at a remote site, uploaded two days later.
  Add(SelfTest(cast_.late, Habit(cast_.late, -7)));
  const int64_t late_due = LastBpBefore(readings_, cast_.late, pop_.workers[cast_.late].lapsed_since_ms) + 7 * kDayMs;
  const int64_t measured = late_due - 150 * kMinuteMs;
  const int64_t uploaded = Add(SelfTest(cast_.late, measured), measured + 48 * kHourMs + UniformInt(rng_, 0, 3600) * kSecondMs);
  const Grid& remote = pop_.grids[pop_.workers[cast_.late].grid];
  story_.push_back({Id(cast_.late), "R3 late upload",
                    fmt::format("at {} ({}): reminder {}, health manager {}; the reading measured {} uploads {}: "
                                "escalation retracted",
                                remote.name, remote.id, When(late_due), When(late_due + 24 * kHourMs), When(measured),
                                When(uploaded))});
}

// R4: shifts at the worker's usual start on the scripted days.
void WeekScript::R4() {
  {
    const uint32_t i = cast_.unfit_retest;
    const int64_t shift = ShiftAt(i, cast_.unfit_retest_day);
    Add(ScriptedBp(i, shift - 35 * kMinuteMs, hg::PRE_SHIFT, 165, 102, 88));
    Add(ScriptedBp(i, shift - 23 * kMinuteMs, hg::PRE_SHIFT, 136, 86, 78));
    shifts_.clock_ins.push_back({shift + 2 * kMinuteMs, i, pop_.workers[i].posts.front()});
    story_.push_back({Id(i), "R4 unfit, fit retest",
                      fmt::format("driver: 165/102 before the {} shift: UNFIT_FOR_DUTY; retest 136/86: resolved; clocks in",
                                  When(shift))});
  }
  {
    const uint32_t i = cast_.unfit_clocked_in;
    const int64_t shift = ShiftAt(i, cast_.unfit_clocked_in_day);
    Add(ScriptedBp(i, shift - 30 * kMinuteMs, hg::PRE_SHIFT, 168, 104, 92));
    shifts_.clock_ins.push_back({shift + 1 * kMinuteMs, i, pop_.workers[i].posts.front()});
    story_.push_back({Id(i), "R4 unfit, clocked in",
                      fmt::format("work at height: 168/104 before the {} shift, no retest, clocks in: UNFIT_CLOCKED_IN "
                                  "(CRITICAL, unit supervisor)",
                                  When(shift))});
  }
  {
    const uint32_t i = cast_.no_check;
    const int64_t shift = ShiftAt(i, cast_.no_check_day);
    shifts_.clock_ins.push_back({shift, i, pop_.workers[i].posts.front()});
    Add(ScriptedBp(i, shift + 20 * kMinuteMs, hg::PRE_SHIFT, 128, 80, 72));
    story_.push_back({Id(i), "R4 no check",
                      fmt::format("driver clocks in {} without a check: NO_PRE_SHIFT_CHECK; checks fit 20 min later",
                                  When(shift))});
  }
}

// R5: high glucose twice (not known diabetic), and a severe hypoglycaemia.
void WeekScript::R5() {
  {
    const uint32_t i = cast_.glucose_high;
    Add(ScriptedGlucose(i, week_.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs, hg::RANDOM, 13.2));
    Add(ScriptedGlucose(i, week_.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs, hg::FASTING, 8.1));
    story_.push_back({Id(i), "R5 high twice",
                      fmt::format("random 13.2 mmol/L {}, fasting 8.1 {}: HIGH, routine referral",
                                  When(week_.DayStart(1) + 12 * kHourMs + 40 * kMinuteMs),
                                  When(week_.DayStart(4) + 7 * kHourMs + 10 * kMinuteMs))});
  }
  {
    const uint32_t i = cast_.hypoglycaemia;
    const int64_t at = week_.DayStart(3) + 10 * kHourMs + 15 * kMinuteMs;
    const int64_t arrival = Add(ScriptedGlucose(i, at, hg::RANDOM, 2.6));
    acks_.push_back({arrival + 12 * kMinuteMs, i, hg::R5_GLUCOSE, hg::ACKNOWLEDGE, 0, false});
    Add(ScriptedGlucose(i, at + 25 * kMinuteMs, hg::RANDOM, 5.4));
    story_.push_back({Id(i), "R5 severe hypoglycaemia",
                      fmt::format("2.6 mmol/L {}: URGENT; acknowledged 12 min later; 5.4 after 25 min: resolved", When(at))});
  }
}

// R6 and R1 under the worker's own thresholds.
void WeekScript::R6() {
  {
    const uint32_t i = cast_.focus;
    const int64_t at = week_.DayStart(2) + 8 * kHourMs + 5 * kMinuteMs;
    const int64_t arrival = Add(ScriptedBp(i, at, hg::SELF_TEST, 172, 104, 96));
    acks_.push_back({arrival + 10 * kMinuteMs, i, hg::R1_CRITICAL_BP, hg::ACKNOWLEDGE, 0, false});
    story_.push_back({Id(i), "R6 focus tracking",
                      fmt::format("grade 3, own policy: critical 170/105, abnormal 135/85, focus tracking, unit physician "
                                  "as extra recipient; 172/104 {}: R1 URGENT (global 180/110 would not fire) and R6",
                                  When(at))});
  }
}

// Picks the cast one worker at a time, preferring active workers who already fit the part, spread over
// the population from a drawn offset; anyone active when no one fits.
class Casting {
 public:
  Casting(const Population& pop, Rng& rng)
      : pop_(pop), offset_(static_cast<uint32_t>(UniformInt(rng, 0, static_cast<int>(pop.workers.size()) - 1))) {}

  uint32_t Choose(const std::function<bool(const Worker&)>& fits) {
    const auto n = static_cast<uint32_t>(pop_.workers.size());
    for (int pass = 0; pass < 2; ++pass) {
      for (uint32_t k = 0; k < n; ++k) {
        const uint32_t i = (offset_ + k * 7919) % n;  // a stride prime to most sizes spreads the cast out
        if (chosen_.count(i) > 0 || !pop_.workers[i].active) continue;
        if (pass == 0 && !fits(pop_.workers[i])) continue;
        chosen_.insert(i);
        return i;
      }
      for (uint32_t i = 0; i < n; ++i) {  // the stride missed some (sizes divisible by 7919)
        if (chosen_.count(i) == 0 && (pass == 1 || fits(pop_.workers[i]))) {
          chosen_.insert(i);
          return i;
        }
      }
    }
    throw std::runtime_error("--scenario week needs at least 9 workers (--workers)");
  }
  const std::set<uint32_t>& chosen() const { return chosen_; }

 private:
  const Population& pop_;
  const uint32_t offset_;
  std::set<uint32_t> chosen_;
};

bool FitsGrade2(const Worker& w) { return w.bp_group == BpGroup::kGrade2 && w.posts.empty() && w.lapsed_since_ms == 0; }

// A diagnosed grade-2 worker, enrolled in weekly self-tests, in no high-risk post.
void MakeGrade2(Worker& w) {
  w.bp_group = BpGroup::kGrade2;
  w.diagnosed_grade = 2;
  w.systolic_mean = 165;
  w.diastolic_mean = 102;
  w.systolic_sd = 8;
  w.diastolic_sd = 6;
  w.self_tests_per_day = std::max(w.self_tests_per_day, 1.5);
  w.posts.clear();
  w.lapsed_since_ms = 0;
}

// R3: stop testing on a day chosen so that the due time (last reading + 7 days) falls in the week.
void CastR3(Population& pop, const WeekFrame& week, Casting& casting, WeekCast& cast) {
  cast.ladder = casting.Choose(FitsGrade2);
  MakeGrade2(pop.workers[cast.ladder]);
  pop.workers[cast.ladder].lapsed_since_ms = week.DayStart(-4);
  cast.acked = casting.Choose(FitsGrade2);
  MakeGrade2(pop.workers[cast.acked]);
  pop.workers[cast.acked].lapsed_since_ms = week.DayStart(-5);
  pop.workers[cast.acked].resumed_at_ms = week.DayStart(3);
  cast.late = casting.Choose([&](const Worker& w) { return FitsGrade2(w) && pop.grids[w.grid].remote; });
  Worker& late = pop.workers[cast.late];
  MakeGrade2(late);
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
}

// R4: a post, a day shift, and a rota that has them at work on their scripted day.
void CastR4(Population& pop, const WeekFrame& week, Casting& casting, WeekCast& cast) {
  auto posted = [&](hg::HighRiskPost post, int64_t day_offset) {
    const uint32_t i = casting.Choose([&](const Worker& w) {
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
}

// R5: glucose only from the script, so the story is not lost among drawn readings. R6: a grade-3
// worker controlled on treatment, with thresholds of their own (MakeProfile).
void CastR5AndR6(Population& pop, Casting& casting, WeekCast& cast) {
  cast.glucose_high = casting.Choose([](const Worker& w) { return !w.diabetic && w.posts.empty(); });
  pop.workers[cast.glucose_high].scripted_glucose = true;
  cast.hypoglycaemia = casting.Choose([](const Worker& w) { return w.diabetic && w.posts.empty(); });
  pop.workers[cast.hypoglycaemia].diabetic = true;
  pop.workers[cast.hypoglycaemia].scripted_glucose = true;

  cast.focus = casting.Choose([](const Worker& w) { return w.bp_group == BpGroup::kGrade3HighRisk; });
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
}

}  // namespace

WeekCast CastWeek(Population& pop, const WeekFrame& week, Rng& rng) {
  WeekCast cast;
  Casting casting(pop, rng);
  CastR3(pop, week, casting, cast);
  CastR4(pop, week, casting, cast);
  CastR5AndR6(pop, casting, cast);
  cast.all = casting.chosen();
  return cast;
}

std::vector<StoryLine> ScriptWeek(const Population& pop, const WeekCast& cast, const WeekFrame& week,
                                  std::vector<TimedReading>& readings, ShiftPlan& shifts,
                                  std::vector<PlannedAck>& acks, Rng& rng) {
  WeekScript script(pop, cast, week, readings, shifts, acks, rng);
  script.R3();
  script.R4();
  script.R5();
  script.R6();
  return script.TakeStory();
}

}  // namespace alertd::cli::sim
