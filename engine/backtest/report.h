// The backtest's report: the same content as aligned text for people or as one JSON document.
#pragma once

#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/backtest/backtest.h"

namespace alertd::backtest {

// What the report says the two sides were.
struct ReportLabels {
  std::string baseline;   // a policy file, or "built-in defaults"
  std::string candidate;
  std::string post;  // the high-risk post the events are limited to, or empty for all workers
};

// Deterministic: no wall-clock times, rates or paths beyond the labels, so the same input prints the
// same bytes.
void PrintReport(const BacktestReport& report, const ReportLabels& labels, std::ostream& out);
nlohmann::json ReportJson(const BacktestReport& report, const ReportLabels& labels);

}  // namespace alertd::backtest
