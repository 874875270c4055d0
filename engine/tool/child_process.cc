// Starting a child process with its output in a log file, by posix_spawn.
#include "engine/tool/child_process.h"

#include <fcntl.h>
#include <spawn.h>

#include <cstring>

extern char** environ;

namespace alertd::tool {

absl::StatusOr<pid_t> SpawnWithLog(std::vector<std::string> argv, const std::string& log_path, ChildLog log) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to start");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int mode = log == ChildLog::kAppend ? O_APPEND : O_TRUNC;
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | mode, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::InternalError("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

}  // namespace alertd::tool
