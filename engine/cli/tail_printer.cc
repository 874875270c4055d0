// alertd-tail's output: lines for people, JSON objects for scripts, and the --summary.
#include "engine/cli/tail_printer.h"

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "absl/strings/escaping.h"
#include "engine/cli/grid_time.h"
#include "engine/cli/tail_text.h"

namespace alertd::cli {
namespace {

constexpr size_t kPreviewBytes = 16;

// Enum names as the proto spells them, for JSON: stable for scripts across label changes.
Json EnumJson(const google::protobuf::EnumDescriptor* type, int value) {
  const google::protobuf::EnumValueDescriptor* named = type->FindValueByNumber(value);
  return named != nullptr ? Json(named->name()) : Json(value);
}

// The first non-zero of the given times, else the record's Kafka timestamp, else now.
int64_t DisplayTime(const Origin& origin, std::initializer_list<int64_t> candidates) {
  for (int64_t t : candidates) {
    if (t > 0) return t;
  }
  return origin.timestamp_ms > 0 ? origin.timestamp_ms : NowMs();
}

}  // namespace

void EventPrinter::Escalation(const Origin& origin, const hg::Escalation& e) {
  if (json_) return Emit(EscalationJson(origin, e));
  const int64_t when = DisplayTime(origin, {e.emitted_at_ms(), e.trigger_at_ms()});
  std::string recipients;
  for (const hg::Recipient& r : e.recipients()) {
    if (!recipients.empty()) recipients += ", ";
    recipients += fmt::format("{} ({})", Printable(r.name().empty() ? r.id() : r.name()), RoleLabel(r.role()));
  }
  // Backfilled or late readings trigger long after they were measured: say when.
  std::string trigger;
  if (e.trigger_at_ms() > 0 && std::abs(when - e.trigger_at_ms()) >= kMinuteMs) {
    trigger = fmt::format(" [trigger {}]", FormatGridTime(e.trigger_at_ms()));
  }
  Emit(fmt::format("{} {} {} {} {} {:<8} {} {}  {}{}  -> {}", FormatGridTime(when),
                   Styled(SeverityStyle(e.severity()), fmt::format("{:<8}", SeverityLabel(e.severity()))),
                   fmt::format("{:<25}", RuleLabel(e.rule())),
                   Styled(e.state() == hg::RESOLVED ? fmt::fg(fmt::terminal_color::green) : fmt::text_style(),
                          fmt::format("{:<10}", StateLabel(e.state()))),
                   Printable(e.unit_id()), Printable(e.grid_id()), Printable(e.worker_id()),
                   Printable(e.worker_name()), Printable(e.reason()), trigger,
                   recipients.empty() ? "(no recipients)" : recipients));
}

void EventPrinter::Referral(const Origin& origin, const hg::Referral& r) {
  if (json_) return Emit(ReferralJson(origin, r));
  const int64_t when = DisplayTime(origin, {r.emitted_at_ms(), r.trigger_at_ms()});
  std::string trigger;
  if (r.trigger_at_ms() > 0 && std::abs(when - r.trigger_at_ms()) >= kMinuteMs) {
    trigger = fmt::format(" [trigger {}]", FormatGridTime(r.trigger_at_ms()));
  }
  const hg::Person& manager = r.health_manager();
  Emit(fmt::format("{} {} {} {} {} {:<8} {} {}  {}{}  -> clinic; follow-up {}", FormatGridTime(when),
                   Styled(fmt::fg(fmt::terminal_color::blue) | fmt::emphasis::bold, "REFERRAL"),
                   fmt::format("{:<8}", UrgencyLabel(r.urgency())), fmt::format("{:<25}", RuleLabel(r.rule())),
                   Printable(r.unit_id()), Printable(r.grid_id()), Printable(r.worker_id()),
                   Printable(r.worker_name()), Printable(r.reason()), trigger,
                   manager.id().empty() ? "(no health manager)"
                                        : Printable(manager.name().empty() ? manager.id() : manager.name())));
}

void EventPrinter::DeadLetter(const Origin& origin, const hg::DeadLetter& d) {
  if (json_) return Emit(DeadLetterJson(origin, d));
  Emit(fmt::format("{} {} {} {}[{}]@{} key={}: {}", FormatGridTime(DisplayTime(origin, {d.rejected_at_ms()})),
                   Styled(fmt::fg(fmt::terminal_color::magenta), "DEAD-LETTER"), DeadLetterReasonLabel(d.reason()),
                   Printable(d.source_topic()), d.source_partition(), d.source_offset(), KeyText(&d.key()),
                   Printable(d.message())));
}

void EventPrinter::Undecodable(const Origin& origin, std::string_view bytes, const std::string& expected,
                               const std::string& why) {
  if (json_) {
    return Emit(Json{{"type", "undecodable"},
                     {"topic", origin.topic},
                     {"partition", origin.partition},
                     {"offset", origin.offset},
                     {"key", origin.has_key ? Json(origin.key) : Json(nullptr)},
                     {"size", bytes.size()},
                     {"expected", expected},
                     {"error", why},
                     {"value_base64", absl::Base64Escape(absl::string_view(bytes.data(), bytes.size()))}});
  }
  Emit(fmt::format("{} {} {}[{}]@{} key={}: {} bytes are not a {}: {}{}", FormatGridTime(DisplayTime(origin, {})),
                   Styled(fmt::fg(fmt::terminal_color::magenta) | fmt::emphasis::bold, "UNDECODABLE"), origin.topic,
                   origin.partition, origin.offset, origin.key, bytes.size(), expected, why,
                   bytes.empty() ? "" : " (starts " + HexPreview(bytes, kPreviewBytes) + ")"));
}

void EventPrinter::Summary(const Tally& t) {
  if (json_) {
    Json escalations = Json::array();
    for (const auto& [rule_state, count] : t.escalations) {
      escalations.push_back({{"rule", EnumJson(hg::Rule_descriptor(), rule_state.first)},
                             {"state", EnumJson(hg::EscalationState_descriptor(), rule_state.second)},
                             {"count", count}});
    }
    Json referrals = Json::array();
    for (const auto& [rule_urgency, count] : t.referrals) {
      referrals.push_back({{"rule", EnumJson(hg::Rule_descriptor(), rule_urgency.first)},
                           {"urgency", EnumJson(hg::ReferralUrgency_descriptor(), rule_urgency.second)},
                           {"count", count}});
    }
    Json dead_letters = Json::object();
    for (const auto& [reason, count] : t.dead_letters) {
      dead_letters[DeadLetterReasonLabel(static_cast<hg::DeadLetterReason>(reason))] = count;
    }
    return Emit(Json{{"type", "summary"},
                     {"escalations", t.escalation_total},
                     {"escalations_by_rule_and_state", escalations},
                     {"dead_letters", t.dead_letter_total},
                     {"dead_letters_by_reason", dead_letters},
                     {"referrals", t.referral_total},
                     {"referrals_by_rule_and_urgency", referrals},
                     {"undecodable", t.undecodable},
                     {"duplicates_dropped", t.duplicates}});
  }
  std::string out = fmt::format("alertd-tail summary: {} escalations, {} referrals, {} dead letters, {} undecodable, "
                                "{} duplicates dropped\n",
                                t.escalation_total, t.referral_total, t.dead_letter_total, t.undecodable,
                                t.duplicates);
  if (!t.escalations.empty()) out += "  escalations by rule and state:\n";
  for (auto it = t.escalations.begin(); it != t.escalations.end();) {
    const int rule = it->first.first;
    std::string states;
    for (; it != t.escalations.end() && it->first.first == rule; ++it) {
      if (!states.empty()) states += ", ";
      states += fmt::format("{} {}", StateLabel(static_cast<hg::EscalationState>(it->first.second)), it->second);
    }
    out += fmt::format("    {:<27}{}\n", RuleLabel(static_cast<hg::Rule>(rule)), states);
  }
  if (!t.referrals.empty()) out += "  referrals by rule and urgency:\n";
  for (auto it = t.referrals.begin(); it != t.referrals.end();) {
    const int rule = it->first.first;
    std::string urgencies;
    for (; it != t.referrals.end() && it->first.first == rule; ++it) {
      if (!urgencies.empty()) urgencies += ", ";
      urgencies += fmt::format("{} {}", UrgencyLabel(static_cast<hg::ReferralUrgency>(it->first.second)), it->second);
    }
    out += fmt::format("    {:<27}{}\n", RuleLabel(static_cast<hg::Rule>(rule)), urgencies);
  }
  if (!t.dead_letters.empty()) out += "  dead letters by reason:\n";
  for (const auto& [reason, count] : t.dead_letters) {
    out += fmt::format("    {:<27}{}\n", DeadLetterReasonLabel(static_cast<hg::DeadLetterReason>(reason)), count);
  }
  out.pop_back();  // Emit adds the last newline
  Emit(out);
}

fmt::text_style EventPrinter::SeverityStyle(hg::Severity severity) {
  switch (severity) {
    case hg::CRITICAL: return fmt::fg(fmt::terminal_color::bright_red) | fmt::emphasis::bold;
    case hg::URGENT: return fmt::fg(fmt::terminal_color::red);
    case hg::HIGH: return fmt::fg(fmt::terminal_color::yellow);
    case hg::INFO: return fmt::fg(fmt::terminal_color::cyan);
    default: return {};
  }
}

std::string EventPrinter::Styled(const fmt::text_style& style, const std::string& text) const {
  return color_ ? fmt::format(style, "{}", text) : text;
}

Json EventPrinter::OriginJson(const Origin& o, const char* type) {
  return Json{{"type", type},
              {"topic", o.topic},
              {"partition", o.partition},
              {"offset", o.offset},
              {"key", o.has_key ? Json(o.key) : Json(nullptr)}};
}

Json EventPrinter::EscalationJson(const Origin& origin, const hg::Escalation& e) {
  Json j = OriginJson(origin, "escalation");
  j["event_id"] = e.event_id();
  j["episode_id"] = e.episode_id();
  j["sequence"] = e.sequence();
  j["worker_id"] = e.worker_id();
  j["worker_name"] = e.worker_name();
  j["unit_id"] = e.unit_id();
  j["grid_id"] = e.grid_id();
  j["rule"] = EnumJson(hg::Rule_descriptor(), e.rule());
  j["severity"] = EnumJson(hg::Severity_descriptor(), e.severity());
  j["level"] = EnumJson(hg::EscalationLevel_descriptor(), e.level());
  j["state"] = EnumJson(hg::EscalationState_descriptor(), e.state());
  j["reason"] = e.reason();
  Json evidence = Json::array();
  for (const hg::EvidenceReading& r : e.evidence()) {
    evidence.push_back({{"measured_at_ms", r.measured_at_ms()},
                        {"measured_at", FormatGridTimeIso(r.measured_at_ms())},
                        {"systolic_mmhg", r.systolic_mmhg()},
                        {"diastolic_mmhg", r.diastolic_mmhg()},
                        {"pulse_bpm", r.pulse_bpm()},
                        {"category", EnumJson(hg::BpCategory_descriptor(), r.category())},
                        {"station_id", r.station_id()},
                        {"device_id", r.device_id()},
                        {"context", EnumJson(hg::MeasurementContext_descriptor(), r.context())}});
  }
  j["evidence"] = std::move(evidence);
  if (e.has_window()) {
    const hg::WindowStats& w = e.window();
    j["window"] = {{"start_ms", w.start_ms()},
                   {"end_ms", w.end_ms()},
                   {"readings", w.readings()},
                   {"days", w.days()},
                   {"mean_systolic_mmhg", w.mean_systolic_mmhg()},
                   {"mean_diastolic_mmhg", w.mean_diastolic_mmhg()},
                   {"mean_category", EnumJson(hg::BpCategory_descriptor(), w.mean_category())}};
  }
  Json recipients = Json::array();
  for (const hg::Recipient& r : e.recipients()) {
    recipients.push_back({{"id", r.id()},
                          {"name", r.name()},
                          {"role", EnumJson(hg::RecipientRole_descriptor(), r.role())}});
  }
  j["recipients"] = std::move(recipients);
  j["opened_at_ms"] = e.opened_at_ms();
  j["trigger_at_ms"] = e.trigger_at_ms();
  j["emitted_at_ms"] = e.emitted_at_ms();
  j["emitted_at"] = FormatGridTimeIso(e.emitted_at_ms());
  return j;
}

Json EventPrinter::ReferralJson(const Origin& origin, const hg::Referral& r) {
  Json j = OriginJson(origin, "referral");
  j["referral_id"] = r.referral_id();
  j["episode_id"] = r.episode_id();
  j["worker_id"] = r.worker_id();
  j["worker_name"] = r.worker_name();
  j["unit_id"] = r.unit_id();
  j["grid_id"] = r.grid_id();
  j["rule"] = EnumJson(hg::Rule_descriptor(), r.rule());
  j["urgency"] = EnumJson(hg::ReferralUrgency_descriptor(), r.urgency());
  j["reason"] = r.reason();
  j["evidence_readings"] = r.evidence_size();
  j["glucose_evidence_readings"] = r.glucose_evidence_size();
  j["health_manager"] = {{"id", r.health_manager().id()}, {"name", r.health_manager().name()}};
  j["trigger_at_ms"] = r.trigger_at_ms();
  j["emitted_at_ms"] = r.emitted_at_ms();
  j["emitted_at"] = FormatGridTimeIso(r.emitted_at_ms());
  return j;
}

Json EventPrinter::DeadLetterJson(const Origin& origin, const hg::DeadLetter& d) {
  Json j = OriginJson(origin, "dead_letter");
  j["source_topic"] = d.source_topic();
  j["source_partition"] = d.source_partition();
  j["source_offset"] = d.source_offset();
  j["source_key"] = KeyText(&d.key());
  j["reason"] = EnumJson(hg::DeadLetterReason_descriptor(), d.reason());
  j["message"] = d.message();
  j["rejected_at_ms"] = d.rejected_at_ms();
  j["rejected_at"] = FormatGridTimeIso(d.rejected_at_ms());
  // Whole and byte-exact, so a script can fix and replay the record.
  j["original_value_base64"] = absl::Base64Escape(d.original_value());
  return j;
}

void EventPrinter::Emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void EventPrinter::Emit(const Json& j) {
  // Strings from the wire may hold invalid UTF-8; replace it rather than throw.
  Emit(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace alertd::cli
