// A processing-time clock for tests that run the engine in their own process and jump days ahead.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/domain/clock.h"
#include "tests/integration/harness.h"

namespace alertd::testing {

// Wall-clock time plus an offset the test moves forward: the engine keeps committing on its 100 ms
// rhythm while the test jumps days ahead. Thread-safe: the engine reads it on its own thread.
class JumpingClock final : public domain::Clock {
 public:
  domain::ProcessingTime Now() const override { return {NowMs() + offset_.load()}; }
  void Jump(int64_t ms) { offset_ += ms; }

 private:
  std::atomic<int64_t> offset_{0};
};

}  // namespace alertd::testing
