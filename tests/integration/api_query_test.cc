// The query API of a real alertd on the embedded cluster: a grid's workers with their latest readings
// and abnormal values, the unit's open escalations oldest first, self-test compliance, one worker
// against their own thresholds, and what a view link may read.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace {

namespace pb = healthgrid::v1;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSecret[] = "query-link-secret";
constexpr char kToken[] = "query-operator-token";

std::string ViewLink(const std::string& scope) { return SignedViewLink(scope, NowMs() + 3600 * 1000, kSecret); }

TEST(ApiQueryTest, AGridsWorkersEscalationsAndComplianceAsThePageReadsThem) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 4);
  ASSERT_FALSE(kafka.bootstrap().empty());
  WriteTextFile(dir.path() + "/token", kToken);
  WriteTextFile(dir.path() + "/secret", kSecret);
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log",
                       {"--api-token-file", dir.path() + "/token", "--link-secret-file", dir.path() + "/secret"});
  ASSERT_GT(alertd.http_port(), 0);

  const int64_t now = NowMs();
  TestProducer producer(kafka.bootstrap());
  pb::WorkerProfile focus = MakeProfile("W-FOCUS", "U1", "G1");
  focus.mutable_policy()->set_focus_tracking(true);
  focus.mutable_policy()->set_abnormal_systolic_mmhg(130);
  pb::WorkerProfile enrolled = MakeProfile("W-ENROLLED", "U1", "G2");
  enrolled.mutable_conditions()->set_hypertension_grade(2);
  for (const pb::WorkerProfile& p : {MakeProfile("W-CRIT", "U1", "G1"), MakeProfile("W-OK", "U1", "G1"), focus, enrolled}) {
    producer.Send("worker-profiles", p.worker_id(), p.SerializeAsString());
  }
  producer.Send("readings", "W-CRIT", MakeBp("W-CRIT", now - 60000, 182, 104).SerializeAsString());
  producer.Send("readings", "W-OK", MakeBp("W-OK", now - 60000, 132, 84).SerializeAsString());
  producer.Send("readings", "W-FOCUS", MakeBp("W-FOCUS", now - 50000, 132, 84).SerializeAsString());
  producer.Send("readings", "W-ENROLLED", MakeBp("W-ENROLLED", now - 40000, 150, 92).SerializeAsString());
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.CaughtUp(); }, 30s)) << alertd.process().LogTail();

  const int port = alertd.http_port();
  json grid;
  ASSERT_TRUE(WaitFor(
      [&] {
        const HttpAnswer a = HttpGet(port, "/api/v1/grids/G1/workers", kToken);
        if (a.status != 200) return false;
        grid = json::parse(a.body);
        return grid["workers"].size() == 3 && !grid["workers"][2]["latest_bp"].is_null();
      },
      20s))
      << grid.dump();
  EXPECT_EQ(grid["partial"], false);
  EXPECT_EQ(grid["missing_partitions"], json::array());
  EXPECT_EQ(grid["truncated"], false);
  std::map<std::string, json> rows;
  for (const json& w : grid["workers"]) rows[w["id"]] = w;
  EXPECT_EQ(rows["W-CRIT"]["latest_bp"]["abnormal"], true);
  EXPECT_EQ(rows["W-CRIT"]["latest_bp"]["category"], "grade3");
  EXPECT_EQ(rows["W-CRIT"]["highest_severity"], "URGENT");
  EXPECT_EQ(rows["W-OK"]["latest_bp"]["abnormal"], false);  // 132/84 is high-normal: not red
  EXPECT_EQ(rows["W-FOCUS"]["latest_bp"]["abnormal"], true);  // ...but red against 130 of their own policy

  const json worker = json::parse(HttpGet(port, "/api/v1/workers/W-FOCUS", kToken).body);
  EXPECT_EQ(worker["thresholds"]["bp_high_systolic"], 130);
  EXPECT_EQ(worker["worker"]["grid_id"], "G1");
  EXPECT_EQ(worker["bp"].size(), 1u);

  const json escalations = json::parse(HttpGet(port, "/api/v1/units/U1/escalations", kToken).body);
  ASSERT_GE(escalations["escalations"].size(), 2u) << escalations.dump();
  EXPECT_EQ(escalations["escalations"][0]["worker_id"], "W-CRIT");  // opened first
  EXPECT_EQ(escalations["escalations"][0]["rule"], "R1");
  EXPECT_EQ(escalations["partial"], false);

  const json compliance = json::parse(HttpGet(port, "/api/v1/grids/G2/compliance", kToken).body);
  EXPECT_EQ(compliance["enrolled"], 1);
  EXPECT_EQ(compliance["tested_this_week"], 1);
  EXPECT_EQ(compliance["overdue"], json::array());

  // Tokens: none, wrong, a grid's view link inside and outside its scope.
  EXPECT_EQ(HttpGet(port, "/api/v1/grids/G1/workers").status, 401);
  EXPECT_EQ(HttpGet(port, "/api/v1/grids/G1/workers", "not-the-token").status, 401);
  EXPECT_EQ(HttpGet(port, "/api/v1/grids/G1/workers", ViewLink("grid:G1")).status, 200);
  EXPECT_EQ(HttpGet(port, "/api/v1/workers/W-CRIT", ViewLink("grid:G1")).status, 200);
  EXPECT_EQ(HttpGet(port, "/api/v1/workers/W-ENROLLED", ViewLink("grid:G1")).status, 403);
  EXPECT_EQ(HttpGet(port, "/api/v1/grids/G2/escalations", ViewLink("grid:G1")).status, 403);
  EXPECT_EQ(HttpGet(port, "/api/v1/workers/NOBODY", kToken).status, 404);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
