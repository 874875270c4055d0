// Route(): recipients to routes, routes to deliveries, quiet hours to a time to send.
#include "engine/notify/routing.h"

#include <algorithm>

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

const RecipientRoute* FindRoute(const NotifyConfig& config, const pb::Recipient& recipient) {
  for (const RecipientRoute& route : config.recipients) {
    if (!route.person_id.empty() && route.person_id == recipient.id()) return &route;
  }
  for (const RecipientRoute& route : config.recipients) {
    if (route.person_id.empty() && route.role == recipient.role()) return &route;
  }
  return nullptr;
}

bool Wants(const RecipientRoute& route, const pb::Escalation& event) {
  if (!route.rules.empty() && !route.rules.contains(event.rule())) return false;
  return event.severity() >= route.min_severity;
}

}  // namespace

std::optional<int64_t> QuietHoursEnd(const QuietHours& hours, int utc_offset_minutes, int64_t now_ms) {
  const int64_t offset_ms = int64_t{utc_offset_minutes} * kMinuteMs;
  const int64_t local_ms = now_ms + offset_ms;
  const int64_t day_start = FloorDiv(local_ms, kDayMs) * kDayMs;
  const int64_t minute = (local_ms - day_start) / kMinuteMs;
  const bool wraps = hours.from_minute > hours.until_minute;  // e.g. 22:00 -> 07:00
  const bool inside = wraps ? (minute >= hours.from_minute || minute < hours.until_minute)
                            : (minute >= hours.from_minute && minute < hours.until_minute);
  if (!inside) return std::nullopt;
  int64_t end_local = day_start + int64_t{hours.until_minute} * kMinuteMs;
  if (end_local <= local_ms) end_local += kDayMs;  // before midnight in a span that ends tomorrow
  return end_local - offset_ms;
}

std::vector<Delivery> Route(const pb::Escalation& event, const NotifyConfig& config, int64_t now_ms) {
  std::vector<pb::Recipient> recipients(event.recipients().begin(), event.recipients().end());
  if (recipients.empty()) {
    pb::Recipient desk;
    desk.set_id(std::string(kOnCallDeskId));
    desk.set_role(pb::RECIPIENT_ROLE_UNSPECIFIED);
    recipients.push_back(std::move(desk));
  }
  std::vector<Delivery> out;
  std::vector<std::string> routed;
  for (const pb::Recipient& recipient : recipients) {
    if (std::find(routed.begin(), routed.end(), recipient.id()) != routed.end()) continue;
    routed.push_back(recipient.id());
    const RecipientRoute* route = FindRoute(config, recipient);
    if (route == nullptr || !Wants(*route, event)) continue;
    int64_t held_until = 0;
    if (event.severity() < pb::URGENT && route->quiet_hours) {
      held_until = QuietHoursEnd(*route->quiet_hours, config.utc_offset_minutes, now_ms).value_or(0);
    }
    for (const std::string& channel : route->channels) {
      out.push_back(Delivery{recipient, channel, route->language.value_or(config.language), held_until});
    }
  }
  return out;
}

}  // namespace alertd::notify
