// Health-grid local time for people: the programme runs on China Standard Time (UTC+8, no DST).
//
// Wire times are ms since the Unix epoch, UTC. Only what people read, and the simulator's notion of
// "daytime", uses the local clock; the machine's TZ setting plays no part.
#pragma once

#include <cstdint>
#include <string>

#include "engine/domain/local_time.h"

namespace alertd::cli {

inline constexpr int64_t kSecondMs = 1000;
inline constexpr int64_t kMinuteMs = 60 * kSecondMs;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;
inline constexpr domain::UtcOffset kGridUtcOffset{8 * 60};

// Wall-clock now, ms since the epoch.
int64_t NowMs();

// "2026-11-29 08:14:03" in health-grid local time.
std::string FormatGridTime(int64_t epoch_ms);

// "11-29 08:14" in health-grid local time, for secondary times on a line.
std::string FormatGridTimeShort(int64_t epoch_ms);

// "2026-11-29T08:14:03.123+08:00": unambiguous, for JSON output.
std::string FormatGridTimeIso(int64_t epoch_ms);

// Local calendar day of an instant, as days since 1970-01-01 local; and when such a day starts.
int64_t GridDay(int64_t epoch_ms);
int64_t GridDayStartMs(int64_t grid_day);

}  // namespace alertd::cli
