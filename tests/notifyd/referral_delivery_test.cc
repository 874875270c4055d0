// The FHIR loop's pure decisions: referral delivery keys, decoding and dead-letter reasons, the
// POST with its bearer token, outcome records, and which FHIR answers are retried.
#include "engine/notifyd/referral_delivery.h"

#include <gtest/gtest.h>

#include "engine/notify/delivery.h"
#include "tests/fhir/referral_samples.h"

namespace alertd::notifyd {
namespace {

namespace pb = healthgrid::v1;

pb::Referral Urgent() {
  pb::Referral r = fhir::testing::BaseReferral(pb::R1_CRITICAL_BP, pb::REFERRAL_URGENT);
  r.set_reason("186/112 mmHg: see a doctor today");
  *r.add_evidence() = fhir::testing::Bp(fhir::testing::kMorningMs, 186, 112, 96);
  return r;
}

fhir::FhirOptions Clinic() {
  fhir::FhirOptions o;
  o.base_url = "https://clinic.example/fhir";
  return o;
}

absl::StatusOr<ReferralWork> Read(const std::string& bytes, const fhir::FhirOptions& options = Clinic(),
                                  const std::string& token = "") {
  return ReadReferral(bytes.data(), bytes.size(), options, token);
}

TEST(ReferralDelivery, KeysAreNamedAfterTheReferralAndTheChannel) {
  EXPECT_EQ(ReferralDeliveryKey("rf-1", kFhirChannel), notify::DeliveryKey("rf-1", "clinic", "fhir"));
  EXPECT_NE(ReferralDeliveryKey("rf-1", kFhirChannel), ReferralDeliveryKey("rf-1", kFhirTopicChannel));
  EXPECT_NE(ReferralDeliveryKey("rf-1", kFhirChannel), ReferralDeliveryKey("rf-2", kFhirChannel));
}

TEST(ReferralDelivery, AReferralBecomesItsBundleAndThePostToTheBase) {
  const absl::StatusOr<ReferralWork> work = Read(Urgent().SerializeAsString());
  ASSERT_TRUE(work.ok()) << work.status();
  const absl::StatusOr<nlohmann::json> bundle = fhir::ReferralBundle(Urgent(), Clinic());
  ASSERT_TRUE(bundle.ok());
  EXPECT_EQ(nlohmann::json::parse(work->bundle), *bundle);
  EXPECT_EQ(work->request.method, "POST");
  EXPECT_EQ(work->request.url, "https://clinic.example/fhir");
  EXPECT_EQ(work->request.body, work->bundle) << "the topic and the clinic get the same Bundle";
  for (const auto& [name, value] : work->request.headers) EXPECT_NE(name, "Authorization");
}

TEST(ReferralDelivery, TheBearerTokenGoesInTheAuthorizationHeaderOnly) {
  const absl::StatusOr<ReferralWork> work = Read(Urgent().SerializeAsString(), Clinic(), "s3cr3t-token");
  ASSERT_TRUE(work.ok());
  int found = 0;
  for (const auto& [name, value] : work->request.headers) {
    if (name == "Authorization") {
      EXPECT_EQ(value, "Bearer s3cr3t-token");
      ++found;
    }
  }
  EXPECT_EQ(found, 1);
  EXPECT_EQ(work->request.body.find("s3cr3t"), std::string::npos);
}

TEST(ReferralDelivery, WithoutAFhirBaseOnlyTheBundleIsMade) {
  const absl::StatusOr<ReferralWork> work = Read(Urgent().SerializeAsString(), fhir::FhirOptions{});
  ASSERT_TRUE(work.ok()) << work.status();
  EXPECT_FALSE(work->bundle.empty());
  EXPECT_TRUE(work->request.url.empty());
}

TEST(ReferralDelivery, RecordsThatCannotBeDeliveredSayWhy) {
  EXPECT_EQ(ReadReferral(nullptr, 0, Clinic(), "").status().message(), "a tombstone is not a referral");
  EXPECT_EQ(Read("\x07not a referral").status().message(), "not a healthgrid.v1.Referral");
  pb::Referral no_id = Urgent();
  no_id.clear_referral_id();
  EXPECT_EQ(Read(no_id.SerializeAsString()).status().message(), "referral_id is empty: nothing to deduplicate by");
  pb::Referral impossible = Urgent();
  impossible.mutable_evidence(0)->set_systolic_mmhg(0);  // a reading without its systolic value
  const absl::Status refused = Read(impossible.SerializeAsString()).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(std::string(refused.message()).starts_with("no FHIR Bundle: ")) << refused;
  const std::string huge(kMaxReferralBytes + 1, 'x');
  EXPECT_TRUE(Read(huge).status().message().find("larger than") != std::string::npos);
}

TEST(ReferralDelivery, RefusalsFailForGoodWhileOutagesAndThrottlingAreRetried) {
  EXPECT_EQ(JudgeFhirAnswer(200), FhirVerdict::kAccepted);
  EXPECT_EQ(JudgeFhirAnswer(201), FhirVerdict::kAccepted);
  EXPECT_EQ(JudgeFhirAnswer(400), FhirVerdict::kRefused);
  EXPECT_EQ(JudgeFhirAnswer(401), FhirVerdict::kRefused);
  EXPECT_EQ(JudgeFhirAnswer(422), FhirVerdict::kRefused);
  EXPECT_EQ(JudgeFhirAnswer(408), FhirVerdict::kRetry);
  EXPECT_EQ(JudgeFhirAnswer(429), FhirVerdict::kRetry);
  EXPECT_EQ(JudgeFhirAnswer(500), FhirVerdict::kRetry);
  EXPECT_EQ(JudgeFhirAnswer(503), FhirVerdict::kRetry);
  EXPECT_EQ(JudgeFhirAnswer(0), FhirVerdict::kRetry) << "no answer: a timeout or a broken connection";
  EXPECT_EQ(JudgeFhirAnswer(302), FhirVerdict::kRetry);
}

TEST(ReferralDelivery, OutcomesHaveTheDeliveriesShapeWithTheFhirChannel) {
  const pb::Delivery sent = ReferralOutcome(Urgent(), kFhirChannel, pb::DELIVERY_SENT, 3, "HTTP status 500", 42);
  EXPECT_EQ(sent.delivery_key(), ReferralDeliveryKey("rf-3c9e01d2", "fhir"));
  EXPECT_EQ(sent.event_id(), "rf-3c9e01d2");
  EXPECT_EQ(sent.episode_id(), "ep-19c2");
  EXPECT_EQ(sent.recipient_id(), "clinic");
  EXPECT_EQ(sent.channel(), "fhir");
  EXPECT_EQ(sent.attempts(), 3u);
  EXPECT_EQ(sent.error(), "") << "a sent record carries no error";
  EXPECT_EQ(sent.at_ms(), 42);
  EXPECT_FALSE(sent.has_event());
  const pb::Delivery failed = ReferralOutcome(Urgent(), kFhirChannel, pb::DELIVERY_FAILED, 1, "HTTP status 400", 43);
  EXPECT_EQ(failed.status(), pb::DELIVERY_FAILED);
  EXPECT_EQ(failed.error(), "HTTP status 400");
}

}  // namespace
}  // namespace alertd::notifyd
