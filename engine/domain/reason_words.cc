// The wording of escalation and referral reasons: readings, durations and times as people read them.
#include "engine/domain/reason_words.h"

#include <cmath>
#include <cstdio>

#include "engine/domain/local_time.h"

namespace alertd::domain {

std::string LocalTimeText(EventTime t, const Policy& p) {
  const LocalFields f = ToLocalFields(t.ms, UtcOffset{p.day_offset_minutes});
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d", f.year, f.month, f.day, static_cast<int>(f.hour),
                static_cast<int>(f.minute));
  return buf;
}

std::string BpText(const BpSample& s) {
  return std::to_string(s.systolic_mmhg) + "/" + std::to_string(s.diastolic_mmhg) + " mmHg";
}

std::string GlucoseText(const GlucoseSample& s) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f mmol/L (%s)", s.mmol_per_l, Text(s.timing));
  return buf;
}

std::string MmolText(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f mmol/L", v);
  return buf;
}

std::string MeanText(const WindowStats& w) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f/%.0f mmHg", std::floor(w.mean_systolic_mmhg), std::floor(w.mean_diastolic_mmhg));
  return buf;
}

std::string DurationText(int64_t ms) {
  if (ms >= 2 * kDayMs && ms % kDayMs == 0) return std::to_string(ms / kDayMs) + " days";
  if (ms >= kHourMs && ms % kHourMs == 0) return std::to_string(ms / kHourMs) + " h";
  if (ms >= kMinuteMs && ms % kMinuteMs == 0) return std::to_string(ms / kMinuteMs) + " min";
  return std::to_string(ms / kSecondMs) + " s";
}

std::string PersonWords(const Person& p) { return p.name.empty() ? p.id : p.name; }

std::string TimesWords(std::size_t n) {
  return n == 1 ? "once" : n == 2 ? "twice" : std::to_string(n) + " times";
}

std::string GlucoseListText(const std::vector<GlucoseSample>& samples, const Policy& p) {
  std::string out;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) out += i + 1 == samples.size() ? " and " : ", ";
    out += GlucoseText(samples[i]) + " at " + LocalTimeText(samples[i].measured_at, p);
  }
  return out;
}

std::string CountText(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace alertd::domain
