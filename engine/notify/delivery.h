// Idempotency and retries for deliveries: the key each send is recorded under, and when to retry.
//
// The delivery process sends each DeliveryKey once: it records the key with the outcome, and a
// redelivered or duplicated escalation (same event_id) finds the key and sends nothing. Pure
// functions; any thread (RetryDelay's random source is the caller's).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace alertd::notify {

// "<event_id>/<recipient_id>/<channel>", each part percent-encoded (RFC 3986 unreserved bytes kept),
// so no id can contain the separator and distinct triples never share a key. Ids only: no names.
std::string DeliveryKey(std::string_view event_id, std::string_view recipient_id, std::string_view channel);

struct RetryPolicy {
  int64_t base_delay_ms = 1000;          // the first retry waits up to this
  int64_t max_delay_ms = 5 * 60 * 1000;  // no single wait is longer
  uint32_t max_attempts = 10;            // sends in all, the first included; then the delivery fails
};

// How long to wait after `failed_attempts` failed sends (1 = the first send failed) before the next:
// "full jitter" exponential backoff, uniform over [0, min(max_delay, base_delay * 2^(failed-1))]
// whole milliseconds, so retries of many deliveries spread out instead of arriving together.
// nullopt: the attempts are used up (or failed_attempts is 0: nothing failed yet). `uniform`
// returns a value in [0, 1); values outside are clamped, so a faulty source cannot exceed the cap.
std::optional<int64_t> RetryDelay(uint32_t failed_attempts, const RetryPolicy& policy,
                                  const std::function<double()>& uniform);

}  // namespace alertd::notify
