// The targets of the performance work, each judged on the median of the run's repetitions.
#include "bench/targets.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <initializer_list>

#include <fmt/format.h>

namespace alertd::bench {
namespace {

constexpr double kDrainRatio = 0.5, kLiveRatio = 0.8, kCpuUs = 2.0, kBytesSpread = 2.0, kLatencyMs = 20;
constexpr int kLatencyRate = 5000, kSmallWorkers = 20000, kLargeWorkers = 1000000;
constexpr double kSmallRssMib = 256, kOverBudget = 1.10, kRestartSeconds = 2.0;
// "Flat": the RSS grew by at most this share of its peak over the drain's second half.
constexpr double kFlatGrowth = 0.05;

// The median of a figure, NAN when the run did not measure it.
double Median(const Report& report, const std::string& name) {
  const Spread s = report.Of(name);
  return s.repetitions == 0 ? NAN : s.median;
}

bool Measured(std::initializer_list<double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

Verdict Judge(bool met) { return met ? Verdict::kMet : Verdict::kNotMet; }

TargetResult NotMeasured(std::string target, std::string wanted, std::string why) {
  return {std::move(target), "not measured", std::move(wanted), Verdict::kNotMeasured, std::move(why)};
}

constexpr const char* kCpuProfile = "the README's \"Where a reading's CPU goes\" has the profile of the drain";

// "by thread: engine thread 2.40, committer 1.45, ... us; " from the medians of the drain's split, or
// nothing when the run did not measure it.
std::string ThreadSplit(const Report& report, const RealisticFigures& n) {
  CpuByThread us{};
  for (std::size_t k = 0; k < n.cpu_drain_by_thread.size(); ++k) {
    us[k] = Median(report, n.cpu_drain_by_thread[k]);
    if (!Measured({us[k]})) return "";
  }
  return "by thread: " + FormatByThread(us) + " us; ";
}

// `floor_ratio`: the same ratio of the stack's floor in this run (floor.h), NaN where there is none.
TargetResult Ratio(const std::string& target, double ratio, double wanted, double cpu_us, unsigned cores,
                   double floor_ratio = NAN) {
  if (!Measured({ratio})) return NotMeasured(target, fmt::format(">= {:.2f}", wanted), "no realistic repetition ran");
  TargetResult r{target, fmt::format("{:.2f}", ratio), fmt::format(">= {:.2f}", wanted), Judge(ratio >= wanted), ""};
  if (r.verdict == Verdict::kNotMet) {
    r.why = fmt::format("at {:.1f} us of CPU per record, {} cores hold alertd under {:.0f} records/s; ", cpu_us, cores,
                        cores * 1e6 / cpu_us);
    if (Measured({floor_ratio})) r.why += fmt::format("the stack's floor in this run reached {:.2f}; ", floor_ratio);
    r.why += kCpuProfile;
  }
  return r;
}

// Judged at the steady rate, where a commit holds a reading or two of each worker, so whatever a reading
// rewrites of its worker's state shows in full. In a backlog a commit brings many readings of a dense
// worker and writes them in a few runs; those figures are printed beside.
TargetResult Bytes(const Report& report, const RealisticFigures& n, const RealisticOptions& o) {
  const std::string target = "3. bytes per reading, sparse and dense workers";
  const std::string wanted = fmt::format("each within 2x, at {} readings/s", kLatencyRate);
  if (o.latency_rate != kLatencyRate) {
    return NotMeasured(target, wanted,
                       fmt::format("measured at {} readings/s; the target is at {}", o.latency_rate, kLatencyRate));
  }
  const double sr = Median(report, n.bytes_sparse_rocksdb), dr = Median(report, n.bytes_dense_rocksdb);
  const double sc = Median(report, n.bytes_sparse_changelog), dc = Median(report, n.bytes_dense_changelog);
  if (!Measured({sr, dr, sc, dc}) || std::min({sr, dr, sc, dc}) <= 0) {
    return NotMeasured(target, wanted, "the bytes-per-reading runs did not run or wrote nothing");
  }
  const double rocks = std::max(sr, dr) / std::min(sr, dr), changelog = std::max(sc, dc) / std::min(sc, dc);
  TargetResult r{target,
                 fmt::format("RocksDB {:.0f} / {:.0f} B ({:.2f}x), changelog {:.0f} / {:.0f} B ({:.2f}x)", sr, dr,
                             rocks, sc, dc, changelog),
                 wanted, Judge(rocks <= kBytesSpread && changelog <= kBytesSpread), ""};
  if (r.verdict == Verdict::kNotMet) {
    r.why = dr > sr || dc > sc
                ? "a dense worker's reading rewrites the run it joins (up to 16 samples) and its head; the README's "
                  "\"What a reading costs\""
                : "a sparse worker's reading writes its head and a run of its own, and each commit its partitions' "
                  "offsets; the README's \"What a reading costs\"";
  }
  return r;
}

TargetResult Latency(const Report& report, const RealisticFigures& n, const RealisticOptions& o) {
  const std::string target = "4. latency p99, produce to escalation", wanted = fmt::format("<= {:.0f} ms", kLatencyMs);
  if (o.latency_rate != kLatencyRate) {
    return NotMeasured(target, wanted,
                       fmt::format("measured at {} readings/s; the target is at {}", o.latency_rate, kLatencyRate));
  }
  const double p99 = Median(report, n.latency_p99);
  if (!Measured({p99})) return NotMeasured(target, wanted, "no latency phase ran");
  TargetResult r{target, fmt::format("{:.0f} ms at {} readings/s", p99, o.latency_rate), wanted,
                 Judge(p99 <= kLatencyMs), ""};
  if (r.verdict == Verdict::kNotMet) {
    r.why = "each commit waits for its changelog's round trip to the embedded cluster on the same 2 cores; the "
            "README's \"The latency's tail is the changelog's round trip\" measures it";
  }
  return r;
}

TargetResult SmallMemory(const Report& report, const RealisticFigures& n, const RealisticOptions& o,
                         uint64_t budget_mib) {
  const std::string target = fmt::format("5a. peak RSS, {} workers", kSmallWorkers);
  const std::string wanted = fmt::format("<= {:.0f} MiB", kSmallRssMib);
  if (o.workers != kSmallWorkers) {
    return NotMeasured(target, wanted, fmt::format("this run had {} workers (--workers)", o.workers));
  }
  const double peak = std::max(Median(report, n.peak_rss_drain), Median(report, n.peak_rss_live));
  if (!Measured({peak})) return NotMeasured(target, wanted, "no realistic repetition ran");
  TargetResult r{target, fmt::format("{:.0f} MiB at --memory-budget {}", peak, budget_mib),
                 wanted, Judge(peak <= kSmallRssMib), ""};
  if (r.verdict == Verdict::kNotMet && budget_mib > kSmallRssMib) {
    r.why = fmt::format(
        "the budget bounds the RSS, and this run's is {} MiB: --alertd-flag=--memory-budget --alertd-flag=256 runs "
        "it at the target's",
        budget_mib);
  }
  return r;
}

TargetResult LargeMemory(const Report& report, const RealisticFigures& n, const RealisticOptions& o,
                         uint64_t budget_mib) {
  const std::string target = "5b. peak RSS and its growth, the memory run";
  const double limit = kOverBudget * static_cast<double>(budget_mib);
  const std::string wanted =
      fmt::format("<= {:.0f} MiB (budget + 10%), growth <= {:.0f}% of it", limit, 100 * kFlatGrowth);
  if (o.memory_workers == 0) {
    return NotMeasured(target, wanted, fmt::format("no memory run: --memory-workers {} runs it", kLargeWorkers));
  }
  const double peak = Median(report, n.memory_peak_rss), growth = Median(report, n.memory_growth);
  if (!Measured({peak, growth})) return NotMeasured(target, wanted, "the memory run did not finish");
  TargetResult r{target,
                 fmt::format("{:.0f} MiB, {:+.1f} MiB over the second half, {} workers", peak, growth,
                             o.memory_workers),
                 wanted, Judge(peak <= limit && growth <= kFlatGrowth * peak), ""};
  if (o.memory_workers != kLargeWorkers) {
    r.why = fmt::format("the target is for {} workers", kLargeWorkers);
    if (r.verdict == Verdict::kMet) r.verdict = Verdict::kNotMeasured;
  }
  return r;
}

TargetResult Restart(const Report& report, const RealisticFigures& n, const RealisticOptions& o) {
  const bool large = o.memory_workers > 0;
  const int workers = large ? o.memory_workers : o.workers;
  const std::string target = fmt::format("6. restart after kill -9, {} workers' state", workers);
  const std::string wanted = fmt::format("first reading <= {:.0f} s after start", kRestartSeconds);
  const double processed = Median(report, large ? n.memory_restart_processed : n.restart_processed);
  const double assigned = Median(report, large ? n.memory_restart_assigned : n.restart_assigned);
  if (!Measured({processed})) return NotMeasured(target, wanted, "no restart was measured");
  TargetResult r{target, fmt::format("{:.1f} s", processed), wanted, Judge(processed <= kRestartSeconds), ""};
  if (r.verdict == Verdict::kNotMet && Measured({assigned})) {
    r.why = fmt::format(
        "{:.1f} s of it passed before the partitions were assigned (the group join: the embedded cluster ignores "
        "group.instance.id, so the killed member's session runs out first), {:.2f} s after",
        assigned, processed - assigned);
  }
  if (workers != kLargeWorkers) {
    r.why += std::string(r.why.empty() ? "" : "; ") +
             fmt::format("the target is with {} workers: --memory-workers {}", kLargeWorkers, kLargeWorkers);
    if (r.verdict == Verdict::kMet) r.verdict = Verdict::kNotMeasured;
  }
  return r;
}

const char* Word(Verdict v) {
  switch (v) {
    case Verdict::kMet: return "met";
    case Verdict::kNotMet: return "NOT MET";
    case Verdict::kNotMeasured: return "not judged";
  }
  return "";
}

}  // namespace

std::vector<TargetResult> JudgeTargets(const Report& report, const RealisticFigures& names,
                                       const RealisticOptions& o, const TargetInputs& in) {
  const double cpu = Median(report, names.cpu_drain);
  std::vector<TargetResult> out;
  out.push_back(Ratio("1a. throughput, drain ratio alertd/consume-only", Median(report, names.drain_ratio),
                      kDrainRatio, cpu, in.cores, Median(report, names.floor_ratio)));
  out.push_back(Ratio("1b. throughput, live ratio alertd/consume-only", Median(report, names.live_ratio), kLiveRatio,
                      Median(report, names.cpu_live), in.cores, Median(report, names.floor_live_ratio)));
  {
    const std::string target = "2. CPU per record, drain, all threads", wanted = fmt::format("<= {:.1f} us", kCpuUs);
    if (!Measured({cpu})) {
      out.push_back(NotMeasured(target, wanted, "no realistic repetition ran"));
    } else {
      const double floor = Median(report, names.floor_cpu);
      std::string why = ThreadSplit(report, names);
      if (Measured({floor})) {
        why += fmt::format(
            "the stack's floor in this run (consume, one RocksDB put and one changelog record per "
            "record, nothing else) took {:.1f} us; ",
            floor);
      }
      why += kCpuProfile;
      out.push_back({target, fmt::format("{:.1f} us", cpu), wanted, Judge(cpu <= kCpuUs), cpu <= kCpuUs ? "" : why});
    }
  }
  out.push_back(Bytes(report, names, o));
  out.push_back(Latency(report, names, o));
  out.push_back(SmallMemory(report, names, o, in.memory_budget_mib));
  out.push_back(LargeMemory(report, names, o, in.memory_budget_mib));
  out.push_back(Restart(report, names, o));
  {
    std::string files;
    for (const std::string& f : in.files) files += (files.empty() ? "" : ", ") + f;
    out.push_back({"7. figures and time series as CSV, plot as PNG", files, "written", Judge(in.plotted),
                   in.plotted ? "" : "gnuplot failed: its log is beside the CSVs"});
  }
  return out;
}

std::string FormatTargets(const std::vector<TargetResult>& results) {
  std::size_t target_width = 0, measured_width = 0, wanted_width = 0;
  for (const TargetResult& r : results) {
    target_width = std::max(target_width, r.target.size());
    measured_width = std::max(measured_width, r.measured.size());
    wanted_width = std::max(wanted_width, r.wanted.size());
  }
  std::string out;
  for (const TargetResult& r : results) {
    out += fmt::format("{:<{}}  {:<{}}  target {:<{}}  {}\n", r.target, target_width, r.measured, measured_width,
                       r.wanted, wanted_width, Word(r.verdict));
    if (!r.why.empty()) out += "    why: " + r.why + "\n";
  }
  return out;
}

uint64_t MemoryBudgetOf(const std::vector<std::string>& alertd_flags, uint64_t fallback) {
  uint64_t budget = fallback;
  const std::string flag = "--memory-budget";
  for (std::size_t i = 0; i < alertd_flags.size(); ++i) {
    const std::string& f = alertd_flags[i];
    std::string value;
    if (f == flag && i + 1 < alertd_flags.size()) {
      value = alertd_flags[++i];
    } else if (f.rfind(flag + "=", 0) == 0) {
      value = f.substr(flag.size() + 1);
    } else {
      continue;
    }
    char* end = nullptr;
    const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (end != value.c_str() && *end == '\0') budget = v;
  }
  return budget;
}

}  // namespace alertd::bench
