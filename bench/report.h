// alertd-bench's output for people: every figure with its spread over the repetitions (CSV), the run's
// time series (CSV) and a plot of throughput, latency percentiles and RSS over the run (gnuplot, PNG).
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <string>
#include <vector>

#include "bench/bench_support.h"

namespace alertd::bench {

// Not measured in this sample (an empty CSV field; gnuplot leaves a gap).
inline constexpr double kNone = NAN;

struct Spread {
  double median = 0, min = 0, max = 0;
  int repetitions = 0;
};
// Median (mean of the middle two for an even count), min and max; repetitions 0 when `values` is empty.
Spread SpreadOf(std::vector<double> values);
// Nearest-rank percentile, q in (0, 1]; kNone when `values` is empty.
double Percentile(std::vector<double> values, double q);

class Report {
 public:
  Report() : start_(Clock::now()) {}

  // One repetition's value of a figure; figures keep the order of their first value.
  void Add(const std::string& name, const std::string& unit, double value);
  Spread Of(const std::string& name) const;
  // "12345 records/s (12001..12800, 3 runs)", or "not measured".
  std::string Describe(const std::string& name) const;

  // Seconds since the bench started: the time series' clock.
  double Now() const { return Since(start_); }
  // One row of the time series at `t` (Now() unless given); kNone where the phase does not measure it.
  void Sample(const std::string& phase, double records_per_s, double rss_mib, double lat_p50_ms = kNone,
              double lat_p99_ms = kNone, double lat_max_ms = kNone, double t = kNone);

  // Per-second latency percentiles of probes, each (trigger time, ms since epoch; latency ms), by the
  // second they were produced in.
  void SampleLatencies(const std::string& phase, const std::vector<std::pair<int64_t, double>>& latencies);

  // Every figure: name,unit,median,min,max,repetitions.
  void WriteFigures(const std::string& path) const;
  // t_s,phase,records_per_s,rss_mib,latency_p50_ms,latency_p99_ms,latency_max_ms, in time order.
  void WriteSeries(const std::string& path) const;
  // Three panels over the run from the series CSV; false (and why on stderr) if gnuplot failed or is missing.
  bool Plot(const std::string& series_csv, const std::string& png, const std::string& gnuplot_log) const;

  // Every figure as an aligned line, for the end of the run.
  void PrintFigures() const;

 private:
  struct Figure {
    std::string name, unit;
    std::vector<double> values;
  };
  struct Row {
    double t;
    std::string phase;
    double records_per_s, rss_mib, p50, p99, max;
  };
  const Figure* Find(const std::string& name) const;

  Clock::time_point start_;
  std::vector<Figure> figures_;
  std::vector<Row> rows_;
};

}  // namespace alertd::bench
