// What one worker's state adds to the dashboard gauges: open escalations, self-test enrolment.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/domain/types.h"
#include "engine/domain/worker_state.h"

namespace alertd::metrics {

// One worker's share of alertd_open_escalations{unit, rule, level} and alertd_self_test_*{unit}.
// The gauges are sums of these over the owned workers; the engine keeps them right by applying the
// difference of a worker's contribution before and after each change, never by counting events, so
// they survive restarts (initialised from the store) and rebalances. Fixed size: no allocation for a
// unit id that fits the small-string buffer.
struct WorkerGauges {
  static constexpr std::size_t kRules = 7;  // indexed by domain::Rule's value (1..6)
  std::string unit;                          // the profile's unit_id, "" without a profile
  std::array<uint8_t, kRules> open_level{};  // EscalationLevel value of the rule's open episode, 0 if none
  // Event time the rule's open episode opened at, whole seconds since the epoch (0 if none): its sum
  // per series, over the count, gives the dashboard the open episodes' mean age.
  std::array<int64_t, kRules> opened_at_s{};
  bool enrolled = false;                     // in weekly self-tests (R3): self_test_since is set
  bool overdue = false;                      // enrolled and an R3 episode is open
  bool empty() const { return !enrolled && open_level == std::array<uint8_t, kRules>{}; }
  friend bool operator==(const WorkerGauges&, const WorkerGauges&) = default;
};

// Cheap test for the hot path: false for most workers (nothing open, not enrolled), whose
// contribution is empty and need not be computed.
inline bool Contributes(const domain::WorkerState& s) { return !s.open.empty() || s.self_test_since.has_value(); }

WorkerGauges GaugesOf(const domain::WorkerState& s);

}  // namespace alertd::metrics
