// WorkerState <-> WorkerStateRecord: field-for-field, through engine/wire for the shared messages.
#include "engine/state/worker_record.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>
#include <string_view>

#include <google/protobuf/unknown_field_set.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alertd_state.pb.h"
#include "engine/wire/convert.h"

namespace alertd::state {
namespace {

namespace pb = ::healthgrid::v1;
namespace rec = ::alertd::state::v1;

// --- Encoding checks: everything the record cannot carry exactly ---------------------------------

// A field path, built only when a check fails: encoding runs on every commit, for every reading of
// every changed worker's window, and almost never finds a problem.
template <typename Name>
std::string PathOf(const Name& name) {
  if constexpr (std::is_invocable_v<Name>) {
    return name();
  } else {
    return std::string(name);
  }
}

// Collects the first problem with its field path; later checks become no-ops.
class EncodeCheck {
 public:
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }

  template <typename Name>
  void Text(std::string_view text, const Name& field) {
    if (ok() && !wire::IsValidUtf8(text)) problem_ = absl::StrCat(PathOf(field), " is not valid UTF-8");
  }
  template <typename Name>
  void NonNegative(int value, const Name& field) {
    if (ok() && value < 0) {
      problem_ = absl::StrCat(PathOf(field), " is ", value, ", which an unsigned field cannot hold");
    }
  }
  // A domain enum holding a number outside its enumerators would be written as *_UNSPECIFIED.
  template <typename DomainEnum, typename Name>
  void Enum(DomainEnum value, const Name& field) {
    if (ok() && static_cast<int>(wire::ToProto(value)) == 0) {
      problem_ = absl::StrCat(PathOf(field), " holds ", static_cast<int>(value), ", not one of its enumerators");
    }
  }

  // Texts are checked separately for the window: once per distinct station and device (CheckWindowTexts).
  template <typename Name>
  void SampleNumbers(const domain::BpSample& s, const Name& field) {
    NonNegative(s.systolic_mmhg, [&] { return PathOf(field) + ".systolic_mmhg"; });
    NonNegative(s.diastolic_mmhg, [&] { return PathOf(field) + ".diastolic_mmhg"; });
    NonNegative(s.pulse_bpm, [&] { return PathOf(field) + ".pulse_bpm"; });
    Enum(s.category, [&] { return PathOf(field) + ".category"; });
    Enum(s.context, [&] { return PathOf(field) + ".context"; });
  }

  template <typename Name>
  void Glucose(const domain::GlucoseSample& s, const Name& field) {
    Enum(s.timing, [&] { return PathOf(field) + ".timing"; });
    Enum(s.context, [&] { return PathOf(field) + ".context"; });
    Text(s.station_id.str(), [&] { return PathOf(field) + ".station_id"; });
    Text(s.device_id.str(), [&] { return PathOf(field) + ".device_id"; });
  }

  template <typename Name>
  void Sample(const domain::BpSample& s, const Name& field) {
    SampleNumbers(s, field);
    Text(s.station_id.str(), [&] { return PathOf(field) + ".station_id"; });
    Text(s.device_id.str(), [&] { return PathOf(field) + ".device_id"; });
  }

  // The packed window holds each distinct station and device once; a bad one is reported at the first
  // sample that carries it, as a per-sample check would.
  void WindowTexts(const std::vector<domain::BpSample>& window, const rec::PackedBpWindow& packed) {
    for (int d = 0; ok() && d < packed.stations_size(); ++d) {
      if (wire::IsValidUtf8(packed.stations(d))) continue;
      for (int i = 0; i < packed.station_index_size(); ++i) {
        if (packed.station_index(i) == static_cast<uint32_t>(d)) {
          Text(window[static_cast<size_t>(i)].station_id.str(), [&] { return absl::StrCat("bp_window[", i, "].station_id"); });
          break;
        }
      }
    }
    for (int d = 0; ok() && d < packed.devices_size(); ++d) {
      if (wire::IsValidUtf8(packed.devices(d))) continue;
      for (int i = 0; i < packed.device_index_size(); ++i) {
        if (packed.device_index(i) == static_cast<uint32_t>(d)) {
          Text(window[static_cast<size_t>(i)].device_id.str(), [&] { return absl::StrCat("bp_window[", i, "].device_id"); });
          break;
        }
      }
    }
  }

  void Person(const domain::Person& p, absl::string_view field) {
    Text(p.id, [&] { return absl::StrCat(field, ".id"); });
    Text(p.name, [&] { return absl::StrCat(field, ".name"); });
  }

  template <typename Name>
  void Step(const domain::EpisodeStep& step, const Name& field) {
    Enum(step.state, [&] { return PathOf(field) + ".state"; });
    Enum(step.level, [&] { return PathOf(field) + ".level"; });
    Enum(step.severity, [&] { return PathOf(field) + ".severity"; });
    for (size_t k = 0; k < step.recipients.size(); ++k) {
      const domain::Recipient& r = step.recipients[k];
      const auto recipient = [&] { return absl::StrCat(PathOf(field), ".recipients[", k, "]"); };
      Enum(r.role, [&] { return recipient() + ".role"; });
      Text(r.id, [&] { return recipient() + ".id"; });
      Text(r.name, [&] { return recipient() + ".name"; });
    }
  }

  void Profile(const domain::WorkerProfile& p) {
    Text(p.worker.value, "profile.worker");
    Text(p.name, "profile.name");
    Text(p.unit_id, "profile.unit_id");
    Text(p.unit_name, "profile.unit_name");
    Text(p.grid_id, "profile.grid_id");
    Text(p.grid_name, "profile.grid_name");
    Person(p.health_manager, "profile.health_manager");
    Person(p.unit_supervisor, "profile.unit_supervisor");
    for (size_t i = 0; i < p.high_risk_posts.size(); ++i) {
      Enum(p.high_risk_posts[i], [&] { return absl::StrCat("profile.high_risk_posts[", i, "]"); });
    }
    NonNegative(p.diagnosed_hypertension_grade, "profile.diagnosed_hypertension_grade");
    if (p.policy.critical_systolic_mmhg) {
      NonNegative(*p.policy.critical_systolic_mmhg, "profile.policy.critical_systolic_mmhg");
    }
    if (p.policy.critical_diastolic_mmhg) {
      NonNegative(*p.policy.critical_diastolic_mmhg, "profile.policy.critical_diastolic_mmhg");
    }
    if (p.policy.self_test_interval_days) {
      NonNegative(*p.policy.self_test_interval_days, "profile.policy.self_test_interval_days");
    }
    if (p.policy.abnormal_systolic_mmhg) {
      NonNegative(*p.policy.abnormal_systolic_mmhg, "profile.policy.abnormal_systolic_mmhg");
    }
    if (p.policy.abnormal_diastolic_mmhg) {
      NonNegative(*p.policy.abnormal_diastolic_mmhg, "profile.policy.abnormal_diastolic_mmhg");
    }
    if (p.policy.ack_timeout_minutes) NonNegative(*p.policy.ack_timeout_minutes, "profile.policy.ack_timeout_minutes");
    if (p.policy.renotify_interval_hours) {
      NonNegative(*p.policy.renotify_interval_hours, "profile.policy.renotify_interval_hours");
    }
    for (size_t i = 0; i < p.policy.extra_recipients.size(); ++i) {
      Person(p.policy.extra_recipients[i], absl::StrCat("profile.policy.extra_recipients[", i, "]"));
    }
  }

 private:
  std::string problem_;
};

// --- Decoding checks: enum numbers this build does not know --------------------------------------

template <typename ProtoEnum>
bool Known(ProtoEnum value) {
  return wire::FromProtoEnum(value).has_value();
}

std::optional<std::string> CheckSample(const pb::EvidenceReading& s, absl::string_view field) {
  if (!Known(s.category())) return absl::StrCat(field, ".category has unknown value ", s.category());
  if (!Known(s.context())) return absl::StrCat(field, ".context has unknown value ", s.context());
  return std::nullopt;
}

std::optional<std::string> CheckGlucose(const pb::EvidenceGlucose& s, absl::string_view field) {
  if (!Known(s.timing())) return absl::StrCat(field, ".timing has unknown value ", s.timing());
  if (!Known(s.context())) return absl::StrCat(field, ".context has unknown value ", s.context());
  return std::nullopt;
}

std::optional<std::string> CheckStep(const rec::EpisodeStepRecord& step, int index, absl::string_view field) {
  if (!Known(step.state())) return absl::StrCat(field, ".state has unknown value ", step.state());
  if (!Known(step.level())) return absl::StrCat(field, ".level has unknown value ", step.level());
  if (!Known(step.severity())) return absl::StrCat(field, ".severity has unknown value ", step.severity());
  if (step.same_recipients() && (index == 0 || step.recipients_size() > 0)) {
    return absl::StrCat(field, index == 0 ? " repeats the recipients of a step before the first"
                                          : " both repeats the previous step's recipients and lists its own");
  }
  for (int k = 0; k < step.recipients_size(); ++k) {
    if (!Known(step.recipients(k).role())) {
      return absl::StrCat(field, ".recipients[", k, "].role has unknown value ", step.recipients(k).role());
    }
  }
  return std::nullopt;
}

// Index of `value` in `dictionary`, appending it when new. A window holds a handful of distinct
// stations and devices, so a linear search beats hashing.
uint32_t Intern(const std::string& value, google::protobuf::RepeatedPtrField<std::string>& dictionary) {
  for (int i = 0; i < dictionary.size(); ++i) {
    if (dictionary.Get(i) == value) return static_cast<uint32_t>(i);
  }
  *dictionary.Add() = value;
  return static_cast<uint32_t>(dictionary.size() - 1);
}

void PackWindow(const std::vector<domain::BpSample>& window, rec::PackedBpWindow& out) {
  const int n = static_cast<int>(window.size());
  out.mutable_measured_at_delta_ms()->Reserve(n);
  out.mutable_systolic_mmhg()->Reserve(n);
  out.mutable_diastolic_mmhg()->Reserve(n);
  out.mutable_pulse_bpm()->Reserve(n);
  out.mutable_category()->Reserve(n);
  out.mutable_context()->Reserve(n);
  out.mutable_station_index()->Reserve(n);
  out.mutable_device_index()->Reserve(n);
  int64_t previous = 0;
  for (const domain::BpSample& s : window) {
    out.add_measured_at_delta_ms(s.measured_at.ms - previous);
    previous = s.measured_at.ms;
    out.add_systolic_mmhg(static_cast<uint32_t>(s.systolic_mmhg));
    out.add_diastolic_mmhg(static_cast<uint32_t>(s.diastolic_mmhg));
    out.add_pulse_bpm(static_cast<uint32_t>(s.pulse_bpm));
    out.add_category(wire::ToProto(s.category));
    out.add_context(wire::ToProto(s.context));
    out.add_station_index(Intern(s.station_id, *out.mutable_stations()));
    out.add_device_index(Intern(s.device_id, *out.mutable_devices()));
  }
}

std::optional<std::string> CheckWindow(const rec::PackedBpWindow& w) {
  const int n = w.measured_at_delta_ms_size();
  if (w.systolic_mmhg_size() != n || w.diastolic_mmhg_size() != n || w.pulse_bpm_size() != n ||
      w.category_size() != n || w.context_size() != n || w.station_index_size() != n || w.device_index_size() != n) {
    return absl::StrCat("bp_window columns have different lengths (", n, " times)");
  }
  for (int i = 0; i < n; ++i) {
    const auto category = static_cast<pb::BpCategory>(w.category(i));
    const auto context = static_cast<pb::MeasurementContext>(w.context(i));
    if (!Known(category)) return absl::StrCat("bp_window[", i, "].category has unknown value ", w.category(i));
    if (!Known(context)) return absl::StrCat("bp_window[", i, "].context has unknown value ", w.context(i));
    if (w.station_index(i) >= static_cast<uint32_t>(w.stations_size()) ||
        w.device_index(i) >= static_cast<uint32_t>(w.devices_size())) {
      return absl::StrCat("bp_window[", i, "] refers to a station or device the record does not hold");
    }
  }
  return std::nullopt;
}

// CheckWindow vouched for the lengths, enum values and indexes.
std::vector<domain::BpSample> UnpackWindow(const rec::PackedBpWindow& w) {
  std::vector<domain::BpSample> window(static_cast<size_t>(w.measured_at_delta_ms_size()));
  int64_t at = 0;
  for (int i = 0; i < w.measured_at_delta_ms_size(); ++i) {
    domain::BpSample& s = window[static_cast<size_t>(i)];
    at += w.measured_at_delta_ms(i);
    s.measured_at = domain::EventTime{at};
    s.systolic_mmhg = static_cast<int>(std::min<uint32_t>(w.systolic_mmhg(i), INT32_MAX));
    s.diastolic_mmhg = static_cast<int>(std::min<uint32_t>(w.diastolic_mmhg(i), INT32_MAX));
    s.pulse_bpm = static_cast<int>(std::min<uint32_t>(w.pulse_bpm(i), INT32_MAX));
    s.category = *wire::FromProtoEnum(static_cast<pb::BpCategory>(w.category(i)));
    s.context = *wire::FromProtoEnum(static_cast<pb::MeasurementContext>(w.context(i)));
    s.station_id = w.stations(static_cast<int>(w.station_index(i)));
    s.device_id = w.devices(static_cast<int>(w.device_index(i)));
  }
  return window;
}

std::optional<std::string> CheckRecord(const rec::WorkerStateRecord& record) {
  if (record.has_profile()) {
    for (int i = 0; i < record.profile().high_risk_posts_size(); ++i) {
      const pb::HighRiskPost post = record.profile().high_risk_posts(i);
      if (!Known(post)) return absl::StrCat("profile.high_risk_posts[", i, "] has unknown value ", post);
    }
  }
  if (auto problem = CheckWindow(record.bp_window())) return problem;
  for (int i = 0; i < record.open_size(); ++i) {
    const rec::OpenEpisodeRecord& episode = record.open(i);
    const std::string field = absl::StrCat("open[", i, "]");
    if (!Known(episode.rule())) return absl::StrCat(field, ".rule has unknown value ", episode.rule());
    if (!Known(episode.severity())) return absl::StrCat(field, ".severity has unknown value ", episode.severity());
    if (!Known(episode.level())) return absl::StrCat(field, ".level has unknown value ", episode.level());
    for (int j = 0; j < episode.evidence_size(); ++j) {
      if (auto problem = CheckSample(episode.evidence(j), absl::StrCat(field, ".evidence[", j, "]"))) return problem;
    }
    for (int j = 0; j < episode.glucose_evidence_size(); ++j) {
      if (auto problem = CheckGlucose(episode.glucose_evidence(j), absl::StrCat(field, ".glucose_evidence[", j, "]"))) {
        return problem;
      }
    }
    for (int j = 0; j < episode.history_size(); ++j) {
      if (auto problem = CheckStep(episode.history(j), j, absl::StrCat(field, ".history[", j, "]"))) return problem;
    }
  }
  for (int i = 0; i < record.glucose_window_size(); ++i) {
    if (auto problem = CheckGlucose(record.glucose_window(i), absl::StrCat("glucose_window[", i, "]"))) return problem;
  }
  for (int i = 0; i < record.referrals_sent_size(); ++i) {
    const rec::ReferralSentRecord& sent = record.referrals_sent(i);
    if (!Known(sent.rule())) return absl::StrCat("referrals_sent[", i, "].rule has unknown value ", sent.rule());
    if (!Known(sent.urgency())) {
      return absl::StrCat("referrals_sent[", i, "].urgency has unknown value ", sent.urgency());
    }
  }
  return std::nullopt;
}

// The open episodes, as head and whole record both hold them.
void CheckEpisodes(const domain::WorkerState& state, EncodeCheck& check) {
  for (size_t i = 0; i < state.open.size(); ++i) {
    const domain::OpenEpisode& episode = state.open[i];
    const std::string field = absl::StrCat("open[", i, "]");
    check.Enum(episode.rule, absl::StrCat(field, ".rule"));
    check.Enum(episode.severity, absl::StrCat(field, ".severity"));
    check.Enum(episode.level, absl::StrCat(field, ".level"));
    check.Text(episode.episode_id, absl::StrCat(field, ".episode_id"));
    check.Person(episode.acked_by, absl::StrCat(field, ".acked_by"));
    for (size_t j = 0; j < episode.evidence.size(); ++j) {
      check.Sample(episode.evidence[j], [&] { return absl::StrCat(field, ".evidence[", j, "]"); });
    }
    for (size_t j = 0; j < episode.glucose_evidence.size(); ++j) {
      check.Glucose(episode.glucose_evidence[j], [&] { return absl::StrCat(field, ".glucose_evidence[", j, "]"); });
    }
    for (size_t j = 0; j < episode.history.size(); ++j) {
      check.Step(episode.history[j], [&] { return absl::StrCat(field, ".history[", j, "]"); });
    }
  }
  for (size_t i = 0; i < state.referrals_sent.size(); ++i) {
    check.Enum(state.referrals_sent[i].rule, absl::StrCat("referrals_sent[", i, "].rule"));
    check.Enum(state.referrals_sent[i].urgency, absl::StrCat("referrals_sent[", i, "].urgency"));
  }
}

// Everything of the record but the profile and the two windows.
void FillHeadFields(const domain::WorkerState& state, rec::WorkerStateRecord& record) {
  record.set_readings_accepted(state.readings_accepted);
  record.set_bp_readings(state.bp_readings);
  if (state.newest_bp_at) record.set_newest_bp_at_ms(state.newest_bp_at->ms);
  for (const domain::OpenEpisode& episode : state.open) {
    rec::OpenEpisodeRecord& out = *record.add_open();
    out.set_rule(wire::ToProto(episode.rule));
    out.set_episode_id(episode.episode_id);
    out.set_last_sequence(episode.last_sequence);
    out.set_severity(wire::ToProto(episode.severity));
    out.set_level(wire::ToProto(episode.level));
    out.set_opened_at_ms(episode.opened_at.ms);
    out.set_last_trigger_at_ms(episode.last_trigger_at.ms);
    out.set_trigger_count(episode.trigger_count);
    for (const domain::BpSample& sample : episode.evidence) *out.add_evidence() = wire::ToProto(sample);
    for (const domain::GlucoseSample& sample : episode.glucose_evidence) {
      *out.add_glucose_evidence() = wire::ToProto(sample);
    }
    out.set_acknowledged(episode.acknowledged);
    if (!episode.acked_by.id.empty() || !episode.acked_by.name.empty()) {
      out.mutable_acked_by()->set_id(episode.acked_by.id);
      out.mutable_acked_by()->set_name(episode.acked_by.name);
    }
    out.set_acked_at_ms(episode.acked_at.ms);
    if (episode.snoozed_until) out.set_snoozed_until_ms(episode.snoozed_until->ms);
    if (episode.next_deadline) out.set_next_deadline_ms(episode.next_deadline->ms);
    for (size_t j = 0; j < episode.history.size(); ++j) {
      const domain::EpisodeStep& step = episode.history[j];
      rec::EpisodeStepRecord& told = *out.add_history();
      told.set_sequence(step.sequence);
      told.set_state(wire::ToProto(step.state));
      told.set_level(wire::ToProto(step.level));
      told.set_severity(wire::ToProto(step.severity));
      told.set_at_ms(step.at.ms);
      if (j > 0 && step.recipients == episode.history[j - 1].recipients) {
        told.set_same_recipients(true);
        continue;
      }
      for (const domain::Recipient& r : step.recipients) wire::ToProto(r, *told.add_recipients());
    }
  }
  record.set_episodes_opened(state.episodes_opened);
  if (state.self_test_since) record.set_self_test_since_ms(state.self_test_since->ms);
  if (state.self_test_due) record.set_self_test_due_ms(state.self_test_due->ms);
  for (const domain::ReferralSent& sent : state.referrals_sent) {
    rec::ReferralSentRecord& out = *record.add_referrals_sent();
    out.set_rule(wire::ToProto(sent.rule));
    out.set_urgency(wire::ToProto(sent.urgency));
    out.set_at_ms(sent.at.ms);
  }
}

// The counterpart of FillHeadFields; CheckRecord vouched for the enum values.
void ReadHeadFields(const rec::WorkerStateRecord& record, domain::WorkerState& state) {
  state.readings_accepted = record.readings_accepted();
  state.bp_readings = record.bp_readings();
  if (record.has_newest_bp_at_ms()) state.newest_bp_at = domain::EventTime{record.newest_bp_at_ms()};
  state.open.reserve(static_cast<size_t>(record.open_size()));
  for (const rec::OpenEpisodeRecord& in : record.open()) {
    domain::OpenEpisode& episode = state.open.emplace_back();
    episode.rule = *wire::FromProtoEnum(in.rule());
    episode.episode_id = in.episode_id();
    episode.last_sequence = in.last_sequence();
    episode.severity = *wire::FromProtoEnum(in.severity());
    episode.level = *wire::FromProtoEnum(in.level());
    episode.opened_at = domain::EventTime{in.opened_at_ms()};
    episode.last_trigger_at = domain::EventTime{in.last_trigger_at_ms()};
    episode.trigger_count = in.trigger_count();
    episode.evidence.reserve(static_cast<size_t>(in.evidence_size()));
    for (const pb::EvidenceReading& sample : in.evidence()) episode.evidence.push_back(wire::FromProto(sample));
    episode.glucose_evidence.reserve(static_cast<size_t>(in.glucose_evidence_size()));
    for (const pb::EvidenceGlucose& sample : in.glucose_evidence()) {
      episode.glucose_evidence.push_back(wire::FromProto(sample));
    }
    episode.acknowledged = in.acknowledged();
    episode.acked_by = domain::Person{in.acked_by().id(), in.acked_by().name()};
    episode.acked_at = domain::ProcessingTime{in.acked_at_ms()};
    if (in.has_snoozed_until_ms()) episode.snoozed_until = domain::ProcessingTime{in.snoozed_until_ms()};
    if (in.has_next_deadline_ms()) episode.next_deadline = domain::ProcessingTime{in.next_deadline_ms()};
    episode.history.reserve(static_cast<size_t>(in.history_size()));
    for (const rec::EpisodeStepRecord& told : in.history()) {
      domain::EpisodeStep step{told.sequence(), *wire::FromProtoEnum(told.state()), *wire::FromProtoEnum(told.level()),
                               *wire::FromProtoEnum(told.severity()), domain::ProcessingTime{told.at_ms()}, {}};
      if (told.same_recipients()) {
        step.recipients = episode.history.back().recipients;  // CheckRecord: never on the first step
      } else {
        step.recipients.reserve(static_cast<size_t>(told.recipients_size()));
        for (const pb::Recipient& r : told.recipients()) step.recipients.push_back(wire::FromProto(r));
      }
      episode.history.push_back(std::move(step));
    }
  }
  state.episodes_opened = record.episodes_opened();
  if (record.has_self_test_since_ms()) state.self_test_since = domain::ProcessingTime{record.self_test_since_ms()};
  if (record.has_self_test_due_ms()) state.self_test_due = domain::ProcessingTime{record.self_test_due_ms()};
  state.referrals_sent.reserve(static_cast<size_t>(record.referrals_sent_size()));
  for (const rec::ReferralSentRecord& in : record.referrals_sent()) {
    state.referrals_sent.push_back(domain::ReferralSent{*wire::FromProtoEnum(in.rule()),
                                                        *wire::FromProtoEnum(in.urgency()),
                                                        domain::EventTime{in.at_ms()}});
  }
}

template <typename Message>
absl::StatusOr<std::string> Serialize(const Message& message, absl::string_view what) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " of ", message.ByteSizeLong(), " bytes cannot be serialized"));
  }
  return bytes;
}

absl::StatusOr<rec::WorkerStateRecord> ParseRecord(std::string_view bytes) {
  rec::WorkerStateRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not a WorkerStateRecord (", bytes.size(), " bytes)"));
  }
  if (auto problem = CheckRecord(record)) return absl::InvalidArgumentError(*problem);
  return record;
}

// One window sample as its own record: measured_at left out, since the sample's key holds it.
template <typename Sample, typename Name>
absl::StatusOr<std::string> EncodeSampleRecord(const Sample& sample, const Name& field) {
  EncodeCheck check;
  if constexpr (std::is_same_v<Sample, domain::BpSample>) {
    check.Sample(sample, field);
  } else {
    check.Glucose(sample, field);
  }
  if (!check.ok()) return absl::InvalidArgumentError(check.problem());
  auto proto = wire::ToProto(sample);
  proto.clear_measured_at_ms();
  return Serialize(proto, "sample");
}

template <typename Proto>
auto DecodeSampleRecord(std::string_view bytes, domain::EventTime measured_at, absl::string_view message)
    -> absl::StatusOr<decltype(wire::FromProto(std::declval<const Proto&>()))> {
  Proto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not ", message, " (", bytes.size(), " bytes)"));
  }
  std::optional<std::string> problem;
  if constexpr (std::is_same_v<Proto, pb::EvidenceReading>) {
    problem = CheckSample(proto, "sample");
  } else {
    problem = CheckGlucose(proto, "sample");
  }
  if (problem) return absl::InvalidArgumentError(*problem);
  auto sample = wire::FromProto(proto);
  sample.measured_at = measured_at;
  return sample;
}

// Schema 3 stored a profile's enrolment as `bool active = 12`, which health.proto has since replaced
// by `Enrolment enrolment = 14` (reserving 12): absent meant out of the programme. Whole records are
// read and written in that form, so a migrated store keeps who had left.
constexpr int kSchema3ActiveField = 12;

bool Schema3Active(const pb::WorkerProfile& profile) {
  const google::protobuf::UnknownFieldSet& unknown = profile.GetReflection()->GetUnknownFields(profile);
  bool active = false;
  for (int i = 0; i < unknown.field_count(); ++i) {
    const google::protobuf::UnknownField& field = unknown.field(i);
    if (field.number() == kSchema3ActiveField && field.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      active = field.varint() != 0;
    }
  }
  return active;
}

pb::WorkerProfile Schema3Profile(const domain::WorkerProfile& profile) {
  pb::WorkerProfile proto = wire::ToProto(profile);
  proto.clear_enrolment();
  if (profile.active) proto.GetReflection()->MutableUnknownFields(&proto)->AddVarint(kSchema3ActiveField, 1);
  return proto;
}

}  // namespace

absl::StatusOr<std::string> EncodeWorkerState(const domain::WorkerState& state) {
  EncodeCheck check;
  if (state.profile) check.Profile(*state.profile);
  for (size_t i = 0; i < state.bp_window.size(); ++i) {
    check.SampleNumbers(state.bp_window[i], [&] { return absl::StrCat("bp_window[", i, "]"); });
  }
  rec::WorkerStateRecord record;
  if (check.ok()) {
    PackWindow(state.bp_window, *record.mutable_bp_window());
    check.WindowTexts(state.bp_window, record.bp_window());
  }
  CheckEpisodes(state, check);
  for (size_t i = 0; i < state.glucose_window.size(); ++i) {
    check.Glucose(state.glucose_window[i], [&] { return absl::StrCat("glucose_window[", i, "]"); });
  }
  if (!check.ok()) return absl::InvalidArgumentError(check.problem());

  if (state.profile) *record.mutable_profile() = Schema3Profile(*state.profile);
  FillHeadFields(state, record);
  for (const domain::GlucoseSample& sample : state.glucose_window) *record.add_glucose_window() = wire::ToProto(sample);
  return Serialize(record, "record");
}

absl::StatusOr<domain::WorkerState> DecodeWorkerState(std::string_view bytes) {
  absl::StatusOr<rec::WorkerStateRecord> record = ParseRecord(bytes);
  if (!record.ok()) return record.status();
  domain::WorkerState state;
  if (record->has_profile()) {
    state.profile = wire::FromProto(record->profile());
    state.profile->active = Schema3Active(record->profile());
  }
  state.bp_window = UnpackWindow(record->bp_window());
  ReadHeadFields(*record, state);
  state.glucose_window.reserve(static_cast<size_t>(record->glucose_window_size()));
  for (const pb::EvidenceGlucose& sample : record->glucose_window()) {
    state.glucose_window.push_back(wire::FromProto(sample));
  }
  return state;
}

absl::StatusOr<std::string> EncodeWorkerHead(const domain::WorkerState& state) {
  EncodeCheck check;
  CheckEpisodes(state, check);
  if (!check.ok()) return absl::InvalidArgumentError(check.problem());
  // Reused across calls: a commit encodes a head per changed worker, and a fresh record would
  // allocate and free every repeated field each time. Clear() keeps the capacity.
  thread_local rec::WorkerStateRecord record;
  record.Clear();
  FillHeadFields(state, record);
  record.set_bp_samples(static_cast<uint32_t>(state.bp_window.size()));
  record.set_glucose_samples(static_cast<uint32_t>(state.glucose_window.size()));
  record.set_profile_stored(state.profile.has_value());
  return Serialize(record, "head record");
}

absl::StatusOr<WorkerHead> DecodeWorkerHead(std::string_view bytes) {
  absl::StatusOr<rec::WorkerStateRecord> record = ParseRecord(bytes);
  if (!record.ok()) return record.status();
  // A whole record of schema 3 or older where a head belongs: its parts would be lost in silence.
  if (record->has_profile() || record->bp_window().measured_at_delta_ms_size() > 0 ||
      record->glucose_window_size() > 0) {
    return absl::InvalidArgumentError("a whole worker record (schema 3 or older), not a head: it holds its profile "
                                      "or window samples, which schema 4 keeps in column family samples");
  }
  WorkerHead head;
  ReadHeadFields(*record, head.state);
  head.bp_samples = record->bp_samples();
  head.glucose_samples = record->glucose_samples();
  head.has_profile = record->profile_stored();
  return head;
}

absl::StatusOr<std::string> EncodeProfile(const domain::WorkerProfile& profile) {
  EncodeCheck check;
  check.Profile(profile);
  if (!check.ok()) return absl::InvalidArgumentError(check.problem());
  return Serialize(wire::ToProto(profile), "profile");
}

absl::StatusOr<domain::WorkerProfile> DecodeProfile(std::string_view bytes) {
  pb::WorkerProfile profile;
  if (!profile.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not a WorkerProfile (", bytes.size(), " bytes)"));
  }
  for (int i = 0; i < profile.high_risk_posts_size(); ++i) {
    const pb::HighRiskPost post = profile.high_risk_posts(i);
    if (!Known(post)) return absl::InvalidArgumentError(absl::StrCat("high_risk_posts[", i, "] has unknown value ", post));
  }
  return wire::FromProto(profile);
}

absl::StatusOr<std::string> EncodeBpSample(const domain::BpSample& sample, size_t index) {
  return EncodeSampleRecord(sample, [&] { return absl::StrCat("bp_window[", index, "]"); });
}

absl::StatusOr<domain::BpSample> DecodeBpSample(std::string_view bytes, domain::EventTime measured_at) {
  return DecodeSampleRecord<pb::EvidenceReading>(bytes, measured_at, "an EvidenceReading");
}

absl::StatusOr<std::string> EncodeGlucoseSample(const domain::GlucoseSample& sample, size_t index) {
  return EncodeSampleRecord(sample, [&] { return absl::StrCat("glucose_window[", index, "]"); });
}

absl::StatusOr<domain::GlucoseSample> DecodeGlucoseSample(std::string_view bytes, domain::EventTime measured_at) {
  return DecodeSampleRecord<pb::EvidenceGlucose>(bytes, measured_at, "an EvidenceGlucose");
}

}  // namespace alertd::state
