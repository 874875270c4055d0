// Referral delivery keys, decoding, outcome records and the FHIR answer's verdict.
#include "engine/notifyd/referral_delivery.h"

#include "engine/notify/delivery.h"

namespace alertd::notifyd {

namespace pb = healthgrid::v1;

std::string ReferralDeliveryKey(const std::string& referral_id, std::string_view channel) {
  return notify::DeliveryKey(referral_id, kClinicRecipient, std::string(channel));
}

absl::StatusOr<ReferralWork> ReadReferral(const void* payload, std::size_t len, const fhir::FhirOptions& options,
                                          const std::string& bearer_token) {
  if (payload == nullptr) return absl::InvalidArgumentError("a tombstone is not a referral");
  if (len > kMaxReferralBytes) {
    return absl::InvalidArgumentError("referral of " + std::to_string(len) + " bytes is larger than " +
                                      std::to_string(kMaxReferralBytes));
  }
  ReferralWork work;
  if (!work.referral.ParseFromArray(payload, static_cast<int>(len))) {
    return absl::InvalidArgumentError("not a healthgrid.v1.Referral");
  }
  if (work.referral.referral_id().empty()) {
    return absl::InvalidArgumentError("referral_id is empty: nothing to deduplicate by");
  }
  absl::StatusOr<nlohmann::json> bundle = fhir::ReferralBundle(work.referral, options);
  if (!bundle.ok()) return absl::InvalidArgumentError("no FHIR Bundle: " + std::string(bundle.status().message()));
  work.bundle = bundle->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!options.base_url.empty()) {
    absl::StatusOr<notify::HttpRequest> request = fhir::ReferralRequest(work.referral, options);
    if (!request.ok()) return absl::InvalidArgumentError("no FHIR request: " + std::string(request.status().message()));
    work.request = *std::move(request);
    if (!bearer_token.empty()) work.request.headers.emplace_back("Authorization", "Bearer " + bearer_token);
  }
  return work;
}

FhirVerdict JudgeFhirAnswer(long http_status) {
  if (http_status >= 200 && http_status <= 299) return FhirVerdict::kAccepted;
  if (http_status >= 400 && http_status <= 499 && http_status != 408 && http_status != 429) {
    return FhirVerdict::kRefused;
  }
  return FhirVerdict::kRetry;
}

pb::Delivery ReferralOutcome(const pb::Referral& referral, std::string_view channel, pb::DeliveryStatus status,
                             uint32_t attempts, const std::string& error, int64_t now_ms) {
  pb::Delivery record;
  record.set_delivery_key(ReferralDeliveryKey(referral.referral_id(), channel));
  record.set_event_id(referral.referral_id());
  record.set_episode_id(referral.episode_id());
  record.set_recipient_id(kClinicRecipient);
  record.set_channel(std::string(channel));
  record.set_status(status);
  record.set_attempts(attempts);
  if (status != pb::DELIVERY_SENT) record.set_error(error);
  record.set_at_ms(now_ms);
  return record;
}

}  // namespace alertd::notifyd
