// Reading chat-robot, Alertmanager and webhook bodies back into what a phone shows.
#include "engine/notifyd/phone_text.h"

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

namespace alertd::notifyd {
namespace {

using nlohmann::json;

constexpr std::size_t kRawBytes = 2048;

std::string Text(const json& value) { return value.is_string() ? value.get<std::string>() : std::string(); }

// Markdown as a chat app renders it: headings, bold and quotes lose their marks, a link shows its
// words (its address goes to `links`).
void AddMarkdown(std::string_view markdown, PhoneMessage* message) {
  static const std::regex kLink(R"(\[([^\]]*)\]\(([^)\s]+)\))");
  std::istringstream in{std::string(markdown)};
  std::string line;
  while (std::getline(in, line)) {
    for (auto it = std::sregex_iterator(line.begin(), line.end(), kLink); it != std::sregex_iterator(); ++it) {
      message->links.emplace_back((*it)[1].str(), (*it)[2].str());
    }
    line = std::regex_replace(line, kLink, "$1");
    line = std::regex_replace(line, std::regex(R"(^\s*(#+|>)\s*)"), "");
    line = std::regex_replace(line, std::regex(R"(\*\*|__|<font[^>]*>|</font>)"), "");
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    message->lines.push_back(line);
  }
}

PhoneMessage FromAlert(const json& alert) {
  PhoneMessage m;
  m.app = "Alertmanager";
  const json annotations = alert.value("annotations", json::object());
  m.title = Text(annotations.value("summary", json()));
  if (alert.contains("endsAt")) m.title = "[已解除 resolved] " + m.title;
  AddMarkdown(Text(annotations.value("description", json())), &m);
  std::string labels;
  const json alert_labels = alert.value("labels", json::object());
  for (const auto& [name, value] : alert_labels.items()) {
    labels += (labels.empty() ? "" : " ") + name + "=" + Text(value);
  }
  m.lines.push_back("标签 labels: " + labels);
  if (alert.contains("generatorURL")) m.links.emplace_back("查看职工详情", Text(alert["generatorURL"]));
  return m;
}

}  // namespace

std::vector<PhoneMessage> ReadPhoneMessages(std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::vector<PhoneMessage> out;
  if (parsed.is_array()) {
    for (const json& alert : parsed) {
      if (alert.is_object()) out.push_back(FromAlert(alert));
    }
    if (!out.empty()) return out;
  }
  PhoneMessage m;
  if (parsed.is_object() && parsed.value("msgtype", "") == "markdown" && parsed.contains("markdown")) {
    const json& md = parsed["markdown"];
    if (md.contains("content")) {  // WeChat Work: the title is the first heading of the content
      m.app = "企业微信";
      AddMarkdown(Text(md["content"]), &m);
      if (!m.lines.empty()) {
        m.title = m.lines.front();
        m.lines.erase(m.lines.begin());
      }
    } else {
      m.app = "钉钉";
      m.title = Text(md.value("title", json()));
      AddMarkdown(Text(md.value("text", json())), &m);
      if (!m.lines.empty() && m.lines.front() == m.title) m.lines.erase(m.lines.begin());
    }
  } else if (parsed.is_object() && parsed.value("msg_type", "") == "interactive") {
    m.app = "飞书";
    const json card = parsed.value("card", json::object());
    m.title = Text(card.value("header", json::object()).value("title", json::object()).value("content", json()));
    const json elements = card.value("elements", json::array());
    for (const json& element : elements) {
      AddMarkdown(Text(element.value("text", json::object()).value("content", json())), &m);
    }
  } else if (parsed.is_object() && (parsed.contains("title") || parsed.contains("text"))) {
    m.app = "Webhook";
    m.title = Text(parsed.value("title", json()));
    AddMarkdown(Text(parsed.value("text", json())), &m);
  } else {
    m.app = "Webhook";
    m.title = "(原始内容 raw body)";
    m.lines.push_back(std::string(body.substr(0, kRawBytes)) + (body.size() > kRawBytes ? " …" : ""));
  }
  out.push_back(std::move(m));
  return out;
}

std::string PhoneText(const PhoneMessage& message, std::string_view received_at) {
  std::string out = "┌─ 📱 " + message.app + " · " + std::string(received_at) + "\n";
  out += "│ " + message.title + "\n│\n";
  for (const std::string& line : message.lines) out += "│ " + line + "\n";
  if (!message.links.empty()) {
    out += "│\n";
    for (const auto& [words, address] : message.links) out += "│ 🔗 " + words + ": " + address + "\n";
  }
  out += "└──────────\n";
  return out;
}

}  // namespace alertd::notifyd
