// How the demo's phone (alertd-phone) shows one message: the robot's or Alertmanager's request body
// read back into a title, lines of text and the links a person would tap.
//
// Reads the bodies payloads.h writes: WeChat Work and DingTalk markdown, a Feishu card, an
// Alertmanager alert list, and a webhook body with `title`/`text` (else shown raw, cut to 2 KiB).
// Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace alertd::notifyd {

struct PhoneMessage {
  std::string app;  // "企业微信", "钉钉", "飞书", "Alertmanager", "Webhook"
  std::string title;
  std::vector<std::string> lines;                          // the body as a person reads it: markdown marks removed
  std::vector<std::pair<std::string, std::string>> links;  // (words, address), in order
};

// The messages in one request body (an Alertmanager list may hold several).
std::vector<PhoneMessage> ReadPhoneMessages(std::string_view body);

// One block of text per message, as a phone would show it, for a terminal.
std::string PhoneText(const PhoneMessage& message, std::string_view received_at);

}  // namespace alertd::notifyd
