// The week scenario as a pure function of seed and dates: its records, counts and scripted moments, no Kafka.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "engine/cli/grid_time.h"
#include "engine/cli/sim/week.h"
#include "health.pb.h"

namespace alertd::cli::sim {
namespace {

// One record as it would reach Kafka.
struct Produced {
  WeekTopic topic;
  std::string key;
  std::string value;
  int64_t timestamp_ms;
  bool operator==(const Produced&) const = default;
};

// A played week: its records in order, its frame and the script's story.
struct PlayedWeek {
  WeekFrame frame;
  std::vector<Produced> records;
  std::vector<StoryLine> story;
  uint64_t late_uploads = 0;
};

PlayedWeek Play(uint64_t seed, int workers, const std::string& start) {
  PopulationOptions population;
  population.workers = workers;
  const WeekFrame frame = MakeWeekFrame(*ParseGridDate(start), /*days=*/7, /*lead_in_days=*/7);
  Simulation sim(population, ReadingOptions{}, seed, frame.end_ms);
  WeekScenario week(frame, sim);
  PlayedWeek played{frame, {}, {}, 0};
  const bool finished = week.Play([&](const WeekRecord& r) {
    played.records.push_back({r.topic, std::string(r.key), r.value, r.timestamp_ms});
    return true;
  });
  EXPECT_TRUE(finished);
  played.story = week.story();
  played.late_uploads = week.late_uploads();
  return played;
}

std::map<WeekTopic, int> CountByTopic(const PlayedWeek& week) {
  std::map<WeekTopic, int> counts;
  for (const Produced& r : week.records) ++counts[r.topic];
  return counts;
}

// The integration test's week (tests/integration/week_scenario_test.cc): its golden event ids pin these.
constexpr uint64_t kSeed = 20250310;
const std::string kStart = "2025-03-10";

TEST(SimWeekTest, SameSeedAndDatesGiveTheSameRecordsByteForByte) {
  const PlayedWeek first = Play(kSeed, 120, kStart);
  const PlayedWeek second = Play(kSeed, 120, kStart);
  ASSERT_FALSE(first.records.empty());
  EXPECT_TRUE(first.records == second.records);
}

TEST(SimWeekTest, AnotherSeedGivesAnotherWeek) {
  EXPECT_FALSE(Play(kSeed, 120, kStart).records == Play(kSeed + 1, 120, kStart).records);
}

TEST(SimWeekTest, RecordsComeInTimestampOrderInsideTheFrameWithProfilesFirst) {
  const PlayedWeek week = Play(kSeed, 120, kStart);
  ASSERT_GE(week.records.size(), 120u);
  EXPECT_TRUE(std::is_sorted(week.records.begin(), week.records.end(),
                             [](const Produced& a, const Produced& b) { return a.timestamp_ms < b.timestamp_ms; }));
  for (size_t i = 0; i < 120; ++i) {
    EXPECT_EQ(week.records[i].topic, WeekTopic::kProfiles) << i;
    EXPECT_EQ(week.records[i].timestamp_ms, week.frame.history_start_ms - kHourMs) << i;
  }
  for (const Produced& r : week.records) EXPECT_LT(r.timestamp_ms, week.frame.end_ms);
}

// Record counts per topic, pinned for the seeds and sizes below on this build (the integration test's
// golden event ids pin the same records through alertd).
struct CountCase {
  uint64_t seed;
  int workers;
  int profiles, readings, shifts, acks;
  uint64_t late_uploads;
};

void PrintTo(const CountCase& c, std::ostream* os) { *os << "seed " << c.seed << ", " << c.workers << " workers"; }

class SimWeekCountTest : public ::testing::TestWithParam<CountCase> {};

TEST_P(SimWeekCountTest, EachTopicGetsItsPinnedNumberOfRecords) {
  const CountCase& c = GetParam();
  const PlayedWeek week = Play(c.seed, c.workers, kStart);
  std::map<WeekTopic, int> counts = CountByTopic(week);
  EXPECT_EQ(counts[WeekTopic::kProfiles], c.profiles);
  EXPECT_EQ(counts[WeekTopic::kReadings], c.readings);
  EXPECT_EQ(counts[WeekTopic::kShifts], c.shifts);
  EXPECT_EQ(counts[WeekTopic::kAcks], c.acks);
  EXPECT_EQ(week.late_uploads, c.late_uploads);
}

INSTANTIATE_TEST_SUITE_P(Weeks, SimWeekCountTest,
                         ::testing::Values(CountCase{kSeed, 120, 120, 1876, 82, 53, 33},
                                           CountCase{42, 9, 9, 148, 30, 12, 1},
                                           CountCase{7, 500, 500, 7686, 397, 155, 115}),
                         [](const ::testing::TestParamInfo<CountCase>& row) {
                           return "Seed" + std::to_string(row.param.seed) + "Workers" +
                                  std::to_string(row.param.workers);
                         });

// A scripted reading: whose story, what, and when (local time, as the story prints it).
struct ScriptedMoment {
  std::string story;
  hg::MeasurementContext context;
  double value;       // systolic mmHg, or glucose mmol/L
  std::string local;  // "03-13 10:15": the minute the script measures it
};

void PrintTo(const ScriptedMoment& m, std::ostream* os) { *os << m.story << " " << m.value << " at " << m.local; }

class SimWeekScriptTest : public ::testing::TestWithParam<ScriptedMoment> {};

TEST_P(SimWeekScriptTest, TheScriptedReadingIsMeasuredAtItsScriptedMinute) {
  const ScriptedMoment& m = GetParam();
  const PlayedWeek week = Play(kSeed, 120, kStart);
  const auto line = std::find_if(week.story.begin(), week.story.end(),
                                 [&](const StoryLine& l) { return l.story == m.story; });
  ASSERT_NE(line, week.story.end()) << m.story;
  std::optional<hg::Reading> found;
  int64_t arrival_ms = 0;
  for (const Produced& r : week.records) {
    hg::Reading reading;
    if (r.topic != WeekTopic::kReadings || r.key != line->worker || !reading.ParseFromString(r.value)) continue;
    const double value =
        reading.has_glucose() ? reading.glucose().mmol_per_l() : reading.blood_pressure().systolic_mmhg();
    if (reading.context() == m.context && value == m.value) {
      found = reading;
      arrival_ms = r.timestamp_ms;
    }
  }
  ASSERT_TRUE(found.has_value()) << m.story << ": no reading " << m.value;
  EXPECT_EQ(FormatGridTime(found->measured_at_ms()).substr(5, 11), m.local);
  EXPECT_EQ(found->measured_at_ms() % kMinuteMs, 0);
  // A connected station uploads within seconds: 3 to 90.
  EXPECT_GE(arrival_ms - found->measured_at_ms(), 3 * kSecondMs);
  EXPECT_LE(arrival_ms - found->measured_at_ms(), 90 * kSecondMs);
}

INSTANTIATE_TEST_SUITE_P(
    Story, SimWeekScriptTest,
    ::testing::Values(ScriptedMoment{"R5 high twice", hg::SELF_TEST, 13.2, "03-11 12:40"},
                      ScriptedMoment{"R5 high twice", hg::SELF_TEST, 8.1, "03-14 07:10"},
                      ScriptedMoment{"R5 severe hypoglycaemia", hg::SELF_TEST, 2.6, "03-13 10:15"},
                      ScriptedMoment{"R5 severe hypoglycaemia", hg::SELF_TEST, 5.4, "03-13 10:40"},
                      ScriptedMoment{"R6 focus tracking", hg::SELF_TEST, 172, "03-12 08:05"}),
    [](const ::testing::TestParamInfo<ScriptedMoment>& row) {
      std::string name;
      for (char c : row.param.story + " " + row.param.local) name += std::isalnum(c) != 0 ? c : '_';
      return name;
    });

TEST(SimWeekTest, TheStoryNamesNineScriptedWorkersOncePerRule) {
  const PlayedWeek week = Play(kSeed, 120, kStart);
  std::vector<std::string> stories;
  for (const StoryLine& line : week.story) stories.push_back(line.story);
  EXPECT_EQ(stories, (std::vector<std::string>{"R3 ladder", "R3 acknowledged", "R3 late upload",
                                               "R4 unfit, fit retest", "R4 unfit, clocked in", "R4 no check",
                                               "R5 high twice", "R5 severe hypoglycaemia", "R6 focus tracking"}));
}

TEST(SimWeekTest, ParseGridDateTakesOnlyRealDates) {
  EXPECT_EQ(ParseGridDate("1970-01-02"), 1);
  EXPECT_EQ(ParseGridDate("2025-03-10"), 20157);
  EXPECT_EQ(ParseGridDate("2025-02-29"), std::nullopt);
  EXPECT_EQ(ParseGridDate("2025-3-10"), std::nullopt);
  EXPECT_EQ(ParseGridDate("2025/03/10"), std::nullopt);
}

}  // namespace
}  // namespace alertd::cli::sim
