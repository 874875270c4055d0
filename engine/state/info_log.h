// RocksDB's info LOG, written with plain write(2) so that a full disk drops log lines instead of
// aborting the process.
//
// Why: RocksDB 7.8 writes its LOG through a WritableFileWriter. Once one append fails (ENOSPC), the
// next log line appends to a writer that has seen an error, and Debian's build, which keeps
// assertions on, aborts in WritableFileWriter::AssertFalseAndGetStatusForPrevError
// (`sync_without_flush_called_`). RocksDB logs exactly then: its error handler reports the failed
// write. This logger never fails: a line it cannot write is counted and dropped.
//
// Internal to engine/state.
#pragma once

#include <rocksdb/env.h>

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace alertd::state {

class InfoLog final : public rocksdb::Logger {
 public:
  // Appends to `dir`/LOG, created if missing. Past `max_file_bytes` the file moves to LOG.old
  // (replacing the previous one) and a new LOG starts, so the pair stays under 2 * max_file_bytes.
  // Never fails: if the file cannot be opened, every line is dropped (and counted). An empty `dir`
  // writes to stderr instead (for read-only opens, which must not write into the store).
  InfoLog(std::string dir, uint64_t max_file_bytes, rocksdb::InfoLogLevel level);
  ~InfoLog() override;
  InfoLog(const InfoLog&) = delete;
  InfoLog& operator=(const InfoLog&) = delete;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  size_t GetLogFileSize() const override;

  // Lines written to the file, and lines lost (write failed or short: full disk, I/O error).
  uint64_t lines_written() const { return written_.load(std::memory_order_relaxed); }
  uint64_t lines_dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void OpenFile();  // with mu_ held
  void RollIfFull(size_t next_line_bytes);  // with mu_ held

  const std::string path_;
  const uint64_t max_file_bytes_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t size_ = 0;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace alertd::state
