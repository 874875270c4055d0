// Start-up steps with the time since the process started (see start_steps.h).
#include "engine/app/start_steps.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

namespace alertd::app {
namespace {

// Taken while the program's statics are initialised, before main() runs.
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();
std::atomic<bool> start_done{false};

double SecondsSinceStart() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
}

}  // namespace

void LogStartStep(std::string_view step) {
  if (start_done.load(std::memory_order_relaxed)) return;
  spdlog::info("start +{:.3f} s: {}", SecondsSinceStart(), step);
}

void StartDone(std::string_view step) {
  if (start_done.exchange(true)) return;
  spdlog::info("start +{:.3f} s: {}", SecondsSinceStart(), step);
}

bool Starting() { return !start_done.load(std::memory_order_relaxed); }

}  // namespace alertd::app
