// FHIR R4 for clinics: a Referral as a transaction Bundle a clinic's system imports, and pre-shift
// unfitness (rule R4) as a Flag.
//
// The Bundle (type transaction) holds, each entry POSTed as a conditional create so a resend creates
// nothing new: the ServiceRequest (the referral; ifNoneExist on the referral id), the worker as
// Patient (on the worker id), the health manager as Practitioner (on the staff id; a display-only
// requester when the id is unknown), the evidence as Observations in the R4 vital-signs profiles
// (blood-pressure panel, heart rate) and a capillary glucose Observation, and the conditions on file
// as Conditions. Every fullUrl is a urn:uuid named (UUID v5) after the referral, worker, reading or
// condition it stands for: the same referral always gives byte-identical JSON.
// Pure functions of their arguments; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "engine/notify/payloads.h"
#include "health.pb.h"

namespace alertd::fhir {

// Identifier systems and the clinic's endpoint. The defaults name the programme's own URIs; a
// deployment that has registered OIDs with its clinics sets them.
struct FhirOptions {
  std::string base_url;  // the clinic's FHIR base, e.g. "https://clinic.example/fhir"; no trailing '/'
  std::string worker_id_system = "urn:alertd:healthgrid:worker-id";      // Patient.identifier
  std::string staff_id_system = "urn:alertd:healthgrid:staff-id";        // Practitioner.identifier
  std::string referral_id_system = "urn:alertd:healthgrid:referral-id";  // ServiceRequest.identifier
  std::string reading_id_system = "urn:alertd:healthgrid:reading";       // Observation.identifier
  std::string condition_id_system = "urn:alertd:healthgrid:condition";   // Condition.identifier
  std::string flag_id_system = "urn:alertd:healthgrid:episode-id";       // Flag.identifier
};

// The codes the mapping uses, for tests and readers to name rather than repeat.
inline constexpr const char* kLoinc = "http://loinc.org";
inline constexpr const char* kSnomed = "http://snomed.info/sct";
inline constexpr const char* kUcum = "http://unitsofmeasure.org";
inline constexpr const char* kBpPanelLoinc = "85354-9";
inline constexpr const char* kSystolicLoinc = "8480-6";
inline constexpr const char* kDiastolicLoinc = "8462-4";
inline constexpr const char* kHeartRateLoinc = "8867-4";
// "Glucose [Moles/volume] in Capillary blood by Glucometer": the stations measure a finger-stick drop
// with a meter, in mmol/L, at a point in time (the fasting/random/after-meal timing is a note).
inline constexpr const char* kCapillaryGlucoseLoinc = "14743-9";
inline constexpr const char* kPatientReferralSnomed = "3457005";
inline constexpr const char* kFhirContentType = "application/fhir+json";

// The transaction Bundle of `referral`. An error (InvalidArgument, naming the field) for a referral
// without referral_id or worker_id, with an unknown urgency, or quoting a reading without its time or
// values (the ranges of the values were checked by the engine when the reading arrived).
[[nodiscard]] absl::StatusOr<nlohmann::json> ReferralBundle(const healthgrid::v1::Referral& referral,
                                                           const FhirOptions& options);

// The request that delivers `referral`: POST <base_url> (a transaction goes to the base), headers
// Content-Type and Accept application/fhir+json, body the Bundle. Idempotent by construction: every
// entry is a conditional create, so the delivery process may retry it by referral id at will.
[[nodiscard]] absl::StatusOr<notify::HttpRequest> ReferralRequest(const healthgrid::v1::Referral& referral,
                                                                  const FhirOptions& options);

// Pre-shift unfitness as a Flag ("不宜上岗 / unfit for duty before shift") on the worker, referenced by
// identifier: status active from the episode's opening, inactive with an end once it RESOLVED. An
// error for an escalation of any rule but R4 or without worker_id.
[[nodiscard]] absl::StatusOr<nlohmann::json> PreShiftFlag(const healthgrid::v1::Escalation& escalation,
                                                         const FhirOptions& options = {});

}  // namespace alertd::fhir
