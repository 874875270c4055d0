// Local-day arithmetic at the edges: midnight either side, offsets east and west of UTC, before 1970.
#include "engine/domain/local_time.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace alertd::domain {
namespace {

constexpr UtcOffset kChina{8 * 60};
constexpr UtcOffset kUtc{0};
constexpr UtcOffset kNewYork{-5 * 60};

struct DayRow {
  std::string name;
  int64_t epoch_ms;
  UtcOffset offset;
  int64_t local_day;     // days since 1970-01-01 local
  LocalFields fields;
};

class LocalDayTest : public testing::TestWithParam<DayRow> {};

TEST_P(LocalDayTest, PutsTheInstantOnItsLocalCalendarDay) {
  const DayRow& row = GetParam();
  EXPECT_EQ(LocalDay(row.epoch_ms, row.offset), row.local_day);
  EXPECT_EQ(ToLocalFields(row.epoch_ms, row.offset), row.fields);
}

TEST_P(LocalDayTest, TheDayStartsAtLocalMidnightAndHoldsTheInstant) {
  const DayRow& row = GetParam();
  const int64_t start = LocalDayStartMs(row.local_day, row.offset);
  EXPECT_LE(start, row.epoch_ms);
  EXPECT_GT(start + kDayMs, row.epoch_ms);
  const LocalFields midnight{row.fields.year, row.fields.month, row.fields.day, 0, 0, 0, 0};
  EXPECT_EQ(ToLocalFields(start, row.offset), midnight);
}

// 2026-11-29 00:00 UTC is day 20786.
constexpr int64_t kDay20786 = 20786 * kDayMs;

INSTANTIATE_TEST_SUITE_P(
    Offsets, LocalDayTest,
    testing::Values(
        DayRow{"epoch_utc", 0, kUtc, 0, {1970, 1, 1, 0, 0, 0, 0}},
        DayRow{"last_ms_before_epoch_utc", -1, kUtc, -1, {1969, 12, 31, 23, 59, 59, 999}},
        DayRow{"epoch_is_8am_in_china", 0, kChina, 0, {1970, 1, 1, 8, 0, 0, 0}},
        DayRow{"epoch_is_the_evening_before_in_new_york", 0, kNewYork, -1, {1969, 12, 31, 19, 0, 0, 0}},
        DayRow{"china_midnight_is_16h_utc_the_day_before", kDay20786 - 8 * kHourMs, kChina, 20786,
               {2026, 11, 29, 0, 0, 0, 0}},
        DayRow{"one_ms_before_china_midnight", kDay20786 - 8 * kHourMs - 1, kChina, 20785,
               {2026, 11, 28, 23, 59, 59, 999}},
        DayRow{"utc_midnight", kDay20786, kUtc, 20786, {2026, 11, 29, 0, 0, 0, 0}},
        DayRow{"one_ms_before_utc_midnight", kDay20786 - 1, kUtc, 20785, {2026, 11, 28, 23, 59, 59, 999}},
        DayRow{"new_york_midnight_is_5h_utc", kDay20786 + 5 * kHourMs, kNewYork, 20786, {2026, 11, 29, 0, 0, 0, 0}},
        DayRow{"one_ms_before_new_york_midnight", kDay20786 + 5 * kHourMs - 1, kNewYork, 20785,
               {2026, 11, 28, 23, 59, 59, 999}},
        DayRow{"before_1970_in_china", -kDayMs - 9 * kHourMs - 1, kChina, -2, {1969, 12, 30, 22, 59, 59, 999}},
        DayRow{"before_1970_in_new_york", -3 * kDayMs + 4 * kHourMs, kNewYork, -4, {1969, 12, 28, 23, 0, 0, 0}}),
    [](const testing::TestParamInfo<DayRow>& row) { return row.param.name; });

TEST(LocalMsTest, ClampsInstantsFarFromAnyRealTimeSoNoOffsetOverflows) {
  constexpr int64_t kFarthestMs = 100'000 * 366 * kDayMs;
  EXPECT_EQ(LocalMs(std::numeric_limits<int64_t>::max(), kChina), kFarthestMs + kChina.ms());
  EXPECT_EQ(LocalMs(std::numeric_limits<int64_t>::min(), kNewYork), -kFarthestMs + kNewYork.ms());
  EXPECT_EQ(LocalMs(1234, kUtc), 1234);
}

}  // namespace
}  // namespace alertd::domain
