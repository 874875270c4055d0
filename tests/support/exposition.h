// Reading one series out of alertd's Prometheus exposition (EngineMetrics::Exposition()) in tests.
#pragma once

#include <sstream>
#include <string>

namespace alertd::testing {

// The value text of `series` (a name, with its {labels} if it has any) in `exposition`, or "" if absent.
inline std::string SeriesText(const std::string& exposition, const std::string& series) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  }
  return "";
}

// Its value, or -1 if absent.
inline double SeriesValue(const std::string& exposition, const std::string& series) {
  const std::string text = SeriesText(exposition, series);
  return text.empty() ? -1 : std::stod(text);
}

}  // namespace alertd::testing
