// The work of one input record or due deadline: decode, apply the rules, queue what they decided.
#pragma once

#include <cstdint>
#include <string>

#include "engine/app/commit_window.h"
#include "engine/app/gauge_count.h"
#include "engine/app/log_limiter.h"
#include "engine/domain/rulebook.h"
#include "engine/domain/timer.h"
#include "engine/kafka/codec.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/worker_gauges.h"
#include "engine/state/store.h"

namespace alertd::app {

// The topics alertd reads and writes.
struct Topics {
  std::string readings;
  std::string profiles;
  std::string shifts;
  std::string acks;
  std::string escalations;
  std::string dead_letters;
  std::string referrals;
};

// Where output records go: queued for the next commit and produced after it (Outbox), or recorded
// by a test.
class Emitter {
 public:
  virtual ~Emitter() = default;
  // `partition`: the input partition whose processing produced the record.
  virtual void Output(const std::string& topic, std::string key, std::string value, int32_t partition) = 0;
};

// The StreamTask of Kafka Streams' shape, for every owned partition: a record (or a due timer) goes
// to the rules with its worker's state and the processing time; the state changes in place in the
// commit window, the timer requests go to the window, escalations, referrals and dead letters to the
// emitter, and the domain outcomes to the metrics (counts and dashboard gauges). It never sees a
// consumer, a producer or the store; the caller says what time it is and records the input offset.
//
// Thread-compatible: one thread (the engine loop) at a time, like the window and emitter it uses.
class Task {
 public:
  Task(Topics topics, const domain::Rulebook& rules, CommitWindow& window, Emitter& emitter,
       metrics::EngineMetrics& metrics, LogLimiter& log_limiter);

  // A record of one of the input topics (any other topic is ignored) at processing time `now`.
  void Process(const kafka::RawRecord& raw, domain::ProcessingTime now);
  // A deadline came due; `now` >= its fire_at.
  void FireTimer(const domain::Timer& timer, domain::ProcessingTime now);
  // The dashboard gauges' changes go through `count` (not owned), which may be counting stored workers
  // in the background; without one, straight to the metrics.
  void CountGaugesWith(GaugeCount* count) { gauge_count_ = count; }

 private:
  void ProcessReading(const kafka::RawRecord& raw, domain::ProcessingTime now);
  void ProcessProfile(const kafka::RawRecord& raw, domain::ProcessingTime now);
  void ProcessShift(const kafka::RawRecord& raw, domain::ProcessingTime now);
  void ProcessAck(const kafka::RawRecord& raw, domain::ProcessingTime now);
  // Emits the outcome's events and records its timer requests for the next commit.
  void Apply(const domain::Outcome& outcome, const state::WorkerKey& key);
  // Applies the difference of one worker's dashboard contribution across a change.
  void TrackGauges(const state::WorkerKey& key, const metrics::WorkerGauges& before, const domain::WorkerState& after);
  void DeadLetter(const kafka::RawRecord& raw, const domain::Rejection& why, domain::ProcessingTime now);

  const Topics topics_;
  const domain::Rulebook& rules_;
  CommitWindow& window_;
  Emitter& emitter_;
  metrics::EngineMetrics& metrics_;
  LogLimiter& log_limiter_;
  GaugeCount* gauge_count_ = nullptr;
};

}  // namespace alertd::app
