// Starting a child process (alertd, alertd-kafka, alertd-sim) with its output in a log file: what the
// integration harness and the bench do to run real processes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace alertd::tool {

// Whether the child's log starts empty or continues an earlier run's (a restart in one test).
enum class ChildLog { kTruncate, kAppend };

// Starts `argv` (argv[0] a path, not searched in $PATH) with this environment, stdout and stderr both
// to `log_path`. The caller reaps the pid. Internal error naming argv[0] and the reason if it cannot.
[[nodiscard]] absl::StatusOr<pid_t> SpawnWithLog(std::vector<std::string> argv, const std::string& log_path,
                                                 ChildLog log);

}  // namespace alertd::tool
