// Atomicity and durability under kill -9: a writer process is killed at many points mid-stream and the
// reopened store must hold every commit it reported durable, with worker state, input offset, outbox
// and timers from the same commit, never one without the others.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

// The commits the writer reported durable ("committed i" after Commit returned OK with sync on)
// before it was killed: the first and the last of a gapless run.
struct Reported {
  int64_t first = -1;
  int64_t last = -1;
};

// Takes the complete "committed i" lines out of `pending`; fails the test on anything else or a gap.
void TakeReports(std::string& pending, Reported& reported) {
  for (std::size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
    const std::string line = pending.substr(0, eol);
    constexpr std::string_view kPrefix = "committed ";
    if (line.rfind(kPrefix, 0) != 0) {
      ADD_FAILURE() << "writer said: " << line;
      continue;
    }
    const int64_t i = std::stoll(line.substr(kPrefix.size()));
    if (reported.first < 0) reported.first = i;
    EXPECT_TRUE(reported.last < 0 || i == reported.last + 1) << "report " << i << " after " << reported.last;
    reported.last = i;
  }
}

// Runs the writer (a separate executable: exec right after fork, because a forked copy of this
// process would inherit RocksDB's background thread pools without their threads) until it reports
// its first durable commit, lets it commit for `run_for` more while reading its reports (a full pipe
// would stall it, and the kill would land between commits), then SIGKILLs it wherever it is: inside
// a write, an fsync, or between a commit and its report. Returns what it reported before it died.
Reported RunAndKill(const std::string& path, std::chrono::microseconds run_for) {
  Reported reported;
  int out[2];
  if (pipe(out) != 0) {
    ADD_FAILURE() << "pipe";
    return reported;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork";
    return reported;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(ALERTD_CRASH_WRITER, "state_crash_writer", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string pending;
  char buf[4096];
  // Reads what is there within `wait_ms`; false at end of file or on an error.
  auto read_some = [&](int wait_ms) {
    pollfd readable{.fd = out[0], .events = POLLIN, .revents = 0};
    if (poll(&readable, 1, wait_ms) != 1) return true;
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) return false;
    pending.append(buf, static_cast<std::size_t>(n));
    TakeReports(pending, reported);
    return true;
  };
  const auto started_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool open = true;
  while (open && reported.last < 0 && std::chrono::steady_clock::now() < started_by) open = read_some(100);
  const bool started = reported.last >= 0;
  const auto kill_at = std::chrono::steady_clock::now() + run_for;
  while (open && started) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(kill_at - std::chrono::steady_clock::now());
    if (left.count() < 1) break;
    open = read_some(static_cast<int>(left.count()));
  }
  if (started) std::this_thread::sleep_until(kill_at);  // the sub-millisecond rest: kill points spread finely

  kill(pid, SIGKILL);
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  // Whatever it wrote before dying is in the pipe: read to end of file.
  while (read_some(1000)) {
  }
  close(out[0]);
  EXPECT_TRUE(pending.empty()) << "a torn report: " << pending;
  EXPECT_TRUE(started) << "the writer never reported a commit";
  // Anything else means the writer stopped on its own (an error it printed to stderr).
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "writer status " << status;
  return reported;
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
                                                   .kind = alertd::domain::TimerKind::kRenotify}}));
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

// Twenty kills spread over 0-300 ms of committing, each landing wherever the writer is: every commit
// it reported durable must be there after reopening, whole, and nothing beyond the one commit that
// may have become durable in the instant before its report was written.
TEST(CrashTest, KillNineMidCommitKeepsEveryReportedCommitWhole) {
  testing_support::TempDir dir;
  const std::string path = dir.Sub("db");
  constexpr int kKills = 20;
  constexpr std::chrono::microseconds kSpread = std::chrono::milliseconds(300);
  int64_t survived = 0;  // the commit the store held before this round
  int durable_but_unreported = 0;
  int kills = 0;
  for (int k = 0; k < kKills && !HasFailure(); ++k, ++kills) {
    const auto run_for = kSpread * k / (kKills - 1);
    SCOPED_TRACE("kill " + std::to_string(k + 1) + " after " + std::to_string(run_for.count()) + " us");
    const Reported reported = RunAndKill(path, run_for);
    EXPECT_EQ(reported.first, survived + 1) << "the writer resumes right after the last surviving commit";
    const int64_t i = ExpectConsistent(path);
    EXPECT_GE(i, reported.last) << "commits " << i + 1 << ".." << reported.last
                                << " were reported durable and are gone";
    EXPECT_LE(i, reported.last + 1) << "the store holds commit " << i << ", the writer reached " << reported.last;
    durable_but_unreported += i == reported.last + 1;
    survived = i;
  }
  RecordProperty("commits", std::to_string(survived));
  RecordProperty("kills_between_commit_and_report", std::to_string(durable_but_unreported));
  std::printf("%d kills, %lld commits; %d kills landed after a commit reached the WAL and before its report\n", kills,
              static_cast<long long>(survived), durable_but_unreported);
}

}  // namespace
}  // namespace alertd::state
