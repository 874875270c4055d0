// Local-day arithmetic: calendar days and clock fields of an instant at a given offset from UTC.
//
// Pure and total: any int64 instant is accepted (times of day from devices and time clocks reach the
// rules unchecked), and no machine TZ setting plays a part. The health grid runs on UTC+8; the offset is
// a parameter so the rules use the policy's and the tools the grid's.
#pragma once

#include <cstdint>

#include "engine/domain/types.h"

namespace alertd::domain {

// Offset of local time from UTC, in minutes (China: +480; no daylight saving in the programme).
struct UtcOffset {
  int minutes = 0;
  constexpr int64_t ms() const { return int64_t{minutes} * kMinuteMs; }
  friend bool operator==(const UtcOffset&, const UtcOffset&) = default;
};

// Clock fields of an instant in local time.
struct LocalFields {
  int year = 1970;
  unsigned month = 1, day = 1;
  int64_t hour = 0, minute = 0, second = 0, millisecond = 0;
  friend bool operator==(const LocalFields&, const LocalFields&) = default;
};

// `epoch_ms` as ms since 1970-01-01 00:00 local. Clamped first to 100 000 years either side of the
// epoch, far from any real time, so no offset can overflow.
int64_t LocalMs(int64_t epoch_ms, UtcOffset offset);

// The local calendar day of an instant, as days since 1970-01-01 local (floor: day -1 is 1969-12-31).
int64_t LocalDay(int64_t epoch_ms, UtcOffset offset);

// When local day `local_day` starts, in ms since the epoch (UTC).
int64_t LocalDayStartMs(int64_t local_day, UtcOffset offset);

// Year, month, day and time of day of an instant in local time.
LocalFields ToLocalFields(int64_t epoch_ms, UtcOffset offset);

}  // namespace alertd::domain
