// RocksDB's info LOG over plain write(2): a failed write drops the line, never the process.
#include "engine/state/info_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <thread>
#include <utility>

namespace alertd::state {

InfoLog::InfoLog(std::string dir, uint64_t max_file_bytes, rocksdb::InfoLogLevel level)
    : rocksdb::Logger(level), path_(dir.empty() ? "" : dir + "/LOG"), max_file_bytes_(max_file_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path_.empty()) {
    fd_ = STDERR_FILENO;
  } else {
    OpenFile();
  }
}

InfoLog::~InfoLog() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0 && fd_ != STDERR_FILENO) (void)close(fd_);  // nothing is buffered: every line was written or dropped already
}

void InfoLog::OpenFile() {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct stat st {};
  size_ = fd_ >= 0 && fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

void InfoLog::RollIfFull(size_t next_line_bytes) {
  if (fd_ < 0 || path_.empty() || size_ + next_line_bytes <= max_file_bytes_) return;
  (void)close(fd_);
  // A failed rename keeps appending to the same file: losing the roll is better than losing lines.
  (void)std::rename(path_.c_str(), (path_ + ".old").c_str());
  OpenFile();
}

void InfoLog::Logv(const char* format, va_list ap) {
  // RocksDB's own line format: "2024/01/31-12:00:00.123456 7f3a2c1ff6c0 message".
  char prefix[64];
  timeval now{};
  gettimeofday(&now, nullptr);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  const int prefix_len = std::snprintf(prefix, sizeof(prefix), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %zx ",
                                       local.tm_year + 1900, local.tm_mon + 1, local.tm_mday, local.tm_hour,
                                       local.tm_min, local.tm_sec, static_cast<long>(now.tv_usec),
                                       std::hash<std::thread::id>{}(std::this_thread::get_id()) & 0xffffffffffff);
  std::string line(prefix, static_cast<size_t>(prefix_len > 0 ? prefix_len : 0));
  va_list copy;
  va_copy(copy, ap);
  char body[512];
  const int body_len = std::vsnprintf(body, sizeof(body), format, copy);
  va_end(copy);
  if (body_len < 0) {
    line += "(unformattable log line)";
  } else if (static_cast<size_t>(body_len) < sizeof(body)) {
    line.append(body, static_cast<size_t>(body_len));
  } else {
    std::string long_body(static_cast<size_t>(body_len) + 1, '\0');
    (void)std::vsnprintf(long_body.data(), long_body.size(), format, ap);
    line.append(long_body.data(), static_cast<size_t>(body_len));
  }
  if (line.back() != '\n') line.push_back('\n');

  std::lock_guard<std::mutex> lock(mu_);
  RollIfFull(line.size());
  ssize_t wrote = -1;
  if (fd_ >= 0) {
    do {
      wrote = write(fd_, line.data(), line.size());
    } while (wrote < 0 && errno == EINTR);
  }
  if (wrote == static_cast<ssize_t>(line.size())) {
    size_ += line.size();
    written_.fetch_add(1, std::memory_order_relaxed);
  } else {
    // A short write leaves a partial line in the file: it counts as dropped.
    if (wrote > 0) size_ += static_cast<uint64_t>(wrote);
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

size_t InfoLog::GetLogFileSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

}  // namespace alertd::state
