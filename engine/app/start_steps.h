// The daemon's start-up steps, logged with the time since the process started.
#pragma once

#include <string_view>

namespace alertd::app {

// Logs "start +S s: <step>" at info level, S being the seconds since the process started, so an
// operator reading the log after a restart sees where the time to the first reading went (opening
// the store and replaying its WAL, joining the group, assignment, restore, first reading). Quiet once
// the start is over (StartDone()): a rebalance an hour later is not a start step.
//
// Thread-safe.
void LogStartStep(std::string_view step);
// The start is over (the first reading was processed): logged as the last step.
void StartDone(std::string_view step);
// True until StartDone().
bool Starting();

}  // namespace alertd::app
