// The backtest's input history: the four co-partitioned inputs, merged per partition in stream order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/app/stream_merge.h"
#include "engine/app/task.h"
#include "engine/kafka/codec.h"

namespace alertd::backtest {

// The inputs in the engine's merge order (Engine::InputIndex): on equal timestamps a profile goes
// before a reading, a reading before a clock-in, a clock-in before an ack.
inline constexpr int kInputs = 4;
std::array<std::string, kInputs> InputTopicNames(const app::Topics& topics);

// A record of an input topic, owned.
struct HistoryRecord {
  int input = 0;  // index into InputTopicNames
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;  // Kafka record timestamp (CreateTime), ms; -1: none
  std::string key;
  bool tombstone = false;  // a null value
  std::string value;
};

// The record as the codecs take it; points into `r`, which must outlive it.
kafka::RawRecord RawOf(const HistoryRecord& r, const std::string& topic);

// app::StreamMerge over owned records: the order in which alertd --clock=stream processes each
// partition's inputs, a function of the data alone. Records go to `visit` in that order. An input is
// at its end once the reader says so (it knows each range's end before it starts). Thread-compatible.
class HistoryMerge {
 public:
  using Visit = std::function<void(const HistoryRecord&)>;
  HistoryMerge(std::size_t max_buffered, Visit visit) : merge_(max_buffered), visit_(std::move(visit)) {}
  void AddInput(int32_t partition, int input) { merge_.AddInput(partition, input); }
  // Buffers a record; true if its input is full and the reader should pause it.
  bool Push(HistoryRecord record);
  void End(int32_t partition, int input) { merge_.MarkEnd(partition, input); }
  // Visits every record that may go; `resume` is told of the inputs that may be read again.
  void Drain(const std::function<void(int32_t partition, int input)>& resume);
  std::size_t buffered() const { return merge_.buffered(); }

 private:
  app::StreamMerge<HistoryRecord> merge_;
  Visit visit_;
};

}  // namespace alertd::backtest
