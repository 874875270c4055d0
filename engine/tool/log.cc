// Diagnostics of alertd and its tools: one stderr logger named after the program.
#include "engine/tool/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace alertd::tool {

void InitLog(const std::string& program, spdlog::level::level_enum level, LogStyle style) {
  auto logger = spdlog::stderr_color_mt(program);
  if (style == LogStyle::kTool) {
    logger->set_pattern("[%H:%M:%S.%e] %n %^%l%$: %v");
    // Warnings and errors must reach the terminal before the process dies or a line is printed.
    logger->flush_on(spdlog::level::warn);
  }
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(level);
}

}  // namespace alertd::tool
