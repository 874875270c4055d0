// Reading and checking the notification config file; each mapping's keys are listed where it is read.
#include "engine/notify/notify_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>

#include "absl/status/status.h"
#include "engine/config/yaml_source.h"
#include "engine/notify/view_model.h"

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;

constexpr std::size_t kMaxConfigBytes = 1 << 20;  // thousands of recipients fit; a wrong file does not
constexpr std::size_t kMaxUrlBytes = 2048;

struct RoleName {
  std::string_view name;
  pb::RecipientRole role;
};
constexpr RoleName kRoles[] = {{"worker", pb::ROLE_WORKER},
                               {"health_manager", pb::ROLE_HEALTH_MANAGER},
                               {"unit_supervisor", pb::ROLE_UNIT_SUPERVISOR},
                               {"extra", pb::ROLE_EXTRA},
                               {"on_call", pb::RECIPIENT_ROLE_UNSPECIFIED}};


// "22:00" -> minutes after midnight.
std::optional<int> ParseClock(const std::string& s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (s[static_cast<std::size_t>(i)] < '0' || s[static_cast<std::size_t>(i)] > '9') return std::nullopt;
  }
  const int hours = (s[0] - '0') * 10 + (s[1] - '0');
  const int minutes = (s[3] - '0') * 10 + (s[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return hours * 60 + minutes;
}

// "+08:00" -> minutes east of UTC, within the zones on Earth (UTC-12:00 .. UTC+14:00).
std::optional<int> ParseUtcOffset(const std::string& s) {
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  const std::optional<int> clock = ParseClock(s.substr(1));
  if (!clock) return std::nullopt;
  const int minutes = s[0] == '-' ? -*clock : *clock;
  if (minutes < -12 * 60 || minutes > 14 * 60) return std::nullopt;
  return minutes;
}

bool IsChannelName(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// The view a webhook body template renders: the message view plus the rendered title and body.
nlohmann::json WebhookSpecimen(Language language) {
  nlohmann::json view = SpecimenView(language);
  view["title"] = "title";
  view["body"] = "body";
  return view;
}


class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  absl::StatusOr<NotifyConfig> Parse(std::string_view text) {
    if (text.size() > kMaxConfigBytes) {
      return absl::InvalidArgumentError(fmt::format("{}: {} bytes; the notification config may hold at most {}",
                                                    source_, text.size(), kMaxConfigBytes));
    }
    absl::StatusOr<YAML::Node> document = config::LoadOneDocument(source_, text);
    if (!document.ok()) return document.status();
    const YAML::Node& root = *document;
    if (root.IsNull()) {
      return absl::InvalidArgumentError(fmt::format(
          "{}: the notification config is empty; expected a mapping with language, utc_offset, quiet_hours, "
          "channels, recipients",
          source_));
    }
    NotifyConfig config;
    if (absl::Status st = ReadRoot(root, config); !st.ok()) return st;
    return config;
  }

 private:
  absl::Status Fail(const YAML::Mark& mark, std::string_view field, std::string_view what) const {
    return config::YamlError(source_, mark, field, what);
  }

  // Checks that `node` is a mapping whose keys are all in `allowed` and none repeats; fills `out`.
  absl::Status Mapping(const YAML::Node& node, const YAML::Mark& where, const std::string& path,
                       std::initializer_list<std::string_view> allowed, std::map<std::string, YAML::Node>& out) {
    const std::string keys = fmt::format("{}", fmt::join(allowed, ", "));
    if (!node.IsMap())
      return Fail(Mark(node, where), path,
                  fmt::format("expected a mapping with keys {}, got {}", keys, config::DescribeYaml(node)));
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) return Fail(key.Mark(), path, fmt::format("expected a field name, got {}", config::DescribeYaml(key)));
      const std::string field = path.empty() ? key.Scalar() : fmt::format("{}.{}", path, key.Scalar());
      if (std::find(allowed.begin(), allowed.end(), key.Scalar()) == allowed.end()) {
        return Fail(key.Mark(), field, fmt::format("unknown field; allowed here: {}", keys));
      }
      if (out.contains(key.Scalar())) return Fail(key.Mark(), field, "set twice");
      out.emplace(key.Scalar(), entry.second);
      marks_[field] = key.Mark();
    }
    return absl::OkStatus();
  }

  // A value's own position, or its key's when it has none (an empty value).
  static YAML::Mark Mark(const YAML::Node& node, const YAML::Mark& fallback) {
    return node.IsNull() || node.Mark().is_null() ? fallback : node.Mark();
  }

  YAML::Mark KeyMark(const std::string& field) const {
    const auto it = marks_.find(field);
    return it == marks_.end() ? YAML::Mark::null_mark() : it->second;
  }

  absl::StatusOr<std::string> Text(const YAML::Node& node, const std::string& field, std::string_view expected) {
    if (!node.IsScalar())
      return Fail(Mark(node, KeyMark(field)), field, fmt::format("expected {}, got {}", expected, config::DescribeYaml(node)));
    return node.Scalar();
  }

  // The scalar at `field` as `parse` reads it, or a refusal saying what was expected and what came.
  template <typename Parse>
  auto Choice(const YAML::Node& node, const std::string& field, std::string_view expected, Parse parse)
      -> absl::StatusOr<typename std::invoke_result_t<Parse, const std::string&>::value_type> {
    if (node.IsScalar()) {
      if (auto value = parse(node.Scalar())) return *value;
    }
    return Fail(Mark(node, KeyMark(field)), field, fmt::format("expected {}, got {}", expected, config::DescribeYaml(node)));
  }

  absl::StatusOr<Language> ReadLanguage(const YAML::Node& node, const std::string& field) {
    return Choice(node, field, "zh-CN or en", [](const std::string& s) { return ParseLanguage(s); });
  }

  absl::StatusOr<QuietHours> ReadQuietHours(const YAML::Node& node, const std::string& field) {
    std::map<std::string, YAML::Node> keys;
    if (absl::Status st = Mapping(node, KeyMark(field), field, {"from", "until"}, keys); !st.ok()) return st;
    QuietHours hours;
    for (auto [name, out] : {std::pair{"from", &hours.from_minute}, std::pair{"until", &hours.until_minute}}) {
      const std::string path = fmt::format("{}.{}", field, name);
      if (!keys.contains(name))
        return Fail(Mark(node, KeyMark(field)), path, "missing; expected a local time \"HH:MM\"");
      absl::StatusOr<int> minute = Choice(keys[name], path, "a local time \"HH:MM\" (00:00..23:59)", ParseClock);
      if (!minute.ok()) return minute.status();
      *out = *minute;
    }
    if (hours.from_minute == hours.until_minute) {
      return Fail(Mark(node, KeyMark(field)), field,
                  "from and until are equal; quiet hours need a span (or remove them)");
    }
    return hours;
  }

  absl::Status ReadRoot(const YAML::Node& root, NotifyConfig& config) {
    std::map<std::string, YAML::Node> keys;
    if (absl::Status st = Mapping(root, YAML::Mark::null_mark(), "",
                                  {"language", "utc_offset", "quiet_hours", "channels", "recipients"}, keys);
        !st.ok())
      return st;
    if (keys.contains("language")) {
      absl::StatusOr<Language> language = ReadLanguage(keys["language"], "language");
      if (!language.ok()) return language.status();
      config.language = *language;
    }
    if (keys.contains("utc_offset")) {
      absl::StatusOr<int> offset =
          Choice(keys["utc_offset"], "utc_offset",
                 "an offset \"+HH:MM\" or \"-HH:MM\" between -12:00 and +14:00 (quote it)", ParseUtcOffset);
      if (!offset.ok()) return offset.status();
      config.utc_offset_minutes = *offset;
    }
    if (keys.contains("quiet_hours") && !keys["quiet_hours"].IsNull()) {
      absl::StatusOr<QuietHours> hours = ReadQuietHours(keys["quiet_hours"], "quiet_hours");
      if (!hours.ok()) return hours.status();
      config.quiet_hours = *hours;
    }
    if (!keys.contains("channels") || keys["channels"].IsNull()) {
      return Fail(KeyMark("channels"), "channels", "missing; expected a mapping from channel name to its kind and url");
    }
    if (absl::Status st = ReadChannels(keys["channels"], config); !st.ok()) return st;
    if (!keys.contains("recipients") || keys["recipients"].IsNull()) {
      return Fail(KeyMark("recipients"), "recipients", "missing; expected a list of routes (person or role, channels)");
    }
    return ReadRecipients(keys["recipients"], config);
  }

  absl::Status ReadChannels(const YAML::Node& node, NotifyConfig& config) {
    if (!node.IsMap())
      return Fail(Mark(node, KeyMark("channels")), "channels",
                  fmt::format("expected a mapping from channel name to its settings, got {}", config::DescribeYaml(node)));
    for (const auto& entry : node) {
      const YAML::Node& name_node = entry.first;
      const std::string field = fmt::format("channels.{}", name_node.IsScalar() ? name_node.Scalar() : "?");
      if (!name_node.IsScalar() || !IsChannelName(name_node.Scalar())) {
        return Fail(name_node.Mark(), field,
                    fmt::format("expected a channel name of letters, digits, - and _ (at most 64), got {}",
                                config::DescribeYaml(name_node)));
      }
      if (config.FindChannel(name_node.Scalar()) != nullptr) return Fail(name_node.Mark(), field, "defined twice");
      marks_[field] = name_node.Mark();
      std::map<std::string, YAML::Node> keys;
      if (absl::Status st =
              Mapping(entry.second, name_node.Mark(), field, {"kind", "url", "secret", "body", "content_type"}, keys);
          !st.ok())
        return st;
      ChannelConfig channel;
      channel.name = name_node.Scalar();
      const std::string kinds = "alertmanager, wecom, dingtalk, feishu or webhook";
      if (!keys.contains("kind"))
        return Fail(name_node.Mark(), field + ".kind", fmt::format("missing; expected {}", kinds));
      absl::StatusOr<ChannelKind> kind =
          Choice(keys["kind"], field + ".kind", kinds, [](const std::string& s) { return ParseChannelKind(s); });
      if (!kind.ok()) return kind.status();
      channel.kind = *kind;
      if (!keys.contains("url"))
        return Fail(name_node.Mark(), field + ".url", "missing; expected an http:// or https:// URL");
      absl::StatusOr<std::string> url = Text(keys["url"], field + ".url", "an http:// or https:// URL");
      if (!url.ok()) return url.status();
      if (!(url->starts_with("http://") || url->starts_with("https://")) || url->size() > kMaxUrlBytes ||
          url->find_first_of(" \t\r\n") != std::string::npos) {
        return Fail(Mark(keys["url"], KeyMark(field + ".url")), field + ".url",
                    fmt::format("expected an http:// or https:// URL without spaces (at most {} bytes), got {}",
                                kMaxUrlBytes, config::DescribeYaml(keys["url"])));
      }
      channel.url = *url;
      if (keys.contains("secret")) {
        if (channel.kind != ChannelKind::kDingTalk && channel.kind != ChannelKind::kFeishu) {
          return Fail(KeyMark(field + ".secret"), field + ".secret",
                      fmt::format("only dingtalk and feishu channels sign requests; a {} channel has no secret",
                                  ChannelKindName(channel.kind)));
        }
        absl::StatusOr<std::string> secret = Text(keys["secret"], field + ".secret", "the robot's signing secret");
        if (!secret.ok()) return secret.status();
        channel.secret = *secret;
      }
      if (absl::Status st = ReadWebhookBody(keys, field, channel); !st.ok()) return st;
      config.channels.push_back(std::move(channel));
    }
    if (config.channels.empty())
      return Fail(Mark(node, KeyMark("channels")), "channels", "expected at least one channel");
    return absl::OkStatus();
  }

  absl::Status ReadWebhookBody(std::map<std::string, YAML::Node>& keys, const std::string& field,
                               ChannelConfig& channel) {
    const bool webhook = channel.kind == ChannelKind::kWebhook;
    for (const char* key : {"body", "content_type"}) {
      if (!webhook && keys.contains(key)) {
        return Fail(KeyMark(fmt::format("{}.{}", field, key)), fmt::format("{}.{}", field, key),
                    "only webhook channels take a body template; the other kinds follow their platform's format");
      }
    }
    if (!webhook) return absl::OkStatus();
    channel.content_type = "application/json";
    if (keys.contains("content_type")) {
      absl::StatusOr<std::string> type = Text(keys["content_type"], field + ".content_type", "a media type");
      if (!type.ok()) return type.status();
      if (type->empty() || type->find_first_of("\r\n") != std::string::npos)
        return Fail(Mark(keys["content_type"], KeyMark(field + ".content_type")), field + ".content_type",
                    "expected a media type on one line");
      channel.content_type = *type;
    }
    // A JSON body escapes each value as JSON string content; any other body takes values as they are.
    channel.body_escape =
        channel.content_type.find("json") != std::string::npos ? TemplateEscape::kJsonString : TemplateEscape::kNone;
    if (!keys.contains("body"))
      return Fail(KeyMark(field), field + ".body", "missing; a webhook channel needs a mustache body template");
    absl::StatusOr<std::string> body = Text(keys["body"], field + ".body", "a mustache template");
    if (!body.ok()) return body.status();
    // Errors inside the template carry the template's own line; name the config line it starts on.
    const YAML::Mark at = Mark(keys["body"], KeyMark(field + ".body"));
    const std::string source = fmt::format("{}:{}:{}: {}.body", source_, at.line + 1, at.column + 1, field);
    for (Language language : {Language::kZhCN, Language::kEn}) {
      if (absl::Status st = CheckTemplate(*body, WebhookSpecimen(language), source + " (template line)"); !st.ok())
        return st;
    }
    channel.body_template = *body;
    return absl::OkStatus();
  }

  absl::Status ReadRecipients(const YAML::Node& node, NotifyConfig& config) {
    if (!node.IsSequence() || node.size() == 0) {
      return Fail(Mark(node, KeyMark("recipients")), "recipients",
                  fmt::format("expected a list of routes (person or role, channels), got {}", config::DescribeYaml(node)));
    }
    std::map<std::string, int> seen;  // "person X" / "role Y" -> line, so one selector has one route
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const std::string field = fmt::format("recipients[{}]", i);
      std::map<std::string, YAML::Node> keys;
      if (absl::Status st =
              Mapping(item, Mark(item, KeyMark("recipients")), field,
                      {"person", "role", "channels", "language", "rules", "min_severity", "quiet_hours"}, keys);
          !st.ok())
        return st;
      RecipientRoute route;
      route.line = item.Mark().line + 1;
      if (keys.contains("person") == keys.contains("role")) {
        return Fail(item.Mark(), field,
                    "expected exactly one of person (a staff id from the escalation's recipients) or role");
      }
      absl::StatusOr<std::string> selector = ReadRouteSelector(keys, field, route);
      if (!selector.ok()) return selector.status();
      if (auto [first, inserted] = seen.emplace(*selector, route.line); !inserted) {
        return Fail(
            item.Mark(), field,
            fmt::format("{} already has a route (line {}); list all its channels there", *selector, first->second));
      }
      if (absl::Status st = ReadRouteChannels(keys, field, config, route); !st.ok()) return st;
      if (absl::Status st = ReadRouteFilters(keys, field, route); !st.ok()) return st;
      if (absl::Status st = ReadRouteQuietHours(keys, field, config, route); !st.ok()) return st;
      config.recipients.push_back(std::move(route));
    }
    return absl::OkStatus();
  }

  // Who a route is for; returns "person X" / "role Y", the words that name it in a refusal.
  absl::StatusOr<std::string> ReadRouteSelector(std::map<std::string, YAML::Node>& keys, const std::string& field,
                                                RecipientRoute& route) {
    if (keys.contains("person")) {
      absl::StatusOr<std::string> id = Text(keys["person"], field + ".person", "a staff id");
      if (!id.ok()) return id.status();
      if (id->empty())
        return Fail(KeyMark(field + ".person"), field + ".person", "expected a staff id, got an empty one");
      route.person_id = *id;
      return "person " + *id;
    }
    const std::string roles = "worker, health_manager, unit_supervisor, extra or on_call";
    absl::StatusOr<const RoleName*> role = Choice(keys["role"], field + ".role", roles, [](const std::string& s) {
      const auto* found =
          std::find_if(std::begin(kRoles), std::end(kRoles), [&](const RoleName& r) { return r.name == s; });
      return found == std::end(kRoles) ? std::nullopt : std::optional<const RoleName*>(found);
    });
    if (!role.ok()) return role.status();
    route.role = (*role)->role;
    return fmt::format("role {}", (*role)->name);
  }

  // A route's own quiet hours, `off`, or (absent) the deployment's.
  absl::Status ReadRouteQuietHours(std::map<std::string, YAML::Node>& keys, const std::string& field,
                                   const NotifyConfig& config, RecipientRoute& route) {
    if (!keys.contains("quiet_hours")) {
      route.quiet_hours = config.quiet_hours;
      return absl::OkStatus();
    }
    const YAML::Node& q = keys["quiet_hours"];
    if (q.IsScalar() && q.Scalar() == "off") {
      route.quiet_hours.reset();
      return absl::OkStatus();
    }
    absl::StatusOr<QuietHours> hours = ReadQuietHours(q, field + ".quiet_hours");
    if (!hours.ok()) return hours.status();
    route.quiet_hours = *hours;
    return absl::OkStatus();
  }

  absl::Status ReadRouteChannels(std::map<std::string, YAML::Node>& keys, const std::string& field,
                                 const NotifyConfig& config, RecipientRoute& route) {
    const std::string path = field + ".channels";
    if (!keys.contains("channels"))
      return Fail(KeyMark(field + ".person").is_null() ? KeyMark(field + ".role") : KeyMark(field + ".person"), path,
                  "missing; expected a list of channel names");
    const YAML::Node& list = keys["channels"];
    if (!list.IsSequence() || list.size() == 0)
      return Fail(Mark(list, KeyMark(path)), path,
                  fmt::format("expected a list of channel names, got {}", config::DescribeYaml(list)));
    for (const YAML::Node& item : list) {
      if (!item.IsScalar() || config.FindChannel(item.Scalar()) == nullptr) {
        std::vector<std::string> names;
        for (const ChannelConfig& c : config.channels) names.push_back(c.name);
        return Fail(Mark(item, KeyMark(path)), path,
                    fmt::format("expected a channel defined under channels ({}), got {}", fmt::join(names, ", "),
                                config::DescribeYaml(item)));
      }
      if (std::find(route.channels.begin(), route.channels.end(), item.Scalar()) != route.channels.end()) {
        return Fail(item.Mark(), path, fmt::format("channel {} listed twice", item.Scalar()));
      }
      route.channels.push_back(item.Scalar());
    }
    return absl::OkStatus();
  }

  absl::Status ReadRouteFilters(std::map<std::string, YAML::Node>& keys, const std::string& field,
                                RecipientRoute& route) {
    if (keys.contains("language")) {
      absl::StatusOr<Language> language = ReadLanguage(keys["language"], field + ".language");
      if (!language.ok()) return language.status();
      route.language = *language;
    }
    if (keys.contains("rules")) {
      const std::string path = field + ".rules";
      const YAML::Node& list = keys["rules"];
      if (!list.IsSequence() || list.size() == 0)
        return Fail(Mark(list, KeyMark(path)), path,
                    fmt::format("expected a list of rules R1..R6, got {}", config::DescribeYaml(list)));
      for (const YAML::Node& item : list) {
        absl::StatusOr<pb::Rule> rule = Choice(item, path, "one of R1, R2, R3, R4, R5, R6", [](const std::string& s) {
          std::optional<pb::Rule> found;
          for (int r = pb::R1_CRITICAL_BP; r <= pb::R6_FOCUS_TRACKING; ++r) {
            if (s == RuleCode(static_cast<pb::Rule>(r))) found = static_cast<pb::Rule>(r);
          }
          return found;
        });
        if (!rule.ok()) return rule.status();
        route.rules.insert(*rule);
      }
    }
    if (keys.contains("min_severity")) {
      const std::string path = field + ".min_severity";
      absl::StatusOr<pb::Severity> severity =
          Choice(keys["min_severity"], path, "INFO, HIGH, URGENT or CRITICAL", [](const std::string& s) {
            pb::Severity parsed = pb::SEVERITY_UNSPECIFIED;
            const bool known = pb::Severity_Parse(s, &parsed) && parsed != pb::SEVERITY_UNSPECIFIED;
            return known ? std::optional<pb::Severity>(parsed) : std::nullopt;
          });
      if (!severity.ok()) return severity.status();
      route.min_severity = *severity;
    }
    return absl::OkStatus();
  }

  std::string source_;
  std::map<std::string, YAML::Mark> marks_;  // where each key was written, for errors about its value
};

}  // namespace

const ChannelConfig* NotifyConfig::FindChannel(std::string_view name) const {
  const auto it =
      std::find_if(channels.begin(), channels.end(), [&](const ChannelConfig& c) { return c.name == name; });
  return it == channels.end() ? nullptr : &*it;
}

absl::StatusOr<NotifyConfig> ParseNotifyConfig(std::string_view yaml_text, std::string_view source_name) {
  return ConfigReader(source_name).Parse(yaml_text);
}

absl::StatusOr<NotifyConfig> LoadNotifyConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(fmt::format("{}: cannot read the notification config", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return ParseNotifyConfig(buffer.str(), path);
}

}  // namespace alertd::notify
