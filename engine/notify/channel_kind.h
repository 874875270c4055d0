// The kinds of channel alertd-notify can deliver through; each has its own payload (payloads.h).
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace alertd::notify {

enum class ChannelKind {
  kAlertmanager,  // Alertmanager API v2 (POST /api/v2/alerts)
  kWeCom,         // WeChat Work (企业微信) group robot, markdown
  kDingTalk,      // DingTalk robot, markdown, signed when a secret is set
  kFeishu,        // Feishu bot, rich text ("post"), signed when a secret is set
  kWebhook,       // any HTTP endpoint; the body is a template from the config
};

inline constexpr std::array<ChannelKind, 5> kChannelKinds = {ChannelKind::kAlertmanager, ChannelKind::kWeCom,
                                                             ChannelKind::kDingTalk, ChannelKind::kFeishu,
                                                             ChannelKind::kWebhook};

// "alertmanager", "wecom", "dingtalk", "feishu", "webhook": the config's `kind` and the template files' prefix.
constexpr std::string_view ChannelKindName(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::kAlertmanager:
      return "alertmanager";
    case ChannelKind::kWeCom:
      return "wecom";
    case ChannelKind::kDingTalk:
      return "dingtalk";
    case ChannelKind::kFeishu:
      return "feishu";
    case ChannelKind::kWebhook:
      return "webhook";
  }
  return "unknown";
}

constexpr std::optional<ChannelKind> ParseChannelKind(std::string_view name) {
  for (ChannelKind kind : kChannelKinds) {
    if (ChannelKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace alertd::notify
