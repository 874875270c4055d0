// FetchWatch: which input partitions stopped fetching, judged only on time the engine spent polling.
#include "engine/app/fetch_watch.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>

namespace alertd::app {
namespace {

const TopicPartition kReadings0{"readings", 0};
const TopicPartition kReadings1{"readings", 1};
const TopicPartition kProfiles0{"worker-profiles", 0};

// Passes once a second from `from` to `to` (inclusive) with the same positions; the idle reports.
std::vector<std::pair<int64_t, TopicPartition>> Poll(FetchWatch& watch, const std::map<TopicPartition, int64_t>& at,
                                                     int64_t from, int64_t to) {
  std::vector<std::pair<int64_t, TopicPartition>> reports;
  for (int64_t t = from; t <= to; t += 1000) {
    for (const TopicPartition& tp : watch.Idle(at, t)) reports.emplace_back(t, tp);
  }
  return reports;
}

TEST(FetchWatchTest, APartitionThatDoesNotMoveIsReportedAfterTheStallAndThenOncePerStall) {
  FetchWatch watch(10000);
  const auto reports = Poll(watch, {{kReadings0, 42}}, 0, 30000);
  EXPECT_EQ(reports, (std::vector<std::pair<int64_t, TopicPartition>>{{10000, kReadings0}, {20000, kReadings0},
                                                                       {30000, kReadings0}}));
}

TEST(FetchWatchTest, APartitionThatMovesIsNeverReported) {
  FetchWatch watch(10000);
  for (int64_t t = 0; t <= 60000; t += 1000) {
    EXPECT_EQ(watch.Idle({{kReadings0, t / 1000}, {kProfiles0, -1}}, t).size(), t >= 10000 && t % 10000 == 0 ? 1u : 0u)
        << "at " << t << " only the profiles partition, which never delivered, is idle";
  }
}

TEST(FetchWatchTest, MovingStartsTheClockAgain) {
  FetchWatch watch(10000);
  EXPECT_TRUE(Poll(watch, {{kReadings0, 5}}, 0, 9000).empty());
  EXPECT_TRUE(Poll(watch, {{kReadings0, 6}}, 10000, 19000).empty()) << "moved at 10 s: idle from there";
  EXPECT_EQ(Poll(watch, {{kReadings0, 6}}, 20000, 20000).size(), 1u);
}

TEST(FetchWatchTest, ALongGapBetweenPassesIsNotCountedAsIdleTime) {
  // The engine was busy elsewhere (a long commit, a broker outage it waited on): no pass ran, so the
  // partitions' stillness says nothing about their fetchers.
  FetchWatch watch(10000);
  EXPECT_TRUE(Poll(watch, {{kReadings0, 5}}, 0, 4000).empty());
  EXPECT_TRUE(watch.Idle({{kReadings0, 5}}, 60000).empty());
  EXPECT_TRUE(Poll(watch, {{kReadings0, 5}}, 61000, 69000).empty());
  EXPECT_EQ(Poll(watch, {{kReadings0, 5}}, 70000, 70000).size(), 1u);
  // A gap of just under half the stall is still polling.
  FetchWatch other(10000);
  EXPECT_TRUE(other.Idle({{kReadings0, 5}}, 0).empty());
  EXPECT_TRUE(other.Idle({{kReadings0, 5}}, 5000).empty());
  EXPECT_EQ(other.Idle({{kReadings0, 5}}, 10000).size(), 1u);
}

TEST(FetchWatchTest, APartitionLeavingTheWatchIsForgotten) {
  // Paused by the engine, or unassigned: its clock starts again when it comes back.
  FetchWatch watch(10000);
  EXPECT_TRUE(Poll(watch, {{kReadings0, 5}, {kReadings1, 7}}, 0, 9000).empty());
  EXPECT_EQ(Poll(watch, {{kReadings1, 7}}, 10000, 10000),
            (std::vector<std::pair<int64_t, TopicPartition>>{{10000, kReadings1}}));
  EXPECT_TRUE(Poll(watch, {{kReadings0, 5}, {kReadings1, 8}}, 11000, 20000).empty());
  EXPECT_EQ(Poll(watch, {{kReadings0, 5}, {kReadings1, 8}}, 21000, 21000).size(), 2u);
}

struct StuckCase {
  const char* what;
  int64_t cached_high;
  int64_t position;
  std::optional<int64_t> assigned_at;
  int64_t end;
  bool stuck;
};

TEST(FetchWatchTest, StuckWhenNeverFetchedOrBehindTheEnd) {
  const StuckCase cases[] = {
      {"never had a fetch answer (a fetch start lost)", -1, -1, 100, 100, true},
      {"never had a fetch answer, empty log", -1, -1, std::nullopt, 0, true},
      {"delivered up to the end: caught up", 500, 500, 100, 500, false},
      {"delivered, one record behind the end (a resume lost)", 500, 499, 100, 500, true},
      {"nothing delivered since assigned at the end", 100, -1, 100, 100, false},
      {"nothing delivered, records past where it was assigned", 100, -1, 100, 101, true},
      {"nothing delivered, assigned from the beginning of a log emptied by retention", 300, -1, std::nullopt, 300,
       false},
  };
  for (const StuckCase& c : cases) {
    EXPECT_EQ(FetchWatch::Stuck(c.cached_high, c.position, c.assigned_at, c.end), c.stuck) << c.what;
  }
}

}  // namespace
}  // namespace alertd::app
