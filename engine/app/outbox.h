// The output side: output records into the commit window, committed output to the broker, delivery
// reports, retries with backoff, and parking of output the broker refuses for good.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "engine/app/commit_window.h"
#include "engine/app/log_limiter.h"
#include "engine/app/task.h"
#include "engine/domain/clock.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

namespace RdKafka {
class Message;
class Producer;
class Topic;
}  // namespace RdKafka

namespace alertd::app {

// The RecordCollector of Kafka Streams' shape, with alertd's outbox: an output record gets the next
// outbox sequence and goes into the commit window, so it is stored with the state change that caused
// it; once that commit is durable it is produced, and its outbox entry is deleted (in a later commit)
// only when the broker confirms it. A failed delivery is produced again after a pause, for as long as
// it takes; output the broker will never accept (too large, invalid) is parked instead: moved out of
// the outbox in the next commit, counted and logged, for `alertd parked` to show. Output is at least
// once: consumers drop duplicates by event id.
//
// Thread-compatible: every method runs on the engine thread (delivery reports arrive from inside
// Poll()). Output() works without a producer; Produce() needs Start().
class Outbox final : public Emitter {
 public:
  Outbox(Topics topics, CommitWindow& window, metrics::EngineMetrics& metrics, const domain::Clock& clock,
         LogLimiter& log_limiter);
  ~Outbox() override;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Takes the producer over and re-sends the output a previous run committed but did not see confirmed.
  [[nodiscard]] absl::Status Start(std::unique_ptr<RdKafka::Producer> producer);

  // Queues one output record for the next commit: to the outbox, or, when it is larger than any broker
  // accepts, straight to the parked column family.
  void Output(const std::string& topic, std::string key, std::string value, int32_t partition) override;
  // Hands a committed outbox entry to the producer.
  void Produce(const state::OutboxEntry& e);
  // Output a partition's previous owner committed and did not see confirmed (restored with the
  // partition): produced unless already on its way.
  void Resend(const std::vector<state::OutboxEntry>& entries);
  // Output of the partition is made under this ownership epoch from now on (0: not owned).
  void SetEpoch(int32_t partition, uint32_t epoch);
  // A delivery report (msg_opaque: a token naming the outbox entry).
  void OnDelivery(RdKafka::Message& m);
  // Produces again the failed output whose pause is over.
  void RetryFailedDeliveries();
  // Serves delivery reports, waiting up to `timeout_ms`.
  void Poll(int timeout_ms);
  // Serves delivery reports until every produced record is confirmed or `within` has passed.
  void AwaitConfirmations(std::chrono::milliseconds within);
  // Committed output handed to the producer and not yet confirmed.
  std::size_t unconfirmed() const { return unconfirmed_.size(); }

 private:
  // Moves an output record the broker will never accept out of the outbox, in the next commit.
  void Park(const state::OutboxEntry& entry, const std::string& reason);

  const Topics topics_;
  CommitWindow& window_;
  metrics::EngineMetrics& metrics_;
  const domain::Clock& clock_;
  LogLimiter& log_limiter_;

  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::Topic> escalations_topic_;
  std::unique_ptr<RdKafka::Topic> dead_letters_topic_;
  std::unique_ptr<RdKafka::Topic> referrals_topic_;
  uint64_t next_seq_ = 1;
  std::map<int32_t, uint32_t> epochs_;  // of owned partitions with a changelog

  std::map<state::OutboxId, state::OutboxEntry> unconfirmed_;
  // Each produce call's token, to the entry it sent: a report may come after the entry was confirmed
  // by an earlier one, or parked.
  std::unordered_map<uint64_t, state::OutboxId> tokens_;
  uint64_t next_token_ = 1;
  // Output to produce again once retry_at_ms (steady clock) has passed.
  struct FailedDelivery {
    state::OutboxId id;
    int64_t retry_at_ms = 0;
  };
  std::vector<FailedDelivery> failed_deliveries_;
};

}  // namespace alertd::app
