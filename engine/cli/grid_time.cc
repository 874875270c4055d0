// Health-grid local time for people: the programme runs on China Standard Time (UTC+8, no DST).
#include "engine/cli/grid_time.h"

#include <fmt/format.h>

#include <chrono>

namespace alertd::cli {

using domain::LocalFields;
using domain::ToLocalFields;

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatGridTime(int64_t epoch_ms) {
  const LocalFields f = ToLocalFields(epoch_ms, kGridUtcOffset);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", f.year, f.month, f.day, f.hour, f.minute, f.second);
}

std::string FormatGridTimeShort(int64_t epoch_ms) {
  const LocalFields f = ToLocalFields(epoch_ms, kGridUtcOffset);
  return fmt::format("{:02}-{:02} {:02}:{:02}", f.month, f.day, f.hour, f.minute);
}

std::string FormatGridTimeIso(int64_t epoch_ms) {
  const LocalFields f = ToLocalFields(epoch_ms, kGridUtcOffset);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+{:02}:00", f.year, f.month, f.day, f.hour, f.minute,
                     f.second, f.millisecond, kGridUtcOffset.minutes / 60);
}

int64_t GridDay(int64_t epoch_ms) { return domain::LocalDay(epoch_ms, kGridUtcOffset); }

int64_t GridDayStartMs(int64_t grid_day) { return domain::LocalDayStartMs(grid_day, kGridUtcOffset); }

}  // namespace alertd::cli
