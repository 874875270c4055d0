// SerialThread: the committer's one thread runs what it is given in turn, on
// itself, and finishes it before it goes.
#include "engine/app/serial_thread.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace alertd::app {
namespace {

TEST(SerialThreadTest, RunsTasksInTheOrderGivenOnOneThreadThatIsNotTheCallers) {
  SerialThread thread("test-serial");
  std::vector<int> order;
  std::vector<std::thread::id> ran_on;
  std::vector<std::future<absl::Status>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(thread.Run([&, i] {
      order.push_back(i);  // one task at a time: no lock needed
      ran_on.push_back(std::this_thread::get_id());
      return i == 7 ? absl::UnavailableError("seven") : absl::OkStatus();
    }));
  }
  for (int i = 0; i < 50; ++i) {
    const absl::Status status = results[i].get();
    EXPECT_EQ(status.ok(), i != 7) << i;
  }
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
  for (const std::thread::id& id : ran_on) {
    EXPECT_EQ(id, ran_on.front());
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(SerialThreadTest, TheThreadCarriesItsName) {
  SerialThread thread("alertd-commit");
  std::string name;
  const auto read_name = [&] {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    name = buffer;
    return absl::OkStatus();
  };
  const absl::Status status = thread.Run(read_name).get();
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(name, "alertd-commit");
}

TEST(SerialThreadTest, DestroyingItRunsWhatWasGivenBeforeItReturns) {
  std::vector<std::future<absl::Status>> results;
  int ran = 0;
  {
    SerialThread thread("test-serial");
    for (int i = 0; i < 3; ++i) {
      results.push_back(thread.Run([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ++ran;
        return absl::OkStatus();
      }));
    }
  }
  EXPECT_EQ(ran, 3);
  for (auto &result : results) {
    ASSERT_EQ(result.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(result.get().ok());
  }
}

TEST(SerialThreadTest, ATaskThatThrowsHandsTheExceptionToItsFutureAndTheThreadGoesOn) {
  SerialThread thread("test-serial");
  std::future<absl::Status> thrown = thread.Run([]() -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_THROW(thrown.get(), std::runtime_error);
  EXPECT_TRUE(thread.Run([] { return absl::OkStatus(); }).get().ok());
}

}  // namespace
}  // namespace alertd::app
