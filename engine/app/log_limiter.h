// Rate limits for log lines of recurring conditions (a broker down, a flood of bad records).
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/app/steady_time.h"

namespace alertd::app {

// Lets the first line of each kind through, then at most one per interval, and counts the rest: a
// flood of one error writes a line every few seconds that says how many it stood for, instead of a
// line per occurrence (a probe once saw 81,589 lines in 3 minutes). Kinds are short fixed strings
// (an operation and an error name), never a worker id, so the map stays small.
// Thread-compatible.
class LogLimiter {
 public:
  explicit LogLimiter(int64_t interval_ms = 5000) : interval_ms_(interval_ms) {}

  // The number of lines of this kind suppressed since the last one let through, if this one may be
  // logged now (steady-clock ms); nullopt if it must be suppressed (it is counted).
  std::optional<uint64_t> Admit(const std::string& kind, int64_t now_ms) {
    Kind& k = kinds_[kind];
    if (k.seen && now_ms - k.last_ms < interval_ms_) {
      ++k.suppressed;
      return std::nullopt;
    }
    k.seen = true;
    k.last_ms = now_ms;
    const uint64_t suppressed = k.suppressed;
    k.suppressed = 0;
    return suppressed;
  }

  // " (N more like it since the last line)" or "", to append to an admitted line.
  static std::string Suffix(uint64_t suppressed) {
    return suppressed == 0 ? std::string() : " (" + std::to_string(suppressed) + " more like it since the last line)";
  }

 private:
  struct Kind {
    bool seen = false;
    int64_t last_ms = 0;
    uint64_t suppressed = 0;
  };
  const int64_t interval_ms_;
  std::unordered_map<std::string, Kind> kinds_;
};

// A log line for a recurring condition, at most one per kind every few seconds.
template <typename... Args>
void LogLimited(LogLimiter& limiter, spdlog::level::level_enum level, const std::string& kind,
                fmt::format_string<Args...> format, Args&&... args) {
  const std::optional<uint64_t> suppressed = limiter.Admit(kind, SteadyMs());
  if (!suppressed) return;
  spdlog::log(level, "{}{}", fmt::format(format, std::forward<Args>(args)...), LogLimiter::Suffix(*suppressed));
}

}  // namespace alertd::app
