// Group commit through real processes: with a commit interval of 10 s, a lone reading's escalation is
// on Kafka within a commit's time, not the interval's; a burst is still gathered into few commits; and
// a commit slower than the interval does not stop the loop.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "tests/integration/fault_control.h"
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

std::string WorkerId(int i) { return "W" + std::to_string(i); }

// Profiles of W0..W<workers-1>, committed by alertd before the test goes on.
void SendProfilesAndWait(TestProducer& producer, AlertdProcess& alertd, int workers) {
  for (int i = 0; i < workers; ++i) {
    producer.Send("worker-profiles", WorkerId(i), MakeProfile(WorkerId(i), "U01", "U01-G01").SerializeAsString());
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= workers; }, 30s));
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
  SendProfilesAndWait(producer, alertd, kWorkers);
  if (HasFatalFailure()) return;
  const double commits_before = alertd.Metric("alertd_commits_total");
  const int64_t t0 = NowMs();
  for (int r = 0; r < kPerWorker; ++r) {
    for (int i = 0; i < kWorkers; ++i) {
      const std::string w = WorkerId(i);
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

// Every request to the broker 300 ms late, so each commit takes at least one changelog round trip of
// 300 ms, six times the 50 ms interval, while readings keep arriving. The loop goes on processing the
// next window beside the commit in flight, and the next commit starts when that one is durable: the
// interval must not make the loop wait for it. (Before, each commit held the loop for what it had
// left after the interval: ~250 ms a commit here.)
TEST(GroupCommitSlowBrokerTest, ACommitSlowerThanTheIntervalDoesNotHoldTheLoopBack) {
  TempDir dir;
  FaultyKafka kafka(dir.path(), 1);
  ASSERT_FALSE(kafka.bootstrap().empty());
  AlertdProcess alertd(kafka.bootstrap(), dir.path() + "/db", dir.path() + "/alertd.log",
                       {"--no-sync", "--commit-interval-ms", "50", "--group-commit", "--commit-max-records", "1000000"});
  TestProducer producer(kafka.bootstrap());
  constexpr int kWorkers = 20;
  SendProfilesAndWait(producer, alertd, kWorkers);
  if (HasFatalFailure()) return;

  kafka.SetRtt(0, 300);
  const double waited_before = alertd.Metric("alertd_commit_wait_seconds_total");
  const double commits_before = alertd.Metric("alertd_commits_total");
  constexpr int kReadings = 200;
  const int64_t t0 = NowMs();
  for (int r = 0; r < kReadings; ++r) {  // over ~4 s
    const std::string w = WorkerId(r % kWorkers);
    producer.Send("readings", w, MakeBp(w, t0 - (kReadings - r) * 60000, 128, 82).SerializeAsString());
    std::this_thread::sleep_for(20ms);
  }
  producer.Flush();
  ASSERT_TRUE(WaitFor([&] { return alertd.Metric("alertd_committed_records_total") >= kWorkers + kReadings; }, 60s))
      << alertd.process().LogTail();
  const double waited = alertd.Metric("alertd_commit_wait_seconds_total") - waited_before;
  const double commits = alertd.Metric("alertd_commits_total") - commits_before;
  std::printf("%d readings over ~4 s with 300 ms round trips: %.0f commits, the loop waited %.3f s for them\n",
              kReadings, commits, waited);
  EXPECT_GE(commits, 3) << "the commits were not slow and many: the test shows nothing";
  EXPECT_LT(waited, 0.3);
  kafka.SetRtt(0, 0);
  EXPECT_EQ(alertd.process().Terminate(), 0) << alertd.process().LogTail();
}

}  // namespace
}  // namespace alertd::testing
