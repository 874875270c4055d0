// LinksFor and RequestFor: one delivery's message from the notify core's pure parts.
#include "engine/notifyd/message.h"

#include "engine/notify/signing.h"

namespace alertd::notifyd {

notify::MessageLinks LinksFor(const healthgrid::v1::Escalation& event, const healthgrid::v1::Recipient& /*recipient*/,
                              const std::string& page_base_url, int64_t /*now_ms*/) {
  notify::MessageLinks links;
  if (!page_base_url.empty() && !event.worker_id().empty()) {
    std::string base = page_base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    links.worker_page = base + "/worker/" + notify::PercentEncode(event.worker_id());
  }
  return links;
}

absl::StatusOr<notify::HttpRequest> RequestFor(const DeliveryJob& job, const MessageContext& context, int64_t now_ms) {
  const notify::ChannelConfig* channel = context.config->FindChannel(job.channel);
  if (channel == nullptr) return absl::NotFoundError("channel " + job.channel + " is not in the config");
  const notify::MessageLinks links = LinksFor(job.event, job.recipient, context.page_base_url, now_ms);
  notify::MessagePlace place;
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

}  // namespace alertd::notifyd
