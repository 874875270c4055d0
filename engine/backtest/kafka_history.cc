// The backtest's Kafka reader (see kafka_history.h).
#include "engine/backtest/kafka_history.h"

#include <unistd.h>

#include <stdexcept>

namespace alertd::backtest {
namespace {

void DestroyAll(std::vector<RdKafka::TopicPartition*>& parts) {
  RdKafka::TopicPartition::destroy(parts);
  parts.clear();
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaHistory>> KafkaHistory::Open(const KafkaHistoryOptions& options) {
  std::unique_ptr<KafkaHistory> h(new KafkaHistory(options));
  // A group id librdkafka requires but never uses: nothing subscribes, joins or commits.
  auto consumer = kafka::NewConsumer(options.bootstrap, "alertd-backtest-" + std::to_string(getpid()),
                                     [&] {
                                       kafka::Properties p = {{"enable.partition.eof", "false"},
                                                              {"queued.max.messages.kbytes", "8192"},
                                                              {"fetch.wait.max.ms", "100"}};
                                       for (const auto& [k, v] : options.properties) p[k] = v;
                                       return p;
                                     }(),
                                     nullptr, &h->events_);
  if (!consumer.ok()) return consumer.status();
  h->consumer_ = std::move(*consumer);
  const int timeout_ms = static_cast<int>(options.broker_timeout.count());
  std::map<std::string, int> counts;
  try {
    counts = tool::TopicPartitionCounts(*h->consumer_, options.bootstrap,
                                        {options.topics.begin(), options.topics.end()}, options.broker_timeout);
  } catch (const std::runtime_error& e) {
    return absl::UnavailableError(e.what());
  }
  std::vector<RdKafka::TopicPartition*> starts;
  for (int input = 0; input < kInputs; ++input) {
    const std::string& topic = options.topics[static_cast<std::size_t>(input)];
    auto count = counts.find(topic);
    if (count == counts.end()) {
      h->missing_.push_back(topic);
      continue;
    }
    for (int32_t p = 0; p < count->second; ++p) {
      int64_t low = 0, high = 0;
      const RdKafka::ErrorCode err = h->consumer_->query_watermark_offsets(topic, p, &low, &high, timeout_ms);
      if (err != RdKafka::ERR_NO_ERROR) {
        return absl::UnavailableError("watermarks of " + topic + "[" + std::to_string(p) +
                                      "] from " + options.bootstrap + ": " + RdKafka::err2str(err));
      }
      h->ranges_[{topic, p}] = {input, p, low, high};
      starts.push_back(RdKafka::TopicPartition::create(topic, p, options.start_ms));
    }
  }
  if (!starts.empty()) {
    const RdKafka::ErrorCode err = h->consumer_->offsetsForTimes(starts, timeout_ms);
    if (err != RdKafka::ERR_NO_ERROR) {
      DestroyAll(starts);
      return absl::UnavailableError("offsets for the start time from " + options.bootstrap + ": " +
                                    RdKafka::err2str(err));
    }
  }
  for (RdKafka::TopicPartition* tp : starts) {
    Range& r = h->ranges_[{tp->topic(), tp->partition()}];
    // Offset -1 means no record at or after the start time on a real broker, but also comes from
    // brokers that cannot look times up (librdkafka's mock cluster): such a partition is read from
    // its low watermark and filtered here, which gives the same records either way.
    if (tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0) r.start = std::max(r.start, tp->offset());
    if (r.start > r.end) r.start = r.end;
    h->total_ += static_cast<uint64_t>(r.end - r.start);
  }
  DestroyAll(starts);
  return h;
}

KafkaHistory::~KafkaHistory() {
  if (consumer_) {
    consumer_->unassign();
    consumer_->close();
  }
}

void KafkaHistory::SetPaused(int32_t partition, int input, bool paused) {
  std::vector<RdKafka::TopicPartition*> one{
      RdKafka::TopicPartition::create(options_.topics[static_cast<std::size_t>(input)], partition)};
  if (paused) consumer_->pause(one);
  else consumer_->resume(one);
  DestroyAll(one);
}

absl::Status KafkaHistory::ReadInto(HistoryMerge& merge, const std::function<void(uint64_t)>& progress,
                                    const std::atomic<bool>& stop) {
  std::vector<RdKafka::TopicPartition*> assignment;
  std::size_t open = 0;
  for (const auto& [key, r] : ranges_) {
    merge.AddInput(r.partition, r.input);
    if (r.start >= r.end) {
      merge.End(r.partition, r.input);
      continue;
    }
    assignment.push_back(RdKafka::TopicPartition::create(key.first, key.second, r.start));
    ++open;
  }
  merge.Drain(nullptr);
  if (assignment.empty()) return absl::OkStatus();
  const RdKafka::ErrorCode assigned = consumer_->assign(assignment);
  DestroyAll(assignment);
  if (assigned != RdKafka::ERR_NO_ERROR) return absl::UnavailableError(std::string("assign: ") + RdKafka::err2str(assigned));
  uint64_t read = 0;
  auto last_record = std::chrono::steady_clock::now();
  const auto resume = [&](int32_t partition, int input) { SetPaused(partition, input, false); };
  while (open > 0) {
    if (stop.load()) return absl::CancelledError("stopped");
    if (events_.fatal()) return absl::UnavailableError("the Kafka client failed (see the log)");
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) events_.Warn(m->errstr());
      if (std::chrono::steady_clock::now() - last_record > options_.broker_timeout) {
        return absl::UnavailableError("no record from " + options_.bootstrap + " for " +
                                      std::to_string(options_.broker_timeout.count()) + " ms with " +
                                      std::to_string(open) + " input partitions still to read");
      }
      continue;
    }
    last_record = std::chrono::steady_clock::now();
    auto it = ranges_.find({m->topic_name(), m->partition()});
    if (it == ranges_.end()) continue;
    Range& r = it->second;
    if (m->offset() >= r.end || r.start >= r.end) continue;  // produced after the backtest began
    const bool last = m->offset() + 1 >= r.end;
    const int64_t timestamp =
        m->timestamp().type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? -1 : m->timestamp().timestamp;
    ++read;
    // Like offsetsForTimes: the partition starts at its first record at or after the start time.
    if (!r.started && timestamp >= options_.start_ms) r.started = true;
    HistoryRecord rec;
    rec.input = r.input;
    rec.partition = r.partition;
    rec.offset = m->offset();
    rec.timestamp = timestamp;
    if (m->key() != nullptr) rec.key = *m->key();
    rec.tombstone = m->payload() == nullptr;
    if (!rec.tombstone) rec.value.assign(static_cast<const char*>(m->payload()), m->len());
    if (r.started && merge.Push(std::move(rec))) SetPaused(r.partition, r.input, true);
    if (last) {
      r.start = r.end;
      merge.End(r.partition, r.input);
      --open;
    }
    merge.Drain(resume);
    if (progress && read % 1024 == 0) progress(read);
  }
  merge.Drain(resume);
  if (progress) progress(read);
  return absl::OkStatus();
}

}  // namespace alertd::backtest
