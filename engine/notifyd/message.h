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

// Where a message's links point and how they are signed.
struct LinkSettings {
  std::string page_base_url = {};  // alertd's address; "": no links at all
  std::string secret = {};         // the HMAC key shared with alertd; "": only an unsigned worker-page link
  int64_t ttl_ms = int64_t{72} * 3600 * 1000;  // a link does nothing once this has passed since sending
};

// What a message links to: with a secret, the acknowledge / resolve / snooze links and the worker's
// page, signed for this recipient and episode and expiring `ttl_ms` after `now_ms`
// (notify::SignedLinks); without one, `<page_base_url>/worker/<worker id>` only, which asks the reader
// for the operator's token.
notify::MessageLinks LinksFor(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient,
                              const LinkSettings& links, int64_t now_ms);

struct MessageContext {
  const notify::NotifyConfig* config = nullptr;
  const notify::MessageTemplates* templates = nullptr;
  LinkSettings links;
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
