// SIGINT/SIGTERM handling for alertd and its tools: the handlers only record that a stop was asked.
#include "engine/tool/stop_signal.h"

#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace alertd::tool {
namespace {

// Async-signal-safe only if lock-free; the handler touches nothing else.
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_stop_requested{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

// Signal mask of the main thread before BlockStopSignals(), restored inside WaitForStop().
sigset_t g_mask_before_block;
bool g_blocked = false;

extern "C" void RecordStopSignal(int signo) {
  g_stop_signal.store(signo, std::memory_order_relaxed);
  g_stop_requested.store(true, std::memory_order_relaxed);
}

sigset_t StopSignalSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void InstallStopHandlers(SecondStopSignal second) {
  struct sigaction action {};
  action.sa_handler = RecordStopSignal;
  sigemptyset(&action.sa_mask);
  // SA_RESTART as std::signal sets it: a signal does not fail the daemon's blocking calls with EINTR.
  action.sa_flags = second == SecondStopSignal::kKills ? SA_RESETHAND : SA_RESTART;
  for (int signo : {SIGINT, SIGTERM}) {
    if (sigaction(signo, &action, nullptr) != 0) {
      throw std::runtime_error(std::string("sigaction: ") + std::strerror(errno));
    }
  }
}

bool StopRequested() noexcept { return g_stop_requested.load(std::memory_order_relaxed); }

const std::atomic<bool>& StopFlag() noexcept { return g_stop_requested; }

const char* StopSignalName() noexcept {
  switch (g_stop_signal.load(std::memory_order_relaxed)) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "";
  }
}

void BlockStopSignals() {
  const sigset_t set = StopSignalSet();
  if (int rc = pthread_sigmask(SIG_BLOCK, &set, &g_mask_before_block); rc != 0) {
    throw std::runtime_error(std::string("pthread_sigmask: ") + std::strerror(rc));
  }
  g_blocked = true;
}

void WaitForStop() {
  if (!g_blocked) throw std::logic_error("WaitForStop() needs BlockStopSignals() first");
  sigset_t wait_mask = g_mask_before_block;
  sigdelset(&wait_mask, SIGINT);
  sigdelset(&wait_mask, SIGTERM);
  // The flag is checked with the signals blocked and sigsuspend unblocks them atomically, so a
  // signal arriving between the check and the sleep is delivered inside sigsuspend, not lost.
  while (!StopRequested()) sigsuspend(&wait_mask);
}

}  // namespace alertd::tool
