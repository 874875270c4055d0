// The FHIR R4 mapping of referral_bundle.h: one builder per resource, assembled into the Bundle.
#include "engine/fhir/referral_bundle.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "engine/fhir/name_uuid.h"
#include "engine/notify/signing.h"

namespace alertd::fhir {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

constexpr const char* kObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
constexpr const char* kConditionClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
constexpr const char* kConditionVerification = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
constexpr const char* kConditionCategory = "http://terminology.hl7.org/CodeSystem/condition-category";
constexpr const char* kFlagCategory = "http://terminology.hl7.org/CodeSystem/flag-category";
constexpr const char* kBpProfile = "http://hl7.org/fhir/StructureDefinition/bp";
constexpr const char* kHeartRateProfile = "http://hl7.org/fhir/StructureDefinition/heartrate";
constexpr const char* kPreShiftUnfit = "不宜上岗 / unfit for duty before shift";

json Coding(const char* system, const char* code, const char* display) {
  return json{{"system", system}, {"code", code}, {"display", display}};
}

json Concept(const char* system, const char* code, const char* display) {
  return json{{"coding", json::array({Coding(system, code, display)})}, {"text", display}};
}

json Identifier(const std::string& system, const std::string& value) {
  return json{{"system", system}, {"value", value}};
}

json Ucum(double value, const char* unit, const char* code) {
  return json{{"value", value}, {"unit", unit}, {"system", kUcum}, {"code", code}};
}

// A token search parameter "system|value": FHIR escapes its own separators with '\' (search
// "Escaping Search Parameters"), then the URL encoding keeps both parts intact in a query string.
std::string TokenQuery(const std::string& system, const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '|' || c == ',' || c == '$') escaped.push_back('\\');
    escaped.push_back(c);
  }
  return "identifier=" + notify::PercentEncode(system) + "|" + notify::PercentEncode(escaped);
}

// One transaction entry: POST <type>, created only if no resource of the type has `identifier` yet.
struct Entry {
  std::string full_url;  // "urn:uuid:..."
  json resource;
  json identifier;
};

json BundleEntry(const Entry& e) {
  const std::string type = e.resource.at("resourceType").get<std::string>();
  return json{{"fullUrl", e.full_url},
              {"resource", e.resource},
              {"request",
               {{"method", "POST"},
                {"url", type},
                {"ifNoneExist", TokenQuery(e.identifier.at("system").get<std::string>(),
                                           e.identifier.at("value").get<std::string>())}}}};
}

std::string UrnFor(std::string_view kind, std::string_view name) {
  return "urn:uuid:" + NameUuid(kAlertdFhirNamespace, fmt::format("{}\x1f{}", kind, name));
}

Entry PatientEntry(const pb::Referral& r, const FhirOptions& o) {
  json patient{{"resourceType", "Patient"}, {"identifier", json::array({Identifier(o.worker_id_system, r.worker_id())})}};
  if (!r.worker_name().empty()) patient["name"] = json::array({{{"text", r.worker_name()}}});
  return {UrnFor("Patient", r.worker_id()), std::move(patient), Identifier(o.worker_id_system, r.worker_id())};
}

Entry PractitionerEntry(const pb::Person& manager, const FhirOptions& o) {
  json practitioner{{"resourceType", "Practitioner"},
                    {"identifier", json::array({Identifier(o.staff_id_system, manager.id())})}};
  if (!manager.name().empty()) practitioner["name"] = json::array({{{"text", manager.name()}}});
  return {UrnFor("Practitioner", manager.id()), std::move(practitioner), Identifier(o.staff_id_system, manager.id())};
}

// The fields every vital-signs Observation shares; `reading_key` names the reading for its identifier.
json VitalSign(const std::string& patient_url, const std::string& display, int64_t measured_at_ms,
               const char* profile, json code, const json& identifier) {
  return json{{"resourceType", "Observation"},
              {"meta", {{"profile", json::array({profile})}}},
              {"identifier", json::array({identifier})},
              {"status", "final"},
              {"category", json::array({Concept(kObservationCategory, "vital-signs", "Vital Signs")})},
              {"code", std::move(code)},
              {"subject", {{"reference", patient_url}, {"display", display}}},
              {"effectiveDateTime", notify::Rfc3339Utc(measured_at_ms)}};
}

json Component(const char* loinc, const char* display, uint32_t mmhg) {
  return json{{"code", Concept(kLoinc, loinc, display)}, {"valueQuantity", Ucum(mmhg, "mmHg", "mm[Hg]")}};
}

std::string ReadingKey(const pb::Referral& r, int64_t measured_at_ms, std::string_view what) {
  return fmt::format("{}/{}/{}", r.worker_id(), measured_at_ms, what);
}

absl::Status AppendBloodPressure(const pb::Referral& r, const FhirOptions& o, const std::string& patient_url,
                                 std::vector<Entry>& out) {
  for (int i = 0; i < r.evidence_size(); ++i) {
    const pb::EvidenceReading& e = r.evidence(i);
    if (e.measured_at_ms() <= 0 || e.systolic_mmhg() == 0 || e.diastolic_mmhg() == 0) {
      return absl::InvalidArgumentError(fmt::format(
          "referral {}: evidence[{}] needs measured_at_ms, systolic_mmhg and diastolic_mmhg", r.referral_id(), i));
    }
    const std::string key = ReadingKey(r, e.measured_at_ms(), "bp");
    json bp = VitalSign(patient_url, r.worker_name(), e.measured_at_ms(), kBpProfile,
                        Concept(kLoinc, kBpPanelLoinc, "Blood pressure panel with all children optional"),
                        Identifier(o.reading_id_system, key));
    bp["component"] = json::array({Component(kSystolicLoinc, "Systolic blood pressure", e.systolic_mmhg()),
                                   Component(kDiastolicLoinc, "Diastolic blood pressure", e.diastolic_mmhg())});
    out.push_back({UrnFor("Observation", key), std::move(bp), Identifier(o.reading_id_system, key)});
    if (e.pulse_bpm() == 0) continue;  // not measured
    const std::string pulse_key = ReadingKey(r, e.measured_at_ms(), "pulse");
    json pulse = VitalSign(patient_url, r.worker_name(), e.measured_at_ms(), kHeartRateProfile,
                           Concept(kLoinc, kHeartRateLoinc, "Heart rate"), Identifier(o.reading_id_system, pulse_key));
    pulse["valueQuantity"] = Ucum(e.pulse_bpm(), "beats/minute", "/min");
    out.push_back({UrnFor("Observation", pulse_key), std::move(pulse), Identifier(o.reading_id_system, pulse_key)});
  }
  return absl::OkStatus();
}

const char* GlucoseTimingText(pb::GlucoseTiming timing) {
  switch (timing) {
    case pb::FASTING:
      return "fasting / 空腹";
    case pb::POSTPRANDIAL_2H:
      return "2 hours after a meal / 餐后2小时";
    default:
      return "random / 随机";
  }
}

absl::Status AppendGlucose(const pb::Referral& r, const FhirOptions& o, const std::string& patient_url,
                           std::vector<Entry>& out) {
  for (int i = 0; i < r.glucose_evidence_size(); ++i) {
    const pb::EvidenceGlucose& g = r.glucose_evidence(i);
    if (g.measured_at_ms() <= 0 || !(g.mmol_per_l() > 0)) {
      return absl::InvalidArgumentError(
          fmt::format("referral {}: glucose_evidence[{}] needs measured_at_ms and a positive mmol_per_l",
                      r.referral_id(), i));
    }
    const std::string key = ReadingKey(r, g.measured_at_ms(), "glucose");
    // Not a vital sign in FHIR R4: a point-of-care measurement, categorised as laboratory.
    json obs{{"resourceType", "Observation"},
             {"identifier", json::array({Identifier(o.reading_id_system, key)})},
             {"status", "final"},
             {"category", json::array({Concept(kObservationCategory, "laboratory", "Laboratory")})},
             {"code", Concept(kLoinc, kCapillaryGlucoseLoinc, "Glucose [Moles/volume] in Capillary blood by Glucometer")},
             {"subject", {{"reference", patient_url}, {"display", r.worker_name()}}},
             {"effectiveDateTime", notify::Rfc3339Utc(g.measured_at_ms())},
             {"valueQuantity", Ucum(g.mmol_per_l(), "mmol/L", "mmol/L")},
             {"note", json::array({{{"text", GlucoseTimingText(g.timing())}}})}};
    out.push_back({UrnFor("Observation", key), std::move(obs), Identifier(o.reading_id_system, key)});
  }
  return absl::OkStatus();
}

// The diagnoses on file. The profile says only "hypertension grade N", "coronary heart disease" and
// "diabetes", not which kind, so each is a text code: I10 (essential) or E11 (type 2) would claim more.
void AppendConditions(const pb::Referral& r, const FhirOptions& o, const std::string& patient_url,
                      std::vector<Entry>& out) {
  const pb::KnownConditions& c = r.conditions();
  std::vector<std::pair<std::string, std::string>> on_file;  // (key, text)
  if (c.hypertension_grade() > 0) {
    on_file.emplace_back("hypertension", fmt::format("高血压 {}级 / hypertension, grade {}", c.hypertension_grade(),
                                                     c.hypertension_grade()));
  }
  if (c.coronary_heart_disease()) on_file.emplace_back("coronary-heart-disease", "冠心病 / coronary heart disease");
  if (c.diabetes()) on_file.emplace_back("diabetes", "糖尿病 / diabetes");
  for (const auto& [what, text] : on_file) {
    const std::string key = r.worker_id() + "/" + what;
    json condition{
        {"resourceType", "Condition"},
        {"identifier", json::array({Identifier(o.condition_id_system, key)})},
        {"clinicalStatus", Concept(kConditionClinical, "active", "Active")},
        {"verificationStatus", Concept(kConditionVerification, "confirmed", "Confirmed")},
        {"category", json::array({Concept(kConditionCategory, "problem-list-item", "Problem List Item")})},
        {"code", {{"text", text}}},
        {"subject", {{"reference", patient_url}, {"display", r.worker_name()}}}};
    out.push_back({UrnFor("Condition", key), std::move(condition), Identifier(o.condition_id_system, key)});
  }
}

std::string WindowNote(const pb::WindowStats& w) {
  return fmt::format("{} readings on {} days up to {}: mean {:.0f}/{:.0f} mmHg ({})", w.readings(), w.days(),
                     notify::Rfc3339Utc(w.end_ms()), w.mean_systolic_mmhg(), w.mean_diastolic_mmhg(),
                     pb::BpCategory_Name(w.mean_category()));
}

json ServiceRequest(const pb::Referral& r, const FhirOptions& o, const std::string& patient_url, json requester,
                    const std::vector<Entry>& evidence) {
  json sr{{"resourceType", "ServiceRequest"},
          {"identifier", json::array({Identifier(o.referral_id_system, r.referral_id())})},
          {"status", "active"},
          {"intent", "order"},
          {"priority", r.urgency() == pb::REFERRAL_URGENT ? "urgent" : "routine"},
          {"code", Concept(kSnomed, kPatientReferralSnomed, "Patient referral")},
          {"subject", {{"reference", patient_url}, {"display", r.worker_name()}}},
          {"authoredOn", notify::Rfc3339Utc(r.emitted_at_ms())}};
  if (!r.reason().empty()) sr["reasonCode"] = json::array({{{"text", r.reason()}}});
  if (!requester.is_null()) sr["requester"] = std::move(requester);
  json supporting = json::array();
  for (const Entry& e : evidence) supporting.push_back({{"reference", e.full_url}});
  if (!supporting.empty()) sr["supportingInfo"] = std::move(supporting);
  json notes = json::array(
      {{{"text", fmt::format("alertd {} episode {}", pb::Rule_Name(r.rule()), r.episode_id())}}});
  if (r.has_window()) notes.push_back({{"text", WindowNote(r.window())}});
  sr["note"] = std::move(notes);
  return sr;
}

}  // namespace

absl::StatusOr<json> ReferralBundle(const pb::Referral& r, const FhirOptions& o) {
  if (r.referral_id().empty()) return absl::InvalidArgumentError("referral: referral_id is empty");
  if (r.worker_id().empty()) return absl::InvalidArgumentError(fmt::format("referral {}: worker_id is empty", r.referral_id()));
  if (r.urgency() != pb::REFERRAL_URGENT && r.urgency() != pb::REFERRAL_ROUTINE) {
    return absl::InvalidArgumentError(
        fmt::format("referral {}: urgency {} is neither REFERRAL_URGENT nor REFERRAL_ROUTINE", r.referral_id(),
                    static_cast<int>(r.urgency())));
  }
  const Entry patient = PatientEntry(r, o);
  std::vector<Entry> evidence;
  if (absl::Status s = AppendBloodPressure(r, o, patient.full_url, evidence); !s.ok()) return s;
  if (absl::Status s = AppendGlucose(r, o, patient.full_url, evidence); !s.ok()) return s;
  std::vector<Entry> others;  // Practitioner and Conditions, after the evidence
  json requester;
  const pb::Person& manager = r.health_manager();
  if (!manager.id().empty()) {
    others.push_back(PractitionerEntry(manager, o));
    requester = {{"reference", others.back().full_url}};
    if (!manager.name().empty()) requester["display"] = manager.name();
  } else if (!manager.name().empty()) {
    requester = {{"display", manager.name()}};  // nobody to resolve it to: shown, not linked
  }
  AppendConditions(r, o, patient.full_url, others);

  const Entry request{UrnFor("ServiceRequest", r.referral_id()),
                      ServiceRequest(r, o, patient.full_url, std::move(requester), evidence),
                      Identifier(o.referral_id_system, r.referral_id())};
  json entries = json::array({BundleEntry(request), BundleEntry(patient)});
  for (const Entry& e : evidence) entries.push_back(BundleEntry(e));
  for (const Entry& e : others) entries.push_back(BundleEntry(e));
  return json{{"resourceType", "Bundle"},
              {"type", "transaction"},
              {"timestamp", notify::Rfc3339Utc(r.emitted_at_ms())},
              {"entry", std::move(entries)}};
}

absl::StatusOr<notify::HttpRequest> ReferralRequest(const pb::Referral& referral, const FhirOptions& options) {
  if (options.base_url.empty()) return absl::InvalidArgumentError("FHIR options: base_url is empty");
  absl::StatusOr<json> bundle = ReferralBundle(referral, options);
  if (!bundle.ok()) return bundle.status();
  return notify::HttpRequest{"POST",
                             options.base_url,
                             {{"Content-Type", kFhirContentType}, {"Accept", kFhirContentType}},
                             bundle->dump(-1, ' ', false, json::error_handler_t::replace)};
}

absl::StatusOr<json> PreShiftFlag(const pb::Escalation& e, const FhirOptions& o) {
  if (e.rule() != pb::R4_PRE_SHIFT_FITNESS) {
    return absl::InvalidArgumentError(
        fmt::format("escalation {}: a pre-shift Flag needs rule R4_PRE_SHIFT_FITNESS, not {}", e.event_id(),
                    pb::Rule_Name(e.rule())));
  }
  if (e.worker_id().empty()) return absl::InvalidArgumentError(fmt::format("escalation {}: worker_id is empty", e.event_id()));
  const bool resolved = e.state() == pb::RESOLVED;
  json subject{{"identifier", Identifier(o.worker_id_system, e.worker_id())}};
  if (!e.worker_name().empty()) subject["display"] = e.worker_name();
  json period{{"start", notify::Rfc3339Utc(e.opened_at_ms())}};
  if (resolved) period["end"] = notify::Rfc3339Utc(std::max(e.trigger_at_ms(), e.opened_at_ms()));
  return json{{"resourceType", "Flag"},
              {"identifier", json::array({Identifier(o.flag_id_system, e.episode_id())})},
              {"status", resolved ? "inactive" : "active"},
              {"category", json::array({Concept(kFlagCategory, "safety", "Safety")})},
              {"code", {{"text", kPreShiftUnfit}}},
              {"subject", std::move(subject)},
              {"period", std::move(period)}};
}

}  // namespace alertd::fhir
