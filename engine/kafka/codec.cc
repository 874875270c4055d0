// Decoding of input topics and encoding of output topics (protobuf on the wire).
#include "engine/kafka/codec.h"

#include "engine/wire/convert.h"
#include "health.pb.h"

namespace alertd::kafka {
namespace {

using domain::RejectReason;
using domain::Rejection;

std::string Where(const RawRecord& r) {
  return std::string(r.topic) + "[" + std::to_string(r.partition) + "]@" + std::to_string(r.offset);
}

// A Kafka key as the dead letter's message (a proto3 string) may quote it: as is when it is UTF-8,
// else with every byte outside printable ASCII as \xNN. Quoted raw, a binary key made the whole dead
// letter unreadable to its consumers.
std::string Quoted(std::string_view key) {
  if (wire::IsValidUtf8(key)) return std::string(key);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      out += {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
    }
  }
  return out;
}

std::optional<Rejection> CheckKey(const RawRecord& r, const std::string& worker_id) {
  if (r.key.empty() || worker_id.empty() || r.key == worker_id) return std::nullopt;
  return Rejection{RejectReason::kKeyMismatch, "key '" + Quoted(r.key) + "' differs from worker_id '" + worker_id +
                                                   "' (records must be keyed by worker id)"};
}

// Parses `r` as a `Message`, or says why not in the words of the dead-letter topic.
template <typename Message>
std::optional<Rejection> Parse(const RawRecord& r, Message& msg) {
  if (r.value != nullptr && r.value_len > 0 && msg.ParseFromArray(r.value, static_cast<int>(r.value_len))) {
    return std::nullopt;
  }
  return Rejection{RejectReason::kUndecodable,
                   Where(r) + ": " + std::to_string(r.value_len) + " bytes are not a " + Message::descriptor()->full_name()};
}

}  // namespace

std::variant<domain::Reading, domain::Rejection> DecodeReading(const RawRecord& r) {
  // Reused: Clear() keeps the strings' storage, so decoding a reading allocates nothing here.
  thread_local healthgrid::v1::Reading msg;
  msg.Clear();
  if (auto bad = Parse(r, msg)) return *bad;
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  // The engine needs the worker to find the state; the rules' own check never sees an empty id.
  if (msg.worker_id().empty()) return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": reading without worker_id"};
  return wire::FromProto(msg);
}

std::variant<std::optional<domain::WorkerProfile>, domain::Rejection> DecodeProfile(const RawRecord& r) {
  if (r.key.empty()) {
    return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": profile without a key (expected the worker id)"};
  }
  if (!wire::IsValidUtf8(r.key)) {
    return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": key is not valid UTF-8 (expected the worker id)"};
  }
  if (r.value == nullptr) return std::optional<domain::WorkerProfile>{};
  healthgrid::v1::WorkerProfile msg;
  if (!msg.ParseFromArray(r.value, static_cast<int>(r.value_len))) {
    return Rejection{RejectReason::kUndecodable, Where(r) + ": " + std::to_string(r.value_len) +
                                                     " bytes are not a healthgrid.v1.WorkerProfile"};
  }
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  domain::WorkerProfile p = wire::FromProto(msg);
  p.worker.value = std::string(r.key);
  return std::optional<domain::WorkerProfile>(std::move(p));
}

std::variant<domain::ShiftEvent, domain::Rejection> DecodeShift(const RawRecord& r) {
  healthgrid::v1::ShiftEvent msg;
  if (auto bad = Parse(r, msg)) return *bad;
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  if (msg.worker_id().empty()) return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": shift without worker_id"};
  if (msg.clock_in_at_ms() <= 0) {
    return Rejection{RejectReason::kMissingTimestamp, Where(r) + ": shift without clock_in_at_ms"};
  }
  if (!wire::FromProtoEnum(msg.post())) {
    return Rejection{RejectReason::kImpossibleValue,
                     Where(r) + ": shift post " + std::to_string(msg.post()) +
                         " is not a known high-risk post (expected DRIVER, WORK_AT_HEIGHT, HOT_WORK, CONFINED_SPACE or "
                         "ELECTRICAL)"};
  }
  return wire::FromProto(msg);
}

std::variant<domain::EscalationAck, domain::Rejection> DecodeAck(const RawRecord& r, domain::ProcessingTime now) {
  healthgrid::v1::EscalationAck msg;
  if (auto bad = Parse(r, msg)) return *bad;
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  if (msg.worker_id().empty()) return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": ack without worker_id"};
  if (msg.action() == healthgrid::v1::ACK_ACTION_UNSPECIFIED) {
    return Rejection{RejectReason::kImpossibleValue, Where(r) + ": ack needs an action (ACKNOWLEDGE, RESOLVE or SNOOZE)"};
  }
  if (msg.episode_id().empty() && !wire::FromProtoEnum(msg.rule())) {
    return Rejection{RejectReason::kImpossibleValue,
                     Where(r) + ": ack without episode_id needs a known rule (R1_CRITICAL_BP .. R6_FOCUS_TRACKING), got " +
                         std::to_string(msg.rule())};
  }
  if (msg.action() == healthgrid::v1::SNOOZE && msg.snooze_until_ms() <= 0) {
    return Rejection{RejectReason::kImpossibleValue, Where(r) + ": SNOOZE without snooze_until_ms"};
  }
  domain::EscalationAck ack = wire::FromProto(msg);
  if (msg.at_ms() <= 0) ack.at = now;
  return ack;
}

// Output messages are reused, like the reading in DecodeReading: Clear() keeps their strings and
// repeated elements, so encoding an event allocates little more than the bytes it returns.
std::string EncodeEscalation(const domain::Escalation& e) {
  thread_local healthgrid::v1::Escalation msg;
  msg.Clear();
  wire::ToProto(e, msg);
  return msg.SerializeAsString();
}

std::string EncodeReferral(const domain::Referral& r) {
  thread_local healthgrid::v1::Referral msg;
  msg.Clear();
  wire::ToProto(r, msg);
  return msg.SerializeAsString();
}

std::string EncodeDeadLetter(const RawRecord& r, const domain::Rejection& why, domain::ProcessingTime now) {
  healthgrid::v1::DeadLetter dl;
  dl.set_source_topic(std::string(r.topic));
  dl.set_source_partition(r.partition);
  dl.set_source_offset(r.offset);
  dl.set_key(std::string(r.key));
  if (r.value != nullptr) dl.set_original_value(static_cast<const char*>(r.value), r.value_len);
  dl.set_reason(static_cast<healthgrid::v1::DeadLetterReason>(why.reason));
  dl.set_message(why.message);
  dl.set_rejected_at_ms(now.ms);
  return dl.SerializeAsString();
}

}  // namespace alertd::kafka
