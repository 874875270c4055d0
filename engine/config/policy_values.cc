// How policy values are written in the file: numbers, durations and offsets as text and back.
#include "engine/config/policy_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <type_traits>
#include <variant>

namespace alertd::config {
namespace {

struct DurationUnit {
  std::string_view suffix;
  int64_t ms;
};
// Largest first: printing picks the largest unit that divides a duration exactly.
constexpr std::array<DurationUnit, 5> kDurationUnits = {
    {{"d", domain::kDayMs}, {"h", domain::kHourMs}, {"m", domain::kMinuteMs}, {"s", domain::kSecondMs}, {"ms", 1}}};

}  // namespace

std::string DecimalText(double v) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return ec == std::errc{} ? std::string(buf.data(), end) : std::to_string(v);
}

std::string MmolText(double v) {
  std::string text = DecimalText(v);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string DurationText(int64_t ms) {
  if (ms == 0) return "0s";
  for (const DurationUnit& u : kDurationUnits) {
    if (ms % u.ms == 0) return fmt::format("{}{}", ms / u.ms, u.suffix);
  }
  return fmt::format("{}ms", ms);  // unreachable: every whole number of ms divides by 1
}

std::string DayOffsetText(int minutes) {
  const int magnitude = std::abs(minutes);
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%c%02d:%02d", minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return buf.data();
}

std::optional<int64_t> ParseWholeNumber(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);  // YAML allows "+120"
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDecimal(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseDuration(std::string_view s) {
  const auto digits_end = std::find_if(s.begin(), s.end(), [](char c) { return c < '0' || c > '9'; });
  const std::string_view number = s.substr(0, static_cast<size_t>(digits_end - s.begin()));
  const std::string_view suffix = s.substr(number.size());
  const auto unit = std::find_if(kDurationUnits.begin(), kDurationUnits.end(),
                                 [&](const DurationUnit& u) { return u.suffix == suffix; });
  if (number.empty() || unit == kDurationUnits.end()) return std::nullopt;
  const std::optional<int64_t> count = ParseWholeNumber(number);
  if (!count || *count > std::numeric_limits<int64_t>::max() / unit->ms) return std::nullopt;
  return *count * unit->ms;
}

std::optional<int> ParseDayOffset(std::string_view s) {
  auto digit = [&](size_t i) { return s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1; };
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  const std::array<int, 4> d = {digit(1), digit(2), digit(4), digit(5)};
  if (std::any_of(d.begin(), d.end(), [](int x) { return x < 0; })) return std::nullopt;
  const int hours = d[0] * 10 + d[1];
  const int minutes = d[2] * 10 + d[3];
  if (minutes >= 60) return std::nullopt;
  const int total = hours * 60 + minutes;
  return s[0] == '-' ? -total : total;
}

const PolicyField* FindField(std::string_view path) {
  const auto it = std::find_if(kPolicyFields.begin(), kPolicyFields.end(),
                               [&](const PolicyField& row) { return row.path == path; });
  return it == kPolicyFields.end() ? nullptr : &*it;
}

double NumberOf(const FieldRef& ref) {
  return std::visit(
      [](auto* v) -> double {
        using T = std::remove_pointer_t<decltype(v)>;
        if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
          return static_cast<double>(*v);
        } else {
          return 0;
        }
      },
      ref);
}
// A YAML double-quoted scalar. The text has no control characters (Text() refuses them), so escaping
// the quote and the backslash is enough for it to read back unchanged.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string ValueText(const PolicyField& f, domain::Policy& p) {
  const FieldRef ref = f.ref(p);
  switch (f.type) {
    case FieldType::kWholeNumber: return fmt::format("{:.0f}", NumberOf(ref));
    case FieldType::kDecimal: return DecimalText(*std::get<double*>(ref));
    case FieldType::kMmol: return MmolText(*std::get<double*>(ref));
    case FieldType::kDuration: return DurationText(*std::get<int64_t*>(ref));
    case FieldType::kDayOffset: return DayOffsetText(*std::get<int*>(ref));
    case FieldType::kCategory: return domain::Name(*std::get<domain::BpCategory*>(ref));
    case FieldType::kBoolean: return *std::get<bool*>(ref) ? "true" : "false";
    case FieldType::kText: return Quoted(*std::get<std::string*>(ref));
  }
  return {};
}

}  // namespace alertd::config
