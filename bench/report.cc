// alertd-bench's figures, time series and plot (see report.h).
#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

namespace alertd::bench {
namespace {

std::string Field(double v) {
  if (std::isnan(v)) return {};
  char s[32];
  std::snprintf(s, sizeof s, "%.6g", v);
  return s;
}

// A figure's value as people read it: no decimals for large numbers, three significant digits otherwise.
std::string Human(double v) {
  char s[32];
  if (std::fabs(v) >= 100) {
    std::snprintf(s, sizeof s, "%.0f", v);
  } else {
    std::snprintf(s, sizeof s, "%.3g", v);
  }
  return s;
}

// The plot's script: throughput, latency percentiles and RSS share the run's time axis, one panel each.
constexpr const char* kPlotScript = R"gp(set terminal pngcairo size 1400,1000 font ",10"
set output ARG2
set datafile separator ","
set key outside right top
set grid
# One time axis for the three panels; ($N) rather than N in `using`, so a phase's gaps break the lines.
set xrange [0:ARG3]
set lmargin at screen 0.07
set rmargin at screen 0.78
set multiplot layout 3,1 title "alertd-bench: the run over time (phases in the series CSV)"
set ylabel "records/s"
plot ARG1 every ::1 using 1:($3) with lines title "records/s"
set ylabel "ms"
set logscale y
plot ARG1 every ::1 using 1:($5) with points pt 7 ps 0.4 title "latency p50", \
     ARG1 every ::1 using 1:($6) with points pt 7 ps 0.4 title "latency p99", \
     ARG1 every ::1 using 1:($7) with points pt 7 ps 0.4 title "latency max"
unset logscale y
set ylabel "MiB"
set xlabel "seconds since the bench started"
plot ARG1 every ::1 using 1:($4) with lines title "alertd RSS"
unset multiplot
)gp";

}  // namespace

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  s.repetitions = static_cast<int>(n);
  return s;
}

double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return kNone;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

void Report::Add(const std::string& name, const std::string& unit, double value) {
  for (Figure& f : figures_) {
    if (f.name == name) {
      f.values.push_back(value);
      return;
    }
  }
  figures_.push_back({name, unit, {value}});
}

const Report::Figure* Report::Find(const std::string& name) const {
  for (const Figure& f : figures_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Spread Report::Of(const std::string& name) const {
  const Figure* f = Find(name);
  return f ? SpreadOf(f->values) : Spread{};
}

std::string Report::Describe(const std::string& name) const {
  const Figure* f = Find(name);
  if (!f) return "not measured";
  const Spread s = SpreadOf(f->values);
  return Human(s.median) + (f->unit.empty() ? "" : " " + f->unit) + " (" + Human(s.min) + ".." + Human(s.max) + ", " +
         std::to_string(s.repetitions) + (s.repetitions == 1 ? " run)" : " runs)");
}

void Report::Sample(const std::string& phase, double records_per_s, double rss_mib, double lat_p50_ms,
                    double lat_p99_ms, double lat_max_ms, double t) {
  rows_.push_back({std::isnan(t) ? Now() : t, phase, records_per_s, rss_mib, lat_p50_ms, lat_p99_ms, lat_max_ms});
}

void Report::SampleLatencies(const std::string& phase, const std::vector<std::pair<int64_t, double>>& latencies) {
  const double now = Now();
  const int64_t wall_now = WallMs();
  std::map<int64_t, std::vector<double>> by_second;
  for (const auto& [at_ms, ms] : latencies) by_second[at_ms / 1000].push_back(ms);
  for (const auto& [second, values] : by_second) {
    const double t = now - static_cast<double>(wall_now - (second * 1000 + 500)) / 1000;
    Sample(phase, kNone, kNone, Percentile(values, 0.5), Percentile(values, 0.99), Percentile(values, 1.0), t);
  }
}

void Report::WriteFigures(const std::string& path) const {
  std::ofstream out(path);
  out << "name,unit,median,min,max,repetitions\n";
  for (const Figure& f : figures_) {
    const Spread s = SpreadOf(f.values);
    // Names hold commas ("bytes per reading, sparse"): quoted, as CSV readers expect.
    out << '"' << f.name << "\"," << f.unit << ',' << Field(s.median) << ',' << Field(s.min) << ',' << Field(s.max)
        << ',' << s.repetitions << '\n';
  }
  if (!out) Die("cannot write " + path);
}

void Report::WriteSeries(const std::string& path) const {
  std::vector<Row> rows = rows_;
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.t < b.t; });
  std::ofstream out(path);
  out << "t_s,phase,records_per_s,rss_mib,latency_p50_ms,latency_p99_ms,latency_max_ms\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    // A blank line between phases: gnuplot breaks its lines there (CSV readers skip it).
    if (i > 0 && rows[i - 1].phase != r.phase) out << '\n';
    out << Field(r.t) << ',' << r.phase << ',' << Field(r.records_per_s) << ',' << Field(r.rss_mib) << ','
        << Field(r.p50) << ',' << Field(r.p99) << ',' << Field(r.max) << '\n';
  }
  if (!out) Die("cannot write " + path);
}

bool Report::Plot(const std::string& series_csv, const std::string& png, const std::string& gnuplot_log) const {
  const double end_s = std::max(1.0, Now());
  const std::string script = png + ".gp";
  {
    std::ofstream out(script);
    out << kPlotScript;
    if (!out) Die("cannot write " + script);
  }
  const int code =
      RunToEnd({"/usr/bin/env", "gnuplot", "-c", script, series_csv, png, std::to_string(end_s)}, gnuplot_log, 120);
  if (code != 0) {
    std::fprintf(stderr, "alertd-bench: gnuplot exited with %d (see %s; Debian package gnuplot-nox): no plot\n", code,
                 gnuplot_log.c_str());
    return false;
  }
  return true;
}

void Report::PrintFigures() const {
  size_t width = 0;
  for (const Figure& f : figures_) width = std::max(width, f.name.size());
  for (const Figure& f : figures_) {
    std::printf("%-*s  %s\n", static_cast<int>(width + 1), (f.name + ":").c_str(), Describe(f.name).c_str());
  }
}

}  // namespace alertd::bench
