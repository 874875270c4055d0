// Writes the FHIR of the sample table (referral_samples.h) as one JSON document on stdout, for
// validate_bundles.mjs: {"bundles": [{"name", "bundle"}], "flags": [{"name", "flag"}]}.
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/fhir/referral_bundle.h"
#include "referral_samples.h"

int main() {
  using alertd::fhir::testing::ReferralCases;
  using alertd::fhir::testing::PreShiftEscalation;
  namespace pb = healthgrid::v1;
  const alertd::fhir::FhirOptions options;
  nlohmann::json out{{"bundles", nlohmann::json::array()}, {"flags", nlohmann::json::array()}};
  for (const auto& c : ReferralCases()) {
    absl::StatusOr<nlohmann::json> bundle = alertd::fhir::ReferralBundle(c.referral, options);
    if (!bundle.ok()) {
      std::cerr << c.name << ": " << bundle.status() << "\n";
      return 1;
    }
    out["bundles"].push_back({{"name", c.name}, {"bundle", *bundle}});
  }
  for (pb::EscalationState state : {pb::OPEN, pb::RESOLVED}) {
    absl::StatusOr<nlohmann::json> flag = alertd::fhir::PreShiftFlag(PreShiftEscalation(state));
    if (!flag.ok()) {
      std::cerr << "pre-shift flag: " << flag.status() << "\n";
      return 1;
    }
    out["flags"].push_back({{"name", std::string("pre_shift_") + pb::EscalationState_Name(state)}, {"flag", *flag}});
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}
