// A worker's contribution to the dashboard gauges, from its state alone.
#include "engine/metrics/worker_gauges.h"

namespace alertd::metrics {

WorkerGauges GaugesOf(const domain::WorkerState& s) {
  WorkerGauges g;
  if (!Contributes(s)) return g;
  if (s.profile) g.unit = s.profile->unit_id;
  for (const domain::OpenEpisode& e : s.open) {
    const auto rule = static_cast<std::size_t>(e.rule);
    if (rule < g.open_level.size()) {
      g.open_level[rule] = static_cast<uint8_t>(e.level);
      g.opened_at_s[rule] = e.opened_at.ms / 1000;
    }
    if (e.rule == domain::Rule::kR3SelfTestMissed) g.overdue = s.self_test_since.has_value();
  }
  g.enrolled = s.self_test_since.has_value();
  return g;
}

}  // namespace alertd::metrics
