// What alertd-notify's FHIR loop decides for one referral: its delivery keys, the Bundle it sends,
// the outcome records on `referral-deliveries`, and how a clinic's FHIR answer is judged.
//
// A referral is delivered at most twice, once per target: POSTed to the clinic's FHIR base (channel
// "fhir") and produced to the referrals-fhir topic (channel "fhir-topic"). Each target has a delivery
// key named after the referral id, so a duplicate or redelivered referral record claims nothing once
// the key is done. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/fhir/referral_bundle.h"
#include "engine/notify/payloads.h"
#include "health.pb.h"

namespace alertd::notifyd {

inline constexpr char kFhirChannel[] = "fhir";             // the POST to the clinic's FHIR base
inline constexpr char kFhirTopicChannel[] = "fhir-topic";  // the Bundle on the referrals-fhir topic
// The recipient part of a referral's delivery key: the referral goes to the clinic, not to a person.
inline constexpr char kClinicRecipient[] = "clinic";
// A referral record larger than this is dead-lettered: one carries a few readings and conditions.
inline constexpr std::size_t kMaxReferralBytes = 256 << 10;

// The delivery key of `referral_id` through `channel` (notify::DeliveryKey with the clinic as recipient).
std::string ReferralDeliveryKey(const std::string& referral_id, std::string_view channel);

// A referral record ready to deliver: the referral, its Bundle as sent, and the POST carrying it.
struct ReferralWork {
  healthgrid::v1::Referral referral;
  std::string bundle;            // the Bundle JSON, byte-identical for the same referral
  notify::HttpRequest request;   // empty url when no FHIR base is configured
};

// Decodes a `referrals` record and builds what delivers it. InvalidArgument with the reason (for
// the dead letter) for a tombstone, an oversized record, a value that is not a healthgrid.v1.Referral,
// an empty referral_id, or a referral fhir::ReferralBundle refuses. `bearer_token`, when not empty,
// becomes the POST's Authorization header.
[[nodiscard]] absl::StatusOr<ReferralWork> ReadReferral(const void* payload, std::size_t len,
                                                        const fhir::FhirOptions& options,
                                                        const std::string& bearer_token);

// How a FHIR server's answer settles one attempt.
enum class FhirVerdict {
  kAccepted,  // 2xx
  kRetry,     // no answer (connect failure, timeout, broken reply), 408, 429, 5xx, or any other status
  kRefused,   // 4xx other than 408 and 429: the server will refuse it again; failed for good
};
// `http_status` 0: no HTTP answer arrived.
FhirVerdict JudgeFhirAnswer(long http_status);

// The outcome record of a referral's delivery through `channel` (the deliveries record shape).
healthgrid::v1::Delivery ReferralOutcome(const healthgrid::v1::Referral& referral, std::string_view channel,
                                         healthgrid::v1::DeliveryStatus status, uint32_t attempts,
                                         const std::string& error, int64_t now_ms);

}  // namespace alertd::notifyd
