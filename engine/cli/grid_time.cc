// Health-grid local time for people: the programme runs on China Standard Time (UTC+8, no DST).
#include "engine/cli/grid_time.h"

#include <fmt/format.h>

#include <chrono>

namespace alertd::cli {
namespace {

struct LocalFields {
  int year;
  unsigned month, day;
  int64_t hour, minute, second, millisecond;
};

LocalFields ToLocal(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{epoch_ms + kGridUtcOffsetMs}};
  const sys_days day = floor<days>(local);  // floor, not truncation: correct before 1970 too
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{local - day};
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          hms.hours().count(), hms.minutes().count(), hms.seconds().count(), hms.subseconds().count()};
}

}  // namespace

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatGridTime(int64_t epoch_ms) {
  const LocalFields f = ToLocal(epoch_ms);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", f.year, f.month, f.day, f.hour, f.minute, f.second);
}

std::string FormatGridTimeShort(int64_t epoch_ms) {
  const LocalFields f = ToLocal(epoch_ms);
  return fmt::format("{:02}-{:02} {:02}:{:02}", f.month, f.day, f.hour, f.minute);
}

std::string FormatGridTimeIso(int64_t epoch_ms) {
  const LocalFields f = ToLocal(epoch_ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+{:02}:00", f.year, f.month, f.day, f.hour, f.minute,
                     f.second, f.millisecond, kGridUtcOffsetMs / kHourMs);
}

int64_t GridDay(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{epoch_ms + kGridUtcOffsetMs}};
  return floor<days>(local).time_since_epoch().count();
}

int64_t GridDayStartMs(int64_t grid_day) { return grid_day * kDayMs - kGridUtcOffsetMs; }

}  // namespace alertd::cli
