// The policy backtest: the same merged history through two policies side by side, and their difference.
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/app/task.h"
#include "engine/backtest/comparison.h"
#include "engine/backtest/history.h"
#include "engine/backtest/policy_replay.h"
#include "engine/domain/policy.h"

namespace alertd::backtest {

struct BacktestOptions {
  Period period;
  domain::Policy baseline;
  domain::Policy candidate;
  app::Topics topics;             // names the replays route records by, as alertd's flags do
  std::size_t max_changed = 20;   // workers listed in the report (all are counted)
  std::string events_path;        // if set: every event in the period of both sides, as JSON lines
  // If set: only the events and referrals of workers whose profile lists this high-risk post when
  // they are emitted ("how many more pages for drivers?"); the policies still apply to everyone.
  std::optional<domain::HighRiskPost> post;
};

// Dead letters of one input topic and reason (the same bad records are refused under either
// policy unless the policies' plausible ranges differ).
struct DeadLetterRow {
  std::string topic;
  std::string reason;
  Pair records;
};

struct BacktestReport {
  ComparisonResult comparison;
  std::array<std::string, kInputs> topics;
  std::array<uint64_t, kInputs> records{};  // replayed, per input
  std::vector<DeadLetterRow> dead_letters;
  Pair pending_timers;  // deadlines after the last record of their partition: never fired
};

// Drives one PolicyReplay per side with every record, in the merged order the caller hands them in,
// and tallies what each side emits. Not thread-safe.
class Backtest {
 public:
  explicit Backtest(BacktestOptions options);
  // Opens the events file, if any.
  [[nodiscard]] absl::Status Start();
  void Replay(const HistoryRecord& record);
  // The first replay or output error, or OK.
  [[nodiscard]] absl::Status status() const;
  BacktestReport Finish();

 private:
  void Output(Side side, const std::string& topic, const std::string& value);
  // Keeps in_post_ up to date with a profile record (a bad one changes nothing: it is dead-lettered).
  void TrackPost(const kafka::RawRecord& raw);
  bool Counted(const std::string& worker) const { return !options_.post || in_post_.count(worker) > 0; }

  const BacktestOptions options_;
  const std::array<std::string, kInputs> input_topics_;
  Comparison comparison_;
  std::array<uint64_t, kInputs> records_{};
  std::map<std::pair<std::string, std::string>, Pair> dead_letters_;
  std::ofstream events_;
  std::unordered_set<std::string> in_post_;  // workers in options_.post, by their latest profile
  absl::Status output_status_;
  std::array<std::unique_ptr<PolicyReplay>, kSides> replays_;
};

}  // namespace alertd::backtest
