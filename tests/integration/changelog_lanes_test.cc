// The changelog writer's lanes (changelog.h, "Lanes") against the embedded cluster: whatever the number
// of producers, each partition's changelog holds its records in the order they were written, once each,
// and the checkpoints the writer returns point right after them.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/app/changelog.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/layout.h"
#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int kPartitions = 16;
constexpr int kCommits = 40;

class ChangelogLanesTest : public ::testing::TestWithParam<int> {};

// A put of a worker head in `partition`, whose value names the commit and its place in it.
state::Change Put(int32_t partition, const std::string& worker, const std::string& value) {
  return {.family = state::Family::kWorkers,
          .key = state::layout::WorkerKeyBytes({.partition = partition, .worker = domain::WorkerId{worker}}),
          .value = value};
}

TEST_P(ChangelogLanesTest, EachPartitionKeepsItsRecordsInWriteOrder) {
  const int lanes = GetParam();
  TempDir dir;
  EmbeddedKafka kafka(dir.path(), kPartitions, {"--topics", "lanes-changelog"});
  ASSERT_FALSE(kafka.bootstrap().empty());
  metrics::EngineMetrics metrics;
  auto writer = app::ChangelogWriter::Create(kafka.bootstrap(), "lanes-changelog", {}, metrics, lanes);
  ASSERT_TRUE(writer.ok()) << writer.status();

  // What each partition's changelog must hold, key and value, in order.
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> expected;
  std::vector<app::ChangelogWriter::Takeover> takeovers;
  for (int32_t p = 0; p < kPartitions; ++p) {
    takeovers.push_back({.partition = p, .epoch = 1, .repairs = {}});
    expected[p].emplace_back(std::string(app::kFenceKey), app::EncodeEpoch(1));
    expected[p].emplace_back(std::string(app::kCommitKey), "");
  }
  auto fenced = (*writer)->Fence(takeovers);
  ASSERT_TRUE(fenced.ok()) << fenced.status();

  std::map<int32_t, state::ChangelogCheckpoint> last;
  for (int c = 0; c < kCommits; ++c) {
    // Every partition in most commits, several changes each, interleaved across partitions as a
    // commit's key order interleaves them; some commits skip partitions.
    std::vector<state::Change> changes;
    for (int k = 0; k < 3; ++k) {
      for (int32_t p = 0; p < kPartitions; ++p) {
        if ((p + c) % 5 == 0) continue;
        changes.push_back(Put(p, absl::StrCat("W", k), absl::StrCat("commit ", c, " change ", k)));
      }
    }
    std::map<int32_t, bool> touched;
    for (const state::Change& change : changes) {
      const int32_t p = state::PartitionOfChange(change);
      expected[p].emplace_back(app::ChangelogKey(change), *change.value);
      touched[p] = true;
    }
    for (const auto& [p, _] : touched) expected[p].emplace_back(std::string(app::kCommitKey), "");
    auto checkpoints = (*writer)->Write(changes);
    ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
    ASSERT_EQ(checkpoints->size(), touched.size());
    for (const auto& [p, checkpoint] : *checkpoints) last[p] = checkpoint;
  }

  const std::vector<ConsumedRecord> records = ReadToEnd(kafka.bootstrap(), "lanes-changelog");
  std::map<int32_t, std::vector<std::pair<std::string, std::string>>> actual;
  for (const ConsumedRecord& r : records) actual[r.partition].emplace_back(r.key, r.value);
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_EQ(actual[p].size(), expected[p].size()) << "partition " << p;
    for (size_t i = 0; i < expected[p].size(); ++i) {
      ASSERT_EQ(actual[p][i], expected[p][i]) << "partition " << p << " record " << i;
    }
    // The writer saw every record of the partition land right after its previous one.
    ASSERT_TRUE(last.count(p)) << "partition " << p;
    EXPECT_TRUE(last[p].contiguous) << "partition " << p;
    EXPECT_EQ(last[p].next_offset, static_cast<int64_t>(expected[p].size())) << "partition " << p;
    EXPECT_EQ(last[p].fence_offset, 0) << "partition " << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Lanes, ChangelogLanesTest, ::testing::Values(1, 3, 4),
                         [](const ::testing::TestParamInfo<int>& lanes) { return absl::StrCat(lanes.param, "_lanes"); });

}  // namespace
}  // namespace alertd::testing
