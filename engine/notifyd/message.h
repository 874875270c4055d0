// The HTTP request of one delivery: its links, its words (templates) and its channel's payload,
// with the Idempotency-Key header that lets a receiver drop the repeat of a send cut short by a crash.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/notify/notify_config.h"
#include "engine/notify/payloads.h"
#include "engine/notify/templates.h"
#include "engine/notify/view_model.h"
#include "engine/notifyd/delivery_scheduler.h"

namespace alertd::notifyd {

// What a message links to. The worker's page is `<page_base_url>/worker/<worker id>`; an empty base
// offers no link. The acknowledge / resolve / snooze links are signed per recipient and episode by
// notify::SignedLinks (engine/notify/ack_link.h) once it exists: this is the one place to switch.
notify::MessageLinks LinksFor(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient,
                              const std::string& page_base_url, int64_t now_ms);

struct MessageContext {
  const notify::NotifyConfig* config = nullptr;
  const notify::MessageTemplates* templates = nullptr;
  std::string page_base_url;
};

// The request for `job` at `now_ms`; an error (unknown channel, a template or payload that cannot
// be built) means the delivery can never be sent as it stands.
[[nodiscard]] absl::StatusOr<notify::HttpRequest> RequestFor(const DeliveryJob& job, const MessageContext& context,
                                                             int64_t now_ms);

// A request that re-posts open alerts to one Alertmanager channel.
struct RepostRequest {
  std::string channel;
  notify::HttpRequest request;
};

// The open alerts `jobs` as Alertmanager requests: one list of alerts per channel, at most
// kAlertsPerRepost alerts each, so one request stays small however many episodes are open. A job
// whose channel left the config or whose message cannot be built is left out.
inline constexpr std::size_t kAlertsPerRepost = 200;
std::vector<RepostRequest> RepostRequests(const std::vector<const DeliveryJob*>& jobs, const MessageContext& context,
                                          int64_t now_ms);

}  // namespace alertd::notifyd
