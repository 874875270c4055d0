// The main() of alertd's command-line tools.
#include "engine/tool/tool_main.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "engine/tool/log.h"

namespace alertd::tool {

int ToolMain(CLI::App& app, int argc, char** argv, const std::string& tool, const bool* verbose,
             const std::function<int()>& run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a bad flag exits 2, as the daemon's do.
    return app.exit(e) == 0 ? 0 : 2;
  }
  InitToolLog(tool, *verbose);
  try {
    return run();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}

}  // namespace alertd::tool
