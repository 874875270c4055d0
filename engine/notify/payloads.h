// Channel payloads: the HTTP request that carries one rendered message to one channel.
//
// Each is a pure function of the event, its rendered text, the recipient, the links and (for the
// signed robots) the time, following the platform's documented format:
//   Alertmanager API v2  POST <url>/api/v2/alerts, a JSON list with one postableAlert
//   WeChat Work robot    POST <webhook url>, {"msgtype":"markdown","markdown":{"content":...}}
//   DingTalk robot       POST <webhook url>[&timestamp=<ms>&sign=<urlencoded>], msgtype markdown
//   Feishu bot           POST <webhook url>, {"timestamp","sign","msg_type":"interactive","card":...}
//   generic webhook      POST <url>, the config's body template over the view model
// Labels sent to Alertmanager carry ids and codes only: never a name or a health value.
// Thread-compatible; no I/O.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/notify/notify_config.h"
#include "engine/notify/templates.h"
#include "engine/notify/view_model.h"
#include "health.pb.h"

namespace alertd::notify {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // in sending order
  std::string body;
};

// WeChat Work refuses markdown content over 4096 bytes (errcode 40058).
inline constexpr std::size_t kWeComMaxContentBytes = 4096;

// "2026-11-24T07:30:14.000Z": RFC 3339 in UTC, as Alertmanager's startsAt and endsAt want.
std::string Rfc3339Utc(int64_t ms_since_epoch);

// The label set of the Alertmanager alert for (event, recipient): alertname, episode, unit, grid,
// rule, level, severity, recipient. The episode id keeps two workers' alerts apart; it is opaque.
nlohmann::json AlertLabels(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient);

[[nodiscard]] absl::StatusOr<HttpRequest> AlertmanagerRequest(const ChannelConfig& channel,
                                                              const healthgrid::v1::Escalation& event,
                                                              const RenderedText& text,
                                                              const healthgrid::v1::Recipient& recipient,
                                                              const MessageLinks& links);
[[nodiscard]] absl::StatusOr<HttpRequest> WeComRequest(const ChannelConfig& channel, const RenderedText& text);
[[nodiscard]] absl::StatusOr<HttpRequest> DingTalkRequest(const ChannelConfig& channel, const RenderedText& text,
                                                          int64_t now_ms);
[[nodiscard]] absl::StatusOr<HttpRequest> FeishuRequest(const ChannelConfig& channel,
                                                        const healthgrid::v1::Escalation& event,
                                                        const RenderedText& text, int64_t now_ms);
// `view` is BuildView's; the template also sees `title` and `body`. A JSON content type whose
// rendered body does not parse as JSON is an error, never sent.
[[nodiscard]] absl::StatusOr<HttpRequest> WebhookRequest(const ChannelConfig& channel, const RenderedText& text,
                                                         const nlohmann::json& view);

// The request for `channel`'s kind: the one entry point the delivery process calls.
[[nodiscard]] absl::StatusOr<HttpRequest> BuildRequest(
    const ChannelConfig& channel, const healthgrid::v1::Escalation& event, const RenderedText& text,
    const healthgrid::v1::Recipient& recipient, const MessageLinks& links, const nlohmann::json& view, int64_t now_ms);

}  // namespace alertd::notify
