// Kafka records <-> domain values: decoding never throws; bad bytes become a Rejection to dead-letter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/domain/types.h"

namespace alertd::kafka {

// A record as it came off the wire. `value == nullptr` is a tombstone.
struct RawRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;
  const void* value = nullptr;
  std::size_t value_len = 0;
};

// What alertd accepts from its inputs. A record beyond a bound is rejected (TOO_LARGE) before it can
// touch state, so nothing a worker's windows or an escalation quote can grow without bound: an
// escalation quotes at most a few readings, each with a bounded device and station id, and stays far
// below the broker's 1 MB message limit.
inline constexpr std::size_t kMaxRecordBytes = 64 << 10;   // a reading, shift or ack (~100 bytes each)
inline constexpr std::size_t kMaxProfileBytes = 256 << 10;  // a worker profile with its policy and people
inline constexpr std::size_t kMaxKeyBytes = 128;            // the Kafka key: a worker id
inline constexpr std::size_t kMaxIdBytes = 128;             // any *_id field
inline constexpr std::size_t kMaxTextBytes = 1024;          // any other string field (names, notes)
inline constexpr int kMaxRepeated = 64;                     // any repeated field (recipients, posts)
// A dead letter keeps the original key and value up to these sizes, so a rejected record of any size
// can always be dead-lettered; DeadLetter.truncated says when it was cut.
inline constexpr std::size_t kDeadLetterValueBytes = 4 << 10;
inline constexpr std::size_t kDeadLetterKeyBytes = 256;

// A reading with an unset context (0) is a self-test and an unset glucose timing is random; a value
// this build does not know (e.g. context 99) is rejected as UNKNOWN_VALUE rather than guessed.
std::variant<domain::Reading, domain::Rejection> DecodeReading(const RawRecord& r);

// nullopt profile: the worker was removed (tombstone).
std::variant<std::optional<domain::WorkerProfile>, domain::Rejection> DecodeProfile(const RawRecord& r);

// Clock-ins (topic shifts) and answers to escalations (topic escalation-acks). `now` stands in for a
// missing ack time: the engine received it now. An ack without an episode_id acts on the worker's open
// episode of its rule, so it must name a known rule.
std::variant<domain::ShiftEvent, domain::Rejection> DecodeShift(const RawRecord& r);
std::variant<domain::EscalationAck, domain::Rejection> DecodeAck(const RawRecord& r, domain::ProcessingTime now);

std::string EncodeEscalation(const domain::Escalation& e);

// A healthgrid.v1.Referral for the referrals topic (key: the worker id).
std::string EncodeReferral(const domain::Referral& r);

std::string EncodeDeadLetter(const RawRecord& r, const domain::Rejection& why, domain::ProcessingTime now);

}  // namespace alertd::kafka
