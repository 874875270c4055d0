// The committer's thread: tasks in turn, on one thread for the daemon's lifetime.
#include "engine/app/serial_thread.h"

#include <pthread.h>

#include <utility>

namespace alertd::app {

SerialThread::SerialThread(std::string name) : name_(std::move(name)), thread_([this] { Loop(); }) {}

SerialThread::~SerialThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

std::future<absl::Status> SerialThread::Run(std::function<absl::Status()> task) {
  std::packaged_task<absl::Status()> packaged(std::move(task));
  std::future<absl::Status> result = packaged.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(packaged));
  }
  wake_.notify_one();
  return result;
}

void SerialThread::Loop() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  for (;;) {
    std::packaged_task<absl::Status()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and everything given has run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace alertd::app
