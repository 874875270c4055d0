// The process series: /proc/<pid>/stat parsed by field number whatever the command's name, and the
// families present in a real exposition with plausible values.
#include "engine/metrics/process_metrics.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <sstream>
#include <string>

namespace alertd::metrics {
namespace {

// Fields 1..24 of a stat line; the command name holds a space and both parentheses.
constexpr const char* kStat =
    "4242 (alertd (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 7 0 1200 52428800 3000 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesStatByFieldNumber) {
  const auto s = ParseProcStat(kStat, 100, 4096, 1'000'000.0);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);  // (250 + 50) ticks at 100 per second
  EXPECT_DOUBLE_EQ(s->threads, 7);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1'000'012.0);  // boot + 1200 ticks
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 52428800);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 3000.0 * 4096);
}

TEST(ProcessMetricsTest, RefusesTextOfAnotherShape) {
  EXPECT_FALSE(ParseProcStat("", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("4242 (alertd) S 1 2 3", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcStat("4242 (alertd) S 1 4242 4242 0 -1 4194560 1000 0 0 0 x 50 0 0 20 0 7 0 1200 5 3 9",
                             100, 4096, 0)
                   .has_value());
  EXPECT_FALSE(ParseProcStat(kStat, 0, 4096, 0).has_value());
}

double Value(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

TEST(ProcessMetricsTest, ExpositionHasThisProcessesSeriesNextToTheRegistrys) {
  prometheus::Registry registry;
  const std::string text = ExpositionWithProcess(registry);
  EXPECT_GT(Value(text, "process_resident_memory_bytes"), 1 << 20) << text;
  EXPECT_GT(Value(text, "process_virtual_memory_bytes"), Value(text, "process_resident_memory_bytes"));
  EXPECT_GE(Value(text, "process_cpu_seconds_total"), 0);
  EXPECT_GE(Value(text, "process_threads"), 1);
  EXPECT_GE(Value(text, "process_open_fds"), 3);
  EXPECT_GT(Value(text, "process_max_fds"), Value(text, "process_open_fds"));
  // Started within the last day and not in the future.
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(Value(text, "process_start_time_seconds"), now + 1);
  EXPECT_GT(Value(text, "process_start_time_seconds"), now - 86400);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
}

}  // namespace
}  // namespace alertd::metrics
