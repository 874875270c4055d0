// Housekeeping time (commit interval, punctuation rhythm, lag, retries, log rates): the steady clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace alertd::app {

// Never the rules' clock, which may be a replayed stream or a test's clock jumping days ahead.
inline int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace alertd::app
