// The chaos verifier's driver: a seeded history of readings, clock-ins and acks, produced in order.
#include "tests/integration/chaos.h"

#include <algorithm>
#include <random>
#include <thread>
#include <tuple>

namespace alertd::testing {
namespace {

constexpr int64_t kMinute = 60 * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// Midnight UTC of a fixed past day: stream time has nothing to do with the machine's clock.
constexpr int64_t kFirstDay = 1'699'920'000'000;  // 2023-11-14T00:00:00Z

std::string WorkerId(int i) {
  std::string digits = std::to_string(i);
  return "CW" + std::string(digits.size() < 5 ? 5 - digits.size() : 0, '0') + digits;
}

// Builds one worker's records and counts them.
class WorkerLife {
 public:
  WorkerLife(GridHistory& history, std::mt19937& rng, std::string worker)
      : history_(history), rng_(rng), worker_(std::move(worker)) {}

  // A blood-pressure reading measured at `measured`, uploaded up to 20 minutes later. Its device id
  // carries the worker's sequence number, so a reading seen twice or missing can be named.
  void Bp(int64_t measured, int systolic, int diastolic, healthgrid::v1::MeasurementContext context) {
    healthgrid::v1::Reading r = MakeBp(worker_, measured, systolic, diastolic);
    r.set_context(context);
    const int sequence = ++history_.readings_of[worker_];
    r.set_device_id("BPM-" + worker_ + "-" + std::to_string(sequence));
    Add("readings", r.SerializeAsString(), measured + Uniform(0, 20) * kMinute);
    ++history_.readings;
    last_measured_ = std::max(last_measured_, measured);
  }

  void ClockIn(int64_t at) {
    healthgrid::v1::ShiftEvent s;
    s.set_worker_id(worker_);
    s.set_post(healthgrid::v1::DRIVER);
    s.set_clock_in_at_ms(at);
    s.set_site("Haul road 3");
    Add("shifts", s.SerializeAsString(), at);
    ++history_.clock_ins;
  }

  // The health manager acknowledges the worker's open episode of `rule` (named by rule, not by id:
  // the driver cannot know the id before alertd makes it).
  void Acknowledge(healthgrid::v1::Rule rule, int64_t at, const std::string& grid) {
    healthgrid::v1::EscalationAck ack;
    ack.set_worker_id(worker_);
    ack.set_rule(rule);
    ack.set_action(healthgrid::v1::ACKNOWLEDGE);
    ack.mutable_by()->set_id("HM-" + grid);
    ack.mutable_by()->set_name("Manager of " + grid);
    ack.set_at_ms(at);
    Add("escalation-acks", ack.SerializeAsString(), at);
    ++history_.acks;
  }

  void Add(const std::string& topic, std::string value, int64_t timestamp_ms) {
    history_.records.push_back({topic, worker_, std::move(value), timestamp_ms, -1});
  }

  int64_t last_measured() const { return last_measured_; }
  int Uniform(int low, int high) { return low + static_cast<int>(rng_() % static_cast<uint32_t>(high - low + 1)); }
  bool Chance(int percent) { return Uniform(1, 100) <= percent; }

 private:
  GridHistory& history_;
  std::mt19937& rng_;
  std::string worker_;
  int64_t last_measured_ = 0;
};

}  // namespace

GridHistory MakeGridHistory(const GridHistoryOptions& options) {
  GridHistory history;
  std::mt19937 rng(options.seed);
  // The ladder of a worker who stops must reach the unit supervisor (due + 72 h) before the end.
  const int last_stop_day = std::max(4, options.days - 13);
  for (int i = 0; i < options.workers; ++i) {
    const std::string worker = WorkerId(i);
    const std::string unit = "U0" + std::to_string(i % 6);
    const std::string grid = unit + "-G0" + std::to_string(i % 4);
    WorkerLife life(history, rng, worker);

    const bool grade_2 = i % 4 == 0;      // enrolled in the weekly self-test (R3)
    const bool stops = i % 8 == 0;        // ... and stops measuring: the ladder climbs
    const bool acknowledged = i % 16 == 0;  // ... and the health manager stops the climb
    const bool driver = i % 5 == 0;       // pre-shift check before each shift (R4)
    healthgrid::v1::WorkerProfile profile = MakeProfile(worker, unit, grid);
    if (grade_2) profile.mutable_conditions()->set_hypertension_grade(2);
    if (driver) profile.add_high_risk_posts(healthgrid::v1::DRIVER);
    life.Add("worker-profiles", profile.SerializeAsString(), kFirstDay + i * 1000);
    ++history.profiles;

    const int stop_day = stops ? life.Uniform(3, last_stop_day) : options.days;
    for (int day = 0; day < stop_day; ++day) {
      const int64_t midnight = kFirstDay + day * kDay;
      if (driver && day % 7 < 5) {
        const int64_t shift = midnight + 8 * kHour;
        if (life.Chance(85)) {
          const int64_t check = shift - 30 * kMinute + life.Uniform(0, 15) * kMinute;
          if (life.Chance(10)) {
            life.Bp(check, 166, 103, healthgrid::v1::PRE_SHIFT);  // unfit for duty
            if (life.Chance(50)) life.Bp(check + 10 * kMinute, 128, 82, healthgrid::v1::PRE_SHIFT);  // fit retest
          } else {
            life.Bp(check, 124 + life.Uniform(0, 12), 78 + life.Uniform(0, 8), healthgrid::v1::PRE_SHIFT);
          }
        }
        life.ClockIn(shift);
      }
      if (!life.Chance(60)) continue;
      const int64_t measured = midnight + 10 * kHour + life.Uniform(0, 10 * 60) * kMinute;
      if (life.Chance(3)) {
        life.Bp(measured, 186, 114, healthgrid::v1::SELF_TEST);  // critical (R1)
        // After the reading's upload (at most 20 min), within R1's 30-min ack timeout.
        if (life.Chance(50)) life.Acknowledge(healthgrid::v1::R1_CRITICAL_BP, measured + 25 * kMinute, grid);
      } else if (grade_2) {
        life.Bp(measured, 148 + life.Uniform(0, 22), 92 + life.Uniform(0, 14), healthgrid::v1::SELF_TEST);
      } else {
        life.Bp(measured, 112 + life.Uniform(0, 26), 72 + life.Uniform(0, 16), healthgrid::v1::SELF_TEST);
      }
    }
    if (stops && acknowledged) {
      // Past the health manager's rung (due + 24 h), before the unit supervisor's (due + 72 h).
      const int64_t due = std::max(life.last_measured(), kFirstDay) + 7 * kDay;
      life.Acknowledge(healthgrid::v1::R3_SELF_TEST_MISSED, due + 30 * kHour, grid);
    }
  }
  // A last reading on every partition, a day after everything else: stream time passes every
  // deadline that falls within the history, on every partition.
  const int64_t end = kFirstDay + (options.days + 1) * kDay;
  for (int p = 0; p < options.partitions; ++p) {
    const std::string worker = "TICK-" + std::to_string(p);
    history.records.push_back(
        {"readings", worker, MakeBp(worker, end - kMinute, 118, 76).SerializeAsString(), end, p});
    ++history.readings_of[worker];
    ++history.readings;
  }
  // Record-time order; ties by topic keep runs of one topic long.
  std::stable_sort(history.records.begin(), history.records.end(), [](const InputRecord& a, const InputRecord& b) {
    return std::tie(a.timestamp_ms, a.topic) < std::tie(b.timestamp_ms, b.topic);
  });
  return history;
}

std::size_t CountRuns(const std::vector<InputRecord>& records) {
  std::size_t runs = records.empty() ? 0 : 1;
  for (std::size_t i = 1; i < records.size(); ++i) runs += records[i].topic != records[i - 1].topic ? 1 : 0;
  return runs;
}

void ProduceInOrder(TestProducer& producer, const std::vector<InputRecord>& records, std::chrono::milliseconds pause) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const InputRecord& r = records[i];
    producer.SendAt(r.topic, r.key, r.value, r.timestamp_ms, r.partition);
    if (i + 1 == records.size() || records[i + 1].topic != r.topic) {
      producer.Flush();
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }
}

}  // namespace alertd::testing
