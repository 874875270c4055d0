// A full disk under the RocksDB store: the writer stops with ResourceExhausted naming the directory
// (never SIGABRT), nothing half-written, and once space is freed a reopen carries on exactly.
// Runs as root: each case mounts its own small tmpfs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/state/store.h"
#include "tests/state/state_test_support.h"

namespace alertd::state {
namespace {

constexpr int kExitResourceExhausted = 3;  // disk_full_writer.cc's exit for a ResourceExhausted status
constexpr uint64_t kTestReserve = 1 << 20;  // the default 64 MiB would not fit these filesystems

// A tmpfs of `mib` MiB mounted on a fresh directory for the life of the object.
class Tmpfs {
 public:
  explicit Tmpfs(int mib) : dir_(scratch_.Sub("fs")) {
    std::filesystem::create_directory(dir_);
    const std::string size = "size=" + std::to_string(mib) + "m";
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, size.c_str()) != 0) {
      ADD_FAILURE() << "cannot mount a " << mib << " MiB tmpfs on " << dir_ << ": " << std::strerror(errno)
                    << " (this test needs root, or CAP_SYS_ADMIN, to fill a real filesystem)";
      return;
    }
    mounted_ = true;
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  ~Tmpfs() {
    // Lazy: a child that is still being reaped must not leave the mount behind.
    if (mounted_ && umount2(dir_.c_str(), MNT_DETACH) != 0) ADD_FAILURE() << "umount " << dir_ << ": " << std::strerror(errno);
  }

  bool mounted() const { return mounted_; }
  std::string Sub(const std::string& name) const { return dir_ + "/" + name; }
  // What an operator does after the alert: give the filesystem more room.
  void Grow(int mib) {
    const std::string size = "size=" + std::to_string(mib) + "m";
    ASSERT_EQ(mount("tmpfs", dir_.c_str(), nullptr, MS_REMOUNT, size.c_str()), 0) << std::strerror(errno);
  }
  // Another program filling the disk beside the store: writes until ENOSPC.
  void FillWithOtherFile(const std::string& name) {
    const int fd = open(Sub(name).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    const std::vector<char> block(64 << 10, 'x');
    for (size_t len = block.size(); len > 0;) {
      const ssize_t wrote = write(fd, block.data(), len);
      if (wrote < 0 && errno == ENOSPC) {
        len /= 2;  // fill the last pages too
      } else {
        ASSERT_GT(wrote, 0) << std::strerror(errno);
      }
    }
    close(fd);
  }

 private:
  testing_support::TempDir scratch_;
  std::string dir_;
  bool mounted_ = false;
};

struct WriterRun {
  int status = 0;            // from waitpid
  int64_t last_reported = 0;  // the last commit the writer printed as done (0 = none)
  std::string errors;        // its stderr
  bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
};

// Runs disk_full_writer in a child process (an abort inside RocksDB then shows as a signal, not as
// the death of this test) and collects the commits it reports. `on_commit(n)` runs in the parent
// after each reported commit.
WriterRun RunWriter(const std::string& db, size_t record_bytes, int64_t commits, const std::string& stderr_file,
                    const std::function<void(int64_t)>& on_commit = nullptr) {
  WriterRun run;
  int out[2];
  if (pipe(out) != 0) {
    ADD_FAILURE() << "pipe";
    return run;
  }
  const std::string record = std::to_string(record_bytes), count = std::to_string(commits),
                    reserve = std::to_string(kTestReserve);
  const pid_t pid = fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(out[1], STDOUT_FILENO);
    const int err = open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    execl(ALERTD_DISK_FULL_WRITER, "state_disk_full_writer", db.c_str(), record.c_str(), count.c_str(),
          reserve.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string pending;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{.fd = out[0], .events = POLLIN, .revents = 0};
    if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) != 1) {
      ADD_FAILURE() << "the writer ran past 30 s without stopping";
      kill(pid, SIGKILL);
      break;
    }
    const ssize_t got = read(out[0], buffer, sizeof(buffer));
    if (got <= 0) break;
    pending.append(buffer, static_cast<size_t>(got));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos; pending.erase(0, eol + 1)) {
      run.last_reported = std::stoll(pending.substr(0, eol));
      if (on_commit) on_commit(run.last_reported);
    }
  }
  close(out[0]);
  EXPECT_EQ(waitpid(pid, &run.status, 0), pid);
  std::ifstream err(stderr_file);
  std::stringstream text;
  text << err.rdbuf();
  run.errors = text.str();
  return run;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The writer stopped as documented: ResourceExhausted naming the store's directory and the cause.
void ExpectStoppedForSpace(const WriterRun& run, const std::string& db) {
  EXPECT_FALSE(WIFSIGNALED(run.status)) << "the writer died of signal " << WTERMSIG(run.status) << ": " << run.errors;
  EXPECT_TRUE(run.exited(kExitResourceExhausted)) << "status " << run.status << ": " << run.errors;
  EXPECT_NE(run.errors.find("RESOURCE_EXHAUSTED"), std::string::npos) << run.errors;
  EXPECT_NE(run.errors.find("state store " + db), std::string::npos) << run.errors;
  EXPECT_NE(Lower(run.errors).find("no space left on device"), std::string::npos) << run.errors;
}

// The store holds exactly commits 1..n of the writer, each whole.
void ExpectExactly(const std::string& db, int64_t n) {
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db, .read_only = true});
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::optional<int64_t>> offset = (*store)->LoadNextOffset({"readings", 0});
  ASSERT_TRUE(offset.ok()) << offset.status();
  EXPECT_EQ(offset->value_or(0), n);
  absl::StatusOr<std::optional<domain::WorkerState>> worker = (*store)->LoadWorker({0, domain::WorkerId{"W"}});
  ASSERT_TRUE(worker.ok() && worker->has_value());
  EXPECT_EQ((*worker)->readings_accepted, static_cast<uint64_t>(n));
  absl::StatusOr<std::vector<OutboxEntry>> outbox = (*store)->LoadOutbox();
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  ASSERT_EQ(outbox->size(), static_cast<size_t>(n));
  for (int64_t i = 1; i <= n; ++i) {
    const OutboxEntry& entry = (*outbox)[static_cast<size_t>(i - 1)];
    EXPECT_EQ(entry.seq, static_cast<uint64_t>(i));
    EXPECT_EQ(entry.value.substr(0, entry.value.find(':')), std::to_string(i));
  }
}

struct FillCase {
  const char* name;
  int tmpfs_mib;
  size_t record_bytes;
  int64_t other_file_after;  // > 0: another program fills the disk once this many commits are done
};

class DiskFullTest : public ::testing::TestWithParam<FillCase> {};

TEST_P(DiskFullTest, StopsWithResourceExhaustedAndResumesExactlyOnceSpaceIsFreed) {
  const FillCase& fill = GetParam();
  testing_support::TempDir logs;
  Tmpfs fs(fill.tmpfs_mib);
  ASSERT_TRUE(fs.mounted());
  const std::string db = fs.Sub("db");

  const WriterRun filled = RunWriter(db, fill.record_bytes, /*commits=*/0, logs.Sub("fill.err"), [&](int64_t done) {
    if (done == fill.other_file_after) fs.FillWithOtherFile("other-program.dat");
  });
  ExpectStoppedForSpace(filled, db);
  ASSERT_GE(filled.last_reported, fill.other_file_after) << "the disk filled before the case's fill point";
  RecordProperty("commits_before_full", std::to_string(filled.last_reported));

  if (fill.other_file_after > 0) {
    // Still full (the writer's exit released the WAL space RocksDB had preallocated, so the other
    // program takes that too): a restart is refused as clearly, before RocksDB writes anything.
    fs.FillWithOtherFile("other-program-2.dat");
    const WriterRun restart = RunWriter(db, fill.record_bytes, 1, logs.Sub("restart.err"));
    ExpectStoppedForSpace(restart, db);
    EXPECT_NE(restart.errors.find("for the open"), std::string::npos) << restart.errors;
    EXPECT_EQ(restart.last_reported, 0);
  }

  std::filesystem::remove(fs.Sub("other-program.dat"));
  std::filesystem::remove(fs.Sub("other-program-2.dat"));
  fs.Grow(64);
  const WriterRun resumed = RunWriter(db, fill.record_bytes, /*commits=*/5, logs.Sub("resume.err"));
  EXPECT_TRUE(resumed.exited(0)) << "status " << resumed.status << ": " << resumed.errors;
  EXPECT_EQ(resumed.last_reported, filled.last_reported + 5) << "the reopened store did not resume right after the "
                                                                "last commit reported done";
  ExpectExactly(db, filled.last_reported + 5);
}

INSTANTIATE_TEST_SUITE_P(FillPoints, DiskFullTest,
                         ::testing::Values(FillCase{"Small4MiBSmallRecords", 4, 1'000, 0},
                                           FillCase{"Mid8MiBMediumRecords", 8, 20'000, 0},
                                           FillCase{"Large16MiBLargeRecords", 16, 300'000, 0},
                                           FillCase{"OtherFileFills16MiB", 16, 1'000, 200},
                                           FillCase{"OtherFileFills8MiBLargeRecords", 8, 100'000, 1}),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(DiskFullTest, AnOpenWithoutTheDefaultReserveFreeIsRefusedNamingTheDirectory) {
  Tmpfs fs(4);
  ASSERT_TRUE(fs.mounted());
  const std::string db = fs.Sub("db");
  absl::StatusOr<std::unique_ptr<StateStore>> store = OpenRocksStore({.path = db});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kResourceExhausted) << store.status();
  EXPECT_NE(store.status().message().find("state store " + db + ": No space left on device for the open"),
            std::string::npos)
      << store.status();
  EXPECT_NE(store.status().message().find(std::to_string(StoreOptions{}.disk_reserve_bytes) + " reserved"),
            std::string::npos)
      << store.status();
}

}  // namespace
}  // namespace alertd::state
