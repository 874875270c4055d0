// The backtest's pure comparison core: two policies' escalations tallied side by side (no Kafka, no I/O).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace alertd::backtest {

// The two sides of a backtest: the policy in force and the one being considered.
enum class Side : int { kBaseline = 0, kCandidate = 1 };
inline constexpr int kSides = 2;

// One escalation as the comparison counts it (the fields of healthgrid.v1.Escalation it needs; enum
// values by their proto names, e.g. "R1_CRITICAL_BP", so the report reads like the wire).
struct EventSummary {
  std::string event_id;
  std::string episode_id;
  uint32_t sequence = 0;
  std::string worker;
  std::string unit;  // empty when the worker had no profile yet
  std::string rule;
  std::string severity;
  std::string level;
  std::string state;
  int64_t trigger_at_ms = 0;
  int64_t emitted_at_ms = 0;
};

// One clinic referral as the comparison counts it.
struct ReferralSummary {
  std::string referral_id;
  std::string worker;
  std::string unit;
  std::string rule;
  std::string urgency;
  int64_t trigger_at_ms = 0;
};

// What is compared: events whose trigger time lies in [from_ms, to_ms), in weeks of 7 days counted
// from `from_ms`; alert fatigue counts per local day, `utc_offset_ms` east of UTC.
struct Period {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t utc_offset_ms = 8 * 3600 * 1000;
};

// A count on both sides.
struct Pair {
  uint64_t baseline = 0;
  uint64_t candidate = 0;
  int64_t difference() const { return static_cast<int64_t>(candidate) - static_cast<int64_t>(baseline); }
  uint64_t& of(Side side) { return side == Side::kBaseline ? baseline : candidate; }
  friend bool operator==(const Pair&, const Pair&) = default;
};

// Events of one rule and severity in one unit and week (week 0 starts at Period::from_ms).
struct WeekRow {
  int week = 0;
  std::string rule;
  std::string severity;
  std::string unit;
  Pair events;
};

// A worker whose escalations differ between the policies (by rule, severity, level, state and trigger
// time), with how many each side raised.
struct WorkerChange {
  std::string worker;
  std::string unit;
  Pair events;
};

// Alerts per worker per local day, over the worker-days with at least one alert (emitted_at's day:
// the day the people were told).
struct Fatigue {
  uint64_t worker_days = 0;
  uint64_t alerts = 0;
  double mean = 0;
  uint64_t p95 = 0;  // nearest rank
  uint64_t max = 0;
  friend bool operator==(const Fatigue&, const Fatigue&) = default;
};

// Events of one rule in one state (OPEN, ESCALATED, RENOTIFIED, RESOLVED): new episodes apart from
// the later notifications of each.
struct StateRow {
  std::string rule;
  std::string state;
  Pair events;
};

struct ReferralRow {
  std::string rule;
  std::string urgency;
  Pair referrals;
};

// The difference the report prints. Every list is sorted, so equal input gives equal output.
struct ComparisonResult {
  Period period;
  int weeks = 0;                      // weeks in the period, the last one possibly short
  std::vector<WeekRow> by_week;       // (week, rule, severity, unit); rows with any event
  Pair total;                         // events in the period
  std::vector<StateRow> by_state;     // (rule, state)
  std::vector<WorkerChange> changed;  // the first `max_changed` by worker id
  uint64_t changed_workers = 0;       // all of them
  std::array<Fatigue, kSides> fatigue;
  std::vector<ReferralRow> referrals;  // (rule, urgency)
  Pair referrals_total;
};

// Tallies the events both policies raised and compares them. Memory: one entry per worker with an
// event, one per worker-day with an alert, one per (week, rule, severity, unit). Thread-compatible.
class Comparison {
 public:
  explicit Comparison(Period period) : period_(period) {}

  bool InPeriod(int64_t trigger_at_ms) const {
    return trigger_at_ms >= period_.from_ms && trigger_at_ms < period_.to_ms;
  }
  // Events and referrals outside the period are ignored.
  void AddEvent(Side side, const EventSummary& event);
  void AddReferral(Side side, const ReferralSummary& referral);

  ComparisonResult Result(std::size_t max_changed) const;

 private:
  struct WorkerTrack {
    std::string unit;
    Pair events;
    std::array<uint64_t, kSides> fingerprint{};  // order-free sum of the events' hashes
  };
  const Period period_;
  std::map<std::tuple<int, std::string, std::string, std::string>, Pair> by_week_;
  std::map<std::pair<std::string, std::string>, Pair> by_state_;
  std::unordered_map<std::string, WorkerTrack> workers_;
  std::unordered_map<std::string, Pair> worker_days_;  // worker id '\x1f' local day number
  std::map<std::pair<std::string, std::string>, Pair> referrals_;
};

// The number of whole or partial weeks in [from_ms, to_ms).
int WeeksIn(const Period& period);

}  // namespace alertd::backtest
