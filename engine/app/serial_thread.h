// One long-lived thread that runs the tasks it is given in turn: the committer's. A thread started per
// commit paid, on every commit, for its allocator cache and its stack's first pages (page faults) and
// for their release at its exit (madvise and the TLB shootdowns that follow).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace alertd::app {

class SerialThread {
 public:
  // `name`: the thread's name as top and perf show it (at most 15 bytes are kept).
  explicit SerialThread(std::string name);
  // Runs what was given and not yet run, then joins.
  ~SerialThread();
  SerialThread(const SerialThread&) = delete;
  SerialThread& operator=(const SerialThread&) = delete;

  // Queues `task` behind those given before; the future holds its result (or what it threw) once it
  // has run.
  std::future<absl::Status> Run(std::function<absl::Status()> task);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<absl::Status()>> tasks_;
  bool stopping_ = false;
  const std::string name_;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace alertd::app
