// Wakes a consumer's fetching once the application has made room in its queue.
//
// librdkafka stops fetching a partition while its consumer's queue holds queued.min.messages records
// or queued.max.messages.kbytes, and looks again only when the broker's thread next wakes up: for I/O,
// for a request to send, or after a second (confluentinc/librdkafka#2879; librdkafka 2.2 added
// fetch.queue.backoff.ms). A consumer that empties its queue faster than that waits up to a second per
// queue's worth of records: the memory budget's bound on the queue would be a bound on throughput.
//
// FetchWake watches the queue from the application's side. Once the queue has reached its bound and
// fallen back to half of it, it sends one ListOffsets request for the consumer's assignment without
// waiting for the answer: each leader's broker thread wakes up to send it and decides its fetches
// again, now with room in the queue. librdkafka answers a request whose caller stopped waiting like a
// timed-out one. On librdkafka 2.2 and later a backoff set by fetch.queue.backoff.ms still holds.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>

namespace alertd::kafka {

// Thread-compatible: called from the thread that polls the consumer.
class FetchWake {
 public:
  // `consumer` outlives this; its bounds are read from its configuration.
  explicit FetchWake(rd_kafka_t* consumer);
  ~FetchWake();
  FetchWake(const FetchWake&) = delete;
  FetchWake& operator=(const FetchWake&) = delete;

  // After each poll of the consumer: `polled` is what it returned (nullptr when it found nothing). The
  // queue's byte bound counts payloads, and the mean payload polled estimates what the queue holds; an
  // event (an error, a partition's end) counts as an item without one. Looks at the queue every kEvery
  // items and on every empty poll; returns true when it woke the fetch.
  bool AfterPoll(const rd_kafka_message_t* polled) {
    if (polled != nullptr) {
      if (polled->err == RD_KAFKA_RESP_ERR_NO_ERROR) payload_sum_ += polled->len;
      ++polled_;
      if (++since_look_ < kEvery) return false;
    }
    since_look_ = 0;
    return Look();
  }

  uint64_t wakes() const { return wakes_; }

 private:
  static constexpr int kEvery = 64;
  bool Look();

  rd_kafka_t* consumer_;
  rd_kafka_queue_t* queue_;
  int64_t max_records_ = 100000;  // librdkafka's defaults, unless the configuration says otherwise
  int64_t max_bytes_ = int64_t{65536} * 1024;
  bool full_ = false;  // the queue reached a bound since the last wake
  int since_look_ = 0;
  uint64_t polled_ = 0;
  uint64_t payload_sum_ = 0;
  uint64_t wakes_ = 0;
};

}  // namespace alertd::kafka
