// Dashboard gauges: a worker's contribution from its state (table-driven), and the sums EngineMetrics
// keeps from the differences the engine applies.
#include "engine/metrics/worker_gauges.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/metrics/engine_metrics.h"
#include "tests/support/exposition.h"

namespace alertd::metrics {
namespace {

using domain::EscalationLevel;
using domain::Rule;

domain::WorkerState State(const char* unit, std::vector<std::pair<Rule, EscalationLevel>> open, bool enrolled) {
  domain::WorkerState s;
  if (unit != nullptr) {
    s.profile.emplace();
    s.profile->unit_id = unit;
  }
  for (auto [rule, level] : open) {
    domain::OpenEpisode e;
    e.rule = rule;
    e.level = level;
    s.open.push_back(e);
  }
  if (enrolled) {
    s.self_test_since = domain::ProcessingTime{1000};
    s.self_test_due = domain::ProcessingTime{1000 + 7 * domain::kDayMs};
  }
  return s;
}

WorkerGauges Gauges(std::string unit, std::vector<std::pair<Rule, EscalationLevel>> open, bool enrolled,
                    bool overdue) {
  WorkerGauges g;
  g.unit = std::move(unit);
  for (auto [rule, level] : open) g.open_level[static_cast<std::size_t>(rule)] = static_cast<uint8_t>(level);
  g.enrolled = enrolled;
  g.overdue = overdue;
  return g;
}

struct Case {
  std::string name;
  domain::WorkerState state;
  bool contributes;
  WorkerGauges want;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class GaugesOfTest : public ::testing::TestWithParam<Case> {};

TEST_P(GaugesOfTest, ContributionFollowsTheState) {
  EXPECT_EQ(Contributes(GetParam().state), GetParam().contributes);
  EXPECT_EQ(GaugesOf(GetParam().state), GetParam().want);
  EXPECT_EQ(GaugesOf(GetParam().state).empty(), !GetParam().contributes);
}

INSTANTIATE_TEST_SUITE_P(
    Table, GaugesOfTest,
    ::testing::Values(
        Case{"NoProfileNothingOpen", State(nullptr, {}, false), false, WorkerGauges{}},
        // The unit alone adds nothing: most workers take the quick path.
        Case{"ProfileOnly", State("U01", {}, false), false, WorkerGauges{}},
        Case{"EnrolledOnTrack", State("U01", {}, true), true, Gauges("U01", {}, true, false)},
        Case{"EnrolledOverdue",
             State("U01", {{Rule::kR3SelfTestMissed, EscalationLevel::kHealthManager}}, true), true,
             Gauges("U01", {{Rule::kR3SelfTestMissed, EscalationLevel::kHealthManager}}, true, true)},
        // An R3 episode left open after enrolment ended is open, not overdue.
        Case{"R3OpenNotEnrolled", State("U01", {{Rule::kR3SelfTestMissed, EscalationLevel::kWorker}}, false), true,
             Gauges("U01", {{Rule::kR3SelfTestMissed, EscalationLevel::kWorker}}, false, false)},
        Case{"SeveralRulesOpen",
             State("U07",
                   {{Rule::kR1CriticalBp, EscalationLevel::kUnitSupervisor},
                    {Rule::kR4PreShiftFitness, EscalationLevel::kHealthManager}},
                   false),
             true,
             Gauges("U07",
                    {{Rule::kR1CriticalBp, EscalationLevel::kUnitSupervisor},
                     {Rule::kR4PreShiftFitness, EscalationLevel::kHealthManager}},
                    false, false)},
        Case{"OpenWithoutProfileHasNoUnit", State(nullptr, {{Rule::kR1CriticalBp, EscalationLevel::kHealthManager}}, false),
             true, Gauges("", {{Rule::kR1CriticalBp, EscalationLevel::kHealthManager}}, false, false)}),
    [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// The exposition's value text for `series` (name{labels}), or "" if absent.
std::string Line(const EngineMetrics& m, const std::string& series) {
  return testing::SeriesText(m.Exposition(), series);
}

TEST(EngineMetricsGaugesTest, DifferencesAddUpAndRatioIsOmittedWithoutEnrolment) {
  EngineMetrics m;
  const WorkerGauges nothing;
  const WorkerGauges on_track = Gauges("U01", {}, true, false);
  const WorkerGauges overdue = Gauges("U01", {{Rule::kR3SelfTestMissed, EscalationLevel::kWorker}}, true, true);
  m.ApplyWorkerChange(nothing, on_track);
  m.ApplyWorkerChange(nothing, on_track);
  m.ApplyWorkerChange(nothing, on_track);
  m.ApplyWorkerChange(on_track, overdue);
  EXPECT_EQ(Line(m, "alertd_self_test_enrolled_workers{unit=\"U01\"}"), "3");
  EXPECT_EQ(Line(m, "alertd_self_test_overdue_workers{unit=\"U01\"}"), "1");
  EXPECT_EQ(std::stod(Line(m, "alertd_self_test_compliance_ratio{unit=\"U01\"}")), 2.0 / 3.0);
  EXPECT_EQ(Line(m, "alertd_open_escalations{level=\"worker\",rule=\"R3_self_test_missed\",unit=\"U01\"}"), "1")
      << m.Exposition();

  // The worker climbs a level and moves unit: the old series drop to 0, the new ones count it.
  const WorkerGauges moved = Gauges("U02", {{Rule::kR3SelfTestMissed, EscalationLevel::kHealthManager}}, true, true);
  m.ApplyWorkerChange(overdue, moved);
  EXPECT_EQ(Line(m, "alertd_open_escalations{level=\"worker\",rule=\"R3_self_test_missed\",unit=\"U01\"}"), "0");
  EXPECT_EQ(Line(m, "alertd_open_escalations{level=\"health_manager\",rule=\"R3_self_test_missed\",unit=\"U02\"}"),
            "1");
  EXPECT_EQ(Line(m, "alertd_self_test_compliance_ratio{unit=\"U02\"}"), "0");

  // Nobody enrolled in U02 any more: its ratio disappears rather than divide by zero.
  m.ApplyWorkerChange(moved, nothing);
  EXPECT_EQ(Line(m, "alertd_self_test_enrolled_workers{unit=\"U02\"}"), "0");
  EXPECT_EQ(Line(m, "alertd_self_test_compliance_ratio{unit=\"U02\"}"), "");

  // A worker without a profile is counted under the same "unknown" unit as the other metrics.
  m.ApplyWorkerChange(nothing, Gauges("", {{Rule::kR1CriticalBp, EscalationLevel::kHealthManager}}, false, false));
  EXPECT_EQ(Line(m, "alertd_open_escalations{level=\"health_manager\",rule=\"R1_critical_bp\",unit=\"unknown\"}"), "1");

  m.ClearWorkerGauges();
  EXPECT_EQ(m.Exposition().find("alertd_open_escalations{"), std::string::npos);
  EXPECT_EQ(m.Exposition().find("alertd_self_test_enrolled_workers{"), std::string::npos);
  m.ApplyWorkerChange(nothing, on_track);
  EXPECT_EQ(Line(m, "alertd_self_test_enrolled_workers{unit=\"U01\"}"), "1");
}

TEST(GaugesOfTest, OpenedAtIsTheEpisodesEventTimeInWholeSeconds) {
  domain::WorkerState s = State("U01", {{Rule::kR1CriticalBp, EscalationLevel::kHealthManager}}, false);
  s.open[0].opened_at = domain::EventTime{1'700'000'000'999};
  EXPECT_EQ(GaugesOf(s).opened_at_s[static_cast<std::size_t>(Rule::kR1CriticalBp)], 1'700'000'000);
  EXPECT_EQ(GaugesOf(s).opened_at_s[static_cast<std::size_t>(Rule::kR2SustainedHypertension)], 0);
}

// The opened-at sum follows the episodes from series to series, so time() - sum / count is their mean age.
TEST(EngineMetricsGaugesTest, OpenedAtSumsFollowTheEpisodesAcrossLevels) {
  EngineMetrics m;
  const auto r1 = static_cast<std::size_t>(Rule::kR1CriticalBp);
  WorkerGauges a = Gauges("U01", {{Rule::kR1CriticalBp, EscalationLevel::kHealthManager}}, false, false);
  a.opened_at_s[r1] = 1'700'000'000;
  WorkerGauges b = a;
  b.opened_at_s[r1] = 1'700'003'600;
  m.ApplyWorkerChange({}, a);
  m.ApplyWorkerChange({}, b);
  const std::string hm = "{level=\"health_manager\",rule=\"R1_critical_bp\",unit=\"U01\"}";
  const std::string sup = "{level=\"unit_supervisor\",rule=\"R1_critical_bp\",unit=\"U01\"}";
  EXPECT_EQ(Line(m, "alertd_open_escalations" + hm), "2");
  EXPECT_EQ(std::stod(Line(m, "alertd_open_escalations_opened_timestamp_seconds_sum" + hm)), 3'400'003'600.0);

  // b climbs: its opening time moves with it to the supervisor's series.
  WorkerGauges b_climbed = b;
  b_climbed.open_level[r1] = static_cast<uint8_t>(EscalationLevel::kUnitSupervisor);
  m.ApplyWorkerChange(b, b_climbed);
  EXPECT_EQ(std::stod(Line(m, "alertd_open_escalations_opened_timestamp_seconds_sum" + hm)), 1'700'000'000.0);
  EXPECT_EQ(std::stod(Line(m, "alertd_open_escalations_opened_timestamp_seconds_sum" + sup)), 1'700'003'600.0);

  m.ClearWorkerGauges();
  EXPECT_EQ(m.Exposition().find("alertd_open_escalations_opened_timestamp_seconds_sum{"), std::string::npos);
}

TEST(EngineMetricsGaugesTest, PreShiftChecksCountFitAndUnfitByUnit) {
  EngineMetrics m;
  m.CountPreShiftCheck("U02", true);
  m.CountPreShiftCheck("U02", false);
  m.CountPreShiftCheck("U02", false);
  EXPECT_EQ(Line(m, "alertd_pre_shift_checks_total{result=\"fit\",unit=\"U02\"}"), "1");
  EXPECT_EQ(Line(m, "alertd_pre_shift_checks_total{result=\"unfit\",unit=\"U02\"}"), "2");
}

}  // namespace
}  // namespace alertd::metrics
