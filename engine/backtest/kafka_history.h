// The backtest's Kafka reader: retained input history by assign(), never joining or committing a group.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/backtest/history.h"
#include "engine/kafka/clients.h"
#include "engine/tool/kafka_client.h"

namespace alertd::backtest {

struct KafkaHistoryOptions {
  std::string bootstrap;
  kafka::Properties properties;  // the user's --kafka-property settings, over the reader's own
  std::array<std::string, kInputs> topics;
  int64_t start_ms = 0;  // each partition from its first record with a timestamp at or after this
  std::chrono::milliseconds broker_timeout{15000};  // for metadata and offset look-ups, and a stalled fetch
};

// Every record of the four inputs from `start_ms` up to the high watermarks taken at Open(): the
// history as it stood when the backtest began (records produced later are not read). Manual
// assignment, so the live consumer group is neither joined nor moved. A missing input topic reads
// as empty (Open() says which). Not thread-safe.
class KafkaHistory {
 public:
  static absl::StatusOr<std::unique_ptr<KafkaHistory>> Open(const KafkaHistoryOptions& options);
  ~KafkaHistory();

  uint64_t total() const { return total_; }
  const std::vector<std::string>& missing_topics() const { return missing_; }

  // Reads the ranges into `merge` (pausing an input while its buffer is full) and drains it as it
  // goes; `progress` gets the records read so far. Stops early, with Cancelled, when `stop` is set.
  [[nodiscard]] absl::Status ReadInto(HistoryMerge& merge, const std::function<void(uint64_t)>& progress,
                                      const std::atomic<bool>& stop);

 private:
  struct Range {
    int input = 0;
    int32_t partition = 0;
    int64_t start = 0;
    int64_t end = 0;  // high watermark at Open()
    bool started = false;  // a record at or after the start time was read
  };
  explicit KafkaHistory(KafkaHistoryOptions options) : options_(std::move(options)) {}
  void SetPaused(int32_t partition, int input, bool paused);

  KafkaHistoryOptions options_;
  tool::KafkaEventLog events_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<std::pair<std::string, int32_t>, Range> ranges_;
  std::vector<std::string> missing_;
  uint64_t total_ = 0;
};

}  // namespace alertd::backtest
