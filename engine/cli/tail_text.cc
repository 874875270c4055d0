// How alertd-tail writes wire values for people: enum labels, printable text, keys, byte previews.
#include "engine/cli/tail_text.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/escaping.h"

namespace alertd::cli {

namespace hg = healthgrid::v1;

std::string RuleLabel(hg::Rule rule) {
  switch (rule) {
    case hg::R1_CRITICAL_BP: return "R1 critical BP";
    case hg::R2_SUSTAINED_HYPERTENSION: return "R2 sustained hypertension";
    case hg::R3_SELF_TEST_MISSED: return "R3 self-test missed";
    case hg::R4_PRE_SHIFT_FITNESS: return "R4 pre-shift fitness";
    case hg::R5_GLUCOSE: return "R5 glucose";
    case hg::R6_FOCUS_TRACKING: return "R6 focus tracking";
    default: return fmt::format("rule {}", static_cast<int>(rule));
  }
}

std::string SeverityLabel(hg::Severity severity) {
  switch (severity) {
    case hg::INFO: return "INFO";
    case hg::HIGH: return "HIGH";
    case hg::URGENT: return "URGENT";
    case hg::CRITICAL: return "CRITICAL";
    default: return fmt::format("SEV-{}", static_cast<int>(severity));
  }
}

std::string StateLabel(hg::EscalationState state) {
  switch (state) {
    case hg::OPEN: return "OPEN";
    case hg::ESCALATED: return "ESCALATED";
    case hg::RENOTIFIED: return "RENOTIFIED";
    case hg::RESOLVED: return "RESOLVED";
    default: return fmt::format("STATE-{}", static_cast<int>(state));
  }
}

std::string RoleLabel(hg::RecipientRole role) {
  switch (role) {
    case hg::ROLE_WORKER: return "worker";
    case hg::ROLE_HEALTH_MANAGER: return "health manager";
    case hg::ROLE_UNIT_SUPERVISOR: return "unit supervisor";
    case hg::ROLE_EXTRA: return "policy recipient";
    default: return fmt::format("role {}", static_cast<int>(role));
  }
}

std::string UrgencyLabel(hg::ReferralUrgency urgency) {
  switch (urgency) {
    case hg::REFERRAL_ROUTINE: return "ROUTINE";
    case hg::REFERRAL_URGENT: return "URGENT";
    default: return fmt::format("URGENCY-{}", static_cast<int>(urgency));
  }
}

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
