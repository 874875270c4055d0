// Fuzz bytes to Kafka records, the prepared worker state, and the read-back checks of engine outputs.
#include "fuzz_record.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/domain/policy.h"
#include "google/protobuf/stubs/logging.h"
#include "health.pb.h"

namespace alertd::fuzz {
namespace {

// Protobuf logs every string field with invalid UTF-8 it refuses; at thousands of inputs a second that
// buries libFuzzer's own report. Refusals are checked through the decoders' results instead.
const bool kProtobufQuiet = [] {
  google::protobuf::SetLogHandler(nullptr);
  return true;
}();

}  // namespace

FuzzRecord ToRecord(const uint8_t* data, std::size_t size, std::string_view topic) {
  FuzzRecord out;
  out.raw.topic = topic;
  out.raw.partition = 3;
  out.raw.offset = 42;
  if (size < 2) {
    out.raw.value = data;
    out.raw.value_len = size;
    return out;
  }
  const uint8_t flags = data[0];
  const std::size_t key_len = std::min<std::size_t>(data[1], size - 2);
  out.raw.key = std::string_view(reinterpret_cast<const char*>(data + 2), key_len);
  out.known_worker = (flags & kFlagKnownWorker) != 0;
  if ((flags & kFlagTombstone) == 0) {
    // An empty value keeps a non-null pointer: Kafka tells an empty value from a null one.
    out.raw.value = data + 2 + key_len;
    out.raw.value_len = size - 2 - key_len;
  }
  return out;
}

const domain::Rulebook& DefaultRules() {
  static const domain::Rulebook rules{domain::Policy{}};
  return rules;
}

namespace {

domain::WorkerState MakeKnownWorkerState() {
  domain::WorkerProfile profile;
  profile.worker.value = std::string(kKnownWorker);
  profile.name = "Wang Wei";
  profile.unit_id = "U07";
  profile.unit_name = "Rail maintenance";
  profile.grid_id = "U07-G12";
  profile.grid_name = "Depot 12";
  profile.health_manager = {"hm-31", "Li Na"};
  profile.unit_supervisor = {"sup-12", "Chen Jun"};
  profile.high_risk_posts = {domain::HighRiskPost::kDriver};
  profile.diagnosed_hypertension_grade = 2;
  profile.diabetes = true;
  profile.policy.focus_tracking = true;
  profile.policy.self_test_enrolled = true;
  profile.policy.extra_recipients = {{"dr-5", "Zhao Min"}};
  profile.updated_at_ms = kNow.ms - 10 * domain::kDayMs;

  domain::WorkerState state;
  const domain::ProcessingTime enrolled{kNow.ms - 2 * domain::kHourMs};
  DefaultRules().OnWorkerProfile(profile.worker, profile, state, enrolled);

  domain::Reading critical;
  critical.worker = profile.worker;
  critical.device_id = "omron-17";
  critical.station_id = "ST-12";
  critical.measured_at = {kNow.ms - domain::kHourMs};
  critical.context = domain::ReadingContext::kPreShift;
  critical.measurement = domain::BloodPressure{186, 112, 88};
  const domain::ReadingOutcome out = DefaultRules().OnReading(critical, state, {kNow.ms - domain::kHourMs});
  if (out.rejected || state.open.empty()) Fail("the prepared worker state has no open episode");
  return state;
}

template <typename Message>
void CheckParsesBack(const std::string& bytes, const char* what) {
  Message back;
  if (!back.ParseFromString(bytes)) Fail(std::string(what) + " does not parse back");
}

}  // namespace

domain::WorkerState StartState(bool known_worker) {
  if (!known_worker) return {};
  static const domain::WorkerState prepared = MakeKnownWorkerState();
  return prepared;
}

void CheckDeadLetter(const kafka::RawRecord& raw, const domain::Rejection& why) {
  if (why.message.empty()) Fail("a rejection without a message");
  const std::string bytes = kafka::EncodeDeadLetter(raw, why, kNow);
  healthgrid::v1::DeadLetter back;
  if (!back.ParseFromString(bytes)) Fail("the dead letter does not parse back: " + why.message);
  if (back.key() != raw.key) Fail("the dead letter changed the key");
  const std::string_view value(static_cast<const char*>(raw.value), raw.value == nullptr ? 0 : raw.value_len);
  if (back.original_value() != value) Fail("the dead letter changed the value");
  if (back.reason() == healthgrid::v1::DEAD_LETTER_REASON_UNSPECIFIED) Fail("a dead letter without a reason");
}

void CheckOutcome(const domain::Outcome& outcome) {
  for (const domain::Escalation& e : outcome.escalations) {
    if (e.event_id.empty() || e.episode_id.empty()) Fail("an escalation without event or episode id");
    CheckParsesBack<healthgrid::v1::Escalation>(kafka::EncodeEscalation(e), "an escalation");
  }
  for (const domain::Referral& r : outcome.referrals) {
    CheckParsesBack<healthgrid::v1::Referral>(kafka::EncodeReferral(r), "a referral");
  }
}

void Fail(std::string_view what) {
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace alertd::fuzz
