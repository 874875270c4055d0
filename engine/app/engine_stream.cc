// Stream mode of the Kafka loop: each partition's inputs merged by record timestamp, its clock and timers.
#include "engine/app/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "engine/app/steady_time.h"

namespace alertd::app {

int Engine::InputIndex(std::string_view topic) const {
  if (topic == options_.profiles_topic) return 0;
  if (topic == options_.readings_topic) return 1;
  if (topic == options_.shifts_topic) return 2;
  if (topic == options_.acks_topic) return 3;
  return -1;
}

void Engine::Buffer(rd_kafka_message_t* m, int input) {
  MessagePtr owned(m);
  const std::string_view topic = rd_kafka_topic_name(m->rkt);
  if (input < 0) {
    Process(*m);  // not an input of the merge (cannot happen with today's subscription)
    return;
  }
  const int64_t timestamp = rd_kafka_message_timestamp(m, nullptr);
  const int32_t partition = m->partition;
  if (merge_.Push(partition, input, timestamp, std::move(owned))) SetInputPaused(topic, partition, true);
}

void Engine::NoteEnd(const rd_kafka_message_t& m) {
  const int input = InputIndex(rd_kafka_topic_name(m.rkt));
  if (input < 0) return;
  int64_t& received = received_next_.try_emplace(int64_t{m.partition} * 4 + input, m.offset).first->second;
  received = std::max(received, m.offset);
  merge_.MarkEnd(m.partition, input);
}

bool Engine::StillAtEnd(int32_t partition, int input) const {
  static constexpr int kInputs = 4;
  if (input < 0 || input >= kInputs) return true;
  const std::string* topics[kInputs] = {&options_.profiles_topic, &options_.readings_topic, &options_.shifts_topic,
                                        &options_.acks_topic};
  auto received = received_next_.find(int64_t{partition} * 4 + input);
  if (received == received_next_.end()) return true;
  int64_t low = 0, high = -1;
  // The watermarks librdkafka keeps from its fetch responses: no request to the broker.
  if (rd_kafka_get_watermark_offsets(consumer_->c_ptr(), topics[input]->c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return true;
  }
  return high <= received->second;
}

absl::StatusOr<bool> Engine::DrainMerge() {
  // Bounded, so the loop gets back to polling the producer and committing.
  for (int n = 0; n < 1000; ++n) {
    if (!Failure().ok()) return Failure();
    if (window_.records() >= options_.commit_max_records) return true;
    auto next = merge_.Pop();
    if (!next) return false;
    const rd_kafka_message_t& m = *next->record;
    if (next->resume_input) SetInputPaused(rd_kafka_topic_name(m.rkt), m.partition, false);
    ProcessInStreamOrder(m, next->timestamp);
  }
  return true;
}

void Engine::ProcessInStreamOrder(const rd_kafka_message_t& m, int64_t timestamp) {
  const int32_t partition = m.partition;
  const auto clock = stream_time_.try_emplace(partition, 0).first;
  // A record without a timestamp (-1) is processed at the partition's current time.
  if (timestamp > clock->second) {
    FireTimersUpTo(partition, timestamp);
    clock->second = timestamp;
    window_.SetStreamTime(partition, timestamp);
  }
  now_ = {clock->second};
  Process(m);
  // Deadlines the record set at or before its own time (a late reading's due date) fire now.
  FireTimersUpTo(partition, clock->second);
}

void Engine::FireTimersUpTo(int32_t partition, int64_t at) {
  int64_t& clock = stream_time_[partition];
  while (auto timer = stream_timers_.PopDue(partition, {at})) {
    // Each at its own time, so emitted_at follows the input alone; never before the partition's clock.
    clock = std::max(clock, timer->fire_at.ms);
    now_ = {clock};
    window_.SetStreamTime(partition, clock);
    task_.FireTimer(*timer, now_);
  }
}

absl::Status Engine::LoadStreamState(int32_t partition) {
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t loaded = 0;
  absl::Status st = window_.Read([&](state::StateStore& store) -> absl::Status {
    auto stored = store.LoadStreamTime(partition);
    if (!stored.ok()) return stored.status();
    stream_time_[partition] = stored->value_or(0);
    stream_timers_.ErasePartition(partition);
    auto timers = store.LoadTimers(partition);  // one key range
    if (!timers.ok()) return timers.status();
    for (const domain::Timer& t : *timers) stream_timers_.Put(t);
    loaded = timers->size();
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  spdlog::info("stream time of partition {}: {} ms, {} pending timers, loaded in {:.3f} s", partition,
               stream_time_[partition], loaded, SecondsSince(t0));
  return absl::OkStatus();
}

}  // namespace alertd::app
