// Two alertd instances of one group answer the query API for each other: each announces its HTTP
// address on the members topic; a worker held by the other is answered through it, a grid is gathered
// from both, a signed link acts on a worker held by the other, and an instance that stops answering
// makes the answer partial, naming its partition, within the 2 s bound.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/support/records.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSecret[] = "group-link-secret";
constexpr char kToken[] = "group-operator-token";
constexpr int kWorkers = 12;

json Answer(const AlertdProcess& alertd, const std::string& path) {
  const HttpAnswer a = HttpGet(alertd.http_port(), path, kToken);
  if (a.status != 200) return json();
  return json::parse(a.body, nullptr, false);
}

TEST(ApiGroupTest, TwoInstancesAnswerForEachOtherAndSayWhenOneIsSilent) {
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), 2);
  ASSERT_FALSE(kafka.bootstrap().empty());
  WriteTextFile(dir.path() + "/token", kToken);
  WriteTextFile(dir.path() + "/secret", kSecret);
  auto flags = [&](const std::string& id) {
    return std::vector<std::string>{"--instance-id", id, "--no-sync", "--api-token-file", dir.path() + "/token",
                                    "--link-secret-file", dir.path() + "/secret", "--kafka-property",
                                    "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500"};
  };
  AlertdProcess a(kafka.bootstrap(), dir.path() + "/db-a", dir.path() + "/a.log", flags("alertd-a"));
  AlertdProcess b(kafka.bootstrap(), dir.path() + "/db-b", dir.path() + "/b.log", flags("alertd-b"));
  ASSERT_TRUE(WaitFor(
      [&] { return a.AssignedPartitions("readings").size() == 1 && b.AssignedPartitions("readings").size() == 1; },
      60s))
      << a.process().LogTail() << "\n---\n" << b.process().LogTail();

  const int64_t now = NowMs();
  TestProducer producer(kafka.bootstrap());
  for (int i = 0; i < kWorkers; ++i) {
    const std::string w = "W" + std::to_string(100 + i);
    producer.Send("worker-profiles", w, MakeProfile(w, "U1", "G1").SerializeAsString());
    producer.Send("readings", w, MakeBp(w, now - 60000 + i, 184, 112).SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return a.CaughtUp() && b.CaughtUp(); }, 30s));

  // Gathered from both, from either side, once each has heard the other's address.
  for (const AlertdProcess* asked : {&a, &b}) {
    json grid;
    EXPECT_TRUE(WaitFor(
        [&] {
          grid = Answer(*asked, "/api/v1/grids/G1/workers");
          return grid.is_object() && grid["workers"].size() == kWorkers && grid["partial"] == false;
        },
        20s))
        << grid.dump();
    EXPECT_EQ(grid["missing_partitions"], json::array());
    const json escalations = Answer(*asked, "/api/v1/units/U1/escalations");
    EXPECT_EQ(escalations["escalations"].size(), static_cast<std::size_t>(kWorkers));
  }

  // A worker that b holds, asked of a: answered through b.
  const json b_part = Answer(b, "/api/v1/grids/G1/workers?local=1");
  ASSERT_FALSE(b_part["workers"].empty()) << b_part.dump();
  const std::string held_by_b = b_part["workers"][0]["id"];
  EXPECT_EQ(HttpGet(a.http_port(), "/api/v1/workers/" + held_by_b + "?local=1", kToken).status, 404);
  const json via_a = Answer(a, "/api/v1/workers/" + held_by_b);
  ASSERT_TRUE(via_a.is_object());
  EXPECT_EQ(via_a["owner"], "alertd-b");
  EXPECT_EQ(via_a["worker"]["id"], held_by_b);
  const std::string episode = via_a["episodes"][0]["episode_id"];

  // A signed link opened on a acts on b's worker: the page names them and b applies the ack.
  const std::string link =
      SignedActionLink(notify::LinkAction::kAcknowledge, held_by_b, episode, NowMs() + 3600 * 1000, kSecret);
  EXPECT_NE(HttpGet(a.http_port(), "/act?t=" + link).body.find("Worker " + held_by_b), std::string::npos);
  EXPECT_EQ(HttpPostForm(a.http_port(), "/act", {{"t", link}}).status, 200);
  EXPECT_TRUE(WaitFor(
      [&] {
        const json w = Answer(b, "/api/v1/workers/" + held_by_b);
        return w.is_object() && w["episodes"][0].value("acknowledged", false);
      },
      20s));

  // b stops answering (SIGSTOP): a's answer comes within the peer bound, partial, naming b's partition.
  const int32_t b_partition = *b.AssignedPartitions("readings").begin();
  b.process().Stop();
  const auto t0 = std::chrono::steady_clock::now();
  const json partial = Answer(a, "/api/v1/grids/G1/workers");
  const auto took = std::chrono::steady_clock::now() - t0;
  b.process().Continue();
  ASSERT_TRUE(partial.is_object());
  EXPECT_EQ(partial["partial"], true) << partial.dump();
  EXPECT_EQ(partial["missing_partitions"], json({b_partition}));
  EXPECT_LT(partial["workers"].size(), static_cast<std::size_t>(kWorkers));
  EXPECT_LT(took, 4s);
  EXPECT_EQ(a.process().Terminate(), 0) << a.process().LogTail();
  EXPECT_EQ(b.process().Terminate(), 0) << b.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
