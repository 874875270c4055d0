// The process's standard series (process_resident_memory_bytes, process_cpu_seconds_total, ...), with
// the names and meanings of the other Prometheus client libraries, read from /proc at each scrape.
//
// prometheus-cpp has no process collector; dashboards and alert rules expect these names (memory of
// alertd and alertd-notify, CPU, file descriptors against their limit, restarts by start time).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertd::metrics {

struct ProcessSample {
  double cpu_seconds = 0;         // user + system, all threads
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  double threads = 0;
};

// Parses the text of /proc/<pid>/stat (proc(5)); the command name in parentheses may hold spaces and
// parentheses. nullopt when the text is not of that shape.
std::optional<ProcessSample> ParseProcStat(std::string_view stat, long clock_ticks_per_second, long page_bytes,
                                           double boot_time_seconds);

// The families of this process now: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_threads, process_open_fds,
// process_max_fds. Empty when /proc cannot be read (then the scrape simply lacks them).
std::vector<prometheus::MetricFamily> CollectProcessMetrics();

// The text exposition of `registry`'s families followed by this process's: what /metrics serves.
std::string ExpositionWithProcess(const prometheus::Collectable& registry);

}  // namespace alertd::metrics
