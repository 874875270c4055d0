// The FHIR R4 mapping read back element by element: what a clinic's system finds where.
#include "engine/fhir/referral_bundle.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "engine/fhir/name_uuid.h"
#include "referral_samples.h"

namespace alertd::fhir {
namespace {

using nlohmann::json;
using testing::BaseReferral;
using testing::Bp;
using testing::Glucose;
using testing::kMorningMs;
using testing::PreShiftEscalation;
using testing::ReferralCases;
namespace pb = healthgrid::v1;

json Bundle(const pb::Referral& r) {
  absl::StatusOr<json> b = ReferralBundle(r, FhirOptions{});
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *b : json{};
}

std::vector<json> Resources(const json& bundle, const std::string& type) {
  std::vector<json> out;
  for (const json& e : bundle.at("entry")) {
    if (e.at("resource").at("resourceType") == type) out.push_back(e.at("resource"));
  }
  return out;
}

const json& EntryOf(const json& bundle, const std::string& type) {
  for (const json& e : bundle.at("entry")) {
    if (e.at("resource").at("resourceType") == type) return e;
  }
  throw std::runtime_error("no " + type);
}

pb::Referral Urgent() {
  pb::Referral r = BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
  r.set_reason("186/112 mmHg: see a doctor today");
  *r.add_evidence() = Bp(kMorningMs, 186, 112, 96);
  return r;
}

TEST(NameUuid, MatchesRfc9562Version5ForTheDnsExample) {
  // RFC 9562 appendix A.4: uuid5(NAMESPACE_DNS, "www.example.com").
  EXPECT_EQ(NameUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com"), "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

TEST(ReferralBundle, IsATransactionWhoseEntriesAreConditionalCreates) {
  const json b = Bundle(Urgent());
  EXPECT_EQ(b.at("resourceType"), "Bundle");
  EXPECT_EQ(b.at("type"), "transaction");
  std::set<std::string> urls;
  for (const json& e : b.at("entry")) {
    EXPECT_TRUE(urls.insert(e.at("fullUrl").get<std::string>()).second) << "duplicate fullUrl " << e.at("fullUrl");
    EXPECT_EQ(e.at("fullUrl").get<std::string>().rfind("urn:uuid:", 0), 0u);
    EXPECT_EQ(e.at("request").at("method"), "POST");
    EXPECT_EQ(e.at("request").at("url"), e.at("resource").at("resourceType"));
    EXPECT_EQ(e.at("request").at("ifNoneExist").get<std::string>().rfind("identifier=", 0), 0u);
  }
  EXPECT_EQ(EntryOf(b, "ServiceRequest").at("request").at("ifNoneExist"),
            "identifier=urn%3Aalertd%3Ahealthgrid%3Areferral-id|rf-3c9e01d2");
}

TEST(ReferralBundle, ResendIsByteIdenticalAndAnotherReferralGetsOtherUrls) {
  const pb::Referral r = Urgent();
  EXPECT_EQ(Bundle(r).dump(), Bundle(r).dump());
  pb::Referral other = r;
  other.set_referral_id("rf-other");
  EXPECT_NE(EntryOf(Bundle(r), "ServiceRequest").at("fullUrl"), EntryOf(Bundle(other), "ServiceRequest").at("fullUrl"));
  // The same worker is the same Patient whichever referral names them.
  EXPECT_EQ(EntryOf(Bundle(r), "Patient").at("fullUrl"), EntryOf(Bundle(other), "Patient").at("fullUrl"));
}

TEST(ReferralBundle, ServiceRequestCarriesPriorityReasonRequesterAndEvidence) {
  const json b = Bundle(Urgent());
  const json sr = Resources(b, "ServiceRequest").at(0);
  EXPECT_EQ(sr.at("status"), "active");
  EXPECT_EQ(sr.at("intent"), "order");
  EXPECT_EQ(sr.at("priority"), "urgent");
  EXPECT_EQ(sr.at("code").at("coding").at(0).at("system"), kSnomed);
  EXPECT_EQ(sr.at("code").at("coding").at(0).at("code"), "3457005");
  EXPECT_EQ(sr.at("reasonCode").at(0).at("text"), "186/112 mmHg: see a doctor today");
  EXPECT_EQ(sr.at("identifier").at(0).at("value"), "rf-3c9e01d2");
  EXPECT_EQ(sr.at("authoredOn"), "2026-11-23T23:30:15.234Z");
  EXPECT_EQ(sr.at("subject").at("reference"), EntryOf(b, "Patient").at("fullUrl"));
  EXPECT_EQ(sr.at("requester").at("reference"), EntryOf(b, "Practitioner").at("fullUrl"));
  EXPECT_EQ(sr.at("requester").at("display"), "周波");
  ASSERT_EQ(sr.at("supportingInfo").size(), 2u);  // the panel and the heart rate
  for (const json& ref : sr.at("supportingInfo")) {
    bool found = false;
    for (const json& e : b.at("entry")) found = found || e.at("fullUrl") == ref.at("reference");
    EXPECT_TRUE(found) << ref;
  }
  EXPECT_EQ(sr.at("note").at(0).at("text"), "alertd R1_CRITICAL_BP episode ep-19c2");
}

TEST(ReferralBundle, RoutineReferralIsRoutineAndQuotesItsWindow) {
  const auto cases = ReferralCases();
  const json sr = Resources(Bundle(cases.at(1).referral), "ServiceRequest").at(0);
  EXPECT_EQ(sr.at("priority"), "routine");
  EXPECT_EQ(sr.at("note").at(1).at("text"),
            "4 readings on 3 days up to 2026-11-23T23:30:14.000Z: mean 166/102 mmHg (GRADE_2)");
}

TEST(ReferralBundle, BloodPressureIsAVitalSignsPanelInMillimetresOfMercury) {
  const std::vector<json> obs = Resources(Bundle(Urgent()), "Observation");
  ASSERT_EQ(obs.size(), 2u);
  const json& bp = obs.at(0);
  EXPECT_EQ(bp.at("meta").at("profile").at(0), "http://hl7.org/fhir/StructureDefinition/bp");
  EXPECT_EQ(bp.at("status"), "final");
  EXPECT_EQ(bp.at("category").at(0).at("coding").at(0).at("code"), "vital-signs");
  EXPECT_EQ(bp.at("code").at("coding").at(0).at("code"), "85354-9");
  EXPECT_EQ(bp.at("effectiveDateTime"), "2026-11-23T23:30:14.000Z");
  const json& systolic = bp.at("component").at(0);
  EXPECT_EQ(systolic.at("code").at("coding").at(0).at("code"), "8480-6");
  EXPECT_EQ(systolic.at("valueQuantity"), (json{{"value", 186}, {"unit", "mmHg"}, {"system", kUcum}, {"code", "mm[Hg]"}}));
  const json& diastolic = bp.at("component").at(1);
  EXPECT_EQ(diastolic.at("code").at("coding").at(0).at("code"), "8462-4");
  EXPECT_EQ(diastolic.at("valueQuantity").at("value"), 112);
  const json& pulse = obs.at(1);
  EXPECT_EQ(pulse.at("meta").at("profile").at(0), "http://hl7.org/fhir/StructureDefinition/heartrate");
  EXPECT_EQ(pulse.at("code").at("coding").at(0).at("code"), "8867-4");
  EXPECT_EQ(pulse.at("valueQuantity").at("code"), "/min");
  EXPECT_EQ(pulse.at("valueQuantity").at("value"), 96);
}

TEST(ReferralBundle, NoPulseNoHeartRate) {
  pb::Referral r = Urgent();
  r.mutable_evidence(0)->set_pulse_bpm(0);
  EXPECT_EQ(Resources(Bundle(r), "Observation").size(), 1u);
}

TEST(ReferralBundle, GlucoseIsACapillaryMeterReadingInMillimolesPerLitre) {
  pb::Referral r = BaseReferral(pb::R5_GLUCOSE, pb::REFERRAL_ROUTINE);
  *r.add_glucose_evidence() = Glucose(kMorningMs, 11.2, pb::FASTING);
  const json g = Resources(Bundle(r), "Observation").at(0);
  EXPECT_EQ(g.at("code").at("coding").at(0).at("code"), "14743-9");
  EXPECT_EQ(g.at("valueQuantity"), (json{{"value", 11.2}, {"unit", "mmol/L"}, {"system", kUcum}, {"code", "mmol/L"}}));
  EXPECT_EQ(g.at("note").at(0).at("text"), "fasting / 空腹");
  EXPECT_FALSE(g.contains("meta"));  // glucose is no R4 vital sign
}

TEST(ReferralBundle, PatientIsTheWorkerByProgrammeIdentifier) {
  const json p = Resources(Bundle(Urgent()), "Patient").at(0);
  EXPECT_EQ(p.at("identifier").at(0), (json{{"system", "urn:alertd:healthgrid:worker-id"}, {"value", "W000155"}}));
  EXPECT_EQ(p.at("name").at(0).at("text"), "杨建国");
}

TEST(ReferralBundle, ConditionsOnFileAreActiveConfirmedTextCodes) {
  const auto cases = ReferralCases();
  EXPECT_TRUE(Resources(Bundle(cases.at(4).referral), "Condition").empty());
  const std::vector<json> conditions = Resources(Bundle(cases.at(5).referral), "Condition");
  ASSERT_EQ(conditions.size(), 3u);
  EXPECT_EQ(conditions.at(0).at("code"), (json{{"text", "高血压 2级 / hypertension, grade 2"}}));
  EXPECT_EQ(conditions.at(1).at("code").at("text"), "冠心病 / coronary heart disease");
  EXPECT_EQ(conditions.at(2).at("code").at("text"), "糖尿病 / diabetes");
  for (const json& c : conditions) {
    EXPECT_EQ(c.at("clinicalStatus").at("coding").at(0).at("code"), "active");
    EXPECT_EQ(c.at("verificationStatus").at("coding").at(0).at("code"), "confirmed");
  }
}

TEST(ReferralBundle, ManagerWithoutIdIsADisplayOnlyRequesterAndNoneIsNoRequester) {
  const auto cases = ReferralCases();
  const json b = Bundle(cases.at(5).referral);
  EXPECT_TRUE(Resources(b, "Practitioner").empty());
  EXPECT_EQ(Resources(b, "ServiceRequest").at(0).at("requester"), (json{{"display", "周波"}}));
  EXPECT_FALSE(Resources(Bundle(cases.at(4).referral), "ServiceRequest").at(0).contains("requester"));
}

TEST(ReferralBundle, SearchSeparatorsInAnIdAreEscapedInIfNoneExist) {
  const auto cases = ReferralCases();
  const json b = Bundle(cases.at(6).referral);
  // W|00,01$\ä: FHIR escapes | , $ \ with '\', then the URL encoding.
  EXPECT_EQ(EntryOf(b, "Patient").at("request").at("ifNoneExist"),
            "identifier=urn%3Aalertd%3Ahealthgrid%3Aworker-id|W%5C%7C00%5C%2C01%5C%24%5C%5C%C3%A4");
}

struct BadReferral {
  std::string what;
  void (*spoil)(pb::Referral&);
  std::string message;  // a part of the error
};

void PrintTo(const BadReferral& b, std::ostream* os) { *os << b.what; }

class ReferralBundleRejects : public ::testing::TestWithParam<BadReferral> {};

TEST_P(ReferralBundleRejects, WithAnErrorNamingTheField) {
  pb::Referral r = Urgent();
  GetParam().spoil(r);
  const absl::StatusOr<json> b = ReferralBundle(r, FhirOptions{});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find(GetParam().message), std::string::npos) << b.status();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ReferralBundleRejects,
    ::testing::Values(BadReferral{"no_referral_id", [](pb::Referral& r) { r.clear_referral_id(); }, "referral_id"},
                      BadReferral{"no_worker_id", [](pb::Referral& r) { r.clear_worker_id(); }, "worker_id"},
                      BadReferral{"no_urgency", [](pb::Referral& r) { r.set_urgency(pb::REFERRAL_URGENCY_UNSPECIFIED); },
                                  "urgency 0"},
                      BadReferral{"unknown_urgency", [](pb::Referral& r) { r.set_urgency(static_cast<pb::ReferralUrgency>(7)); },
                                  "urgency 7"},
                      BadReferral{"bp_without_systolic", [](pb::Referral& r) { r.mutable_evidence(0)->set_systolic_mmhg(0); },
                                  "evidence[0]"},
                      BadReferral{"bp_without_time", [](pb::Referral& r) { r.mutable_evidence(0)->set_measured_at_ms(0); },
                                  "evidence[0]"},
                      BadReferral{"glucose_zero", [](pb::Referral& r) { *r.add_glucose_evidence() = Glucose(kMorningMs, 0, pb::FASTING); },
                                  "glucose_evidence[0]"}),
    [](const ::testing::TestParamInfo<BadReferral>& p) { return p.param.what; });

TEST(ReferralRequest, PostsTheBundleToTheBaseAsFhirJson) {
  FhirOptions options;
  options.base_url = "https://clinic.example/fhir";
  const absl::StatusOr<notify::HttpRequest> request = ReferralRequest(Urgent(), options);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->method, "POST");
  EXPECT_EQ(request->url, "https://clinic.example/fhir");
  EXPECT_EQ(request->headers, (std::vector<std::pair<std::string, std::string>>{
                                  {"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}}));
  EXPECT_EQ(json::parse(request->body), Bundle(Urgent()));
  EXPECT_FALSE(ReferralRequest(Urgent(), FhirOptions{}).ok());  // no base url
}

TEST(PreShiftFlag, IsActiveFromTheOpeningAndInactiveOnceResolved) {
  const absl::StatusOr<json> open = PreShiftFlag(PreShiftEscalation(pb::OPEN));
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_EQ(open->at("resourceType"), "Flag");
  EXPECT_EQ(open->at("status"), "active");
  EXPECT_EQ(open->at("code").at("text"), "不宜上岗 / unfit for duty before shift");
  EXPECT_EQ(open->at("category").at(0).at("coding").at(0).at("code"), "safety");
  EXPECT_EQ(open->at("subject").at("identifier").at("value"), "W000155");
  EXPECT_EQ(open->at("period"), (json{{"start", "2026-11-23T23:30:14.000Z"}}));
  const absl::StatusOr<json> resolved = PreShiftFlag(PreShiftEscalation(pb::RESOLVED));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->at("status"), "inactive");
  EXPECT_EQ(resolved->at("period").at("end"), "2026-11-23T23:50:14.000Z");
}

TEST(PreShiftFlag, RefusesAnotherRulesEscalation) {
  pb::Escalation e = PreShiftEscalation(pb::OPEN);
  e.set_rule(pb::R1_CRITICAL_BP);
  const absl::StatusOr<json> flag = PreShiftFlag(e);
  ASSERT_FALSE(flag.ok());
  EXPECT_NE(flag.status().message().find("R4_PRE_SHIFT_FITNESS"), std::string::npos);
}

}  // namespace
}  // namespace alertd::fhir
