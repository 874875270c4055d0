// SIGINT/SIGTERM handling for alertd and its tools: the handlers only record that a stop was asked.
//
// Thread-safety: StopRequested() may be called from any thread. Install and block from main() before
// any other thread (librdkafka's included) starts.
#pragma once

#include <atomic>

namespace alertd::tool {

// What a second SIGINT or SIGTERM does once the first asked to stop.
enum class SecondStopSignal {
  kKills,    // the default action: a tool whose shutdown hangs can still be interrupted from the keyboard
  kRecords,  // recorded like the first: the daemon finishes its commit and shutdown whatever comes
};

// Installs handlers for SIGINT and SIGTERM that record the signal and do nothing else.
void InstallStopHandlers(SecondStopSignal second = SecondStopSignal::kKills);

// True once SIGINT or SIGTERM arrived.
bool StopRequested() noexcept;

// The same as a flag, for loops that take one (app::Engine::Run).
const std::atomic<bool>& StopFlag() noexcept;

// The signal that asked to stop ("SIGINT", "SIGTERM"), or "" if none did.
const char* StopSignalName() noexcept;

// Blocks SIGINT and SIGTERM in the calling thread. Threads started afterwards inherit the mask, so
// the signals can only be taken where WaitForStop() unblocks them. Needed by a main thread that has
// nothing to do but wait: without it the signal may land on a library thread and WaitForStop()
// would sleep on.
void BlockStopSignals();

// Sleeps until SIGINT or SIGTERM arrives (returns at once if one already did). Requires
// BlockStopSignals() earlier in this thread; there is no polling and no race with the check.
void WaitForStop();

}  // namespace alertd::tool
