// The main() of alertd's command-line tools: flags, log, run, and what an escaping error becomes.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace alertd::tool {

// Parses `argv` into `app` (its callback may throw CLI::ValidationError for checks across flags), sets
// up the tool's log (InitToolLog with `*verbose`), then returns `run()`. A flag error exits as CLI11
// says (0 for --help); an exception escaping `run` is logged and exits 1.
int ToolMain(CLI::App& app, int argc, char** argv, const std::string& tool, const bool* verbose,
             const std::function<int()>& run);

}  // namespace alertd::tool
