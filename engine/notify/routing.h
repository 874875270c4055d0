// Routing: which deliveries one escalation makes, under the notification config and the time.
//
// Pure and deterministic: `now` is an argument; the same event, config and time give the same
// deliveries in the same order (the event's recipients in order, then each route's channels in
// order). Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/notify/notify_config.h"
#include "health.pb.h"

namespace alertd::notify {

// The id and name of the on-call desk, the recipient of an event that names nobody.
inline constexpr std::string_view kOnCallDeskId = "on-call";

// One message to send: to whom, through which channel, in which language, and when.
struct Delivery {
  healthgrid::v1::Recipient recipient;  // as the escalation names them (or the on-call desk)
  std::string channel;                  // a ChannelConfig::name
  Language language = kDefaultLanguage;
  int64_t held_until_ms = 0;  // 0: send now; else quiet hours end then (ms since epoch UTC)
};

// For each recipient the event names (none: the on-call desk, role `on_call`), the route for that
// person if the config has one, else the route for their role; a route whose rules or minimum
// severity exclude the event gives nothing. A recipient named twice is routed once. During the
// route's quiet hours INFO and HIGH events are held until the hours end; URGENT and CRITICAL never
// wait. A RESOLVED event follows its episode's severity, like every other event.
std::vector<Delivery> Route(const healthgrid::v1::Escalation& event, const NotifyConfig& config, int64_t now_ms);

// When the quiet span that contains `now_ms` ends (ms since epoch UTC), or nullopt outside it.
std::optional<int64_t> QuietHoursEnd(const QuietHours& hours, int utc_offset_minutes, int64_t now_ms);

}  // namespace alertd::notify
