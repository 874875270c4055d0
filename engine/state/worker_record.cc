// WorkerState <-> WorkerStateRecord: field-for-field, through engine/wire for the shared messages.
#include "engine/state/worker_record.h"

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "alertd_state.pb.h"
#include "engine/wire/convert.h"

namespace alertd::state {
namespace {

namespace pb = ::healthgrid::v1;
namespace rec = ::alertd::state::v1;

// --- Encoding checks: everything the record cannot carry exactly ---------------------------------

// Collects the first problem with its field path; later checks become no-ops.
class EncodeCheck {
 public:
  bool ok() const { return problem_.empty(); }
  const std::string& problem() const { return problem_; }

  void Text(std::string_view text, absl::string_view field) {
    if (ok() && !wire::IsValidUtf8(text)) problem_ = absl::StrCat(field, " is not valid UTF-8");
  }
  void NonNegative(int value, absl::string_view field) {
    if (ok() && value < 0) problem_ = absl::StrCat(field, " is ", value, ", which an unsigned field cannot hold");
  }
  // A domain enum holding a number outside its enumerators would be written as *_UNSPECIFIED.
  template <typename DomainEnum>
  void Enum(DomainEnum value, absl::string_view field) {
    if (ok() && static_cast<int>(wire::ToProto(value)) == 0) {
      problem_ = absl::StrCat(field, " holds ", static_cast<int>(value), ", not one of its enumerators");
    }
  }

  void Sample(const domain::BpSample& s, absl::string_view field) {
    NonNegative(s.systolic_mmhg, absl::StrCat(field, ".systolic_mmhg"));
    NonNegative(s.diastolic_mmhg, absl::StrCat(field, ".diastolic_mmhg"));
    NonNegative(s.pulse_bpm, absl::StrCat(field, ".pulse_bpm"));
    Enum(s.category, absl::StrCat(field, ".category"));
    Enum(s.context, absl::StrCat(field, ".context"));
    Text(s.station_id, absl::StrCat(field, ".station_id"));
    Text(s.device_id, absl::StrCat(field, ".device_id"));
  }

  void Person(const domain::Person& p, absl::string_view field) {
    Text(p.id, absl::StrCat(field, ".id"));
    Text(p.name, absl::StrCat(field, ".name"));
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
      Enum(p.high_risk_posts[i], absl::StrCat("profile.high_risk_posts[", i, "]"));
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

std::optional<std::string> CheckRecord(const rec::WorkerStateRecord& record) {
  if (record.has_profile()) {
    for (int i = 0; i < record.profile().high_risk_posts_size(); ++i) {
      const pb::HighRiskPost post = record.profile().high_risk_posts(i);
      if (!Known(post)) return absl::StrCat("profile.high_risk_posts[", i, "] has unknown value ", post);
    }
  }
  for (int i = 0; i < record.bp_window_size(); ++i) {
    if (auto problem = CheckSample(record.bp_window(i), absl::StrCat("bp_window[", i, "]"))) return problem;
  }
  for (int i = 0; i < record.open_size(); ++i) {
    const rec::OpenEpisodeRecord& episode = record.open(i);
    const std::string field = absl::StrCat("open[", i, "]");
    if (!Known(episode.rule())) return absl::StrCat(field, ".rule has unknown value ", episode.rule());
    if (!Known(episode.severity())) return absl::StrCat(field, ".severity has unknown value ", episode.severity());
    if (!Known(episode.level())) return absl::StrCat(field, ".level has unknown value ", episode.level());
    for (int j = 0; j < episode.evidence_size(); ++j) {
      if (auto problem = CheckSample(episode.evidence(j), absl::StrCat(field, ".evidence[", j, "]"))) return problem;
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::string> EncodeWorkerState(const domain::WorkerState& state) {
  EncodeCheck check;
  if (state.profile) check.Profile(*state.profile);
  for (size_t i = 0; i < state.bp_window.size(); ++i)
    check.Sample(state.bp_window[i], absl::StrCat("bp_window[", i, "]"));
  for (size_t i = 0; i < state.open.size(); ++i) {
    const domain::OpenEpisode& episode = state.open[i];
    const std::string field = absl::StrCat("open[", i, "]");
    check.Enum(episode.rule, absl::StrCat(field, ".rule"));
    check.Enum(episode.severity, absl::StrCat(field, ".severity"));
    check.Enum(episode.level, absl::StrCat(field, ".level"));
    check.Text(episode.episode_id, absl::StrCat(field, ".episode_id"));
    for (size_t j = 0; j < episode.evidence.size(); ++j) {
      check.Sample(episode.evidence[j], absl::StrCat(field, ".evidence[", j, "]"));
    }
  }
  if (!check.ok()) return absl::InvalidArgumentError(check.problem());

  rec::WorkerStateRecord record;
  if (state.profile) *record.mutable_profile() = wire::ToProto(*state.profile);
  record.set_readings_accepted(state.readings_accepted);
  record.set_bp_readings(state.bp_readings);
  if (state.newest_bp_at) record.set_newest_bp_at_ms(state.newest_bp_at->ms);
  record.mutable_bp_window()->Reserve(static_cast<int>(state.bp_window.size()));
  for (const domain::BpSample& sample : state.bp_window) *record.add_bp_window() = wire::ToProto(sample);
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
  }
  record.set_episodes_opened(state.episodes_opened);

  std::string bytes;
  if (!record.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("record of ", record.ByteSizeLong(), " bytes cannot be serialized"));
  }
  return bytes;
}

absl::StatusOr<domain::WorkerState> DecodeWorkerState(std::string_view bytes) {
  rec::WorkerStateRecord record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not a WorkerStateRecord (", bytes.size(), " bytes)"));
  }
  if (auto problem = CheckRecord(record)) return absl::InvalidArgumentError(*problem);

  domain::WorkerState state;
  if (record.has_profile()) state.profile = wire::FromProto(record.profile());
  state.readings_accepted = record.readings_accepted();
  state.bp_readings = record.bp_readings();
  if (record.has_newest_bp_at_ms()) state.newest_bp_at = domain::EventTime{record.newest_bp_at_ms()};
  state.bp_window.reserve(static_cast<size_t>(record.bp_window_size()));
  for (const pb::EvidenceReading& sample : record.bp_window()) state.bp_window.push_back(wire::FromProto(sample));
  state.open.reserve(static_cast<size_t>(record.open_size()));
  for (const rec::OpenEpisodeRecord& in : record.open()) {
    domain::OpenEpisode& episode = state.open.emplace_back();
    // CheckRecord vouched for the enum values.
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
  }
  state.episodes_opened = record.episodes_opened();
  return state;
}

}  // namespace alertd::state
