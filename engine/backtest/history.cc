// The backtest's input history merge (see history.h).
#include "engine/backtest/history.h"

namespace alertd::backtest {

std::array<std::string, kInputs> InputTopicNames(const app::Topics& topics) {
  return {topics.profiles, topics.readings, topics.shifts, topics.acks};
}

kafka::RawRecord RawOf(const HistoryRecord& r, const std::string& topic) {
  kafka::RawRecord raw;
  raw.topic = topic;
  raw.partition = r.partition;
  raw.offset = r.offset;
  raw.key = r.key;
  if (!r.tombstone) {
    raw.value = r.value.data();
    raw.value_len = r.value.size();
  }
  return raw;
}

bool HistoryMerge::Push(HistoryRecord record) {
  const int32_t partition = record.partition;
  const int input = record.input;
  const int64_t timestamp = record.timestamp;
  return merge_.Push(partition, input, timestamp, std::move(record));
}

void HistoryMerge::Drain(const std::function<void(int32_t partition, int input)>& resume) {
  while (auto next = merge_.Pop()) {
    if (next->resume_input && resume) resume(next->partition, next->input);
    visit_(next->record);
  }
}

}  // namespace alertd::backtest
