// One long-lived thread that runs the tasks it is given in turn: the committer's, which started a
// thread per commit before (~200 in a drain of 2.4M records), none of them named. The page faults per
// record did not change (README "Where a reading's CPU goes"); what `top` and `perf` show now is one
// thread with a name. Unlike std::async's, a future of Run() does not wait for its task when destroyed:
// the owner keeps what a task uses until the future is ready, or until this is destroyed.
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
