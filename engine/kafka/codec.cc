// Decoding of input topics and encoding of output topics (protobuf on the wire).
#include "engine/kafka/codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <algorithm>
#include <vector>

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

Rejection TooLarge(const RawRecord& r, const std::string& what, std::size_t size, std::size_t bound) {
  return Rejection{RejectReason::kTooLarge,
                   Where(r) + ": " + what + " has " + std::to_string(size) + " bytes, at most " + std::to_string(bound) +
                       " accepted"};
}

// The record as a whole, before it is parsed: bounded bytes to parse, bounded key to store.
std::optional<Rejection> CheckRecordSize(const RawRecord& r, std::size_t max_value) {
  if (r.key.size() > kMaxKeyBytes) return TooLarge(r, "the key", r.key.size(), kMaxKeyBytes);
  if (r.value_len > max_value) return TooLarge(r, "the record", r.value_len, max_value);
  return std::nullopt;
}

std::optional<Rejection> CheckString(const RawRecord& r, const std::string& path, const std::string& value,
                                     bool is_id) {
  const std::size_t bound = is_id ? kMaxIdBytes : kMaxTextBytes;
  if (value.size() > bound) return TooLarge(r, path, value.size(), bound);
  return std::nullopt;
}

bool IsId(const google::protobuf::FieldDescriptor& field) {
  const std::string& name = field.name();
  return name == "id" || (name.size() > 3 && name.compare(name.size() - 3, 3, "_id") == 0);
}

// Every string and repeated field of `msg`, at any depth, within its bound. For the rarer topics
// (profiles, shifts, acks); readings check their few strings directly on the hot path.
std::optional<Rejection> CheckFieldBounds(const RawRecord& r, const google::protobuf::Message& msg,
                                          const std::string& prefix) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection& reflection = *msg.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(msg, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string path = prefix + field->name();
    if (field->is_repeated()) {
      const int n = reflection.FieldSize(msg, field);
      if (n > kMaxRepeated) {
        return Rejection{RejectReason::kTooLarge, Where(r) + ": " + path + " has " + std::to_string(n) +
                                                      " entries, at most " + std::to_string(kMaxRepeated) + " accepted"};
      }
      for (int i = 0; i < n; ++i) {
        const std::string item = path + "[" + std::to_string(i) + "]";
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          if (auto bad = CheckString(r, item, reflection.GetRepeatedString(msg, field, i), IsId(*field))) return bad;
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          if (auto bad = CheckFieldBounds(r, reflection.GetRepeatedMessage(msg, field, i), item + ".")) return bad;
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (auto bad = CheckString(r, path, reflection.GetString(msg, field), IsId(*field))) return bad;
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (auto bad = CheckFieldBounds(r, reflection.GetMessage(msg, field), path + ".")) return bad;
    }
  }
  return std::nullopt;
}

// Parses `r` as a `Message`, or says why not in the words of the dead-letter topic.
template <typename Message>
std::optional<Rejection> Parse(const RawRecord& r, Message& msg) {
  if (auto bad = CheckRecordSize(r, kMaxRecordBytes)) return bad;
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
  if (auto bad = CheckString(r, "worker_id", msg.worker_id(), true)) return *bad;
  if (auto bad = CheckString(r, "device_id", msg.device_id(), true)) return *bad;
  if (auto bad = CheckString(r, "station_id", msg.station_id(), true)) return *bad;
  if (auto bad = CheckString(r, "reading_id", msg.reading_id(), true)) return *bad;
  if (!healthgrid::v1::MeasurementContext_IsValid(msg.context())) {
    return Rejection{RejectReason::kUnknownValue,
                     Where(r) + ": context " + std::to_string(msg.context()) +
                         " is not a known measurement context (expected SELF_TEST, PRE_SHIFT, CHECKUP or CLINIC)"};
  }
  if (msg.has_glucose() && !healthgrid::v1::GlucoseTiming_IsValid(msg.glucose().timing())) {
    return Rejection{RejectReason::kUnknownValue,
                     Where(r) + ": glucose timing " + std::to_string(msg.glucose().timing()) +
                         " is not a known timing (expected FASTING, RANDOM or POSTPRANDIAL_2H)"};
  }
  return wire::FromProto(msg);
}

std::variant<std::optional<domain::WorkerProfile>, domain::Rejection> DecodeProfile(const RawRecord& r) {
  if (r.key.empty()) {
    return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": profile without a key (expected the worker id)"};
  }
  if (!wire::IsValidUtf8(r.key)) {
    return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": key is not valid UTF-8 (expected the worker id)"};
  }
  if (auto bad = CheckRecordSize(r, kMaxProfileBytes)) return *bad;
  if (r.value == nullptr) return std::optional<domain::WorkerProfile>{};
  healthgrid::v1::WorkerProfile msg;
  if (!msg.ParseFromArray(r.value, static_cast<int>(r.value_len))) {
    return Rejection{RejectReason::kUndecodable, Where(r) + ": " + std::to_string(r.value_len) +
                                                     " bytes are not a healthgrid.v1.WorkerProfile"};
  }
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  if (auto bad = CheckFieldBounds(r, msg, "")) return *bad;
  domain::WorkerProfile p = wire::FromProto(msg);
  p.worker.value = std::string(r.key);
  return std::optional<domain::WorkerProfile>(std::move(p));
}

std::variant<domain::ShiftEvent, domain::Rejection> DecodeShift(const RawRecord& r) {
  healthgrid::v1::ShiftEvent msg;
  if (auto bad = Parse(r, msg)) return *bad;
  if (auto bad = CheckKey(r, msg.worker_id())) return *bad;
  if (msg.worker_id().empty()) return Rejection{RejectReason::kMissingWorkerId, Where(r) + ": shift without worker_id"};
  if (auto bad = CheckFieldBounds(r, msg, "")) return *bad;
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
  if (auto bad = CheckFieldBounds(r, msg, "")) return *bad;
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
  // Bounded, so that a record of any size can be dead-lettered within the broker's message limit.
  dl.set_key(std::string(r.key.substr(0, kDeadLetterKeyBytes)));
  if (r.value != nullptr) {
    dl.set_original_value(static_cast<const char*>(r.value), std::min(r.value_len, kDeadLetterValueBytes));
  }
  dl.set_original_value_bytes(r.value_len);
  dl.set_truncated(r.key.size() > kDeadLetterKeyBytes || r.value_len > kDeadLetterValueBytes);
  dl.set_reason(static_cast<healthgrid::v1::DeadLetterReason>(why.reason));
  dl.set_message(why.message);
  dl.set_rejected_at_ms(now.ms);
  return dl.SerializeAsString();
}

}  // namespace alertd::kafka
