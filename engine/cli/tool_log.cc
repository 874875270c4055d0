// Diagnostics of the command-line tools: one stderr logger named after the tool.
#include "engine/cli/tool_log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace alertd::cli {

void InitToolLog(const std::string& tool, bool verbose) {
  auto logger = spdlog::stderr_color_mt(tool);
  logger->set_pattern("[%H:%M:%S.%e] %n %^%l%$: %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  // Warnings and errors must reach the terminal before the process dies or a line is printed.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace alertd::cli
