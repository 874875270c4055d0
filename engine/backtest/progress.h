// The backtest's progress on stderr: a bar on a terminal, a line every few seconds otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace alertd::backtest {

// Records read of `total`, their rate and the time left. Writes to `out` (stderr), never to the
// report's stdout, so the report stays the same byte for byte. Thread-compatible.
class Progress {
 public:
  Progress(std::string what, uint64_t total, std::FILE* out = stderr);
  void Update(uint64_t done);
  // The last state, and a newline after the bar.
  void Finish(uint64_t done);

 private:
  void Print(uint64_t done, bool final);

  const std::string what_;
  const uint64_t total_;
  std::FILE* const out_;
  const bool terminal_;
  const std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace alertd::backtest
