// When each delivery is sent: per-channel queues, a bound on sends in flight per channel, retries
// with RetryDelay's backoff and full jitter, and quiet-hours holds.
//
// One slow or failing channel never holds back another: each channel has its own queue and its
// own in-flight limit, so a channel whose sends hang uses up only its own slots. Queues are
// bounded: Full() tells the loop to pause consuming until they drain. Pure: the time and the random
// source are arguments, nothing here sends. Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/notify/delivery.h"
#include "engine/notify/words.h"
#include "health.pb.h"

namespace alertd::notifyd {

// One message to one recipient through one channel, and how far it got.
struct DeliveryJob {
  uint64_t id = 0;  // set by the scheduler
  int32_t partition = 0;
  int64_t offset = -1;  // the escalation offset its outcome settles; -1: none (rescheduled after restore)
  std::string key;      // notify::DeliveryKey
  std::string channel;
  healthgrid::v1::Escalation event;
  healthgrid::v1::Recipient recipient;
  notify::Language language = notify::kDefaultLanguage;
  uint32_t attempts = 0;   // sends started
  int64_t due_ms = 0;      // not sent before this
  bool held = false;       // due_ms is a quiet-hours end (the HELD record is written)
  std::string last_error;  // the last failed send's reason
};

struct SchedulerOptions {
  int max_in_flight_per_channel = 4;
  // More deliveries than this waiting or in flight on one channel pause consuming. Held deliveries
  // are not counted: they are recorded and committed, and wait for the clock, not for the channel.
  std::size_t max_queued_per_channel = 1000;
  notify::RetryPolicy retry;
};

class DeliveryScheduler {
 public:
  explicit DeliveryScheduler(SchedulerOptions options) : options_(std::move(options)) {}

  // Queues a job; returns its id.
  uint64_t Add(DeliveryJob job);

  // The jobs to send now, oldest due first per channel, within each channel's in-flight limit; they
  // count as in flight (and their attempts grow by one) until Finish.
  std::vector<const DeliveryJob*> Start(int64_t now_ms);

  // A finished send of job `id`. ok: the job is done and returned. A failure with attempts left
  // queues it again after RetryDelay and returns nullopt; with none left the job is returned with
  // its last_error set, and so is one whose failure is not `retryable` (a refusal that would come
  // again). Unknown ids (dropped with their partition) return nullopt.
  std::optional<DeliveryJob> Finish(uint64_t id, bool ok, const std::string& error, int64_t now_ms,
                                    const std::function<double()>& uniform, bool retryable = true);

  // Forgets every job of `partition` (revoked); returns the ids of those in flight, to abort.
  std::vector<uint64_t> DropPartition(int32_t partition);

  // True while a channel holds more than its bound: the loop stops consuming.
  bool Full() const;
  // Jobs waiting or in flight on `channel`, held ones excluded.
  std::size_t Queued(const std::string& channel) const;
  std::size_t Held() const;
  std::size_t InFlight() const;
  // The earliest due time of a waiting job whose channel has a free slot; nullopt: none.
  std::optional<int64_t> NextDue() const;
  std::vector<std::string> Channels() const;

 private:
  struct Lane {
    std::multimap<int64_t, uint64_t> waiting;  // due_ms -> id
    int in_flight = 0;
    std::size_t held = 0;
  };
  SchedulerOptions options_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, DeliveryJob> jobs_;
  std::unordered_map<uint64_t, bool> in_flight_;  // ids sent, not finished
  std::map<std::string, Lane> lanes_;
};

}  // namespace alertd::notifyd
