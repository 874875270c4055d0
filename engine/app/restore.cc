// Restore of assigned partitions from their changelog (see restore.h).
#include "engine/app/restore.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/app/changelog.h"
#include "engine/app/kafka_error.h"
#include "engine/app/steady_time.h"

namespace alertd::app {
namespace {

// Work per Poll(), so the engine loop keeps serving the partitions it already owns.
constexpr int kMessagesPerPoll = 20000;
constexpr int64_t kPollBudgetMs = 100;
// Complete commits are applied together, one store write per this many changes at most.
constexpr std::size_t kApplyChanges = 20000;
constexpr int64_t kProgressLogMs = 5000;
// Complete commits read are applied at least this often (every partition's in one store write), so
// an interrupted restore resumes near where it stopped and a standby stays this close.
constexpr int64_t kApplyEveryMs = 1000;
constexpr int64_t kLagEveryMs = 1000;
constexpr int kWatermarkTimeoutMs = 1000;

}  // namespace

struct Restorer::Partition {
  bool standby = false;
  bool begun = false;
  bool assigned = false;  // to the restore consumer
  bool done = false;
  int64_t retry_at_ms = 0;
  int64_t from = 0;
  int64_t end = 0;       // -1: to be read (a standby just promoted)
  int64_t position = 0;  // next changelog offset to read
  bool snapshot = false;
  std::optional<ChangelogReplay> replay;  // from Begin() on
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::chrono::steady_clock::time_point started;
  int64_t last_log_ms = 0;
};

absl::StatusOr<std::unique_ptr<Restorer>> Restorer::Create(const std::string& bootstrap, std::string topic,
                                                           const kafka::Properties& properties, CommitWindow& window,
                                                           metrics::EngineMetrics& metrics, LogLimiter& log_limiter) {
  auto consumer = kafka::NewCClient(RD_KAFKA_CONSUMER,
                                    {
                                        {"bootstrap.servers", bootstrap},
                                        // Assigned by hand, no group: the restore reads what it is
                                        // told, from where it is told.
                                        {"group.id", "alertd-restore-unused"},
                                        {"enable.auto.commit", "false"},
                                        {"enable.auto.offset.store", "false"},
                                        {"auto.offset.reset", "earliest"},
                                        {"enable.partition.eof", "true"},
                                        {"fetch.wait.max.ms", "50"},
                                    },
                                    properties, "restore consumer");
  if (!consumer.ok()) return consumer.status();
  rd_kafka_poll_set_consumer(*consumer);
  return std::unique_ptr<Restorer>(new Restorer(*consumer, std::move(topic), window, metrics, log_limiter));
}

Restorer::Restorer(rd_kafka_t* consumer, std::string topic, CommitWindow& window, metrics::EngineMetrics& metrics,
                   LogLimiter& log_limiter)
    : consumer_(consumer),
      fetch_wake_(std::make_unique<kafka::FetchWake>(consumer)),
      topic_(std::move(topic)),
      window_(window),
      metrics_(metrics),
      log_limiter_(log_limiter) {}

Restorer::~Restorer() {
  fetch_wake_.reset();
  rd_kafka_consumer_close(consumer_);
  rd_kafka_destroy(consumer_);
}

void Restorer::Add(int32_t partition) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) {
    partitions_[partition] = std::make_unique<Partition>();
    UpdateGauges();
    return;
  }
  Partition& p = *it->second;
  if (!p.standby) return;
  // Promoted: the restore goes on from the standby's position to the changelog's end now.
  p.standby = false;
  --standbys_;
  metrics_.ClearStandbyLag(partition);
  if (p.begun) {
    spdlog::info("partition {} was followed as a standby up to {}[{}] offset {}: restoring only the tail", partition,
                 topic_, partition, p.position);
    p.from = p.position;
    p.end = -1;
    p.records = p.bytes = 0;
    p.started = std::chrono::steady_clock::now();
    p.last_log_ms = SteadyMs();
  }
  UpdateGauges();
}

void Restorer::Remove(int32_t partition) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end() || it->second->standby) return;
  if (it->second->assigned) Unassign(partition);
  metrics_.ClearRestoreRemaining(partition);
  spdlog::info("partition {} moved away while restoring ({} changelog records read); the complete commits read "
               "so far stay in the store with their checkpoint",
               partition, it->second->records);
  partitions_.erase(it);
  UpdateGauges();
}

void Restorer::Follow(const std::set<int32_t>& standbys) {
  std::vector<int32_t> stop;
  for (const auto& [partition, p] : partitions_) {
    if (p->standby && !standbys.count(partition)) stop.push_back(partition);
  }
  for (int32_t partition : stop) {
    if (auto st = StopFollowing(partition); !st.ok() && follow_error_.ok()) follow_error_ = st;
  }
  for (int32_t partition : standbys) {
    if (partitions_.count(partition)) continue;
    auto p = std::make_unique<Partition>();
    p->standby = true;
    partitions_[partition] = std::move(p);
    ++standbys_;
  }
  UpdateGauges();
}

absl::Status Restorer::StopFollowing(int32_t partition) {
  auto it = partitions_.find(partition);
  Partition& p = *it->second;
  absl::Status st;
  if (p.begun) {
    std::vector<state::RestoredChanges> ready;
    TakeReady(partition, p, ready);
    st = Apply(std::move(ready));
    if (p.assigned) Unassign(partition);
    spdlog::info("stopped following partition {} as a standby at {}[{}] offset {}", partition, topic_, partition,
                 p.position);
  }
  metrics_.ClearStandbyLag(partition);
  partitions_.erase(it);
  --standbys_;
  return st;
}

void Restorer::Unassign(int32_t partition) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition);
  if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_, list)) {
    spdlog::warn("restore consumer: unassign {}[{}]: {}", topic_, partition, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

absl::Status Restorer::BeginWaiting(int64_t now_ms) {
  std::vector<int32_t> waiting;
  for (const auto& [partition, p] : partitions_) {
    if ((!p->begun || p->end < 0) && p->retry_at_ms <= now_ms) waiting.push_back(partition);
  }
  if (waiting.empty()) return absl::OkStatus();
  // Both ends of every waiting partition in two requests (ListOffsets for the earliest and the latest
  // offset), not a watermark query each: those wait behind the fetch of the partitions already read.
  std::map<int32_t, std::pair<int64_t, int64_t>> ends;
  rd_kafka_resp_err_t failure = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (const int64_t which : {int64_t{RD_KAFKA_OFFSET_BEGINNING}, int64_t{RD_KAFKA_OFFSET_END}}) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(waiting.size()));
    for (int32_t partition : waiting) rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition)->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(consumer_, list, kWatermarkTimeoutMs);
    for (int i = 0; i < list->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
      const rd_kafka_topic_partition_t& tp = list->elems[i];
      if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR || tp.offset < 0) continue;
      auto& [low, high] = ends.try_emplace(tp.partition, -1, -1).first->second;
      (which == RD_KAFKA_OFFSET_BEGINNING ? low : high) = tp.offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) failure = err;
  }
  for (int32_t partition : waiting) {
    Partition& p = *partitions_.at(partition);
    auto it = ends.find(partition);
    if (it == ends.end() || it->second.first < 0 || it->second.second < 0) {
      const std::string name = ErrorName(failure != RD_KAFKA_RESP_ERR_NO_ERROR ? failure : RD_KAFKA_RESP_ERR__TIMED_OUT);
      metrics_.CountKafkaError("restore", name);
      LogLimited(log_limiter_, spdlog::level::warn, "restore watermarks " + name,
                 "restore of partition {}: cannot read the ends of {}[{}]: {}; trying again", partition, topic_,
                 partition, name);
      p.retry_at_ms = now_ms + 1000;
      continue;
    }
    const auto [low, high] = it->second;
    if (!p.begun) {
      if (auto st = Begin(partition, p, low, high); !st.ok()) return st;
    } else {
      p.end = std::max(high, p.position);
      if (p.position >= p.end) p.done = true;
    }
  }
  return absl::OkStatus();
}

absl::Status Restorer::Begin(int32_t partition, Partition& p, int64_t low, int64_t high) {
  auto checkpoint = window_.Read([&](state::StateStore& store) { return store.LoadCheckpoint(partition); });
  if (!checkpoint.ok()) return checkpoint.status();
  const std::optional<state::ChangelogCheckpoint>& cp = *checkpoint;
  std::string why;
  uint32_t epoch = 0;
  if (cp && cp->contiguous && cp->next_offset >= low && cp->next_offset <= high) {
    p.from = cp->next_offset;
    epoch = cp->epoch;
    why = cp->next_offset == high ? "the store is current" : "the store is current up to its checkpoint";
  } else {
    bool stored = false;
    absl::Status scan = window_.Read([&](state::StateStore& store) {
      return store.ForEachChange(partition, [&](const state::Change&) {
        stored = true;
        return false;
      });
    });
    if (!scan.ok()) return scan;
    if (!cp && low >= high && !p.standby) {
      p.from = high;
      p.snapshot = stored;
      why = stored ? "the changelog is empty: the store's copy is written to it" : "new partition";
    } else {
      // A standby never trusts a copy without a checkpoint: the owner's changelog is the truth.
      if (stored || cp) {
        absl::Status drop = window_.Read([&](state::StateStore& store) { return store.DropPartition(partition); });
        if (!drop.ok()) return drop;
      }
      p.from = low;
      if (!cp) {
        why = stored ? "the store has no checkpoint: its copy is replaced" : "the store has nothing of it";
      } else if (!cp->contiguous) {
        why = "another instance wrote to the changelog while this one owned it: the store's copy is replaced";
      } else {
        why = absl::StrCat("the changelog [", low, ", ", high, ") does not hold the checkpoint ", cp->next_offset,
                           ": the store's copy is replaced");
      }
    }
  }
  p.begun = true;
  p.replay.emplace(epoch);
  p.end = high;
  p.position = p.from;
  p.started = std::chrono::steady_clock::now();
  p.last_log_ms = SteadyMs();
  if (p.standby) {
    spdlog::info("following partition {} as a standby from {}[{}] offset {} ({} records behind): {}", partition,
                 topic_, partition, p.from, high - p.from, why);
  } else {
    spdlog::info("restoring partition {} from {}[{}] offsets {}..{} ({} records): {}", partition, topic_, partition,
                 p.from, p.end, p.end - p.from, why);
    if (p.from >= p.end) {
      p.done = true;
      return absl::OkStatus();
    }
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition)->offset = p.from;
  rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error != nullptr) {
    std::string what = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return absl::InternalError(absl::StrCat("restore consumer: assign ", topic_, "[", partition, "]: ", what));
  }
  p.assigned = true;
  return absl::OkStatus();
}

absl::Status Restorer::Consume(const void* message) {
  const auto* m = static_cast<const rd_kafka_message_t*>(message);
  auto it = partitions_.find(m->partition);
  if (it == partitions_.end() || !it->second->begun || it->second->done) return absl::OkStatus();
  Partition& p = *it->second;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (!p.standby && p.end >= 0 && m->offset >= p.end) p.done = true;
    return absl::OkStatus();
  }
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::string name = ErrorName(m->err);
    metrics_.CountKafkaError("restore", name);
    LogLimited(log_limiter_, spdlog::level::warn, "restore " + name, "restore from {}: {}; retrying", topic_,
               rd_kafka_message_errstr(m));
    return absl::OkStatus();
  }
  if (m->offset < p.position) return absl::OkStatus();
  p.position = m->offset + 1;
  p.records += 1;
  p.bytes += m->key_len + m->len;
  if (p.standby) {
    metrics_.CountStandbyRecords(1, m->key_len + m->len);
  } else {
    metrics_.CountRestored(1, m->key_len + m->len);
  }

  std::optional<std::string_view> epoch_header;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const void* value = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(headers, kEpochHeader, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      epoch_header = std::string_view(static_cast<const char*>(value), size);
    }
  }
  const std::string_view key(static_cast<const char*>(m->key), m->key_len);
  const std::string_view value(static_cast<const char*>(m->payload), m->len);
  auto record = DecodeChangelogRecord(key, m->payload != nullptr ? &value : nullptr, epoch_header);
  const auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("changelog ", topic_, "[", m->partition, "] offset ", m->offset, ": ",
                                            what, "; only alertd may write to its changelog topic"));
  };
  if (!record.ok()) return bad(record.status().message());
  if (record->kind == ChangelogRecord::Kind::kChange && state::PartitionOfChange(record->change) != m->partition) {
    return bad("a change of another partition");
  }
  p.replay->Add(*std::move(record), m->offset);
  if (p.replay->ready() >= kApplyChanges) {
    std::vector<state::RestoredChanges> ready;
    TakeReady(m->partition, p, ready);
    if (auto st = Apply(std::move(ready)); !st.ok()) return st;
  }
  if (!p.standby && p.end >= 0 && p.position >= p.end) p.done = true;
  return absl::OkStatus();
}

void Restorer::TakeReady(int32_t partition, Partition& p, std::vector<state::RestoredChanges>& out) {
  std::vector<state::Change> changes;
  const std::optional<int64_t> next_offset = p.replay->TakeReady(changes);
  if (!next_offset) return;
  out.push_back({.partition = partition,
                 .changes = std::move(changes),
                 .checkpoint = {.next_offset = *next_offset, .epoch = p.replay->epoch(), .fence_offset = -1,
                                .contiguous = true}});
}

absl::Status Restorer::Apply(std::vector<state::RestoredChanges> restored) {
  if (restored.empty()) return absl::OkStatus();
  return window_.Read([&](state::StateStore& store) { return store.ApplyChanges(restored); });
}

absl::Status Restorer::Finish(int32_t partition, Partition& p, std::vector<Finished>& finished) {
  // A trailing commit without its commit record: torn by a crash, or still being written by a fenced owner.
  p.replay->End();
  std::vector<state::RestoredChanges> ready;
  TakeReady(partition, p, ready);
  if (auto st = Apply(std::move(ready)); !st.ok()) return st;
  Finished done{
      .partition = partition, .epoch = p.replay->epoch(), .repairs = {}, .records = p.records, .next_offset = p.position};
  absl::Status st = window_.Read([&](state::StateStore& store) -> absl::Status {
    for (const ChangelogReplay::FamilyKey& key : p.replay->dropped_keys()) {
      auto value = store.ReadChange(key.first, key.second);
      if (!value.ok()) return value.status();
      done.repairs.push_back({key.first, key.second, *std::move(value)});
    }
    if (!p.snapshot) return absl::OkStatus();
    return store.ForEachChange(partition, [&](const state::Change& c) {
      done.repairs.push_back(c);
      return true;
    });
  });
  if (!st.ok()) return st;
  const double seconds = SecondsSince(p.started);
  spdlog::info("restored partition {}: {} changelog records ({:.2f} MiB) in {:.3f} s ({:.0f} records/s); {} dropped "
               "(fenced off or torn); {} keys written again{}",
               partition, p.records, p.bytes / 1048576.0, seconds, seconds > 0 ? p.records / seconds : 0.0,
               p.replay->dropped_records(), p.replay->dropped_keys().size(), p.snapshot ? " with the store's whole copy" : "");
  metrics_.ObserveRestore(seconds);
  if (p.assigned) Unassign(partition);
  finished.push_back(std::move(done));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Restorer::Finished>> Restorer::Poll() {
  std::vector<Finished> finished;
  if (!follow_error_.ok()) return std::exchange(follow_error_, absl::OkStatus());
  if (partitions_.empty()) return finished;
  const int64_t now = SteadyMs();
  if (auto st = BeginWaiting(now); !st.ok()) return st;
  for (int n = 0; n < kMessagesPerPoll && SteadyMs() - now < kPollBudgetMs; ++n) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 0);
    if (fetch_wake_->AfterPoll(m)) metrics_.CountFetchWake("restore");
    if (m == nullptr) break;
    absl::Status st = Consume(m);
    rd_kafka_message_destroy(m);
    if (!st.ok()) return st;
  }
  // Each apply is a store write (with its fsync): batched by size in Consume(), by time here for every
  // partition at once, so many small partitions are not a string of fsyncs.
  const bool apply = SteadyMs() - last_apply_ms_ >= kApplyEveryMs;
  const bool lag = SteadyMs() - last_lag_ms_ >= kLagEveryMs;
  if (apply) last_apply_ms_ = SteadyMs();
  if (lag) last_lag_ms_ = SteadyMs();
  std::vector<state::RestoredChanges> ready;
  std::vector<int32_t> done;
  for (auto& [partition, p] : partitions_) {
    if (!p->begun) continue;
    if (p->done) {
      if (auto st = Finish(partition, *p, finished); !st.ok()) return st;
      done.push_back(partition);
      continue;
    }
    if (apply) TakeReady(partition, *p, ready);
    if (p->standby) {
      int64_t low = 0, high = 0;
      if (lag && rd_kafka_get_watermark_offsets(consumer_, topic_.c_str(), partition, &low, &high) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        metrics_.SetStandbyLag(partition, std::max<int64_t>(0, high - p->position));
      }
      continue;
    }
    if (p->end < 0) continue;
    metrics_.SetRestoreRemaining(partition, std::max<int64_t>(0, p->end - p->position));
    if (SteadyMs() - p->last_log_ms >= kProgressLogMs) {
      p->last_log_ms = SteadyMs();
      const double seconds = SecondsSince(p->started);
      spdlog::info("restoring partition {}: {} of {} changelog records read ({:.0f} records/s), {} to go", partition,
                   p->position - p->from, p->end - p->from, seconds > 0 ? p->records / seconds : 0.0,
                   p->end - p->position);
    }
  }
  if (auto st = Apply(std::move(ready)); !st.ok()) return st;
  for (int32_t partition : done) {
    partitions_.erase(partition);
    metrics_.ClearRestoreRemaining(partition);
  }
  UpdateGauges();
  return finished;
}

void Restorer::UpdateGauges() {
  metrics_.SetRestoringPartitions(restoring());
  metrics_.SetStandbyPartitions(standbys_);
}

}  // namespace alertd::app
