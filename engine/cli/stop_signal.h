// SIGINT/SIGTERM handling for the command-line tools: the handlers only record that a stop was asked.
//
// Thread-safety: StopRequested() may be called from any thread. Install and block from main() before
// any other thread (librdkafka's included) starts.
#pragma once

namespace alertd::cli {

// Installs handlers for SIGINT and SIGTERM that record the signal and do nothing else. A second
// signal of the same kind gets the default action (the process dies), so a shutdown that hangs can
// still be interrupted from the keyboard.
void InstallStopHandlers();

// True once SIGINT or SIGTERM arrived.
bool StopRequested() noexcept;

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

}  // namespace alertd::cli
