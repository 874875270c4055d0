// The performance targets `make bench` is judged on, from the run's own figures: for each, what was
// measured, what it must be, whether it is met, and for one not met what this run shows of why (and
// where the README has the profile behind it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/realistic.h"
#include "bench/report.h"

namespace alertd::bench {

enum class Verdict { kMet, kNotMet, kNotMeasured };

struct TargetResult {
  std::string target;    // "1. throughput, drain ratio alertd/consume-only"
  std::string measured;  // "0.13"
  std::string wanted;    // ">= 0.50"
  Verdict verdict = Verdict::kNotMeasured;
  std::string why;  // when not met or not measured: the run's evidence, the README section with the profile
};

struct TargetInputs {
  uint64_t memory_budget_mib = 0;  // the budget alertd ran with (--memory-budget, or its default)
  unsigned cores = 0;              // the machine's, which bound alertd's rate at its CPU per record
  bool plotted = false;            // plot.png was written
  std::vector<std::string> files;  // the CSVs and plot written, for target 7
};

// The targets, judged on the realistic figures (`names`) in `report`.
std::vector<TargetResult> JudgeTargets(const Report& report, const RealisticFigures& names,
                                       const RealisticOptions& o, const TargetInputs& in);

// An aligned block, one target a line and its reason indented below it when not met.
std::string FormatTargets(const std::vector<TargetResult>& results);

// The budget alertd runs with given its extra flags: the last --memory-budget N (or =N), else `fallback`.
uint64_t MemoryBudgetOf(const std::vector<std::string>& alertd_flags, uint64_t fallback);

}  // namespace alertd::bench
