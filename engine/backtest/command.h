// `alertd backtest` and `alertd backtest export`: their flags and what they run.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

namespace alertd::backtest {

struct CommandFlags;

// The backtest subcommand of alertd's command line. main() adds it before parsing and, if it was
// given, runs it instead of the daemon.
class BacktestCommand {
 public:
  explicit BacktestCommand(CLI::App& cli);
  ~BacktestCommand();
  bool given() const;
  // Runs the backtest (or the export); `daemon_policy` is the daemon's --policy (empty: built-in),
  // the baseline unless --baseline-policy names another. The exit code: 0, 2 for bad flags, policy
  // files or input files, 5 for Kafka, 1 otherwise.
  int Run(const std::string& daemon_policy) const;

 private:
  std::unique_ptr<CommandFlags> flags_;
  CLI::App* backtest_ = nullptr;
  CLI::App* export_ = nullptr;
};

// Registers `backtest` (and its `export`) on alertd's command line.
std::unique_ptr<BacktestCommand> AddBacktestCommand(CLI::App& cli);

}  // namespace alertd::backtest
