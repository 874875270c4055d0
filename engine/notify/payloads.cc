// The five channel payloads of payloads.h, built with nlohmann::json and signed with signing.h.
#include "engine/notify/payloads.h"

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "engine/notify/signing.h"

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;
using nlohmann::json;

const std::pair<std::string, std::string> kJsonContentType{"Content-Type", "application/json; charset=utf-8"};

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

std::string EnumLabel(bool valid, const std::string& name) { return valid ? Lower(name) : "unknown"; }

// At most `max_bytes` of UTF-8 `text`, cut at a character boundary and marked as cut.
std::string Truncated(const std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  constexpr std::string_view kEllipsis = "…";  // 3 bytes
  std::size_t cut = max_bytes - kEllipsis.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
  return text.substr(0, cut) + std::string(kEllipsis);
}

std::string WithQuery(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

// Feishu card header colours: red for what cannot wait, orange for high, blue otherwise.
std::string_view CardColour(const pb::Escalation& event) {
  if (event.state() == pb::RESOLVED) return "green";
  if (event.severity() >= pb::URGENT) return "red";
  return event.severity() == pb::HIGH ? "orange" : "blue";
}

}  // namespace

std::string Rfc3339Utc(int64_t ms_since_epoch) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{ms_since_epoch}};
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

json AlertLabels(const pb::Escalation& event, const pb::Recipient& recipient) {
  return json{
      {"alertname", "HealthEscalation"},
      {"episode", event.episode_id()},
      {"unit", event.unit_id()},
      {"grid", event.grid_id()},
      {"rule", std::string(RuleCode(event.rule()))},
      {"level", EnumLabel(pb::EscalationLevel_IsValid(event.level()), pb::EscalationLevel_Name(event.level()))},
      {"severity", EnumLabel(pb::Severity_IsValid(event.severity()), pb::Severity_Name(event.severity()))},
      {"recipient", recipient.id()},
  };
}

absl::StatusOr<HttpRequest> AlertmanagerRequest(const ChannelConfig& channel, const pb::Escalation& event,
                                                const RenderedText& text, const pb::Recipient& recipient,
                                                const MessageLinks& links) {
  std::string base = channel.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // The episode started when its first reading was taken; an event without one started when decided.
  const int64_t starts = event.opened_at_ms() != 0 ? event.opened_at_ms() : event.emitted_at_ms();
  json alert{{"labels", AlertLabels(event, recipient)},
             {"annotations", {{"summary", text.title}, {"description", text.body}}},
             {"startsAt", Rfc3339Utc(starts)}};
  if (event.state() == pb::RESOLVED) alert["endsAt"] = Rfc3339Utc(std::max(event.emitted_at_ms(), starts));
  if (!links.worker_page.empty()) alert["generatorURL"] = links.worker_page;
  return HttpRequest{"POST", base + "/api/v2/alerts", {kJsonContentType}, JsonText(json::array({alert}))};
}

absl::StatusOr<HttpRequest> WeComRequest(const ChannelConfig& channel, const RenderedText& text) {
  const std::string content = Truncated(fmt::format("### {}\n{}", text.title, text.body), kWeComMaxContentBytes);
  json body{{"msgtype", "markdown"}, {"markdown", {{"content", content}}}};
  return HttpRequest{"POST", channel.url, {kJsonContentType}, JsonText(body)};
}

absl::StatusOr<HttpRequest> DingTalkRequest(const ChannelConfig& channel, const RenderedText& text, int64_t now_ms) {
  std::string url = channel.url;
  if (!channel.secret.empty()) {
    url = WithQuery(
        url, fmt::format("timestamp={}&sign={}", now_ms, PercentEncode(DingTalkSignature(now_ms, channel.secret))));
  }
  json body{{"msgtype", "markdown"},
            {"markdown", {{"title", text.title}, {"text", fmt::format("### {}\n\n{}", text.title, text.body)}}},
            {"at", {{"isAtAll", false}}}};
  return HttpRequest{"POST", std::move(url), {kJsonContentType}, JsonText(body)};
}

absl::StatusOr<HttpRequest> FeishuRequest(const ChannelConfig& channel, const pb::Escalation& event,
                                          const RenderedText& text, int64_t now_ms) {
  json body;
  if (!channel.secret.empty()) {
    const int64_t seconds = now_ms / 1000;  // Feishu signs seconds; DingTalk milliseconds
    body["timestamp"] = std::to_string(seconds);
    body["sign"] = FeishuSignature(seconds, channel.secret);
  }
  body["msg_type"] = "interactive";
  body["card"] =
      json{{"header", {{"title", {{"tag", "plain_text"}, {"content", text.title}}}, {"template", CardColour(event)}}},
           {"elements", json::array({json{{"tag", "div"}, {"text", {{"tag", "lark_md"}, {"content", text.body}}}}})}};
  return HttpRequest{"POST", channel.url, {kJsonContentType}, JsonText(body)};
}

absl::StatusOr<HttpRequest> WebhookRequest(const ChannelConfig& channel, const RenderedText& text, const json& view) {
  json full = view;
  full["title"] = text.title;
  full["body"] = text.body;
  absl::StatusOr<std::string> body = RenderTemplate(channel.body_template, full, channel.body_escape);
  if (!body.ok())
    return absl::InvalidArgumentError(
        fmt::format("channel {}: body template: {}", channel.name, std::string(body.status().message())));
  if (channel.body_escape == TemplateEscape::kJsonString && !json::accept(*body)) {
    return absl::InvalidArgumentError(fmt::format(
        "channel {}: the body template rendered text that is not JSON although content_type is {}; quote each "
        "{{{{value}}}} inside a JSON string",
        channel.name, channel.content_type));
  }
  return HttpRequest{"POST", channel.url, {{"Content-Type", channel.content_type}}, *std::move(body)};
}

absl::StatusOr<HttpRequest> BuildRequest(const ChannelConfig& channel, const pb::Escalation& event,
                                         const RenderedText& text, const pb::Recipient& recipient,
                                         const MessageLinks& links, const json& view, int64_t now_ms) {
  switch (channel.kind) {
    case ChannelKind::kAlertmanager:
      return AlertmanagerRequest(channel, event, text, recipient, links);
    case ChannelKind::kWeCom:
      return WeComRequest(channel, text);
    case ChannelKind::kDingTalk:
      return DingTalkRequest(channel, text, now_ms);
    case ChannelKind::kFeishu:
      return FeishuRequest(channel, event, text, now_ms);
    case ChannelKind::kWebhook:
      return WebhookRequest(channel, text, view);
  }
  return absl::InvalidArgumentError(fmt::format("channel {}: unknown kind", channel.name));
}

}  // namespace alertd::notify
