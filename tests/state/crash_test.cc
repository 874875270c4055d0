// Atomicity under kill -9: a writer process is killed mid-stream and the reopened store must hold
// worker state, input offset, outbox and timers from the same commit, never one without the others.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

// Runs the writer (a separate executable: exec right after fork, because a forked copy of this
// process would inherit RocksDB's background thread pools without their threads) until it has
// committed for `run_for`, then SIGKILLs it.
void RunAndKill(const std::string& path, std::chrono::milliseconds run_for) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(ready[1], STDOUT_FILENO);
    close(ready[0]);
    close(ready[1]);
    execl(ALERTD_CRASH_WRITER, "state_crash_writer", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ready[1]);
  pollfd wait_ready{.fd = ready[0], .events = POLLIN, .revents = 0};
  const int polled = poll(&wait_ready, 1, /*timeout_ms=*/10'000);
  char byte = 0;
  const bool started = polled == 1 && read(ready[0], &byte, 1) == 1;
  close(ready[0]);
  if (started) std::this_thread::sleep_for(run_for);

  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(started) << "the writer never committed";
  // Anything else means the writer stopped on its own (an error it printed to stderr).
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer status " << status;
}

// The state the last surviving commit left: returns its number.
int64_t ExpectConsistent(const std::string& path) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = path});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return -1;
  absl::StatusOr<std::optional<int64_t>> offset = (*store)->LoadNextOffset({"readings", 0});
  absl::StatusOr<std::optional<domain::WorkerState>> state = (*store)->LoadWorker({0, domain::WorkerId{"W"}});
  absl::StatusOr<std::vector<OutboxEntry>> outbox = (*store)->LoadOutbox();
  EXPECT_TRUE(offset.ok() && state.ok() && outbox.ok());
  if (!offset.ok() || !state.ok() || !outbox.ok()) return -1;
  EXPECT_TRUE(offset->has_value() && state->has_value()) << "the writer committed, so both must be there";
  if (!offset->has_value() || !state->has_value()) return -1;

  const int64_t i = **offset;
  EXPECT_GT(i, 0);
  EXPECT_EQ((*state)->readings_accepted, static_cast<uint64_t>(i)) << "state and offset from different commits";
  EXPECT_EQ((*state)->bp_window.size(), static_cast<size_t>(i % 24));
  // The outbox holds exactly commit i's entry: its put and the delete of i-1's came in one batch.
  EXPECT_EQ(outbox->size(), 1U);
  if (outbox->size() == 1) {
    EXPECT_EQ(outbox->front().value, std::to_string(i));
    EXPECT_EQ(outbox->front().seq + 1, (*store)->NextOutboxSeq());
  }

  // W's timer moved with every commit: only commit i's is left.
  absl::StatusOr<std::vector<domain::Timer>> moved = (*store)->LoadTimers(0);
  EXPECT_TRUE(moved.ok()) << moved.status();
  if (moved.ok()) {
    EXPECT_EQ(*moved, (std::vector<domain::Timer>{{.fire_at = domain::ProcessingTime{i},
                                                   .partition = 0,
                                                   .worker = domain::WorkerId{"W"},
                                                   .rule = domain::Rule::kR2SustainedHypertension,
                                                   .kind = 3}}));
  }
  // Partition 1 gained worker W<j> and its timer at j in commit j: every committed worker has its
  // timer and every timer its worker, for j = 1..i and nothing else.
  std::set<std::string> workers;
  absl::Status visited = (*store)->ForEachWorker(1, [&](const WorkerKey& key, const domain::WorkerState& added) {
    EXPECT_EQ("W" + std::to_string(added.readings_accepted), key.worker.value);
    workers.insert(key.worker.value);
    return true;
  });
  EXPECT_TRUE(visited.ok()) << visited;
  std::set<std::string> expected;
  for (int64_t j = 1; j <= i; ++j) expected.insert("W" + std::to_string(j));
  EXPECT_EQ(workers, expected);
  absl::StatusOr<std::vector<domain::Timer>> added = (*store)->LoadTimers(1);
  EXPECT_TRUE(added.ok()) << added.status();
  if (added.ok()) {
    std::set<std::string> timed;
    for (const domain::Timer& timer : *added) {
      EXPECT_EQ(timer.worker.value, "W" + std::to_string(timer.fire_at.ms));
      timed.insert(timer.worker.value);
    }
    EXPECT_EQ(added->size(), expected.size());
    EXPECT_EQ(timed, expected);
  }
  // The due scan agrees: commit i's two timers fire at i, the other i - 1 earlier.
  absl::StatusOr<std::vector<domain::Timer>> due = (*store)->LoadDueTimers(domain::ProcessingTime{i - 1}, SIZE_MAX);
  EXPECT_TRUE(due.ok() && due->size() == static_cast<size_t>(i - 1)) << "due before commit " << i;
  due = (*store)->LoadDueTimers(domain::ProcessingTime{i}, SIZE_MAX);
  EXPECT_TRUE(due.ok() && due->size() == static_cast<size_t>(i + 1)) << "due at commit " << i;
  return i;
}

TEST(CrashTest, KillNineKeepsStateOffsetsOutboxAndTimersTogether) {
  testing_support::TempDir dir;
  const std::string path = dir.Sub("db");

  RunAndKill(path, std::chrono::milliseconds(300));
  const int64_t first = ExpectConsistent(path);
  RecordProperty("commits_before_first_kill", std::to_string(first));

  // Recovery then more crashes: the writer resumes from what survived.
  RunAndKill(path, std::chrono::milliseconds(150));
  const int64_t second = ExpectConsistent(path);
  EXPECT_GT(second, first);
}

}  // namespace
}  // namespace alertd::state
