// Builds the template view model from an Escalation: codes to words, times to the grid's clock.
#include "engine/notify/view_model.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

json BloodPressureView(const pb::EvidenceReading& r, int offset, Language language) {
  return json{{"systolic", std::to_string(r.systolic_mmhg())},
              {"diastolic", std::to_string(r.diastolic_mmhg())},
              {"pulse", r.pulse_bpm() == 0 ? std::string() : std::to_string(r.pulse_bpm())},
              {"has_pulse", r.pulse_bpm() != 0},
              {"category", CategoryWords(r.category(), language)},
              {"context", ContextWords(r.context(), language)},
              {"measured_at", LocalTimeText(r.measured_at_ms(), offset)}};
}

json GlucoseView(const pb::EvidenceGlucose& g, int offset, Language language) {
  return json{{"mmol_per_l", fmt::format("{:.1f}", g.mmol_per_l())},
              {"timing", TimingWords(g.timing(), language)},
              {"context", ContextWords(g.context(), language)},
              {"measured_at", LocalTimeText(g.measured_at_ms(), offset)}};
}

json WindowView(const pb::Escalation& event, int offset, Language language) {
  const pb::WindowStats& w = event.window();
  const bool set = event.has_window();
  return json{{"readings", set ? std::to_string(w.readings()) : ""},
              {"days", set ? std::to_string(w.days()) : ""},
              {"mean_systolic", set ? fmt::format("{:.0f}", w.mean_systolic_mmhg()) : ""},
              {"mean_diastolic", set ? fmt::format("{:.0f}", w.mean_diastolic_mmhg()) : ""},
              {"category", set ? std::string(CategoryWords(w.mean_category(), language)) : ""},
              {"from", set ? LocalTimeText(w.start_ms(), offset) : ""},
              {"to", set ? LocalTimeText(w.end_ms(), offset) : ""}};
}

void AddLink(json& view, const char* name, const std::string& url) {
  view[fmt::format("has_{}_url", name)] = !url.empty();
  view[fmt::format("{}_url", name)] = url;
}

}  // namespace

std::string JsonText(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string UtcOffsetText(int utc_offset_minutes) {
  const int magnitude = std::abs(utc_offset_minutes);
  return fmt::format("{}{:02}:{:02}", utc_offset_minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
}

std::string LocalTimeText(int64_t ms_since_epoch, int utc_offset_minutes) {
  if (ms_since_epoch == 0) return "";
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{ms_since_epoch} + minutes{utc_offset_minutes}};
  const sys_days day = floor<days>(local);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{local - day};
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count());
}

json BuildView(const pb::Escalation& event, const pb::Recipient& recipient, const MessageLinks& links,
               const MessagePlace& place, Language language) {
  const int offset = place.utc_offset_minutes;
  json view{
      {"event_id", event.event_id()},
      {"episode_id", event.episode_id()},
      {"sequence", std::to_string(event.sequence())},
      {"worker_id", event.worker_id()},
      // A worker whose profile has not arrived yet is named by id: a message never says "".
      {"worker_name", event.worker_name().empty() ? event.worker_id() : event.worker_name()},
      {"unit_id", event.unit_id()},
      {"unit_name", place.unit_name.empty() ? event.unit_id() : place.unit_name},
      {"grid_id", event.grid_id()},
      {"grid_name", place.grid_name.empty() ? event.grid_id() : place.grid_name},
      {"rule_code", RuleCode(event.rule())},
      {"rule", RuleWords(event.rule(), language)},
      {"severity_code", pb::Severity_IsValid(event.severity()) ? pb::Severity_Name(event.severity()) : "UNKNOWN"},
      {"severity", SeverityWords(event.severity(), language)},
      {"is_urgent", event.severity() >= pb::URGENT},
      {"state_code", pb::EscalationState_IsValid(event.state()) ? pb::EscalationState_Name(event.state()) : "UNKNOWN"},
      {"state", StateWords(event.state(), language)},
      {"is_open", event.state() == pb::OPEN},
      {"is_escalated", event.state() == pb::ESCALATED},
      {"is_renotified", event.state() == pb::RENOTIFIED},
      {"is_resolved", event.state() == pb::RESOLVED},
      {"level_code", pb::EscalationLevel_IsValid(event.level()) ? pb::EscalationLevel_Name(event.level()) : "UNKNOWN"},
      {"level", LevelWords(event.level(), language)},
      {"recipient_id", recipient.id()},
      {"recipient_name", recipient.name().empty() ? recipient.id() : recipient.name()},
      {"recipient_role", RoleWords(recipient.role(), language)},
      {"reason", event.reason()},
      {"action", ActionWords(event, language)},
      {"opened_at", LocalTimeText(event.opened_at_ms(), offset)},
      {"trigger_at", LocalTimeText(event.trigger_at_ms(), offset)},
      {"emitted_at", LocalTimeText(event.emitted_at_ms(), offset)},
      {"utc_offset", UtcOffsetText(offset)},
      {"language", LanguageTag(language)},
  };
  json pressures = json::array();
  for (const pb::EvidenceReading& r : event.evidence()) pressures.push_back(BloodPressureView(r, offset, language));
  view["has_blood_pressure"] = !pressures.empty();
  view["has_latest_blood_pressure"] = !pressures.empty();
  view["latest_blood_pressure"] =
      pressures.empty() ? BloodPressureView(pb::EvidenceReading{}, offset, language) : pressures.back();
  view["blood_pressure"] = std::move(pressures);

  json glucose = json::array();
  for (const pb::EvidenceGlucose& g : event.glucose_evidence()) glucose.push_back(GlucoseView(g, offset, language));
  view["has_glucose"] = !glucose.empty();
  view["has_latest_glucose"] = !glucose.empty();
  view["latest_glucose"] = glucose.empty() ? GlucoseView(pb::EvidenceGlucose{}, offset, language) : glucose.back();
  view["glucose"] = std::move(glucose);

  view["has_window"] = event.has_window();
  view["window"] = WindowView(event, offset, language);

  AddLink(view, "acknowledge", links.acknowledge);
  AddLink(view, "resolve", links.resolve);
  AddLink(view, "snooze", links.snooze);
  AddLink(view, "worker", links.worker_page);
  return view;
}

json SpecimenView(Language language) {
  pb::Escalation event;
  event.set_event_id("specimen-event");
  event.set_episode_id("specimen-episode");
  event.set_sequence(1);
  event.set_worker_id("W000000");
  event.set_worker_name("specimen");
  event.set_rule(pb::R1_CRITICAL_BP);
  event.set_severity(pb::URGENT);
  event.set_level(pb::HEALTH_MANAGER);
  event.set_state(pb::OPEN);
  event.set_opened_at_ms(1);
  event.set_trigger_at_ms(1);
  event.set_emitted_at_ms(1);
  pb::EvidenceReading* bp = event.add_evidence();
  bp->set_systolic_mmhg(180);
  bp->set_diastolic_mmhg(110);
  bp->set_pulse_bpm(80);
  event.add_glucose_evidence()->set_mmol_per_l(2.5);
  event.mutable_window()->set_readings(1);
  pb::Recipient recipient;
  recipient.set_id("specimen");
  const MessageLinks links{"https://a", "https://r", "https://s", "https://w"};
  return BuildView(event, recipient, links, MessagePlace{}, language);
}

}  // namespace alertd::notify
