// How policy values are written in the file: numbers, durations and offsets as text and back, and a
// field's value by its row of kPolicyFields. Shared by the reader (policy_file.cc) and the printer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/config/policy_fields.h"

namespace alertd::config {

// Shortest text that reads back to exactly `v`, so printed policies round-trip.
std::string DecimalText(double v);

// Glucose reads as mmol/L with a decimal point even when whole ("7.0", as clinicians write it).
std::string MmolText(double v);

// "30m", "7d": the largest unit that divides the duration exactly.
std::string DurationText(int64_t ms);

// "+08:00", "-05:30"
std::string DayOffsetText(int minutes);

std::optional<int64_t> ParseWholeNumber(std::string_view s);
std::optional<double> ParseDecimal(std::string_view s);
// "<whole number><unit>"; no sign, no fraction: a half-hour is 30m, and exact values round-trip.
std::optional<int64_t> ParseDuration(std::string_view s);
// "+08:00" / "-05:30" to minutes east of UTC.
std::optional<int> ParseDayOffset(std::string_view s);

// A YAML double-quoted scalar of one line of text.
std::string Quoted(std::string_view text);

// The row of `path`, or nullptr if the file has no such field.
const PolicyField* FindField(std::string_view path);

// A field's value as a number, for comparing it with another (whole numbers, decimals, durations).
double NumberOf(const FieldRef& ref);

// A field's value as the file writes it.
std::string ValueText(const PolicyField& f, domain::Policy& p);

}  // namespace alertd::config
