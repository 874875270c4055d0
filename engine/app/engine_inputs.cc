// The input partitions in the consumer: assigning, pausing, lag, and the watch on their fetching.
//
// With the cooperative assignor an input is assigned only when it may be read: a partition's inputs
// once its state is in the store, its readings once its profiles are loaded. It is never assigned
// paused and resumed later, nor assigned twice: librdkafka 2.0 can drop a resume or a fetch start
// issued that way (see fetch_watch.h). Only the stream-mode merge still pauses, and the eager
// assignor, which must assign everything at once.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/app/engine.h"
#include "engine/app/kafka_error.h"
#include "engine/app/partition_list.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

constexpr int kEndQueryTimeoutMs = 2000;

std::string Names(const std::vector<TopicPartition>& tps) {
  return absl::StrJoin(tps, ", ", [](std::string* out, const TopicPartition& tp) {
    absl::StrAppend(out, tp.first, "[", tp.second, "]");
  });
}

}  // namespace

int64_t Engine::StoredStart(const TopicPartition& tp) const {
  auto pos = positions_.find(tp);
  return pos != positions_.end() ? pos->second : int64_t{RdKafka::Topic::OFFSET_BEGINNING};
}

absl::Status Engine::AssignInputs(int32_t partition, const std::vector<std::string>& topics) {
  PartitionList list;
  for (const std::string& topic : topics) {
    list.tps.push_back(RdKafka::TopicPartition::create(topic, partition, StoredStart({topic, partition})));
  }
  if (auto st = TakeError(consumer_->incremental_assign(list.tps),
                          absl::StrCat("assign the inputs ", absl::StrJoin(topics, ", "), " of partition ", partition));
      !st.ok()) {
    return st;
  }
  for (const std::string& topic : topics) consumer_inputs_.insert({topic, partition});
  return absl::OkStatus();
}

void Engine::UnassignInputs(const std::vector<int32_t>& partitions) {
  if (!Cooperative()) {
    consumer_->unassign();
    consumer_inputs_.clear();
    paused_inputs_.clear();
    return;
  }
  // Only what is in the consumer (a partition still restoring has nothing there), and always the
  // call: librdkafka waits for it to finish the rebalance.
  PartitionList list;
  for (int32_t p : partitions) {
    for (const std::string& topic : InputTopics()) {
      if (consumer_inputs_.erase({topic, p}) > 0) list.tps.push_back(RdKafka::TopicPartition::create(topic, p));
      paused_inputs_.erase({topic, p});
    }
  }
  if (absl::Status st = TakeError(consumer_->incremental_unassign(list.tps), "incremental unassign"); !st.ok()) {
    spdlog::warn("{}", std::string(st.message()));
  }
}

void Engine::SetInputPaused(std::string_view topic, int32_t partition, bool paused) {
  const TopicPartition key{std::string(topic), partition};
  if (paused) {
    paused_inputs_.insert(key);
  } else {
    paused_inputs_.erase(key);
  }
  std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create(key.first, partition)};
  RdKafka::ErrorCode rc = paused ? consumer_->pause(tps) : consumer_->resume(tps);
  // The call returns OK with the failure on the partition itself.
  if (rc == RdKafka::ERR_NO_ERROR) rc = tps[0]->err();
  delete tps[0];
  if (rc == RdKafka::ERR_NO_ERROR) {
    pause_retry_.erase(key);
    return;
  }
  // A resume that never happens would stall the partition for good: keep it and try again.
  metrics_.CountKafkaError(paused ? "pause" : "resume", ErrorName(rc));
  LogLimited(log_limiter_, spdlog::level::warn, std::string(paused ? "pause " : "resume ") + ErrorName(rc),
             "{} {}[{}]: {}; trying again", paused ? "pause" : "resume", topic, partition, RdKafka::err2str(rc));
  pause_retry_[key] = paused;
}

void Engine::RetryPauses() {
  const auto retry = pause_retry_;
  for (const auto& [tp, paused] : retry) SetInputPaused(tp.first, tp.second, paused);
}

bool Engine::HoldReadingsForProfiles(int32_t partition, std::optional<int64_t> end) {
  int64_t low = 0, high = 0;
  if (end) {
    high = *end;
  } else if (consumer_->query_watermark_offsets(options_.profiles_topic, partition, &low, &high, 5000) !=
             RdKafka::ERR_NO_ERROR) {
    spdlog::warn("cannot read the end of {}[{}]; grading its readings without waiting for profiles",
                 options_.profiles_topic, partition);
    return false;
  }
  auto pos = positions_.find({options_.profiles_topic, partition});
  const int64_t from = pos != positions_.end() ? pos->second : low;
  if (high <= from) return false;
  profiles_loading_[partition] = high;
  spdlog::info("loading {} profile records of partition {} before grading its readings", high - from, partition);
  return true;
}

absl::Status Engine::ResumeReadings(int32_t partition) {
  profiles_loading_.erase(partition);
  if (Cooperative()) {
    if (auto st = AssignInputs(partition, {options_.readings_topic}); !st.ok()) return st;
  } else {
    SetInputPaused(options_.readings_topic, partition, false);
  }
  spdlog::info("profiles of partition {} loaded; grading its readings", partition);
  return absl::OkStatus();
}

absl::Status Engine::UpdateLag() {
  last_lag_update_ms_ = SteadyMs();
  // The last offsets of a profile partition may never arrive as records (transaction markers, a
  // compacted tail): the consumer's position tells when the backlog is behind us anyway.
  for (auto it = profiles_loading_.begin(); it != profiles_loading_.end();) {
    const auto [partition, end] = *it++;
    std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create(options_.profiles_topic, partition)};
    const bool loaded = consumer_->position(tps) == RdKafka::ERR_NO_ERROR && tps[0]->offset() >= end;
    delete tps[0];
    if (loaded) {
      if (auto st = ResumeReadings(partition); !st.ok()) return st;
    }
  }
  for (const auto& [tp, position] : positions_) {
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(tp.first, tp.second, &low, &high) != RdKafka::ERR_NO_ERROR || high < 0) continue;
    metrics_.SetConsumerLag(tp.first, tp.second, std::max<int64_t>(0, high - std::max(position, low)));
  }
  metrics_.SetOutboxPending(outbox_.unconfirmed());
  return WatchFetching();
}

absl::Status Engine::WatchFetching() {
  // Where every input in the consumer stands (-1: nothing delivered since its assignment).
  PartitionList list;
  for (const TopicPartition& tp : consumer_inputs_) {
    list.tps.push_back(RdKafka::TopicPartition::create(tp.first, tp.second));
  }
  // (With none, the watch still hears of the pass: it forgets what was unassigned.)
  if (!list.tps.empty() && consumer_->position(list.tps) != RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  std::map<TopicPartition, int64_t> fetching;
  for (RdKafka::TopicPartition* tp : list.tps) {
    TopicPartition key{tp->topic(), tp->partition()};
    if (owned_partitions_.count(tp->partition()) && !paused_inputs_.count(key)) {
      fetching[std::move(key)] = tp->err() == RdKafka::ERR_NO_ERROR ? tp->offset() : -1;
    }
  }
  const std::vector<TopicPartition> idle = fetch_watch_.Idle(fetching, SteadyMs());
  if (idle.empty()) return absl::OkStatus();
  // Their ends, one request per broker; a partition the broker did not answer for is not judged.
  PartitionList ends;
  for (const TopicPartition& tp : idle) {
    ends.tps.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, RdKafka::Topic::OFFSET_END));
  }
  if (consumer_->offsetsForTimes(ends.tps, kEndQueryTimeoutMs) != RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  std::vector<TopicPartition> stuck;
  for (RdKafka::TopicPartition* end : ends.tps) {
    if (end->err() != RdKafka::ERR_NO_ERROR || end->offset() < 0) continue;
    const TopicPartition tp{end->topic(), end->partition()};
    int64_t low = 0, cached_high = -1;
    if (consumer_->get_watermark_offsets(tp.first, tp.second, &low, &cached_high) != RdKafka::ERR_NO_ERROR) {
      cached_high = -1;
    }
    auto assigned_at = positions_.find(tp);
    if (FetchWatch::Stuck(cached_high, fetching.at(tp),
                          assigned_at != positions_.end() ? std::optional<int64_t>(assigned_at->second) : std::nullopt,
                          end->offset())) {
      stuck.push_back(tp);
    }
  }
  if (stuck.empty()) return absl::OkStatus();
  return RestartFetch(stuck, fetching);
}

absl::Status Engine::RestartFetch(const std::vector<TopicPartition>& stuck,
                                  const std::map<TopicPartition, int64_t>& positions) {
  spdlog::warn("input partitions {} have not fetched for {} s although their logs hold records past their "
               "positions (librdkafka dropped a resume or a fetch start); assigning them again",
               Names(stuck), kFetchStallMs / 1000);
  for (const TopicPartition& tp : stuck) metrics_.CountFetchRestart(tp.first);
  // From where each stands: the consumer's position, or while it delivered nothing, the offset it was
  // assigned at. Records it delivers twice are dropped by Fresh().
  auto start = [&](const TopicPartition& tp) {
    auto pos = positions.find(tp);
    return pos != positions.end() && pos->second >= 0 ? pos->second : StoredStart(tp);
  };
  // The resume first, before anything of librdkafka's own is under way on these partitions.
  for (const TopicPartition& tp : stuck) SetInputPaused(tp.first, tp.second, false);
  PartitionList list;
  if (Cooperative()) {
    for (const TopicPartition& tp : stuck) list.tps.push_back(RdKafka::TopicPartition::create(tp.first, tp.second));
    if (auto st = TakeError(consumer_->incremental_unassign(list.tps), "unassign stalled inputs " + Names(stuck));
        !st.ok()) {
      return st;
    }
    for (RdKafka::TopicPartition* tp : list.tps) tp->set_offset(start({tp->topic(), tp->partition()}));
    return TakeError(consumer_->incremental_assign(list.tps), "assign stalled inputs " + Names(stuck));
  }
  // Eager: the whole assignment in one call (paused inputs keep their pause across it).
  for (const TopicPartition& tp : consumer_inputs_) {
    list.tps.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, start(tp)));
  }
  if (RdKafka::ErrorCode rc = consumer_->assign(list.tps); rc != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError("assign again after stalled inputs " + Names(stuck) + ": " + RdKafka::err2str(rc));
  }
  return absl::OkStatus();
}

}  // namespace alertd::app
