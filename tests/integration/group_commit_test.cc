// Group commit through real processes: with a commit interval of 10 s, a lone reading's escalation is
// on Kafka within a commit's time, not the interval's; and a burst is still gathered into few commits.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/integration/harness.h"

namespace alertd::testing {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kHour = 3600 * 1000;

int64_t RecordsIn(const std::string& bootstrap, const std::string& topic) {
  int64_t n = 0;
  for (const auto& [_, range] : Watermarks(bootstrap, topic)) n += range.second;
  return n;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  TempDir dir_;
  EmbeddedKafka kafka_{dir_.path()};
};

// Without group commit each of these waits for the 10 s interval (uniformly 0-10 s, so three probes
// all under 2 s would happen about once in 300 runs).
TEST_F(GroupCommitTest, ALoneReadingsEscalationLeavesWithoutWaitingForTheInterval) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log",
                       {"--commit-interval-ms", "10000", "--group-commit"});
  TestProducer producer(kafka_.bootstrap());
  for (const char* w : {"W1", "W2", "W3"}) {
    producer.Send("worker-profiles", w, MakeProfile(w, "U01", "U01-G01").SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= 3; }, 30s));

  for (const char* w : {"W1", "W2", "W3"}) {
    const int64_t before = RecordsIn(kafka_.bootstrap(), "escalations");
    const int64_t t0 = NowMs();
    producer.Send("readings", w, MakeBp(w, t0 - kHour, 186, 112).SerializeAsString());
    producer.Flush();
    ASSERT_TRUE(WaitFor([&] { return RecordsIn(kafka_.bootstrap(), "escalations") > before; }, 20s))
        << alertd.process().LogTail();
    const int64_t elapsed = NowMs() - t0;
    std::printf("%s: reading produced to escalation on Kafka in %lld ms (commit interval 10,000 ms)\n", w,
                static_cast<long long>(elapsed));
    EXPECT_LT(elapsed, 2000) << w;
  }
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

// A burst arrives while commits are written: each window gathers what came during the previous commit,
// so the commits stay few (not one per record) even with nothing but group commit to start them.
TEST_F(GroupCommitTest, ABurstIsGatheredIntoFewCommits) {
  ASSERT_FALSE(kafka_.bootstrap().empty());
  AlertdProcess alertd(kafka_.bootstrap(), dir_.path() + "/db", dir_.path() + "/alertd.log",
                       {"--commit-interval-ms", "60000", "--group-commit"});
  TestProducer producer(kafka_.bootstrap());
  constexpr int kWorkers = 200;
  constexpr int kPerWorker = 50;
  for (int i = 0; i < kWorkers; ++i) {
    const std::string w = "W" + std::to_string(i);
    producer.Send("worker-profiles", w, MakeProfile(w, "U01", "U01-G01").SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= kWorkers; }, 30s));
  const double commits_before = alertd.Metric("alertd_commits_total");
  const int64_t t0 = NowMs();
  for (int r = 0; r < kPerWorker; ++r) {
    for (int i = 0; i < kWorkers; ++i) {
      const std::string w = "W" + std::to_string(i);
      producer.Send("readings", w, MakeBp(w, t0 - (kPerWorker - r) * 60000, 128, 82).SerializeAsString());
    }
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= kWorkers * (kPerWorker + 1); },
                      60s))
      << alertd.process().LogTail();
  const double commits = alertd.Metric("alertd_commits_total") - commits_before;
  std::printf("%d readings committed in %.0f commits (%.1f readings per commit)\n", kWorkers * kPerWorker, commits,
              kWorkers * kPerWorker / commits);
  EXPECT_LT(commits, kWorkers * kPerWorker / 10.0);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
