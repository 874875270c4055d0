// Conversions between the protobuf wire messages (health.proto) and the pure domain values.
//
// This is the one place that knows both vocabularies: the Kafka codec, the state store and the tools
// all convert through it. Conversions do not validate: a Reading with impossible values converts as
// is and engine/domain's ValidateReading refuses it later with a reason.
//
// Enumerations: domain and proto enumerators carry equal numbers (convert.cc static_asserts it), so
// the conversion is a range check plus a cast. Message conversions map *_UNSPECIFIED and values this
// build does not know (a newer producer) to a documented default:
//   MeasurementContext -> ReadingContext::kSelfTest   (as health.proto specifies)
//   GlucoseTiming      -> GlucoseTiming::kRandom      (as health.proto specifies)
//   HighRiskPost       -> skipped                     (a post we cannot name makes no rule fire)
//   every other enum   -> the default member value of the domain struct it lands in
//                         (BpCategory::kNormal, Rule::kR1CriticalBp, Severity::kUrgent,
//                          EscalationLevel::kHealthManager, EscalationState::kOpen,
//                          RecipientRole::kHealthManager, ReferralUrgency::kRoutine)
// Callers that must tell "unknown" from a real value use FromProtoEnum, which returns nullopt.
// A domain enum holding a value outside its enumerators (a bug) becomes *_UNSPECIFIED on the wire.
//
// Integers: proto uint32 fields hold domain ints. A uint32 above INT_MAX becomes INT_MAX and a
// negative int becomes 0, so an out-of-range number stays out of range instead of wrapping around
// into a plausible one.
//
// Not carried: Reading.reading_id (domain::Reading has no such field; it is informational).
//
// Thread-safety: free functions without shared state; safe from any thread.
#pragma once

#include <optional>
#include <string_view>

#include "engine/domain/types.h"
#include "health.pb.h"

namespace alertd::wire {

// --- Messages ---------------------------------------------------------------------------------

// No measurement set -> std::monostate. The worker id is copied as is (empty stays empty).
domain::Reading FromProto(const healthgrid::v1::Reading& proto);
healthgrid::v1::Reading ToProto(const domain::Reading& reading);

// Unknown or unspecified high-risk posts are skipped.
domain::WorkerProfile FromProto(const healthgrid::v1::WorkerProfile& proto);
healthgrid::v1::WorkerProfile ToProto(const domain::WorkerProfile& profile);

domain::BpSample FromProto(const healthgrid::v1::EvidenceReading& proto);
healthgrid::v1::EvidenceReading ToProto(const domain::BpSample& sample);

domain::GlucoseSample FromProto(const healthgrid::v1::EvidenceGlucose& proto);
healthgrid::v1::EvidenceGlucose ToProto(const domain::GlucoseSample& sample);

domain::WindowStats FromProto(const healthgrid::v1::WindowStats& proto);
healthgrid::v1::WindowStats ToProto(const domain::WindowStats& stats);

// A recipient as an escalation names it (and a stored episode history remembers it). An unknown role
// reads as HEALTH_MANAGER; the store checks the role first.
domain::Recipient FromProto(const healthgrid::v1::Recipient& proto);
void ToProto(const domain::Recipient& recipient, healthgrid::v1::Recipient& out);

// `window` is set iff the message has one.
domain::Escalation FromProto(const healthgrid::v1::Escalation& proto);

// Shift clock-ins and acknowledgements. Unknown enum values come back as the struct's default;
// callers that must refuse them check the proto with FromProtoEnum first (kafka/codec.cc does).
domain::ShiftEvent FromProto(const healthgrid::v1::ShiftEvent& proto);
domain::EscalationAck FromProto(const healthgrid::v1::EscalationAck& proto);
healthgrid::v1::Escalation ToProto(const domain::Escalation& escalation);
// Fills `out`, which should be empty (Clear()ed): a reused message keeps its strings' storage.
void ToProto(const domain::Escalation& escalation, healthgrid::v1::Escalation& out);

// Clinic referrals (topic referrals). `window` is set iff the message has one; the known conditions
// travel as a KnownConditions message.
healthgrid::v1::Referral ToProto(const domain::Referral& referral);
void ToProto(const domain::Referral& referral, healthgrid::v1::Referral& out);
domain::Referral FromProto(const healthgrid::v1::Referral& proto);

// --- Enumerations -----------------------------------------------------------------------------

// nullopt for *_UNSPECIFIED and for numbers this build does not know.
std::optional<domain::BpCategory> FromProtoEnum(healthgrid::v1::BpCategory value);
std::optional<domain::ReadingContext> FromProtoEnum(healthgrid::v1::MeasurementContext value);
std::optional<domain::GlucoseTiming> FromProtoEnum(healthgrid::v1::GlucoseTiming value);
std::optional<domain::HighRiskPost> FromProtoEnum(healthgrid::v1::HighRiskPost value);
std::optional<domain::Rule> FromProtoEnum(healthgrid::v1::Rule value);
std::optional<domain::Severity> FromProtoEnum(healthgrid::v1::Severity value);
std::optional<domain::EscalationLevel> FromProtoEnum(healthgrid::v1::EscalationLevel value);
std::optional<domain::EscalationState> FromProtoEnum(healthgrid::v1::EscalationState value);
std::optional<domain::RecipientRole> FromProtoEnum(healthgrid::v1::RecipientRole value);
std::optional<domain::RejectReason> FromProtoEnum(healthgrid::v1::DeadLetterReason value);
std::optional<domain::ReferralUrgency> FromProtoEnum(healthgrid::v1::ReferralUrgency value);

healthgrid::v1::BpCategory ToProto(domain::BpCategory value);
healthgrid::v1::MeasurementContext ToProto(domain::ReadingContext value);
healthgrid::v1::GlucoseTiming ToProto(domain::GlucoseTiming value);
healthgrid::v1::HighRiskPost ToProto(domain::HighRiskPost value);
healthgrid::v1::Rule ToProto(domain::Rule value);
healthgrid::v1::Severity ToProto(domain::Severity value);
healthgrid::v1::EscalationLevel ToProto(domain::EscalationLevel value);
healthgrid::v1::EscalationState ToProto(domain::EscalationState value);
healthgrid::v1::RecipientRole ToProto(domain::RecipientRole value);
healthgrid::v1::DeadLetterReason ToProto(domain::RejectReason value);
healthgrid::v1::ReferralUrgency ToProto(domain::ReferralUrgency value);

// --- Text -------------------------------------------------------------------------------------

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above
// U+10FFFF). Protobuf serializes a proto3 `string` field holding anything else but then refuses to
// parse it, so bytes from outside a parsed message (a Kafka key used as a worker id) must pass this
// before they go into one.
[[nodiscard]] bool IsValidUtf8(std::string_view text);

}  // namespace alertd::wire
