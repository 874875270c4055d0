// Diagnostics of alertd and its tools: one stderr logger named after the program.
//
// stdout is the tools' product (lines people and scripts read); everything else goes to stderr.
#pragma once

#include <spdlog/common.h>

#include <string>

namespace alertd::tool {

// How log lines look.
enum class LogStyle {
  kDaemon,  // spdlog's own "[2026-11-29 08:14:03.123] [alertd] [info] message": a daemon's log is kept
  kTool,    // "[08:14:03.123] alertd-sim info: message", flushed at warnings: a person watches a tool
};

// Makes spdlog's default logger a stderr logger named `program`, at `level`. Call once, from main()
// before other threads log.
void InitLog(const std::string& program, spdlog::level::level_enum level, LogStyle style);

// A tool's log: kTool style, debug lines with `verbose`.
inline void InitToolLog(const std::string& tool, bool verbose = false) {
  InitLog(tool, verbose ? spdlog::level::debug : spdlog::level::info, LogStyle::kTool);
}

}  // namespace alertd::tool
