// The week scenario: plans a week of history on a simulation and hands out its records in Kafka order.
#include "engine/cli/sim/week.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/cli/grid_time.h"

namespace alertd::cli::sim {
namespace {

// A record planned for the week, before it is encoded.
struct ScheduledRecord {
  int64_t timestamp_ms = 0;
  uint64_t seq = 0;  // tie-break: the order it was planned in, so the run is reproducible
  WeekTopic topic = WeekTopic::kReadings;
  uint32_t index = 0;  // into the workers, readings, clock-ins or acks
};

std::string EncodeShift(const Population& pop, const PlannedShift& s, hg::ShiftEvent& shift) {
  const Worker& w = pop.workers[s.worker];
  shift.Clear();
  shift.set_worker_id(w.id);
  shift.set_post(s.post);
  shift.set_clock_in_at_ms(s.clock_in_ms);
  shift.set_site(pop.grids[w.grid].name);
  return shift.SerializeAsString();
}

std::string EncodeAck(const Population& pop, const PlannedAck& a, hg::EscalationAck& ack) {
  const Worker& w = pop.workers[a.worker];
  const Grid& grid = pop.grids[w.grid];
  ack.Clear();
  ack.set_worker_id(w.id);
  ack.set_rule(a.rule);  // no episode_id: "the worker's open episode of this rule"
  ack.set_action(a.action);
  if (a.action == hg::SNOOZE) ack.set_snooze_until_ms(a.snooze_until_ms);
  *ack.mutable_by() = a.by_supervisor ? pop.units[grid.unit].supervisor : grid.manager;
  ack.set_at_ms(a.at_ms);
  return ack.SerializeAsString();
}

// Every record of the week with its Kafka timestamp, in the order it reaches Kafka. Counts the readings
// uploaded more than an hour after they were measured.
std::vector<ScheduledRecord> Schedule(const Population& pop, const WeekFrame& week,
                                      const std::vector<TimedReading>& readings, const ShiftPlan& shifts,
                                      const std::vector<PlannedAck>& acks, Rng& rng, uint64_t& late_uploads) {
  std::vector<ScheduledRecord> records;
  records.reserve(pop.workers.size() + readings.size() + shifts.clock_ins.size() + acks.size());
  uint64_t seq = 0;
  // Profiles first, just before the history: alertd knows every worker before their first reading.
  for (uint32_t i = 0; i < pop.workers.size(); ++i) {
    records.push_back({week.history_start_ms - kHourMs, seq++, WeekTopic::kProfiles, i});
  }
  for (uint32_t i = 0; i < readings.size(); ++i) {
    if (readings[i].arrival_ms >= week.end_ms) continue;  // still on its way when the week ends
    if (readings[i].arrival_ms - readings[i].reading.measured_at_ms > kHourMs) ++late_uploads;
    records.push_back({readings[i].arrival_ms, seq++, WeekTopic::kReadings, i});
  }
  for (uint32_t i = 0; i < shifts.clock_ins.size(); ++i) {
    const int64_t at = shifts.clock_ins[i].clock_in_ms + UniformInt(rng, 1, 20) * kSecondMs;
    if (at < week.end_ms) records.push_back({at, seq++, WeekTopic::kShifts, i});
  }
  for (uint32_t i = 0; i < acks.size(); ++i) {
    if (acks[i].at_ms < week.end_ms) records.push_back({acks[i].at_ms, seq++, WeekTopic::kAcks, i});
  }
  std::sort(records.begin(), records.end(), [](const ScheduledRecord& a, const ScheduledRecord& b) {
    return a.timestamp_ms != b.timestamp_ms ? a.timestamp_ms < b.timestamp_ms : a.seq < b.seq;
  });
  return records;
}

}  // namespace

std::optional<int64_t> ParseGridDate(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char dash1 = 0, dash2 = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d%c%2u%c%2u", &y, &dash1, &m, &dash2, &d) != 5 ||
      dash1 != '-' || dash2 != '-') {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch().count();
}

WeekFrame MakeWeekFrame(int64_t first_day, int days, int lead_in_days) {
  WeekFrame week;
  week.first_day = first_day;
  week.history_start_ms = GridDayStartMs(first_day - lead_in_days);
  week.end_ms = GridDayStartMs(first_day + days);
  return week;
}

WeekScenario::WeekScenario(const WeekFrame& frame, Simulation& simulation)
    : frame_(frame), sim_(simulation), cast_(CastWeek(simulation.population, frame, simulation.rng)) {}

// The drawn readings of the lead-in and the week, each with the moment its station uploaded it.
std::vector<TimedReading> WeekScenario::PlanReadings(ShiftPlan& shifts) {
  const Population& pop = sim_.population;
  const WeekFrame& week = frame_;
  std::vector<TimedReading> readings;
  std::vector<PlannedReading> day;
  for (int64_t d = GridDay(week.history_start_ms); GridDayStartMs(d) < week.end_ms; ++d) {
    day.clear();
    PlanDay(pop, sim_.reading_options, d, week.history_start_ms, week.end_ms - 1, sim_.model, sim_.rng, &day, &shifts);
    for (const PlannedReading& r : day) {
      int64_t arrival = r.measured_at_ms + UploadDelayMs(sim_.rng);
      // Remote stations upload self-tests when they next reach the network: hours, sometimes a day.
      if (pop.grids[pop.workers[r.worker].grid].remote && r.context == hg::SELF_TEST &&
          cast_.all.count(r.worker) == 0 && Chance(sim_.rng, 0.05)) {
        arrival = r.measured_at_ms + static_cast<int64_t>(Uniform(sim_.rng, 2, 36) * kHourMs);
      }
      readings.push_back({r, arrival, false});
    }
  }
  return readings;
}

bool WeekScenario::Play(const std::function<bool(const WeekRecord&)>& sink) {
  const Population& pop = sim_.population;
  const WeekFrame& week = frame_;
  Rng& rng = sim_.rng;
  ShiftPlan shifts;
  shifts.scripted_days = {{cast_.unfit_retest, week.first_day + cast_.unfit_retest_day},
                          {cast_.unfit_clocked_in, week.first_day + cast_.unfit_clocked_in_day},
                          {cast_.no_check, week.first_day + cast_.no_check_day}};
  std::vector<TimedReading> readings = PlanReadings(shifts);
  std::vector<PlannedAck> acks;
  story_ = ScriptWeek(pop, cast_, week, readings, shifts, acks, rng);
  RoutineAcks(pop, week, readings, shifts, acks, rng);

  const std::vector<ScheduledRecord> records = Schedule(pop, week, readings, shifts, acks, rng, late_uploads_);

  hg::ShiftEvent shift;
  hg::EscalationAck ack;
  WeekRecord out;
  for (const ScheduledRecord& rec : records) {
    out.topic = rec.topic;
    out.timestamp_ms = rec.timestamp_ms;
    out.reading = nullptr;
    switch (rec.topic) {
      case WeekTopic::kProfiles: {
        const Worker& w = pop.workers[rec.index];
        out.key = w.id;
        out.value = MakeProfile(pop, w).SerializeAsString();
        break;
      }
      case WeekTopic::kReadings: {
        const PlannedReading& r = readings[rec.index].reading;
        out.key = pop.workers[r.worker].id;
        out.value = sim_.encoder.Encode(r);
        out.reading = &r;
        break;
      }
      case WeekTopic::kShifts:
        out.key = pop.workers[shifts.clock_ins[rec.index].worker].id;
        out.value = EncodeShift(pop, shifts.clock_ins[rec.index], shift);
        break;
      case WeekTopic::kAcks:
        out.key = pop.workers[acks[rec.index].worker].id;
        out.value = EncodeAck(pop, acks[rec.index], ack);
        break;
    }
    if (!sink(out)) return false;
  }
  return true;
}

}  // namespace alertd::cli::sim
