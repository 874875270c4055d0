// One policy's replay of merged input history, the way alertd --clock=stream processes it, in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "engine/app/commit_window.h"
#include "engine/app/log_limiter.h"
#include "engine/app/partition_timers.h"
#include "engine/app/task.h"
#include "engine/domain/rulebook.h"
#include "engine/kafka/codec.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/state/store.h"

namespace alertd::backtest {

// Where a replay's output goes: the output topic (one of app::Topics' escalations, referrals,
// dead_letters) and the encoded record, exactly as alertd would produce it.
using OutputSink = std::function<void(const std::string& topic, const std::string& value)>;

// The engine's own task (app::Task: decode, validate, rules, timers) over an in-memory store, driven
// by stream time as alertd's stream mode drives it (engine_stream.cc): each partition's processing
// time is the largest record timestamp seen; before a record moves it on, the partition's due timers
// fire in order, each at its own time; after the record, those it made due at or before its own time.
// The caller hands in the records of each partition in the stream merge's order (app::StreamMerge).
//
// Memory: one WorkerState per worker, held decoded (the commit window's cache) and encoded (the
// in-memory store it commits to every `commit_every` records, which bounds the window's timer sets;
// each commit encodes every worker the window touched, so commits are rare),
// plus the pending timers. Thread-compatible.
class PolicyReplay {
 public:
  PolicyReplay(domain::Policy policy, app::Topics topics, OutputSink sink, std::size_t commit_every = 250000);
  PolicyReplay(const PolicyReplay&) = delete;
  PolicyReplay& operator=(const PolicyReplay&) = delete;

  // A record of an input topic, with its Kafka record timestamp (-1: none, processed at the
  // partition's current time).
  void Process(const kafka::RawRecord& raw, int64_t timestamp);
  // A store error stops the replay (the rules must not decide on a blank history); OK otherwise.
  [[nodiscard]] absl::Status status() const;
  // Timers still pending (they would fire once later input moves stream time past them).
  std::size_t pending_timers() const { return timers_.size(); }

 private:
  class Collector final : public app::Emitter {
   public:
    explicit Collector(OutputSink sink) : sink_(std::move(sink)) {}
    void Output(const std::string& topic, std::string, std::string value, int32_t) override { sink_(topic, value); }

   private:
    OutputSink sink_;
  };

  void FireTimersUpTo(int32_t partition, int64_t at);

  const domain::Rulebook rules_;
  std::unique_ptr<state::StateStore> store_;
  metrics::EngineMetrics metrics_;
  app::LogLimiter log_limiter_;
  app::PartitionTimers timers_;
  app::CommitWindow window_;
  Collector collector_;
  app::Task task_;
  std::map<int32_t, int64_t> stream_time_;
  const std::size_t commit_every_;
  std::size_t since_commit_ = 0;
  absl::Status status_;
};

}  // namespace alertd::backtest
