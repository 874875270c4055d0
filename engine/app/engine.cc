// The Kafka loop: consumer, rebalance, polling, stream-mode merge, punctuation, lag (see engine.h).
#include "engine/app/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/app/kafka_error.h"
#include "engine/app/partition_list.h"
#include "engine/app/start_steps.h"
#include "engine/app/steady_time.h"
#include "engine/tool/kafka_client.h"

namespace alertd::app {
namespace {

// Due timers fired per punctuation round, shared among the owned partitions.
constexpr std::size_t kPunctuateBudget = 10000;

Topics TopicsOf(const EngineOptions& o) {
  return {o.readings_topic,    o.profiles_topic,      o.shifts_topic,   o.acks_topic,
          o.escalations_topic, o.dead_letters_topic, o.referrals_topic};
}

}  // namespace

// librdkafka calls back from inside consume()/poll() on the engine thread; these forward to the engine.
class Engine::Callbacks final : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  explicit Callbacks(Engine& engine) : engine_(engine) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const absl::Status st = err == RdKafka::ERR__ASSIGN_PARTITIONS
                                ? engine_.OnAssign(partitions)
                                : engine_.OnRevoke(partitions, consumer->assignment_lost());
    if (!st.ok() && engine_.callback_error_.ok()) engine_.callback_error_ = st;
  }

  void dr_cb(RdKafka::Message& m) override { engine_.outbox_.OnDelivery(m); }

  void event_cb(RdKafka::Event& e) override { events_.event_cb(e); }

 private:
  Engine& engine_;
  // Transient errors are counted and logged at most every few seconds however long an outage lasts
  // (librdkafka retries by itself); a fatal one stops the loop.
  tool::KafkaEventLog events_{tool::KafkaEventHooks{
      .transient_error = [this](RdKafka::ErrorCode err) { engine_.metrics_.CountKafkaError("client", ErrorName(err)); },
      .fatal =
          [this](const std::string& text) {
            if (engine_.callback_error_.ok()) engine_.callback_error_ = absl::AbortedError("kafka fatal error: " + text);
          },
      .min_level = spdlog::level::warn}};
};

Engine::Engine(EngineOptions options, state::StateStore& store, const domain::Rulebook& rules,
               metrics::EngineMetrics& metrics, const domain::Clock& clock)
    : options_(std::move(options)),
      metrics_(metrics),
      clock_(clock),
      callbacks_(std::make_unique<Callbacks>(*this)),
      window_(store, metrics, options_.state_cache_bytes,
              [this](const state::CommitBatch& batch) { OnCommitted(batch); }),
      gauge_count_(window_, metrics),
      outbox_(TopicsOf(options_), window_, metrics, clock, log_limiter_),
      task_(TopicsOf(options_), rules, window_, outbox_, metrics, log_limiter_),
      merge_(options_.stream_buffer_records,
             [this](int32_t partition, int input) { return StillAtEnd(partition, input); }) {
  if (stream_mode()) window_.MirrorTimers(&stream_timers_);
  task_.CountGaugesWith(&gauge_count_);
  // The merge must know when a topic-partition has nothing more to give.
  if (stream_mode()) options_.consumer_properties["enable.partition.eof"] = "true";
  // A position Kafka no longer holds (retention deleted it while alertd was down or behind) is reset
  // to the log start, the oldest record still there; CheckContinuity counts and logs what that skipped.
  options_.consumer_properties["auto.offset.reset"] = "earliest";
  // Partitions that do not move keep processing through a rebalance (unless the operator chose an
  // eager assignor with --kafka-property).
  options_.consumer_properties.try_emplace("partition.assignment.strategy", "cooperative-sticky");
}

Engine::~Engine() {
  // librdkafka before 2.3.0 aborts when it destroys a cooperative-sticky consumer that never received
  // an assignment (its assignor state is still null: librdkafka issue #4312), which is what an
  // instance stopped or failing during its first join would do. Such a consumer holds nothing to
  // commit or hand back: it is closed, and left to the process exit instead of destroyed.
  if (consumer_ && !assigned_once_ && Cooperative()) {
    if (!consumer_closed_) consumer_->close();
    (void)consumer_.release();
  }
}

absl::Status Engine::Start() {
  auto producer = kafka::NewProducer(options_.bootstrap, options_.producer_properties, callbacks_.get(),
                                     callbacks_.get());
  if (!producer.ok()) return producer.status();
  if (auto st = outbox_.Start(std::move(*producer)); !st.ok()) return st;

  auto consumer = kafka::NewConsumer(options_.bootstrap, options_.group_id, options_.consumer_properties,
                                     callbacks_.get(), callbacks_.get());
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  fetch_wake_ = std::make_unique<kafka::FetchWake>(consumer_->c_ptr());
  if (auto st = CheckPartitionCounts(); absl::IsUnavailable(st)) {
    spdlog::warn("{}; the partition counts of the topics are not checked", st.ToString());
  } else if (!st.ok()) {
    return st;
  }
  if (!options_.changelog_topic.empty()) {
    if (!Cooperative()) {
      return absl::InvalidArgumentError(
          "a state changelog needs the cooperative-sticky assignor (partition.assignment.strategy=" +
          options_.consumer_properties.at("partition.assignment.strategy") +
          " was given): restored partitions join the assignment incrementally; use --no-changelog for an eager one");
    }
    auto writer = ChangelogWriter::Create(options_.bootstrap, options_.changelog_topic, options_.producer_properties,
                                          metrics_, options_.changelog_producers);
    if (!writer.ok()) return writer.status();
    changelog_ = std::move(*writer);
    auto restorer = Restorer::Create(options_.bootstrap, options_.changelog_topic, options_.restore_consumer_properties,
                                     window_, metrics_, log_limiter_);
    if (!restorer.ok()) return restorer.status();
    restorer_ = std::move(*restorer);
    ChangelogWriter* changelog = changelog_.get();
    window_.SetChangeHook([changelog](const std::vector<state::Change>& changes) { return changelog->Write(changes); });
  }
  if (options_.standby_replicas > 0 || !options_.advertise_http.empty()) {
    auto membership =
        Membership::Create(options_.bootstrap, options_.members_topic, options_.instance_id, options_.advertise_http,
                           options_.restore_consumer_properties, options_.producer_properties, metrics_, log_limiter_);
    if (membership.ok()) {
      membership_ = std::move(*membership);
    } else if (options_.standby_replicas > 0 || !absl::IsFailedPrecondition(membership.status())) {
      return membership.status();
    } else {
      // The query API still answers, from this instance's partitions, and names the others as missing.
      spdlog::warn("{}; the query API cannot reach the group's other instances", std::string(membership.status().message()));
    }
  }
  // Only the readings topic is subscribed: the group's assignor balances its partitions, and each
  // assigned partition brings the same partition of the other inputs (OnAssign).
  RdKafka::ErrorCode rc = consumer_->subscribe({options_.readings_topic});
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError("subscribe to " + options_.readings_topic + ": " + RdKafka::err2str(rc));
  }
  last_commit_ms_ = loop_steady_ms_ = SteadyMs();
  spdlog::info("consuming {}, {}, {} and {} as group {} from {} ({} rebalancing); processing time: {}; state "
               "changelog: {}{}",
               options_.readings_topic, options_.profiles_topic, options_.shifts_topic, options_.acks_topic,
               options_.group_id, options_.bootstrap, Cooperative() ? "cooperative" : "eager",
               stream_mode() ? "stream (record timestamps)" : "wall clock",
               options_.changelog_topic.empty() ? "none (state stays on this machine)" : options_.changelog_topic,
               membership_ == nullptr ? std::string()
                                      : absl::StrCat("; ", options_.standby_replicas, " standby replica(s), members on ",
                                                     options_.members_topic, " as ", options_.instance_id,
                                                     options_.advertise_http.empty() ? "" : " at ",
                                                     options_.advertise_http));
  return absl::OkStatus();
}

std::vector<std::string> Engine::InputTopics() const {
  return {options_.profiles_topic, options_.readings_topic, options_.shifts_topic, options_.acks_topic};
}

bool Engine::Cooperative() const {
  return options_.consumer_properties.at("partition.assignment.strategy").find("cooperative") != std::string::npos;
}

absl::Status Engine::CheckPartitionCounts() {
  std::vector<std::string> topics = InputTopics();
  if (!options_.changelog_topic.empty()) topics.push_back(options_.changelog_topic);
  std::map<std::string, int> counts;
  for (const std::string& name : topics) {
    absl::StatusOr<int> count = kafka::PartitionCount(consumer_->c_ptr(), name, 10000);
    if (absl::IsNotFound(count.status())) {
      return absl::FailedPreconditionError(
          "topic " + name + " does not exist" +
          (name == options_.changelog_topic
               ? "; create the state changelog with as many partitions as " + options_.readings_topic +
                     " and cleanup.policy=compact (README, Scale-out), or name another with --changelog-topic"
               : ""));
    }
    if (!count.ok()) return count.status();
    counts[name] = *count;
  }
  const int want = counts[options_.readings_topic];
  partition_count_.store(want);
  for (const auto& [name, count] : counts) {
    if (count != want) {
      return absl::FailedPreconditionError(
          "topic " + name + " has " + std::to_string(count) + " partitions and " + options_.readings_topic + " has " +
          std::to_string(want) +
          ": the inputs and the state changelog must be co-partitioned (a worker's records and state share one "
          "partition number), so every one needs the same partition count");
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Run(const std::atomic<bool>& stop) {
  const bool stream = stream_mode();
  int64_t after = SteadyMs();
  while (!stop.load()) {
    const domain::ProcessingTime wall = clock_.Now();
    if (!stream) now_ = wall;
    last_loop_ms_.store(wall.ms);
    // The previous iteration's end stands for this one's start: a clock read less per record.
    const int64_t now = after;
    loop_steady_ms_ = now;
    const int64_t until_commit = std::max<int64_t>(1, last_commit_ms_ + options_.commit_interval_ms - now);
    // The C poll API: the C++ wrapper would allocate a Message object and copy the topic name for
    // every record, a measurable share of the per-reading cost.
    // While partitions restore, the loop comes back at once to read their changelogs.
    const bool restoring = restorer_ != nullptr && restorer_->restoring() > 0;
    // While a commit is written the loop comes back every millisecond, so its output leaves as soon as
    // it is durable rather than when the next record or the interval wakes the poll.
    const int64_t max_wait = window_.committing() ? 1 : restoring ? 2 : 100;
    const int timeout_ms = merge_ready_ ? 0 : static_cast<int>(std::min(until_commit, max_wait));
    const auto poll_start = std::chrono::steady_clock::now();
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_->c_ptr(), timeout_ms);
    // What the loop waited for input: with the commit wait, how far the engine is from saturation.
    if (timeout_ms > 0) metrics_.AddPollWait(SecondsSince(poll_start));
    if (fetch_wake_->AfterPoll(m)) metrics_.CountFetchWake("input");
    if (!Failure().ok()) {
      if (m != nullptr) rd_kafka_message_destroy(m);
      return Failure();
    }
    if (m != nullptr) {
      const rd_kafka_resp_err_t err = m->err;
      const int input = err == RD_KAFKA_RESP_ERR_NO_ERROR ? InputIndex(rd_kafka_topic_name(m->rkt)) : -1;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && (!owned_partitions_.count(m->partition) || !Fresh(*m, input))) {
        // Fetched before the partition was paused for its restore (or after it moved away): it is read
        // again from the restored offsets. Or already processed (Fresh()).
      } else if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (stream) {
          Buffer(m, input);
          m = nullptr;
        } else {
          Process(*m);
        }
      } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
        std::string why = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        return absl::AbortedError("kafka consumer fatal error: " + why);
      } else if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (stream && owned_partitions_.count(m->partition)) NoteEnd(*m);
      } else {
        // Transient (broker down, leader change...): librdkafka retries by itself.
        const std::string name = ErrorName(err);
        metrics_.CountKafkaError("consume", name);
        LogLimited(log_limiter_, spdlog::level::warn, "consume " + name, "kafka consume: {} ({})",
                   rd_kafka_message_errstr(m), name);
      }
      if (m != nullptr) rd_kafka_message_destroy(m);
    }
    if (stream) {
      auto more = DrainMerge();
      if (!more.ok()) return more.status();
      merge_ready_ = *more;
    }
    if (auto st = ActivateRestored(); !st.ok()) return st;
    if (membership_ != nullptr && now - last_standby_update_ms_ >= 500) UpdateStandbys();
    outbox_.Poll(0);
    after = SteadyMs();
    outbox_.RetryFailedDeliveries();
    if (auto st = window_.FinishCommit(/*wait=*/false); !st.ok()) return st;
    // Due deadlines are read from the store, which the commit in flight holds: they are looked up
    // between two commits, where the store is free (under load a commit is always in flight, and the
    // lookup waited for a part of it every second), or after a second interval at the latest.
    const int64_t since_punctuate = after - last_punctuate_ms_;
    if (!stream && since_punctuate >= options_.punctuate_interval_ms &&
        (!window_.committing() || since_punctuate >= 2 * options_.punctuate_interval_ms)) {
      if (auto st = Punctuate(); !st.ok()) return st;
    }
    const bool full = window_.records() >= options_.commit_max_records;
    const bool interval = after - last_commit_ms_ >= options_.commit_interval_ms;
    // Group commit: the next commit follows the one in flight as soon as that is durable, so the
    // interval does not wait for it (a commit that took longer than the interval held the loop back a
    // quarter of a backlog's drain); only a full window does, which bounds the window (back-pressure).
    const bool start = options_.group_commit ? full || (!window_.committing() && (window_.records() > 0 || interval))
                                             : full || interval;
    if (start) {
      if (auto st = StartCommit(); !st.ok()) return st;
    }
    if (after - last_lag_update_ms_ >= 1000) {
      if (auto st = UpdateLag(); !st.ok()) return st;
      RetryPauses();
      // A store read that failed counting the gauges (a damaged file) stops the engine as one in the
      // loop would: the next read of those workers would meet it too.
      if (absl::Status counted = gauge_count_.error(); !counted.ok()) return counted;
    }
  }
  return Shutdown();
}

void Engine::Process(const rd_kafka_message_t& m) {
  CheckContinuity(m);
  const std::string_view topic = rd_kafka_topic_name(m.rkt);
  kafka::RawRecord raw;
  raw.topic = topic;
  raw.partition = m.partition;
  raw.offset = m.offset;
  if (m.key != nullptr) raw.key = std::string_view(static_cast<const char*>(m.key), m.key_len);
  raw.value = m.payload;
  raw.value_len = m.len;
  task_.Process(raw, now_);
  if (Starting() && topic == options_.readings_topic) StartDone("first reading processed");
  if (topic == options_.profiles_topic) {
    auto loading = profiles_loading_.find(raw.partition);
    if (loading != profiles_loading_.end() && raw.offset + 1 >= loading->second) {
      if (auto st = ResumeReadings(raw.partition); !st.ok() && callback_error_.ok()) callback_error_ = st;
    }
  }
  window_.Consumed({std::string(topic), raw.partition}, raw.offset + 1);
}

absl::Status Engine::Punctuate() {
  last_punctuate_ms_ = loop_steady_ms_;
  if (owned_partitions_.empty()) return absl::OkStatus();
  // Bounded per partition and round so one punctuation never stalls the loop (the rest fire on the
  // next rounds), and asked per owned partition so that no partition's backlog, nor the timers left
  // behind by partitions that moved away, can starve another's deadlines.
  const std::size_t limit = std::max<std::size_t>(64, kPunctuateBudget / owned_partitions_.size());
  for (int32_t partition : owned_partitions_) {
    auto due = window_.Read([&](state::StateStore& store) { return store.LoadDueTimers(partition, now_, limit); });
    if (!due.ok()) return due.status();
    for (const domain::Timer& timer : *due) {
      if (window_.FiredUncommitted(timer)) continue;
      task_.FireTimer(timer, now_);
      window_.MarkFiredUncommitted(timer);
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::StartCommit() {
  if (!Failure().ok()) return Failure();
  // Lag is reported at commit granularity.
  for (const auto& [tp, offset] : window_.next_offsets()) positions_[tp] = offset;
  if (auto st = window_.StartCommit(); !st.ok()) return st;
  // From the start of this loop iteration, not from now: the next commit stays on the interval's
  // rhythm however long this iteration polled (measured: ~20 ms less produce->escalation latency).
  last_commit_ms_ = loop_steady_ms_;
  return absl::OkStatus();
}

absl::Status Engine::CommitNow() {
  if (auto st = StartCommit(); !st.ok()) return st;
  return window_.FinishCommit(/*wait=*/true);
}

void Engine::OnCommitted(const state::CommitBatch& batch) {
  for (const auto& e : batch.outbox_put) outbox_.Produce(e);
  // The outbox gauge and the positions before the commit count: a scrape that sees the count sees
  // the output it owes.
  metrics_.SetOutboxPending(outbox_.unconfirmed());
  for (const auto& [position, offset] : batch.next_offsets) {
    metrics_.SetConsumerPosition(position.topic, position.partition, offset);
    // The lag of the partitions this commit moved, from the watermarks librdkafka last saw (no request).
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(position.topic, position.partition, &low, &high) == RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      metrics_.SetConsumerLag(position.topic, position.partition, std::max<int64_t>(0, high - std::max(offset, low)));
    }
  }
}

namespace {

std::optional<int64_t> EndOf(const std::map<int32_t, int64_t>& ends, int32_t partition) {
  auto it = ends.find(partition);
  if (it == ends.end()) return std::nullopt;
  return it->second;
}

}  // namespace

absl::Status Engine::OnAssign(const std::vector<RdKafka::TopicPartition*>& partitions) {
  // Whatever is pending goes to the store first: clocks, timers and gauges are read from there.
  if (auto st = CommitNow(); !st.ok()) return st;
  assigned_once_ = true;
  std::vector<int32_t> added;
  for (RdKafka::TopicPartition* tp : partitions) {
    if (tp->topic() == options_.readings_topic && assigned_.insert(tp->partition()).second) {
      added.push_back(tp->partition());
    }
  }
  if (Cooperative()) {
    // Acknowledges the assignment (librdkafka waits for this call); the inputs of each partition are
    // assigned by Activate(), once its state is in the store.
    if (auto st = TakeError(consumer_->incremental_assign({}), "incremental assign"); !st.ok()) return st;
  } else {
    // Eager: the callback lists the whole assignment (every earlier one was revoked), which must be
    // assigned in one call; readings that wait for their profiles are paused instead of held back.
    PartitionList list;
    for (int32_t p : added) {
      for (const std::string& topic : InputTopics()) {
        auto stored = window_.Read([&](state::StateStore& store) { return store.LoadNextOffset({topic, p}); });
        if (!stored.ok()) return stored.status();
        list.tps.push_back(RdKafka::TopicPartition::create(topic, p, stored->value_or(RdKafka::Topic::OFFSET_BEGINNING)));
        consumer_inputs_.insert({topic, p});
      }
    }
    if (RdKafka::ErrorCode rc = consumer_->assign(list.tps); rc != RdKafka::ERR_NO_ERROR) {
      return absl::InternalError("assign: " + RdKafka::err2str(rc));
    }
  }
  if (!added.empty()) {
    spdlog::info("assigned partitions {} of {}", absl::StrJoin(added, ","), absl::StrJoin(InputTopics(), ", "));
    LogStartStep(absl::StrCat("partitions ", absl::StrJoin(added, ","), " assigned by the group"));
  }
  const std::map<int32_t, int64_t> profile_ends = restorer_ ? std::map<int32_t, int64_t>() : ProfileEnds(added);
  for (int32_t p : added) {
    if (restorer_) {
      // Its inputs are assigned once the state is restored, at the restored offsets (Activate()).
      restorer_->Add(p);
    } else if (auto st = Activate(p, EndOf(profile_ends, p)); !st.ok()) {
      return st;
    }
  }
  if (!restorer_) CountGauges(added);
  if (!restorer_ && !added.empty()) LogStartStep(absl::StrCat("partitions ", absl::StrJoin(added, ","), " processing"));
  UpdateReady();
  return absl::OkStatus();
}

absl::Status Engine::ActivateRestored() {
  if (restorer_ == nullptr) return absl::OkStatus();
  auto finished = restorer_->Poll();
  if (!finished.ok()) return finished.status();
  for (auto& f : *finished) to_activate_.push_back(std::move(f));
  if (to_activate_.empty() || loop_steady_ms_ < activate_retry_ms_) return absl::OkStatus();
  // Partitions that moved away meanwhile are not taken over.
  to_activate_.erase(std::remove_if(to_activate_.begin(), to_activate_.end(),
                                    [&](const Restorer::Finished& f) { return !assigned_.count(f.partition); }),
                     to_activate_.end());
  // An epoch higher than any the changelog holds: every record a previous owner writes from now on is
  // ignored by restores, and this writer's own records carry it. All fences in one round trip.
  std::vector<ChangelogWriter::Takeover> takeovers;
  for (Restorer::Finished& f : to_activate_) takeovers.push_back({f.partition, f.epoch + 1, std::move(f.repairs)});
  auto checkpoints = changelog_->Fence(takeovers);
  std::vector<Restorer::Finished> waiting;
  if (absl::IsUnavailable(checkpoints.status())) {
    LogLimited(log_limiter_, spdlog::level::warn, "fence", "fencing partitions: {}; trying again",
               checkpoints.status().ToString());
    for (std::size_t i = 0; i < to_activate_.size(); ++i) to_activate_[i].repairs = std::move(takeovers[i].repairs);
    waiting = std::move(to_activate_);
  } else if (!checkpoints.ok()) {
    return checkpoints.status();
  } else {
    std::vector<int32_t> partitions;
    for (const ChangelogWriter::Takeover& t : takeovers) partitions.push_back(t.partition);
    const std::map<int32_t, int64_t> profile_ends = ProfileEnds(partitions);
    // The fenced partitions' checkpoints go to the store in one write (one fsync), not one each.
    std::vector<state::RestoredChanges> fenced;
    std::vector<std::size_t> fenced_takeovers;  // their indices in `takeovers`
    for (std::size_t i = 0; i < takeovers.size(); ++i) {
      const ChangelogWriter::Takeover& t = takeovers[i];
      const state::ChangelogCheckpoint& checkpoint = (*checkpoints)[i];
      if (checkpoint.fence_offset != to_activate_[i].next_offset) {
        // Another instance (an old owner that woke up) wrote between the end of the restore and the
        // fence. Every later restore applies its complete commits there, so this one must too: the
        // restore goes on from its checkpoint through the fence, and the partition is fenced again.
        metrics_.CountChangelogForeignWrite();
        spdlog::warn("partition {}: records of another instance at {}[{}] offsets {}..{}, after the restore's end "
                     "and before this instance's fence; restoring them too",
                     t.partition, options_.changelog_topic, t.partition, to_activate_[i].next_offset,
                     checkpoint.fence_offset - 1);
        changelog_->Release(t.partition);
        restorer_->Add(t.partition);
        continue;
      }
      spdlog::info("partition {} fenced with epoch {} at {}[{}] offset {} ({} keys written again)", t.partition,
                   t.epoch, options_.changelog_topic, t.partition, checkpoint.fence_offset, t.repairs.size());
      fenced.push_back({.partition = t.partition, .changes = {}, .checkpoint = checkpoint});
      fenced_takeovers.push_back(i);
    }
    if (!fenced.empty()) {
      absl::Status st = window_.Read([&](state::StateStore& store) { return store.ApplyChanges(fenced); });
      if (!st.ok()) return st;
    }
    std::vector<int32_t> activated;
    for (std::size_t i : fenced_takeovers) {
      const ChangelogWriter::Takeover& t = takeovers[i];
      outbox_.SetEpoch(t.partition, t.epoch);
      if (auto act = Activate(t.partition, EndOf(profile_ends, t.partition)); !act.ok()) return act;
      activated.push_back(t.partition);
    }
    CountGauges(activated);
    if (!activated.empty()) {
      LogStartStep(absl::StrCat("partitions ", absl::StrJoin(activated, ","), " restored, fenced and processing"));
    }
  }
  to_activate_ = std::move(waiting);
  if (!to_activate_.empty()) activate_retry_ms_ = loop_steady_ms_ + 1000;
  UpdateReady();
  return absl::OkStatus();
}

std::map<int32_t, int64_t> Engine::ProfileEnds(const std::vector<int32_t>& partitions) {
  std::map<int32_t, int64_t> ends;
  if (stream_mode() || partitions.empty()) return ends;
  // One request per broker for all of them (offsetsForTimes with the end as the time): asking
  // partition by partition waits behind the consumer's fetch on the same connection each time.
  PartitionList list;
  for (int32_t p : partitions) {
    list.tps.push_back(RdKafka::TopicPartition::create(options_.profiles_topic, p, RdKafka::Topic::OFFSET_END));
  }
  if (consumer_->offsetsForTimes(list.tps, 5000) != RdKafka::ERR_NO_ERROR) return ends;
  for (RdKafka::TopicPartition* tp : list.tps) {
    if (tp->err() == RdKafka::ERR_NO_ERROR && tp->offset() >= 0) ends[tp->partition()] = tp->offset();
  }
  return ends;
}

void Engine::CountGauges(const std::vector<int32_t>& partitions) {
  // Once the whole batch is activated: the background count takes turns at the store, and started
  // with the first partition it held each later activation back by one turn (~10 ms at a million
  // workers, 1.3 s over 128 partitions). Still before any of their records: the count is exact only
  // from a state nothing changed yet.
  for (int32_t p : partitions) gauge_count_.Add(p);
}

absl::Status Engine::Activate(int32_t partition, std::optional<int64_t> profiles_end) {
  for (const std::string& topic : InputTopics()) {
    auto stored = window_.Read([&](state::StateStore& store) { return store.LoadNextOffset({topic, partition}); });
    if (!stored.ok()) return stored.status();
    const TopicPartition tp{topic, partition};
    if (*stored) positions_[tp] = **stored;
    metrics_.SetConsumerPosition(topic, partition, stored->value_or(0));
    // A compacted profiles topic skips offsets by design; on the others the next record must carry
    // the next offset, or something between was deleted before alertd read it.
    if (topic != options_.profiles_topic) expected_offset_[tp] = {stored->value_or(0), !stored->has_value()};
    if (const int input = InputIndex(topic); input >= 0) {
      if (stream_mode()) merge_.AddInput(partition, input);
      if (*stored) received_next_[int64_t{partition} * 4 + input] = **stored;
    }
    spdlog::info("assigned {}[{}] from {}", topic, partition,
                 *stored ? "stored offset " + std::to_string(**stored) : std::string("the beginning"));
  }
  owned_partitions_.insert(partition);
  {
    std::lock_guard<std::mutex> lock(served_mu_);
    served_ = owned_partitions_;
  }
  bool hold_readings = false;
  if (stream_mode()) {
    if (auto st = LoadStreamState(partition); !st.ok()) return st;
  } else {
    hold_readings = HoldReadingsForProfiles(partition, profiles_end);
  }
  if (Cooperative()) {
    std::vector<std::string> topics = InputTopics();
    if (hold_readings) std::erase(topics, options_.readings_topic);
    if (auto st = AssignInputs(partition, topics); !st.ok()) return st;
  } else if (hold_readings) {
    SetInputPaused(options_.readings_topic, partition, true);
  }
  // Output the partition's previous owner committed but did not see confirmed.
  auto pending = window_.Read([&](state::StateStore& store) { return store.LoadOutbox(partition); });
  if (!pending.ok()) return pending.status();
  outbox_.Resend(*pending);
  metrics_.SetAssignedPartitions(owned_partitions_.size() * InputTopics().size());
  return absl::OkStatus();
}

absl::Status Engine::OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions, bool lost) {
  std::vector<int32_t> revoked;
  for (RdKafka::TopicPartition* tp : partitions) {
    if (tp->topic() == options_.readings_topic && assigned_.count(tp->partition())) revoked.push_back(tp->partition());
  }
  // Everything processed so far is committed and its output confirmed before another instance takes
  // the partitions over. Lost partitions may be another's already: what this instance commits now
  // carries its old epoch, which their new owner's fence makes every restore ignore.
  if (auto st = CommitNow(); !st.ok()) return st;
  if (!lost) {
    // On shutdown, Shutdown() has already waited for the broker; waiting twice only delays the exit.
    outbox_.AwaitConfirmations(std::chrono::milliseconds(shutting_down_ ? 0 : options_.shutdown_flush_ms));
    if (auto st = CommitNow(); !st.ok()) return st;
  }
  for (int32_t p : revoked) Deactivate(p);
  UnassignInputs(revoked);
  // The revoked partitions' share of the dashboard gauges goes without reading their workers: the
  // gauges start again from the partitions still owned, counted in the background. Not on shutdown:
  // the process exits, and a count still running is abandoned with it.
  if (!revoked.empty() && !shutting_down_) gauge_count_.Recount(owned_partitions_);
  // The partitions' state may change on another instance before it comes back here.
  window_.DropCache();
  metrics_.SetAssignedPartitions(owned_partitions_.size() * InputTopics().size());
  UpdateReady();
  spdlog::info("partitions {} {} after committing; {} output records unconfirmed", absl::StrJoin(revoked, ","),
               lost ? "lost (this instance missed its session)" : "revoked", outbox_.unconfirmed());
  return absl::OkStatus();
}

void Engine::Deactivate(int32_t partition) {
  assigned_.erase(partition);
  if (restorer_) restorer_->Remove(partition);
  if (changelog_) changelog_->Release(partition);
  to_activate_.erase(std::remove_if(to_activate_.begin(), to_activate_.end(),
                                    [&](const Restorer::Finished& f) { return f.partition == partition; }),
                     to_activate_.end());
  if (owned_partitions_.erase(partition) == 0) return;
  {
    std::lock_guard<std::mutex> lock(served_mu_);
    served_ = owned_partitions_;
  }
  for (const std::string& topic : InputTopics()) {
    const TopicPartition tp{topic, partition};
    positions_.erase(tp);
    expected_offset_.erase(tp);
    pause_retry_.erase(tp);
    metrics_.ClearConsumerLag(topic, partition);
  }
  profiles_loading_.erase(partition);
  // Buffered records were not processed: the next owner reads them again from the stored offsets.
  merge_.RemovePartition(partition);
  stream_timers_.ErasePartition(partition);
  stream_time_.erase(partition);
  for (int input = 0; input < 4; ++input) received_next_.erase(int64_t{partition} * 4 + input);
  outbox_.SetEpoch(partition, 0);
}

std::set<int32_t> Engine::ServedPartitions() const {
  std::lock_guard<std::mutex> lock(served_mu_);
  return served_;
}

std::vector<std::string> Engine::PeerHttpAddresses() const {
  std::lock_guard<std::mutex> lock(served_mu_);
  return peers_;
}

void Engine::UpdateReady() {
  ready_.store(assigned_once_ && (restorer_ == nullptr || restorer_->restoring() == 0) && to_activate_.empty());
}

void Engine::UpdateStandbys() {
  last_standby_update_ms_ = SteadyMs();
  membership_->Poll(assigned_);
  {
    std::lock_guard<std::mutex> lock(served_mu_);
    peers_ = membership_->PeerHttpAddresses();
  }
  if (options_.standby_replicas == 0) return;
  std::set<int32_t> standbys = membership_->Standbys(options_.standby_replicas);
  for (int32_t p : assigned_) standbys.erase(p);
  restorer_->Follow(standbys);
}

bool Engine::Fresh(const rd_kafka_message_t& m, int input) {
  if (input < 0) return true;
  auto [it, inserted] = received_next_.try_emplace(int64_t{m.partition} * 4 + input, m.offset + 1);
  if (inserted || m.offset >= it->second) {
    it->second = m.offset + 1;
    return true;
  }
  // Behind what this partition's state already holds: a fetch position that went back. librdkafka
  // 2.0 can apply the answer of an offset lookup started by an earlier assignment of the partition
  // after a newer one (an input the fetch watch assigned again); processing these again would count
  // them twice. (A topic deleted and created anew also starts below: its first records are skipped
  // up to the old position, and logged.)
  metrics_.CountKafkaError("consume", "OFFSET_REWIND");
  LogLimited(log_limiter_, spdlog::level::warn, "rewind " + std::string(rd_kafka_topic_name(m.rkt)),
             "{}[{}]: offset {} was delivered again after {}; skipped (already processed)", rd_kafka_topic_name(m.rkt),
             m.partition, m.offset, it->second - 1);
  return false;
}

void Engine::CheckContinuity(const rd_kafka_message_t& m) {
  if (expected_offset_.empty()) return;
  auto it = expected_offset_.find({rd_kafka_topic_name(m.rkt), m.partition});
  if (it == expected_offset_.end()) return;
  ExpectedOffset& expected = it->second;
  const int64_t want = expected.offset;
  const bool first = expected.never_read;
  expected = {m.offset + 1, false};
  if (m.offset == want) return;
  const std::string& topic = it->first.first;
  const int32_t partition = it->first.second;
  // Fresh() already kept out every offset below one delivered before, so only gaps are left.
  const int64_t missing = m.offset - want;
  if (first) {
    metrics_.CountInputGap(topic, "before_first_read", missing);
    spdlog::warn("{}[{}]: first read by this store, and offsets {}..{} ({} records) were already deleted by Kafka; "
                 "they were never processed (alertd_input_gap_records_total{{cause=\"before_first_read\"}})",
                 topic, partition, want, m.offset - 1, missing);
    return;
  }
  // Retention deletes from the log start. Offsets also skip without loss over transaction markers;
  // only a log start past the expected offset is deletion.
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(consumer_->c_ptr(), topic.c_str(), partition, &low, &high) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      low >= 0 && low <= want) {
    spdlog::debug("{}[{}]: offsets {}..{} skipped by the log (transaction markers)", topic, partition, want,
                  m.offset - 1);
    return;
  }
  metrics_.CountInputGap(topic, "retention", missing);
  spdlog::error("{}[{}]: offsets {}..{} ({} records) were deleted by Kafka (retention) before alertd processed them; "
                "they are skipped and counted in alertd_input_gap_records_total. Keep the input topics' retention "
                "longer than any outage alertd must survive",
                topic, partition, want, m.offset - 1, missing);
}

absl::Status Engine::Shutdown() {
  spdlog::info("shutting down: committing and waiting for the broker to confirm output");
  shutting_down_ = true;
  if (auto st = CommitNow(); !st.ok()) return st;
  outbox_.AwaitConfirmations(std::chrono::milliseconds(options_.shutdown_flush_ms));
  if (auto st = CommitNow(); !st.ok()) return st;
  consumer_->close();  // runs the revoke callback, which commits once more
  consumer_closed_ = true;
  if (membership_ != nullptr) membership_->Leave(1000);
  if (!Failure().ok()) return Failure();
  if (outbox_.unconfirmed() > 0) {
    spdlog::warn("{} output records still unconfirmed; they stay in the outbox for the next start",
                 outbox_.unconfirmed());
  }
  return absl::OkStatus();
}

}  // namespace alertd::app
