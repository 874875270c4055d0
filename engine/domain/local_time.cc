// Local-day arithmetic: calendar days and clock fields of an instant at a given offset from UTC.
#include "engine/domain/local_time.h"

#include <algorithm>
#include <chrono>

namespace alertd::domain {

int64_t LocalMs(int64_t epoch_ms, UtcOffset offset) {
  constexpr int64_t kFarthestMs = 100'000 * 366 * kDayMs;
  return std::clamp(epoch_ms, -kFarthestMs, kFarthestMs) + offset.ms();
}

int64_t LocalDay(int64_t epoch_ms, UtcOffset offset) {
  using namespace std::chrono;
  // floor, not truncation: an instant before 1970 is on the day it starts, not the day after.
  return floor<days>(sys_time<milliseconds>{milliseconds{LocalMs(epoch_ms, offset)}}).time_since_epoch().count();
}

int64_t LocalDayStartMs(int64_t local_day, UtcOffset offset) { return local_day * kDayMs - offset.ms(); }

LocalFields ToLocalFields(int64_t epoch_ms, UtcOffset offset) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{LocalMs(epoch_ms, offset)}};
  const sys_days day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{local - day};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          hms.hours().count(), hms.minutes().count(), hms.seconds().count(), hms.subseconds().count()};
}

}  // namespace alertd::domain
