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
