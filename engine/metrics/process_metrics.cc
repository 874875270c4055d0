// The process's standard series, read from /proc/self at each scrape.
#include "engine/metrics/process_metrics.h"

#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace alertd::metrics {
namespace {

std::string ReadText(const char* path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The "btime" line of /proc/stat: when the machine booted, seconds since the epoch.
double BootTimeSeconds() {
  std::istringstream in(ReadText("/proc/stat"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {name, help, type, {metric}};
}

}  // namespace

std::optional<ProcessSample> ParseProcStat(std::string_view stat, long clock_ticks_per_second, long page_bytes,
                                           double boot_time_seconds) {
  // Fields after the command's closing parenthesis, numbered as in proc(5): 3 state, ... 14 utime,
  // 15 stime, 20 num_threads, 22 starttime, 23 vsize, 24 rss.
  const std::size_t close = stat.rfind(')');
  if (close == std::string_view::npos || clock_ticks_per_second <= 0) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  std::vector<std::string_view> fields;
  while (!rest.empty()) {
    const std::size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const std::size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  auto field = [&](int number) -> std::optional<double> {
    const std::size_t i = static_cast<std::size_t>(number - 3);
    if (i >= fields.size()) return std::nullopt;
    unsigned long long v = 0;
    const std::string_view f = fields[i];
    if (std::from_chars(f.data(), f.data() + f.size(), v).ec != std::errc{}) return std::nullopt;
    return static_cast<double>(v);
  };
  const auto utime = field(14), stime = field(15), threads = field(20), start = field(22), vsize = field(23),
             rss = field(24);
  if (!utime || !stime || !threads || !start || !vsize || !rss) return std::nullopt;
  const double ticks = static_cast<double>(clock_ticks_per_second);
  return ProcessSample{.cpu_seconds = (*utime + *stime) / ticks,
                       .resident_bytes = *rss * static_cast<double>(page_bytes),
                       .virtual_bytes = *vsize,
                       .start_time_seconds = boot_time_seconds + *start / ticks,
                       .threads = *threads};
}

std::vector<prometheus::MetricFamily> CollectProcessMetrics() {
  static const double boot_time = BootTimeSeconds();
  const std::optional<ProcessSample> s =
      ParseProcStat(ReadText("/proc/self/stat"), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot_time);
  if (!s) return {};
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out = {
      Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::Counter,
             s->cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge, s->resident_bytes),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge, s->virtual_bytes),
      Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
             s->start_time_seconds),
      Family("process_threads", "Number of OS threads in the process.", MetricType::Gauge, s->threads),
  };
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  if (!ec) out.push_back(Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, fds));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
                         static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

std::string ExpositionWithProcess(const prometheus::Collectable& registry) {
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  std::vector<prometheus::MetricFamily> process = CollectProcessMetrics();
  families.insert(families.end(), std::make_move_iterator(process.begin()), std::make_move_iterator(process.end()));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace alertd::metrics
