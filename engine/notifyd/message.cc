// LinksFor and RequestFor: one delivery's message from the notify core's pure parts.
#include "engine/notifyd/message.h"

#include <map>

#include "engine/notify/ack_link.h"
#include "engine/notify/signing.h"

namespace alertd::notifyd {

notify::MessageLinks LinksFor(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& recipient,
                              const LinkSettings& settings, int64_t now_ms) {
  if (!settings.secret.empty()) {
    return notify::SignedLinks(event, recipient, settings.page_base_url, settings.secret, now_ms, settings.ttl_ms);
  }
  notify::MessageLinks links;
  if (!settings.page_base_url.empty() && !event.worker_id().empty()) {
    std::string base = settings.page_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    links.worker_page = base + "/worker/" + notify::PercentEncode(event.worker_id());
  }
  return links;
}

absl::StatusOr<notify::HttpRequest> RequestFor(const DeliveryJob& job, const MessageContext& context, int64_t now_ms) {
  const notify::ChannelConfig* channel = context.config->FindChannel(job.channel);
  if (channel == nullptr) return absl::NotFoundError("channel " + job.channel + " is not in the config");
  const notify::MessageLinks links = LinksFor(job.event, job.recipient, context.links, now_ms);
  notify::MessagePlace place;  // the names the escalation carries from the worker's profile
  place.unit_name = job.event.unit_name();
  place.grid_name = job.event.grid_name();
  place.utc_offset_minutes = context.config->utc_offset_minutes;
  const nlohmann::json view = notify::BuildView(job.event, job.recipient, links, place, job.language);
  absl::StatusOr<notify::RenderedText> text = context.templates->Render(channel->kind, job.language, view);
  if (!text.ok()) return text.status();
  absl::StatusOr<notify::HttpRequest> request =
      notify::BuildRequest(*channel, job.event, *text, job.recipient, links, view, now_ms);
  if (!request.ok()) return request.status();
  request->headers.emplace_back("Idempotency-Key", job.key);
  return request;
}

std::vector<RepostRequest> RepostRequests(const std::vector<const DeliveryJob*>& jobs, const MessageContext& context,
                                          int64_t now_ms) {
  std::map<std::string, std::vector<nlohmann::json>> batches;  // channel -> alerts
  for (const DeliveryJob* job : jobs) {
    absl::StatusOr<notify::HttpRequest> request = RequestFor(*job, context, now_ms);
    if (!request.ok()) continue;
    const nlohmann::json alerts = nlohmann::json::parse(request->body, nullptr, /*allow_exceptions=*/false);
    if (!alerts.is_array()) continue;
    for (const nlohmann::json& alert : alerts) batches[job->channel].push_back(alert);
  }
  std::vector<RepostRequest> out;
  for (const auto& [channel, alerts] : batches) {
    std::string base = context.config->FindChannel(channel)->url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    for (std::size_t from = 0; from < alerts.size(); from += kAlertsPerRepost) {
      const auto first = alerts.begin() + static_cast<std::ptrdiff_t>(from);
      const auto last = alerts.begin() + static_cast<std::ptrdiff_t>(std::min(alerts.size(), from + kAlertsPerRepost));
      RepostRequest repost{channel, {}};
      repost.request.url = base + "/api/v2/alerts";
      repost.request.headers = {{"Content-Type", "application/json"}};
      repost.request.body = notify::JsonText(nlohmann::json(std::vector<nlohmann::json>(first, last)));
      out.push_back(std::move(repost));
    }
  }
  return out;
}

}  // namespace alertd::notifyd
