// The policy backtest's two replays and what they emit (see backtest.h).
#include "engine/backtest/backtest.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <variant>

#include "health.pb.h"

namespace alertd::backtest {
namespace {

const char* SideName(Side side) { return side == Side::kBaseline ? "baseline" : "candidate"; }

EventSummary SummaryOf(const healthgrid::v1::Escalation& e) {
  return {.event_id = e.event_id(),
          .episode_id = e.episode_id(),
          .sequence = e.sequence(),
          .worker = e.worker_id(),
          .unit = e.unit_id(),
          .rule = healthgrid::v1::Rule_Name(e.rule()),
          .severity = healthgrid::v1::Severity_Name(e.severity()),
          .level = healthgrid::v1::EscalationLevel_Name(e.level()),
          .state = healthgrid::v1::EscalationState_Name(e.state()),
          .trigger_at_ms = e.trigger_at_ms(),
          .emitted_at_ms = e.emitted_at_ms()};
}

}  // namespace

Backtest::Backtest(BacktestOptions options)
    : options_(std::move(options)), input_topics_(InputTopicNames(options_.topics)), comparison_(options_.period) {
  for (Side side : {Side::kBaseline, Side::kCandidate}) {
    replays_[static_cast<std::size_t>(side)] = std::make_unique<PolicyReplay>(
        side == Side::kBaseline ? options_.baseline : options_.candidate, options_.topics,
        [this, side](const std::string& topic, const std::string& value) { Output(side, topic, value); });
  }
}

absl::Status Backtest::Start() {
  if (options_.events_path.empty()) return absl::OkStatus();
  events_.open(options_.events_path, std::ios::trunc);
  if (!events_) return absl::InvalidArgumentError("--events " + options_.events_path + ": cannot write it");
  return absl::OkStatus();
}

void Backtest::Replay(const HistoryRecord& record) {
  const std::string& topic = input_topics_[static_cast<std::size_t>(record.input)];
  records_[static_cast<std::size_t>(record.input)] += 1;
  const kafka::RawRecord raw = RawOf(record, topic);
  for (auto& replay : replays_) replay->Process(raw, record.timestamp);
  if (options_.post && topic == options_.topics.profiles) TrackPost(raw);
}

void Backtest::TrackPost(const kafka::RawRecord& raw) {
  auto decoded = kafka::DecodeProfile(raw);
  const auto* profile = std::get_if<std::optional<domain::WorkerProfile>>(&decoded);
  if (profile == nullptr) return;
  const std::string worker(raw.key);
  if (*profile && std::find((*profile)->high_risk_posts.begin(), (*profile)->high_risk_posts.end(), *options_.post) !=
                      (*profile)->high_risk_posts.end()) {
    in_post_.insert(worker);
  } else {
    in_post_.erase(worker);
  }
}

absl::Status Backtest::status() const {
  for (const auto& replay : replays_) {
    if (!replay->status().ok()) return replay->status();
  }
  return output_status_;
}

void Backtest::Output(Side side, const std::string& topic, const std::string& value) {
  if (topic == options_.topics.escalations) {
    healthgrid::v1::Escalation e;
    if (!e.ParseFromString(value)) {
      output_status_ = absl::InternalError("an escalation the engine encoded does not decode");
      return;
    }
    const EventSummary s = SummaryOf(e);
    if (!comparison_.InPeriod(s.trigger_at_ms) || !Counted(s.worker)) return;
    comparison_.AddEvent(side, s);
    if (events_.is_open()) {
      events_ << nlohmann::json{{"policy", SideName(side)},    {"event_id", s.event_id},
                                {"episode_id", s.episode_id},  {"sequence", s.sequence},
                                {"worker", s.worker},          {"unit", s.unit},
                                {"rule", s.rule},              {"severity", s.severity},
                                {"level", s.level},            {"state", s.state},
                                {"trigger_at_ms", s.trigger_at_ms}, {"emitted_at_ms", s.emitted_at_ms}}
                     .dump()
              << "\n";
    }
  } else if (topic == options_.topics.referrals) {
    healthgrid::v1::Referral r;
    if (!r.ParseFromString(value)) {
      output_status_ = absl::InternalError("a referral the engine encoded does not decode");
      return;
    }
    if (!Counted(r.worker_id())) return;
    comparison_.AddReferral(side, {.referral_id = r.referral_id(),
                                   .worker = r.worker_id(),
                                   .unit = r.unit_id(),
                                   .rule = healthgrid::v1::Rule_Name(r.rule()),
                                   .urgency = healthgrid::v1::ReferralUrgency_Name(r.urgency()),
                                   .trigger_at_ms = r.trigger_at_ms()});
  } else if (topic == options_.topics.dead_letters) {
    healthgrid::v1::DeadLetter d;
    if (!d.ParseFromString(value)) {
      output_status_ = absl::InternalError("a dead letter the engine encoded does not decode");
      return;
    }
    dead_letters_[{d.source_topic(), healthgrid::v1::DeadLetterReason_Name(d.reason())}].of(side) += 1;
  }
}

BacktestReport Backtest::Finish() {
  BacktestReport report;
  report.comparison = comparison_.Result(options_.max_changed);
  report.topics = input_topics_;
  report.records = records_;
  for (const auto& [key, pair] : dead_letters_) report.dead_letters.push_back({key.first, key.second, pair});
  report.pending_timers = {replays_[0]->pending_timers(), replays_[1]->pending_timers()};
  if (events_.is_open()) events_.flush();
  return report;
}

}  // namespace alertd::backtest
