// The notification config file (deploy/notify/notify.yaml): channels, recipients, quiet hours.
//
// Checked completely before alertd-notify starts, in the policy file's style: an unknown key, a
// value of the wrong type, a channel that no recipient can reach or a template that names an
// unknown key is refused with "<file>:<line>:<column>: <field.path>: <what was expected>".
// Stateless functions; any thread. A NotifyConfig is a plain value.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/notify/channel_kind.h"
#include "engine/notify/templates.h"
#include "engine/notify/words.h"
#include "health.pb.h"

namespace alertd::notify {

// A daily span of local time in which INFO and HIGH events wait; [from, until), may wrap midnight.
struct QuietHours {
  int from_minute = 0;   // minutes after local midnight
  int until_minute = 0;  // minutes after local midnight; differs from from_minute
  friend bool operator==(const QuietHours&, const QuietHours&) = default;
};

struct ChannelConfig {
  std::string name;  // [A-Za-z0-9_-]+, unique; appears in delivery keys and metric labels
  ChannelKind kind = ChannelKind::kWebhook;
  std::string url;            // http(s)://...; Alertmanager: its base URL (…/api/v2/alerts is appended)
  std::string secret;         // DingTalk / Feishu signing secret; empty = unsigned
  std::string body_template;  // webhook only: mustache over the view model plus `title` and `body`
  std::string content_type;   // webhook only; default application/json
  TemplateEscape body_escape = TemplateEscape::kJsonString;  // webhook: JSON bodies escape values
};

// Who gets what: one person (by the id the escalation names), or everyone of one role.
struct RecipientRoute {
  std::string person_id;  // set: this person; overrides their role's route
  // Set when person_id is empty. RECIPIENT_ROLE_UNSPECIFIED is the on-call desk (config `on_call`),
  // for events that name no recipient.
  healthgrid::v1::RecipientRole role = healthgrid::v1::RECIPIENT_ROLE_UNSPECIFIED;
  std::vector<std::string> channels;     // names of ChannelConfig, at least one
  std::optional<Language> language;      // unset: the deployment's
  std::set<healthgrid::v1::Rule> rules;  // empty: every rule
  healthgrid::v1::Severity min_severity = healthgrid::v1::INFO;
  std::optional<QuietHours> quiet_hours;  // resolved: own, else the deployment's, else none
  int line = 0;                           // where the file defines it, for messages
};

struct NotifyConfig {
  Language language = kDefaultLanguage;
  int utc_offset_minutes = 8 * 60;        // the grids' local time, +08:00 in China
  std::optional<QuietHours> quiet_hours;  // the deployment's default
  std::vector<ChannelConfig> channels;
  std::vector<RecipientRoute> recipients;

  const ChannelConfig* FindChannel(std::string_view name) const;
};

[[nodiscard]] absl::StatusOr<NotifyConfig> LoadNotifyConfig(const std::string& path);
[[nodiscard]] absl::StatusOr<NotifyConfig> ParseNotifyConfig(std::string_view yaml_text, std::string_view source_name);

}  // namespace alertd::notify
