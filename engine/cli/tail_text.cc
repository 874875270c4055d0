// How alertd-tail writes wire values for people: enum labels, printable text, keys, byte previews.
#include "engine/cli/tail_text.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "engine/domain/types.h"
#include "engine/wire/convert.h"

namespace alertd::cli {

namespace hg = healthgrid::v1;

namespace {

// The domain's words for a wire value (engine/domain/labels.h, one table per enum); a value the
// domain does not know reads `unknown` with its number, so a newer producer's value still prints.
template <typename ProtoEnum>
std::string Words(ProtoEnum value, fmt::format_string<int> unknown) {
  const auto known = wire::FromProtoEnum(value);
  return known ? std::string(domain::Text(*known)) : fmt::format(unknown, static_cast<int>(value));
}

}  // namespace

std::string RuleLabel(hg::Rule rule) { return Words(rule, "rule {}"); }
std::string SeverityLabel(hg::Severity severity) { return Words(severity, "SEV-{}"); }
std::string StateLabel(hg::EscalationState state) { return Words(state, "STATE-{}"); }
std::string RoleLabel(hg::RecipientRole role) { return Words(role, "role {}"); }
std::string UrgencyLabel(hg::ReferralUrgency urgency) { return Words(urgency, "URGENCY-{}"); }

std::string DeadLetterReasonLabel(hg::DeadLetterReason reason) {
  const std::string& name = hg::DeadLetterReason_Name(reason);
  return name.empty() ? fmt::format("REASON-{}", static_cast<int>(reason)) : name;
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7f ? '?' : c);
  }
  return out;
}

std::string KeyText(const std::string* key) { return key == nullptr ? "(null)" : absl::CHexEscape(*key); }

std::string HexPreview(std::string_view bytes, size_t max_bytes) {
  std::string out;
  for (size_t i = 0; i < std::min(bytes.size(), max_bytes); ++i) {
    if (i > 0) out.push_back(' ');
    out += fmt::format("{:02x}", static_cast<unsigned char>(bytes[i]));
  }
  if (bytes.size() > max_bytes) out += " ...";
  return out;
}

}  // namespace alertd::cli
