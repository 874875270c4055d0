// The injected processing-time clock: real in the daemon, driven by hand in tests and replays.
#pragma once

#include "engine/domain/types.h"

namespace alertd::domain {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual ProcessingTime Now() const = 0;
};

// A clock that only moves when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(ProcessingTime start) : now_(start) {}
  ProcessingTime Now() const override { return now_; }
  void Set(ProcessingTime t) { now_ = t; }
  void Advance(int64_t ms) { now_.ms += ms; }

 private:
  ProcessingTime now_;
};

}  // namespace alertd::domain
