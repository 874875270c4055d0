// The consumer's fetch woken when its queue has room again (see fetch_wake.h).
#include "engine/kafka/fetch_wake.h"

#include <cstdlib>

namespace alertd::kafka {
namespace {

// A bound of the consumer's configuration, or `fallback` if it cannot be read.
int64_t ConfNumber(rd_kafka_t* consumer, const char* name, int64_t fallback) {
  char value[64];
  size_t size = sizeof value;
  if (rd_kafka_conf_get(rd_kafka_conf(consumer), name, value, &size) != RD_KAFKA_CONF_OK) return fallback;
  char* end = nullptr;
  const long long n = std::strtoll(value, &end, 10);
  return end != value && n > 0 ? n : fallback;
}

}  // namespace

FetchWake::FetchWake(rd_kafka_t* consumer) : consumer_(consumer), queue_(rd_kafka_queue_get_consumer(consumer)) {
  max_records_ = ConfNumber(consumer, "queued.min.messages", max_records_);
  max_bytes_ = ConfNumber(consumer, "queued.max.messages.kbytes", max_bytes_ / 1024) * 1024;
}

FetchWake::~FetchWake() {
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
}

bool FetchWake::Look() {
  if (queue_ == nullptr) return false;
  const auto records = static_cast<int64_t>(rd_kafka_queue_length(queue_));
  const int64_t bytes = polled_ > 0 ? records * static_cast<int64_t>(payload_sum_ / polled_) : 0;
  // Looked at every kEvery records, the queue may have passed its bound for the broker's thread and
  // be under it again here: nine tenths count as full. A wake too many costs one small request.
  if (records * 10 >= max_records_ * 9 || bytes * 10 >= max_bytes_ * 9) {
    full_ = true;
    return false;
  }
  if (!full_ || records * 2 >= max_records_ || bytes * 2 >= max_bytes_) return false;
  full_ = false;
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  if (rd_kafka_assignment(consumer_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || assigned == nullptr) return false;
  bool sent = false;
  if (assigned->cnt > 0) {
    for (int i = 0; i < assigned->cnt; ++i) assigned->elems[i].offset = RD_KAFKA_OFFSET_END;
    // A timeout of 0: the requests are on their way when it returns, unanswered (__TIMED_OUT).
    rd_kafka_offsets_for_times(consumer_, assigned, 0);
    sent = true;
    ++wakes_;
  }
  rd_kafka_topic_partition_list_destroy(assigned);
  return sent;
}

}  // namespace alertd::kafka
