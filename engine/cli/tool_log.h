// Diagnostics of the command-line tools: one stderr logger named after the tool.
//
// stdout is the tools' product (lines people and scripts read); everything else goes to stderr.
#pragma once

#include <string>

namespace alertd::cli {

// Makes spdlog's default logger write "[hh:mm:ss.mmm] <tool> <level>: message" to stderr. With `verbose`
// debug lines are shown too.
void InitToolLog(const std::string& tool, bool verbose = false);

}  // namespace alertd::cli
