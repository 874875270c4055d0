// The dashboard metrics on /metrics, through alertd as its own process: open escalations and
// self-test compliance by unit, pre-shift checks; the gauges stay right when partitions move between
// two instances of one group.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kMinute = 60 * 1000;

TEST(DashboardTest, GaugesByUnitSurviveARebalanceAndPreShiftChecksAreCounted) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), /*partitions=*/4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/alertd-a.log");
  TestProducer producer(kafka.bootstrap());
  const int64_t now = NowMs();

  // Six workers with diagnosed grade-2 hypertension in U05 (enrolled in weekly self-tests), two of
  // them with a grade-3 reading (R1 open at the health manager); two drivers in U02 with pre-shift checks.
  for (int i = 0; i < 6; ++i) {
    const std::string w = "E" + std::to_string(i);
    healthgrid::v1::WorkerProfile p = MakeProfile(w, "U05", "U05-G01");
    p.mutable_conditions()->set_hypertension_grade(2);
    producer.Send("worker-profiles", w, p.SerializeAsString());
  }
  for (const char* w : {"D1", "D2"}) {
    healthgrid::v1::WorkerProfile p = MakeProfile(w, "U02", "U02-G05");
    p.add_high_risk_posts(healthgrid::v1::DRIVER);
    producer.Send("worker-profiles", w, p.SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return a.Metric("alertd_committed_records_total") >= 8; }, 30s)) << a.process().LogTail();
  for (const char* w : {"E0", "E1"}) producer.Send("readings", w, MakeBp(w, now - kMinute, 186, 112).SerializeAsString());
  healthgrid::v1::Reading unfit = MakeBp("D1", now - 2 * kMinute, 166, 104);
  unfit.set_context(healthgrid::v1::PRE_SHIFT);
  healthgrid::v1::Reading fit = MakeBp("D2", now - 2 * kMinute, 122, 78);
  fit.set_context(healthgrid::v1::PRE_SHIFT);
  producer.Send("readings", "D1", unfit.SerializeAsString());
  producer.Send("readings", "D2", fit.SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return a.Metric("alertd_committed_records_total") >= 12 && a.CaughtUp(); }, 30s));

  const std::map<std::string, std::string> r1{{"unit", "U05"}, {"rule", "R1_critical_bp"}, {"level", "health_manager"}};
  EXPECT_EQ(a.Metric("alertd_self_test_enrolled_workers", {{"unit", "U05"}}), 6);
  EXPECT_EQ(a.Metric("alertd_self_test_overdue_workers", {{"unit", "U05"}}), 0);
  EXPECT_EQ(a.Metric("alertd_self_test_compliance_ratio", {{"unit", "U05"}}), 1);
  EXPECT_EQ(a.Metric("alertd_open_escalations", r1), 2);
  EXPECT_EQ(a.Metric("alertd_open_escalations", {{"unit", "U02"}, {"rule", "R4_pre_shift_fitness"}}), 1);
  EXPECT_EQ(a.Metric("alertd_pre_shift_checks_total", {{"unit", "U02"}, {"result", "unfit"}}), 1);
  EXPECT_EQ(a.Metric("alertd_pre_shift_checks_total", {{"unit", "U02"}, {"result", "fit"}}), 1);
  EXPECT_EQ(a.Get("/metrics").find("=\"E0\""), std::string::npos) << "a worker id leaked into a label";

  // A second instance joins: the partitions split, and the two halves add up to the same totals.
  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/alertd-b.log");
  auto both = [&](const std::string& metric, const std::map<std::string, std::string>& labels) {
    return a.Metric(metric, labels) + b.Metric(metric, labels);
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return a.Metric("alertd_assigned_partitions") > 0 && b.Metric("alertd_assigned_partitions") > 0 &&
               a.Metric("alertd_assigned_partitions") + b.Metric("alertd_assigned_partitions") == 16 &&
               a.CaughtUp() && b.CaughtUp();
      },
      60s))
      << b.process().LogTail();
  EXPECT_TRUE(WaitFor([&] { return both("alertd_self_test_enrolled_workers", {{"unit", "U05"}}) == 6; }, 10s))
      << a.Metric("alertd_self_test_enrolled_workers") << " + " << b.Metric("alertd_self_test_enrolled_workers");
  EXPECT_EQ(both("alertd_open_escalations", r1), 2);
  EXPECT_LT(a.Metric("alertd_self_test_enrolled_workers", {{"unit", "U05"}}), 6) << "the partitions did not split";

  // It leaves: the first instance owns everything again, and counts everything once.
  EXPECT_EQ(b.process().Terminate(), 0);
  EXPECT_TRUE(WaitFor([&] { return a.Metric("alertd_assigned_partitions") == 16; }, 60s));
  EXPECT_TRUE(WaitFor([&] { return a.Metric("alertd_self_test_enrolled_workers", {{"unit", "U05"}}) == 6; }, 10s));
  EXPECT_EQ(a.Metric("alertd_open_escalations", r1), 2);
  EXPECT_EQ(a.process().Terminate(), 0) << a.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
