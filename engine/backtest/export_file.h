// The backtest's export file: the input history of a cluster as one file, replayable without Kafka.
//
// Format, version 1 (all integers big-endian):
//   "alertd-backtest-export 1\n"
//   "records NNNNNNNNNNNNNNNNNNNN\n"        the number of frames, 20 decimal digits
//   "topics PROFILES READINGS SHIFTS ACKS\n" the topic names the records were read from
//   frame*, each: u32 body length, then the body:
//     u8 input (0 profiles, 1 readings, 2 shifts, 3 acks), i32 partition, i64 offset,
//     i64 timestamp (ms, -1: none), i32 key length, key bytes, i32 value length (-1: tombstone), value bytes
// `alertd backtest export` writes the frames in the order alertd --clock=stream processes them (each
// partition's inputs merged by timestamp), and `alertd backtest --input` replays them in file order.
#pragma once

#include <array>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/backtest/history.h"

namespace alertd::backtest {

// Writes an export file to PATH.tmp and renames it to PATH on Close(), so a half-written export is
// never taken for a whole one. Thread-compatible.
class ExportWriter {
 public:
  static absl::StatusOr<std::unique_ptr<ExportWriter>> Create(const std::string& path,
                                                              const std::array<std::string, kInputs>& topics);
  [[nodiscard]] absl::Status Write(const HistoryRecord& record);
  [[nodiscard]] absl::Status Close();
  uint64_t records() const { return records_; }

 private:
  ExportWriter(std::string path, std::string tmp) : path_(std::move(path)), tmp_(std::move(tmp)) {}
  std::string path_;
  std::string tmp_;
  std::ofstream out_;
  uint64_t records_ = 0;
};

// What an export file's header says.
struct ExportHeader {
  uint64_t records = 0;
  std::array<std::string, kInputs> topics;
};

// Reads an export file: `header` once, then `visit` for every record in file order. A file that is
// not an export, or is cut short or damaged, is InvalidArgument / DataLoss naming the file and the byte
// offset; records read before the damage have been visited.
[[nodiscard]] absl::Status ReadExport(const std::string& path, const std::function<void(const ExportHeader&)>& header,
                                      const std::function<void(const HistoryRecord&)>& visit);

}  // namespace alertd::backtest
