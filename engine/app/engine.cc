// The engine loop and its commit protocol (see engine.h for the guarantees it keeps).
#include "engine/app/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <mutex>
#include <thread>

namespace alertd::app {
namespace {

std::string DirtyKey(const state::WorkerKey& k) { return std::to_string(k.partition) + '\x1f' + k.worker.value; }

const char* KindOf(const domain::Measurement& m) {
  if (std::holds_alternative<domain::BloodPressure>(m)) return "blood_pressure";
  if (std::holds_alternative<domain::Glucose>(m)) return "glucose";
  return "body";
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Housekeeping time (commit interval, punctuation rhythm, lag updates): never the rules' clock, which
// may be a replayed stream or a test's clock jumping days ahead.
int64_t SteadyMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Stream mode keeps each partition's clock in the offsets column family, under a name no Kafka topic
// can have ('<' is not a legal topic character), so it commits atomically with the offsets it goes with.
const std::string kStreamTimeTopic = "<stream-time>";

std::string ErrorName(RdKafka::ErrorCode err) { return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)); }
std::string ErrorName(rd_kafka_resp_err_t err) { return rd_kafka_err2name(err); }

// Output larger than this is parked at once instead of produced: below the 1,000,000-byte default
// of the broker's message.max.bytes and the producer's, with room for the record batch's overhead.
// With bounded input (codec.h) no escalation comes near it; it guards against what bounds miss.
constexpr std::size_t kMaxOutputBytes = 900 * 1000;

// A broker answer that no retry can change for this record: it is parked, not retried.
bool RefusedForGood(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_INVALID_MSG_SIZE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR__INVALID_ARG:
      return true;
    default:
      return false;
  }
}

// How long a failed output waits before it is produced again. librdkafka has already retried it
// for message.timeout.ms when a delivery report says it failed; this spaces out the rest.
constexpr int64_t kRetryDeliveryAfterMs = 1000;
// Transient store errors (Busy, TryAgain, TimedOut) are retried this often before they stop the engine.
constexpr int kStoreAttempts = 5;

// Due timers fired per punctuation round, shared among the owned partitions.
constexpr std::size_t kPunctuateBudget = 10000;

}  // namespace

// librdkafka calls back from inside consume()/poll() on the engine thread; these forward to the engine.
class Engine::Callbacks final : public RdKafka::RebalanceCb, public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  explicit Callbacks(Engine& engine) : engine_(engine) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    absl::Status st;
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      st = engine_.OnAssign(partitions);
    } else {
      st = engine_.OnRevoke();
      consumer->unassign();
    }
    if (!st.ok() && engine_.callback_error_.ok()) engine_.callback_error_ = st;
  }

  void dr_cb(RdKafka::Message& m) override {
    auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m.msg_opaque()));
    engine_.OnDelivery(seq, m.err(), m.topic_name(), m.errstr());
  }

  void event_cb(RdKafka::Event& e) override {
    switch (e.type()) {
      case RdKafka::Event::EVENT_ERROR:
        if (e.fatal()) {
          spdlog::critical("kafka fatal error: {}", e.str());
          if (engine_.callback_error_.ok()) engine_.callback_error_ = absl::AbortedError("kafka fatal error: " + e.str());
        } else {
          // Transient (a broker down, a connection refused): librdkafka retries by itself. Counted,
          // and logged at most every few seconds per kind, however long the outage.
          const std::string name = ErrorName(e.err());
          engine_.metrics_.CountKafkaError("client", name);
          engine_.LogLimited(spdlog::level::warn, "client " + name, "kafka: {} ({})", e.str(), name);
        }
        break;
      case RdKafka::Event::EVENT_LOG:
        if (e.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
          engine_.LogLimited(spdlog::level::warn, "log " + e.fac(), "kafka {}: {}", e.fac(), e.str());
        }
        break;
      default:
        break;
    }
  }

 private:
  Engine& engine_;
};

Engine::Engine(EngineOptions options, state::StateStore& store, const domain::Rulebook& rules,
               metrics::EngineMetrics& metrics, const domain::Clock& clock)
    : options_(std::move(options)), store_(store), rules_(rules), metrics_(metrics), clock_(clock),
      callbacks_(std::make_unique<Callbacks>(*this)), merge_(options_.stream_buffer_records) {
  // The merge must know when a topic-partition has nothing more to give.
  if (stream_mode()) options_.consumer_properties["enable.partition.eof"] = "true";
  // A position Kafka no longer holds (retention deleted it while alertd was down or behind) is reset
  // to the log start, the oldest record still there; CheckContinuity counts and logs what that skipped.
  options_.consumer_properties["auto.offset.reset"] = "earliest";
}

Engine::~Engine() = default;

absl::Status Engine::Start() {
  auto producer = kafka::NewProducer(options_.bootstrap, options_.producer_properties, callbacks_.get(),
                                     callbacks_.get());
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  std::string err;
  escalations_topic_.reset(RdKafka::Topic::create(producer_.get(), options_.escalations_topic, nullptr, err));
  dead_letters_topic_.reset(RdKafka::Topic::create(producer_.get(), options_.dead_letters_topic, nullptr, err));
  referrals_topic_.reset(RdKafka::Topic::create(producer_.get(), options_.referrals_topic, nullptr, err));
  if (!escalations_topic_ || !dead_letters_topic_ || !referrals_topic_) {
    return absl::InternalError("kafka output topic: " + err);
  }

  // Output committed by a previous run but not confirmed: send it again (consumers drop duplicates
  // by event id).
  next_outbox_seq_ = store_.NextOutboxSeq();
  auto parked = store_.LoadParked(std::numeric_limits<std::size_t>::max());
  if (!parked.ok()) return parked.status();
  metrics_.SetParked(parked->size());
  if (!parked->empty()) {
    spdlog::warn("{} output records are parked (refused by the broker for good); `alertd parked --db DIR` lists them",
                 parked->size());
  }
  auto pending = store_.LoadOutbox();
  if (!pending.ok()) return pending.status();
  if (!pending->empty()) spdlog::info("re-sending {} output records left in the outbox", pending->size());
  for (const auto& e : *pending) Produce(e);

  auto consumer = kafka::NewConsumer(options_.bootstrap, options_.group_id, options_.consumer_properties,
                                     callbacks_.get(), callbacks_.get());
  if (!consumer.ok()) return consumer.status();
  consumer_ = std::move(*consumer);
  RdKafka::ErrorCode rc = consumer_->subscribe(
      {options_.readings_topic, options_.profiles_topic, options_.shifts_topic, options_.acks_topic});
  if (rc != RdKafka::ERR_NO_ERROR) {
    return absl::InternalError("subscribe to " + options_.readings_topic + ", " + options_.profiles_topic + ": " +
                               RdKafka::err2str(rc));
  }
  last_commit_ms_ = loop_steady_ms_ = SteadyMs();
  spdlog::info("consuming {} and {} as group {} from {}; processing time: {}", options_.readings_topic,
               options_.profiles_topic, options_.group_id, options_.bootstrap,
               stream_mode() ? "stream (record timestamps)" : "wall clock");
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
    rd_kafka_message_t* m = rd_kafka_consumer_poll(
        consumer_->c_ptr(), merge_ready_ ? 0 : static_cast<int>(std::min<int64_t>(until_commit, 100)));
    if (!callback_error_.ok()) {
      if (m != nullptr) rd_kafka_message_destroy(m);
      return callback_error_;
    }
    if (m != nullptr) {
      const rd_kafka_resp_err_t err = m->err;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (stream) {
          Buffer(m);
          m = nullptr;
        } else {
          Process(*m);
        }
      } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
        std::string why = rd_kafka_message_errstr(m);
        rd_kafka_message_destroy(m);
        return absl::AbortedError("kafka consumer fatal error: " + why);
      } else if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (stream) NoteEnd(*m);
      } else {
        // Transient (broker down, leader change...): librdkafka retries by itself.
        const std::string name = ErrorName(err);
        metrics_.CountKafkaError("consume", name);
        LogLimited(spdlog::level::warn, "consume " + name, "kafka consume: {} ({})", rd_kafka_message_errstr(m), name);
      }
      if (m != nullptr) rd_kafka_message_destroy(m);
    }
    if (stream) {
      auto more = DrainMerge();
      if (!more.ok()) return more.status();
      merge_ready_ = *more;
    }
    producer_->poll(0);
    after = SteadyMs();
    RetryFailedDeliveries();
    if (records_since_commit_ >= options_.commit_max_records || after - last_commit_ms_ >= options_.commit_interval_ms) {
      if (auto st = StartCommit(); !st.ok()) return st;
    }
    if (auto st = FinishCommit(/*wait=*/false); !st.ok()) return st;
    if (!stream && after - last_punctuate_ms_ >= options_.punctuate_interval_ms) {
      if (auto st = Punctuate(); !st.ok()) return st;
    }
    if (after - last_lag_update_ms_ >= 1000) {
      UpdateLag();
      RetryPauses();
    }
  }
  return Shutdown();
}

int Engine::InputIndex(std::string_view topic) const {
  if (topic == options_.profiles_topic) return 0;
  if (topic == options_.readings_topic) return 1;
  if (topic == options_.shifts_topic) return 2;
  if (topic == options_.acks_topic) return 3;
  return -1;
}

void Engine::Buffer(rd_kafka_message_t* m) {
  MessagePtr owned(m);
  const std::string_view topic = rd_kafka_topic_name(m->rkt);
  const int input = InputIndex(topic);
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
  if (input >= 0) merge_.MarkEnd(m.partition, input);
}

absl::StatusOr<bool> Engine::DrainMerge() {
  // Bounded, so the loop gets back to polling the producer and committing.
  for (int n = 0; n < 1000; ++n) {
    if (!callback_error_.ok()) return callback_error_;
    if (records_since_commit_ >= options_.commit_max_records) return true;
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
    stream_time_dirty_.insert(partition);
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
    stream_time_dirty_.insert(partition);
    FireTimer(*timer);
  }
}

void Engine::FireTimer(const domain::Timer& timer) {
  state::WorkerKey key{timer.partition, timer.worker};
  domain::WorkerState& state = Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnTimer(timer, state, now_), key);
  TrackGauges(before, state);
  // Fired: gone from the index, unless the rule asked for the very same deadline again. (Stream mode's
  // in-memory copy no longer holds it: PopDue took it out.)
  if (!timers_put_.count(timer)) timers_delete_.insert(timer);
  metrics_.CountTimerFired(domain::Name(timer.rule));
}

void Engine::TrackGauges(const metrics::WorkerGauges& before, const domain::WorkerState& after) {
  // Most workers have nothing open and are not enrolled: nothing to compute.
  if (before.empty() && !metrics::Contributes(after)) return;
  metrics_.ApplyWorkerChange(before, metrics::GaugesOf(after));
}

void Engine::SetInputPaused(std::string_view topic, int32_t partition, bool paused) {
  std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create(std::string(topic), partition)};
  RdKafka::ErrorCode rc = paused ? consumer_->pause(tps) : consumer_->resume(tps);
  // The call returns OK with the failure on the partition itself.
  if (rc == RdKafka::ERR_NO_ERROR) rc = tps[0]->err();
  delete tps[0];
  const auto key = std::make_pair(std::string(topic), partition);
  if (rc == RdKafka::ERR_NO_ERROR) {
    pause_retry_.erase(key);
    return;
  }
  // A resume that never happens would stall the partition for good: keep it and try again.
  metrics_.CountKafkaError(paused ? "pause" : "resume", ErrorName(rc));
  LogLimited(spdlog::level::warn, std::string(paused ? "pause " : "resume ") + ErrorName(rc),
             "{} {}[{}]: {}; trying again", paused ? "pause" : "resume", topic, partition, RdKafka::err2str(rc));
  pause_retry_[key] = paused;
}

void Engine::RetryPauses() {
  const auto retry = pause_retry_;
  for (const auto& [tp, paused] : retry) SetInputPaused(tp.first, tp.second, paused);
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
  if (topic == options_.readings_topic) {
    ProcessReading(raw);
  } else if (topic == options_.profiles_topic) {
    ProcessProfile(raw);
    auto loading = profiles_loading_.find(raw.partition);
    if (loading != profiles_loading_.end() && raw.offset + 1 >= loading->second) ResumeReadings(raw.partition);
  } else if (topic == options_.shifts_topic) {
    ProcessShift(raw);
  } else if (topic == options_.acks_topic) {
    ProcessAck(raw);
  }
  next_offsets_[std::make_pair(std::string(topic), raw.partition)] = raw.offset + 1;
  records_since_commit_ += 1;
}

void Engine::ProcessReading(const kafka::RawRecord& raw) {
  auto decoded = kafka::DecodeReading(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why);
  const auto& reading = std::get<domain::Reading>(decoded);
  // Checked before the worker's state is touched: a rejected reading must leave no trace in the store
  // (a flood of impossible readings with new ids once left a row per id).
  if (auto rejected = rules_.Validate(reading, now_)) return DeadLetter(raw, *rejected);
  domain::WorkerState& state = Load({raw.partition, reading.worker});
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  domain::ReadingOutcome outcome = rules_.OnReading(reading, state, now_);
  if (outcome.rejected) return DeadLetter(raw, *outcome.rejected);
  static const std::string kUnknown;  // both branches lvalues: no copy of the labels per reading
  const std::string& unit = state.profile ? state.profile->unit_id : kUnknown;
  const std::string& grid = state.profile ? state.profile->grid_id : kUnknown;
  metrics_.CountReading(KindOf(reading.measurement), outcome.bp ? domain::Name(outcome.bp->category) : "", unit, grid);
  if (outcome.bp && outcome.bp->isolated_systolic) metrics_.CountBpFlag("isolated_systolic", unit, grid);
  if (outcome.bp && outcome.bp->hypotension) metrics_.CountBpFlag("hypotension", unit, grid);
  if (outcome.pre_shift_fit) metrics_.CountPreShiftCheck(unit, *outcome.pre_shift_fit);
  Apply(outcome, {raw.partition, reading.worker});
  TrackGauges(before, state);
}

void Engine::ProcessProfile(const kafka::RawRecord& raw) {
  auto decoded = kafka::DecodeProfile(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why);
  const auto& profile = std::get<std::optional<domain::WorkerProfile>>(decoded);
  state::WorkerKey key{raw.partition, domain::WorkerId{std::string(raw.key)}};
  domain::WorkerState& state = Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnWorkerProfile(key.worker, profile, state, now_), key);
  if (!profile) MarkDeleted(key);
  TrackGauges(before, state);
}

void Engine::ProcessShift(const kafka::RawRecord& raw) {
  auto decoded = kafka::DecodeShift(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why);
  const auto& shift = std::get<domain::ShiftEvent>(decoded);
  state::WorkerKey key{raw.partition, shift.worker};
  domain::WorkerState& state = Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnShift(shift, state, now_), key);
  TrackGauges(before, state);
}

void Engine::ProcessAck(const kafka::RawRecord& raw) {
  auto decoded = kafka::DecodeAck(raw, now_);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why);
  const auto& ack = std::get<domain::EscalationAck>(decoded);
  state::WorkerKey key{raw.partition, ack.worker};
  domain::WorkerState& state = Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  domain::Outcome outcome = rules_.OnAck(ack, state, now_);
  if (outcome.ignored) {
    LogLimited(spdlog::level::info, "ack ignored", "{} ack for {} {} ignored: {}", domain::Name(ack.rule),
               ack.worker.value,
               ack.episode_id.empty() ? std::string("(open episode of the rule)") : "episode " + ack.episode_id,
               outcome.ignored_reason);
  }
  Apply(outcome, key);
  TrackGauges(before, state);
}

void Engine::Apply(const domain::Outcome& outcome, const state::WorkerKey& key) {
  if (outcome.ignored) metrics_.CountIgnored();
  for (const auto& e : outcome.escalations) Emit(e, key.partition);
  for (const auto& r : outcome.referrals) EmitReferral(r, key.partition);
  for (const auto& t : outcome.timers_cancel) DeleteTimer({t.fire_at, key.partition, key.worker, t.rule, t.kind});
  for (const auto& t : outcome.timers_set) PutTimer({t.fire_at, key.partition, key.worker, t.rule, t.kind});
}

// The commit applies its timer puts and deletes as sets, so only the last request for one timer in a
// commit window may stand: a timer cancelled and set again (or set and cancelled) before the commit
// must end up in exactly one of the two.
void Engine::PutTimer(const domain::Timer& t) {
  timers_delete_.erase(t);
  fired_uncommitted_.erase(t);  // wanted again: it may fire again
  timers_put_.insert(t);
  if (stream_mode()) stream_timers_.Put(t);
}

void Engine::DeleteTimer(const domain::Timer& t) {
  timers_put_.erase(t);
  timers_delete_.insert(t);
  if (stream_mode()) stream_timers_.Erase(t);
}

absl::Status Engine::Punctuate() {
  last_punctuate_ms_ = loop_steady_ms_;
  if (owned_partitions_.empty()) return absl::OkStatus();
  // Bounded per partition and round so one punctuation never stalls the loop (the rest fire on the
  // next rounds), and asked per owned partition so that no partition's backlog, nor the timers left
  // behind by partitions that moved away, can starve another's deadlines.
  const std::size_t limit = std::max<std::size_t>(64, kPunctuateBudget / owned_partitions_.size());
  for (int32_t partition : owned_partitions_) {
    absl::StatusOr<std::vector<domain::Timer>> due;
    {
      std::lock_guard<std::mutex> lock(store_mu_);
      due = store_.LoadDueTimers(partition, now_, limit);
    }
    if (!due.ok()) return due.status();
    for (const domain::Timer& timer : *due) {
      if (fired_uncommitted_.count(timer)) continue;
      FireTimer(timer);
      fired_uncommitted_.insert(timer);
    }
  }
  return absl::OkStatus();
}

void Engine::DeadLetter(const kafka::RawRecord& raw, const domain::Rejection& why) {
  metrics_.CountDeadLetter(why.reason, raw.topic);
  LogLimited(spdlog::level::info, std::string("dead letter ") + domain::Name(why.reason), "dead letter {}[{}]@{}: {}",
             raw.topic, raw.partition, raw.offset, why.message.substr(0, 300));
  Output(options_.dead_letters_topic, std::string(raw.key.substr(0, kafka::kDeadLetterKeyBytes)),
         kafka::EncodeDeadLetter(raw, why, now_), raw.partition);
}

void Engine::EmitReferral(const domain::Referral& r, int32_t partition) {
  metrics_.CountReferral(r);
  Output(options_.referrals_topic, r.worker.value, kafka::EncodeReferral(r), partition);
}

void Engine::Emit(const domain::Escalation& e, int32_t partition) {
  metrics_.CountEscalation(e);
  Output(options_.escalations_topic, e.worker.value, kafka::EncodeEscalation(e), partition);
}

void Engine::Output(const std::string& topic, std::string key, std::string value, int32_t partition) {
  state::OutboxEntry entry{next_outbox_seq_++, topic, std::move(key), std::move(value), partition};
  if (entry.value.size() + entry.key.size() > kMaxOutputBytes) {
    return Park(entry, std::to_string(entry.value.size()) + " bytes, more than a broker accepts (" +
                           std::to_string(kMaxOutputBytes) + ")");
  }
  outbox_put_.push_back(std::move(entry));
}

domain::WorkerState& Engine::Load(const state::WorkerKey& key) {
  auto [it, inserted] = dirty_.try_emplace(DirtyKey(key));
  DirtyWorker& d = it->second;
  if (inserted) {
    d.key = key;
    if (in_flight_) {
      if (auto f = in_flight_->states.find(it->first); f != in_flight_->states.end()) {
        // Being committed right now: continue from that state (a copy; the committer reads it).
        if (f->second != nullptr) {
          d.state = *f->second;
          d.stored = true;
        }
        return d.state;
      }
    }
    if (auto cached = cache_.find(it->first); cached != cache_.end()) {
      d.stored = true;
      d.state = std::move(cached->second.state);
      lru_.erase(cached->second.lru);
      cache_.erase(cached);
      return d.state;
    }
    absl::StatusOr<std::optional<domain::WorkerState>> loaded;
    {
      std::lock_guard<std::mutex> lock(store_mu_);
      loaded = store_.LoadWorker(key);
      for (int attempt = 1; absl::IsUnavailable(loaded.status()) && attempt < kStoreAttempts; ++attempt) {
        metrics_.CountStoreRetry();
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
        loaded = store_.LoadWorker(key);
      }
    }
    if (!loaded.ok()) {
      // A record we cannot read would make the rules decide on a blank history; stop instead.
      callback_error_ = loaded.status();
    } else if (*loaded) {
      d.state = std::move(**loaded);
      d.stored = true;
    }
  } else if (d.deleted) {
    d.deleted = false;
    d.state = domain::WorkerState{};
  }
  return d.state;
}

void Engine::CacheCommitted(std::string key, domain::WorkerState state) {
  if (options_.state_cache_workers == 0) return;
  Uncache(key);
  lru_.push_front(key);
  cache_[std::move(key)] = CachedWorker{std::move(state), lru_.begin()};
  while (cache_.size() > options_.state_cache_workers) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void Engine::Uncache(const std::string& key) {
  if (auto it = cache_.find(key); it != cache_.end()) {
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
}

void Engine::MarkDeleted(const state::WorkerKey& key) {
  DirtyWorker& d = dirty_[DirtyKey(key)];
  d.key = key;
  d.deleted = true;
  d.state = domain::WorkerState{};
}

absl::Status Engine::StartCommit() {
  if (!callback_error_.ok()) return callback_error_;
  // One commit in flight at a time: waiting for the previous one is the back-pressure.
  if (in_flight_) {
    const auto t0 = std::chrono::steady_clock::now();
    if (auto st = FinishCommit(/*wait=*/true); !st.ok()) return st;
    metrics_.AddCommitWait(SecondsSince(t0));
  }
  if (dirty_.empty() && next_offsets_.empty() && outbox_put_.empty() && outbox_delete_.empty() &&
      timers_put_.empty() && timers_delete_.empty() && stream_time_dirty_.empty() && parked_put_.empty()) {
    last_commit_ms_ = loop_steady_ms_;
    return absl::OkStatus();
  }
  auto c = std::make_unique<InFlightCommit>();
  c->records = records_since_commit_;
  // Key order: RocksDB's memtable inserts a sorted run much faster than random keys. Sorting pointers
  // keeps the states where they are until they move once into the batch.
  std::vector<DirtyWorker*> order;
  order.reserve(dirty_.size());
  for (auto& [_, d] : dirty_) {
    // Looked at and left as new (an ack or a clock-in for a worker alertd does not know): nothing
    // to store, so input about unknown workers cannot grow the store.
    if (!d.stored && !d.deleted && d.state == domain::WorkerState{}) continue;
    order.push_back(&d);
  }
  std::sort(order.begin(), order.end(), [](const DirtyWorker* a, const DirtyWorker* b) { return a->key < b->key; });
  c->batch.workers.reserve(order.size());
  for (DirtyWorker* d : order) {
    c->batch.workers.emplace_back(d->key, d->deleted ? std::nullopt : std::optional<domain::WorkerState>(std::move(d->state)));
  }
  for (const auto& [tp, offset] : next_offsets_) {
    c->batch.next_offsets.push_back({{tp.first, tp.second}, offset});
    positions_[tp] = offset;  // lag is reported at commit granularity
  }
  for (int32_t partition : stream_time_dirty_) {
    c->batch.next_offsets.push_back({{kStreamTimeTopic, partition}, std::max<int64_t>(0, stream_time_[partition])});
  }
  c->batch.outbox_put = std::move(outbox_put_);
  c->batch.outbox_delete = std::move(outbox_delete_);
  c->batch.timers_put.assign(timers_put_.begin(), timers_put_.end());
  c->batch.timers_delete.assign(timers_delete_.begin(), timers_delete_.end());
  c->batch.parked_put = std::move(parked_put_);
  parked_put_.clear();
  c->states.reserve(c->batch.workers.size());
  for (const auto& [key, st] : c->batch.workers) c->states.emplace(DirtyKey(key), st ? &*st : nullptr);

  // Encoding and writing the batch run beside the loop, which goes on with the next batch; the batch
  // is read-only until the commit finishes, so the loop may read states from it meanwhile.
  InFlightCommit* raw = c.get();
  c->result = std::async(std::launch::async, [this, raw] {
    std::lock_guard<std::mutex> lock(store_mu_);
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status st = store_.Commit(raw->batch);
    // Transient by the store's own account: the batch is intact and the same commit may succeed.
    for (int attempt = 1; absl::IsUnavailable(st) && attempt < kStoreAttempts; ++attempt) {
      spdlog::warn("commit: {}; retrying ({} of {})", st.ToString(), attempt + 1, kStoreAttempts);
      metrics_.CountStoreRetry();
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      st = store_.Commit(raw->batch);
    }
    raw->seconds = SecondsSince(t0);
    return st;
  });
  in_flight_ = std::move(c);
  dirty_.clear();
  next_offsets_.clear();
  outbox_put_.clear();
  outbox_delete_.clear();
  timers_put_.clear();
  timers_delete_.clear();
  stream_time_dirty_.clear();
  records_since_commit_ = 0;
  // From the start of this loop iteration, not from now: the next commit stays on the interval's
  // rhythm however long this iteration polled (measured: ~20 ms less produce->escalation latency).
  last_commit_ms_ = loop_steady_ms_;
  return absl::OkStatus();
}

absl::Status Engine::FinishCommit(bool wait) {
  if (!in_flight_) return absl::OkStatus();
  if (!wait && in_flight_->result.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return absl::OkStatus();
  }
  absl::Status st = in_flight_->result.get();
  std::unique_ptr<InFlightCommit> c = std::move(in_flight_);
  if (!st.ok()) return st;
  for (const auto& t : c->batch.timers_delete) fired_uncommitted_.erase(t);
  // Output only after its commit: a crash before this point re-derives it from the same input.
  for (const auto& e : c->batch.outbox_put) Produce(e);
  // The outbox gauge and the positions before the commit count: a scrape that sees the count sees
  // the output it owes.
  metrics_.SetOutboxPending(unconfirmed_.size());
  for (const auto& [position, offset] : c->batch.next_offsets) {
    if (position.topic == kStreamTimeTopic) continue;
    metrics_.SetConsumerPosition(position.topic, position.partition, offset);
    // The lag of the partitions this commit moved, from the watermarks librdkafka last saw (no request).
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(position.topic, position.partition, &low, &high) == RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      metrics_.SetConsumerLag(position.topic, position.partition, std::max<int64_t>(0, high - std::max(offset, low)));
    }
  }
  metrics_.ObserveCommit(c->seconds, c->records);
  for (auto& [key, st_] : c->batch.workers) {
    if (st_) {
      CacheCommitted(DirtyKey(key), std::move(*st_));
    } else {
      Uncache(DirtyKey(key));
    }
  }
  metrics_.SetOutboxPending(unconfirmed_.size());
  return absl::OkStatus();
}

absl::Status Engine::CommitNow() {
  if (auto st = StartCommit(); !st.ok()) return st;
  return FinishCommit(/*wait=*/true);
}

void Engine::Produce(const state::OutboxEntry& e) {
  RdKafka::Topic* topic = e.topic == options_.escalations_topic   ? escalations_topic_.get()
                          : e.topic == options_.dead_letters_topic ? dead_letters_topic_.get()
                          : e.topic == options_.referrals_topic    ? referrals_topic_.get()
                                                                   : nullptr;
  std::unique_ptr<RdKafka::Topic> other;
  if (topic == nullptr) {
    // An outbox entry written under another topic configuration: deliver it where it was meant to go.
    std::string err;
    other.reset(RdKafka::Topic::create(producer_.get(), e.topic, nullptr, err));
    if (!other) return Park(e, "cannot create a producer handle for topic " + e.topic + ": " + err);
    topic = other.get();
  }
  unconfirmed_[e.seq] = e;
  void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(e.seq));
  for (;;) {
    RdKafka::ErrorCode rc = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                               const_cast<char*>(e.value.data()), e.value.size(), &e.key, opaque);
    if (rc == RdKafka::ERR_NO_ERROR) return;
    if (rc == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(50);  // back-pressure: let deliveries drain the local queue
      continue;
    }
    const std::string name = ErrorName(rc);
    metrics_.CountKafkaError("produce", name);
    if (RefusedForGood(rc)) return Park(e, "producer refused it: " + RdKafka::err2str(rc));
    metrics_.CountDeliveryFailure(e.topic);
    LogLimited(spdlog::level::err, "produce " + name, "produce to {}: {}; kept in the outbox, retrying", e.topic,
               RdKafka::err2str(rc));
    failed_deliveries_.push_back({e.seq, SteadyMs() + kRetryDeliveryAfterMs});
    return;
  }
}

void Engine::OnDelivery(uint64_t seq, RdKafka::ErrorCode err, const std::string& topic, const std::string& error) {
  if (err == RdKafka::ERR_NO_ERROR) {
    if (unconfirmed_.erase(seq) > 0) outbox_delete_.push_back(seq);
    return;
  }
  const std::string name = ErrorName(err);
  metrics_.CountKafkaError("delivery", name);
  auto it = unconfirmed_.find(seq);
  if (it == unconfirmed_.end()) return;  // already confirmed or parked by an earlier report
  if (RefusedForGood(err)) return Park(it->second, "broker refused it: " + error);
  metrics_.CountDeliveryFailure(topic);
  LogLimited(spdlog::level::warn, "delivery " + name, "delivery to {} failed: {}; kept in the outbox, retrying", topic,
             error);
  failed_deliveries_.push_back({seq, SteadyMs() + kRetryDeliveryAfterMs});
}

void Engine::RetryFailedDeliveries() {
  if (failed_deliveries_.empty()) return;
  const int64_t now = SteadyMs();
  std::vector<FailedDelivery> waiting;
  std::vector<uint64_t> due;
  for (const FailedDelivery& f : failed_deliveries_) (f.retry_at_ms <= now ? due.push_back(f.seq) : waiting.push_back(f));
  failed_deliveries_.swap(waiting);
  for (uint64_t seq : due) {
    auto it = unconfirmed_.find(seq);
    if (it != unconfirmed_.end()) Produce(state::OutboxEntry(it->second));
  }
}

void Engine::Park(const state::OutboxEntry& entry, const std::string& reason) {
  spdlog::error("output seq {} to {} (key {}, {} bytes) parked: {}; it will not be retried, `alertd parked` shows it",
                entry.seq, entry.topic, entry.key.substr(0, 64), entry.value.size(), reason);
  metrics_.CountParked(entry.topic);
  parked_put_.push_back({entry, reason, clock_.Now().ms});
  unconfirmed_.erase(entry.seq);
}

template <typename... Args>
void Engine::LogLimited(spdlog::level::level_enum level, const std::string& kind, fmt::format_string<Args...> format,
                        Args&&... args) {
  const std::optional<uint64_t> suppressed = log_limiter_.Admit(kind, SteadyMs());
  if (!suppressed) return;
  spdlog::log(level, "{}{}", fmt::format(format, std::forward<Args>(args)...), LogLimiter::Suffix(*suppressed));
}

absl::Status Engine::OnAssign(std::vector<RdKafka::TopicPartition*>& partitions) {
  // Whatever is pending goes to the store first: the clocks, timers and gauges are read from there.
  if (auto st = CommitNow(); !st.ok()) return st;
  for (RdKafka::TopicPartition* tp : partitions) {
    auto stored = store_.LoadNextOffset({tp->topic(), tp->partition()});
    if (!stored.ok()) return stored.status();
    tp->set_offset(stored->value_or(RdKafka::Topic::OFFSET_BEGINNING));
    owned_partitions_.insert(tp->partition());
    if (*stored) positions_[{tp->topic(), tp->partition()}] = **stored;
    metrics_.SetConsumerPosition(tp->topic(), tp->partition(), stored->value_or(0));
    // A compacted profiles topic skips offsets by design; on the others the next record must carry
    // the next offset, or something between was deleted before alertd read it.
    if (tp->topic() != options_.profiles_topic) {
      expected_offset_[{tp->topic(), tp->partition()}] = {stored->value_or(0), !stored->has_value()};
    }
    if (const int input = InputIndex(tp->topic()); stream_mode() && input >= 0) merge_.AddInput(tp->partition(), input);
    spdlog::info("assigned {}[{}] from {}", tp->topic(), tp->partition(),
                 *stored ? "stored offset " + std::to_string(**stored) : std::string("the beginning"));
  }
  RdKafka::ErrorCode rc = consumer_->assign(partitions);
  if (rc != RdKafka::ERR_NO_ERROR) return absl::InternalError("assign: " + RdKafka::err2str(rc));
  if (stream_mode()) {
    if (auto st = LoadStreamState(owned_partitions_); !st.ok()) return st;
  } else {
    PauseReadingsUntilProfilesLoaded(partitions);
  }
  if (auto st = InitWorkerGauges(owned_partitions_); !st.ok()) return st;
  metrics_.SetAssignedPartitions(partitions.size());
  ready_.store(true);
  return absl::OkStatus();
}

absl::Status Engine::OnRevoke() {
  // Everything processed so far is committed and its output confirmed before another instance takes
  // the partitions over.
  ready_.store(false);
  if (auto st = CommitNow(); !st.ok()) return st;
  // On shutdown, Shutdown() has already waited for the broker; waiting twice only delays the exit.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(shutting_down_ ? 0 : options_.shutdown_flush_ms);
  while (!unconfirmed_.empty() && std::chrono::steady_clock::now() < deadline) producer_->poll(50);
  if (auto st = CommitNow(); !st.ok()) return st;
  positions_.clear();
  expected_offset_.clear();
  pause_retry_.clear();
  profiles_loading_.clear();
  owned_partitions_.clear();
  metrics_.ClearWorkerGauges();
  // Buffered records were not processed: they are read again from the stored offsets.
  merge_.Clear();
  merge_ready_ = false;
  stream_timers_.Clear();
  stream_time_.clear();
  // The partitions' state may change on another instance before it comes back here.
  cache_.clear();
  lru_.clear();
  metrics_.ClearConsumerLag();
  metrics_.SetAssignedPartitions(0);
  spdlog::info("partitions revoked after committing; {} output records unconfirmed", unconfirmed_.size());
  return absl::OkStatus();
}

absl::Status Engine::LoadStreamState(const std::set<int32_t>& partitions) {
  const auto t0 = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(store_mu_);
  stream_time_.clear();
  for (int32_t p : partitions) {
    auto stored = store_.LoadNextOffset({kStreamTimeTopic, p});
    if (!stored.ok()) return stored.status();
    stream_time_[p] = stored->value_or(0);
  }
  stream_timers_.Clear();
  for (int32_t p : partitions) {
    auto timers = store_.LoadTimers(p);  // one key range per partition
    if (!timers.ok()) return timers.status();
    for (const domain::Timer& t : *timers) stream_timers_.Put(t);
  }
  spdlog::info("stream time: {} partitions, {} pending timers loaded in {:.3f} s", partitions.size(),
               stream_timers_.size(), SecondsSince(t0));
  return absl::OkStatus();
}

absl::Status Engine::InitWorkerGauges(const std::set<int32_t>& partitions) {
  const auto t0 = std::chrono::steady_clock::now();
  metrics_.ClearWorkerGauges();
  std::size_t workers = 0, contributing = 0;
  std::lock_guard<std::mutex> lock(store_mu_);
  for (int32_t p : partitions) {
    auto st = store_.ForEachWorker(p, [&](const state::WorkerKey&, const domain::WorkerState& s) {
      ++workers;
      if (metrics::Contributes(s)) {
        ++contributing;
        metrics_.ApplyWorkerChange({}, metrics::GaugesOf(s));
      }
      return true;
    });
    if (!st.ok()) return st;
  }
  spdlog::info("dashboard gauges from {} workers of {} partitions ({} with open episodes or enrolled) in {:.3f} s",
               workers, partitions.size(), contributing, SecondsSince(t0));
  return absl::OkStatus();
}

void Engine::PauseReadingsUntilProfilesLoaded(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<RdKafka::TopicPartition*> paused;
  for (RdKafka::TopicPartition* tp : partitions) {
    if (tp->topic() != options_.profiles_topic) continue;
    int64_t low = 0, high = 0;
    if (consumer_->query_watermark_offsets(tp->topic(), tp->partition(), &low, &high, 5000) != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("cannot read the end of {}[{}]; grading its readings without waiting for profiles", tp->topic(),
                   tp->partition());
      continue;
    }
    auto pos = positions_.find({tp->topic(), tp->partition()});
    const int64_t from = pos != positions_.end() ? pos->second : low;
    if (high <= from) continue;
    profiles_loading_[tp->partition()] = high;
    paused.push_back(RdKafka::TopicPartition::create(options_.readings_topic, tp->partition()));
    spdlog::info("loading {} profile records of partition {} before grading its readings", high - from, tp->partition());
  }
  for (auto* tp : paused) {
    SetInputPaused(tp->topic(), tp->partition(), true);
    delete tp;
  }
}

void Engine::ResumeReadings(int32_t partition) {
  profiles_loading_.erase(partition);
  SetInputPaused(options_.readings_topic, partition, false);
  spdlog::info("profiles of partition {} loaded; grading its readings", partition);
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
  if (m.offset < want) {
    // Kafka handed back an offset alertd already processed: the topic was recreated or truncated
    // (or an unclean leader election lost records); what follows is new input.
    metrics_.CountKafkaError("consume", "OFFSET_REWIND");
    spdlog::error("{}[{}]: expected offset {}, Kafka delivered {}: the partition was truncated or recreated; "
                  "processing on from {}",
                  topic, partition, want, m.offset, m.offset);
    return;
  }
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

void Engine::UpdateLag() {
  last_lag_update_ms_ = SteadyMs();
  // The last offsets of a profile partition may never arrive as records (transaction markers, a
  // compacted tail): the consumer's position tells when the backlog is behind us anyway.
  for (auto it = profiles_loading_.begin(); it != profiles_loading_.end();) {
    const auto [partition, end] = *it++;
    std::vector<RdKafka::TopicPartition*> tps{RdKafka::TopicPartition::create(options_.profiles_topic, partition)};
    if (consumer_->position(tps) == RdKafka::ERR_NO_ERROR && tps[0]->offset() >= end) ResumeReadings(partition);
    delete tps[0];
  }
  for (const auto& [tp, position] : positions_) {
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(tp.first, tp.second, &low, &high) != RdKafka::ERR_NO_ERROR || high < 0) continue;
    metrics_.SetConsumerLag(tp.first, tp.second, std::max<int64_t>(0, high - std::max(position, low)));
  }
  metrics_.SetOutboxPending(unconfirmed_.size());
}

absl::Status Engine::Shutdown() {
  spdlog::info("shutting down: committing and waiting for the broker to confirm output");
  shutting_down_ = true;
  if (auto st = CommitNow(); !st.ok()) return st;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_flush_ms);
  while (!unconfirmed_.empty() && std::chrono::steady_clock::now() < deadline) producer_->poll(50);
  if (auto st = CommitNow(); !st.ok()) return st;
  consumer_->close();  // runs the revoke callback, which commits once more
  if (!callback_error_.ok()) return callback_error_;
  if (!unconfirmed_.empty()) {
    spdlog::warn("{} output records still unconfirmed; they stay in the outbox for the next start",
                 unconfirmed_.size());
  }
  return absl::OkStatus();
}

}  // namespace alertd::app
