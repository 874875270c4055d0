// The work of one input record or due deadline (see task.h).
#include "engine/app/task.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>
#include <utility>
#include <variant>

namespace alertd::app {
namespace {

const char* KindOf(const domain::Measurement& m) {
  if (std::holds_alternative<domain::BloodPressure>(m)) return "blood_pressure";
  if (std::holds_alternative<domain::Glucose>(m)) return "glucose";
  return "body";
}

}  // namespace

Task::Task(Topics topics, const domain::Rulebook& rules, CommitWindow& window, Emitter& emitter,
           metrics::EngineMetrics& metrics, LogLimiter& log_limiter)
    : topics_(std::move(topics)), rules_(rules), window_(window), emitter_(emitter), metrics_(metrics),
      log_limiter_(log_limiter) {}

void Task::Process(const kafka::RawRecord& raw, domain::ProcessingTime now) {
  if (raw.topic == topics_.readings) {
    ProcessReading(raw, now);
  } else if (raw.topic == topics_.profiles) {
    ProcessProfile(raw, now);
  } else if (raw.topic == topics_.shifts) {
    ProcessShift(raw, now);
  } else if (raw.topic == topics_.acks) {
    ProcessAck(raw, now);
  }
}

void Task::ProcessReading(const kafka::RawRecord& raw, domain::ProcessingTime now) {
  auto decoded = kafka::DecodeReading(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why, now);
  const auto& reading = std::get<domain::Reading>(decoded);
  // Checked before the worker's state is touched: a rejected reading must leave no trace in the store
  // (a flood of impossible readings with new ids once left a row per id).
  if (auto rejected = rules_.Validate(reading, now)) return DeadLetter(raw, *rejected, now);
  domain::WorkerState& state = window_.Load({raw.partition, reading.worker});
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  domain::ReadingOutcome outcome = rules_.OnReading(reading, state, now);
  if (outcome.rejected) return DeadLetter(raw, *outcome.rejected, now);
  static const std::string kUnknown;  // both branches lvalues: no copy of the labels per reading
  const std::string& unit = state.profile ? state.profile->unit_id : kUnknown;
  const std::string& grid = state.profile ? state.profile->grid_id : kUnknown;
  metrics_.CountReading(KindOf(reading.measurement), outcome.bp ? domain::Name(outcome.bp->category) : "", unit, grid);
  if (outcome.bp && outcome.bp->isolated_systolic) metrics_.CountBpFlag("isolated_systolic", unit, grid);
  if (outcome.bp && outcome.bp->hypotension) metrics_.CountBpFlag("hypotension", unit, grid);
  if (outcome.pre_shift_fit) metrics_.CountPreShiftCheck(unit, *outcome.pre_shift_fit);
  const state::WorkerKey key{raw.partition, reading.worker};
  Apply(outcome, key);
  TrackGauges(key, before, state);
}

void Task::ProcessProfile(const kafka::RawRecord& raw, domain::ProcessingTime now) {
  auto decoded = kafka::DecodeProfile(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why, now);
  const auto& profile = std::get<std::optional<domain::WorkerProfile>>(decoded);
  state::WorkerKey key{raw.partition, domain::WorkerId{std::string(raw.key)}};
  domain::WorkerState& state = window_.Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnWorkerProfile(key.worker, profile, state, now), key);
  if (!profile) window_.MarkDeleted(key);
  TrackGauges(key, before, state);
}

void Task::ProcessShift(const kafka::RawRecord& raw, domain::ProcessingTime now) {
  auto decoded = kafka::DecodeShift(raw);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why, now);
  const auto& shift = std::get<domain::ShiftEvent>(decoded);
  state::WorkerKey key{raw.partition, shift.worker};
  domain::WorkerState& state = window_.Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnShift(shift, state, now), key);
  TrackGauges(key, before, state);
}

void Task::ProcessAck(const kafka::RawRecord& raw, domain::ProcessingTime now) {
  auto decoded = kafka::DecodeAck(raw, now);
  if (auto* why = std::get_if<domain::Rejection>(&decoded)) return DeadLetter(raw, *why, now);
  const auto& ack = std::get<domain::EscalationAck>(decoded);
  state::WorkerKey key{raw.partition, ack.worker};
  domain::WorkerState& state = window_.Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  domain::Outcome outcome = rules_.OnAck(ack, state, now);
  if (outcome.ignored) {
    LogLimited(log_limiter_, spdlog::level::info, "ack ignored", "{} ack for {} {} ignored: {}",
               domain::Name(ack.rule), ack.worker.value,
               ack.episode_id.empty() ? std::string("(open episode of the rule)") : "episode " + ack.episode_id,
               outcome.ignored_reason);
  }
  Apply(outcome, key);
  TrackGauges(key, before, state);
}

void Task::FireTimer(const domain::Timer& timer, domain::ProcessingTime now) {
  state::WorkerKey key{timer.partition, timer.worker};
  domain::WorkerState& state = window_.Load(key);
  const metrics::WorkerGauges before = metrics::GaugesOf(state);
  Apply(rules_.OnTimer(timer, state, now), key);
  TrackGauges(key, before, state);
  window_.DeleteFiredTimer(timer);
  metrics_.CountTimerFired(domain::Name(timer.rule));
}

void Task::Apply(const domain::Outcome& outcome, const state::WorkerKey& key) {
  if (outcome.ignored) metrics_.CountIgnored();
  for (const auto& e : outcome.escalations) {
    metrics_.CountEscalation(e);
    emitter_.Output(topics_.escalations, e.worker.value, kafka::EncodeEscalation(e), key.partition);
  }
  for (const auto& r : outcome.referrals) {
    metrics_.CountReferral(r);
    emitter_.Output(topics_.referrals, r.worker.value, kafka::EncodeReferral(r), key.partition);
  }
  for (const auto& t : outcome.timers_cancel) window_.DeleteTimer({t.fire_at, key.partition, key.worker, t.rule, t.kind});
  for (const auto& t : outcome.timers_set) window_.PutTimer({t.fire_at, key.partition, key.worker, t.rule, t.kind});
}

void Task::TrackGauges(const state::WorkerKey& key, const metrics::WorkerGauges& before,
                       const domain::WorkerState& after) {
  // Most workers have nothing open and are not enrolled: nothing to compute. (Nor for a background
  // count: a worker that contributes nothing before or after adds nothing whichever state it reads.)
  if (before.empty() && !metrics::Contributes(after)) return;
  if (gauge_count_ != nullptr) return gauge_count_->Track(key, before, metrics::GaugesOf(after));
  metrics_.ApplyWorkerChange(before, metrics::GaugesOf(after));
}

void Task::DeadLetter(const kafka::RawRecord& raw, const domain::Rejection& why, domain::ProcessingTime now) {
  metrics_.CountDeadLetter(why.reason, raw.topic);
  LogLimited(log_limiter_, spdlog::level::info, std::string("dead letter ") + domain::Name(why.reason),
             "dead letter {}[{}]@{}: {}", raw.topic, raw.partition, raw.offset, why.message.substr(0, 300));
  emitter_.Output(topics_.dead_letters, std::string(raw.key.substr(0, kafka::kDeadLetterKeyBytes)),
                  kafka::EncodeDeadLetter(raw, why, now), raw.partition);
}

}  // namespace alertd::app
