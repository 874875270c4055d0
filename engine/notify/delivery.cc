// DeliveryKey and the full-jitter retry schedule of delivery.h.
#include "engine/notify/delivery.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/notify/signing.h"

namespace alertd::notify {

std::string DeliveryKey(std::string_view event_id, std::string_view recipient_id, std::string_view channel) {
  return fmt::format("{}/{}/{}", PercentEncode(event_id), PercentEncode(recipient_id), PercentEncode(channel));
}

std::optional<int64_t> RetryDelay(uint32_t failed_attempts, const RetryPolicy& policy,
                                  const std::function<double()>& uniform) {
  if (failed_attempts == 0 || failed_attempts >= policy.max_attempts) return std::nullopt;
  const int64_t cap = std::max<int64_t>(policy.max_delay_ms, 0);
  // base * 2^(n-1), stopping at the cap before it can overflow.
  int64_t ceiling = std::clamp<int64_t>(policy.base_delay_ms, 0, cap);
  for (uint32_t i = 1; i < failed_attempts && ceiling < cap; ++i) ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  double u = uniform();
  if (!(u >= 0.0)) u = 0.0;  // also catches NaN
  if (u >= 1.0) u = std::nextafter(1.0, 0.0);
  const auto delay = static_cast<int64_t>(std::floor(u * static_cast<double>(ceiling + 1)));
  return std::min(delay, ceiling);
}

}  // namespace alertd::notify
