// How alertd-tail writes wire values for people: the wire enums' labels, and bytes made safe to print.
//
// The labels are the tail's seam to the project's one label table per enum: each function below is
// what the tail asks for, by wire enum, with unknown values (a newer engine) printed as numbers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "health.pb.h"

namespace alertd::cli {

std::string RuleLabel(healthgrid::v1::Rule rule);                          // "R1 critical BP"
std::string SeverityLabel(healthgrid::v1::Severity severity);              // "URGENT"
std::string StateLabel(healthgrid::v1::EscalationState state);             // "ESCALATED"
std::string RoleLabel(healthgrid::v1::RecipientRole role);                 // "health manager"
std::string UrgencyLabel(healthgrid::v1::ReferralUrgency urgency);         // "ROUTINE"
std::string DeadLetterReasonLabel(healthgrid::v1::DeadLetterReason reason);  // the proto's name

// Text from the wire, made safe for a terminal: control characters (escape sequences included)
// become '?'. UTF-8 passes, so names written in Chinese characters still read.
std::string Printable(std::string_view text);

// A Kafka key as people read it: worker ids are plain text; anything else is C-escaped
// (absl::CHexEscape). A null key is "(null)".
std::string KeyText(const std::string* key);

// The first `max_bytes` bytes as space-separated hex, " ..." if there are more.
std::string HexPreview(std::string_view bytes, size_t max_bytes);

}  // namespace alertd::cli
