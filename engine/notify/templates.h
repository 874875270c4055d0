// Message templates (kainjow mustache) loaded from files, checked against the view model's keys.
//
// Layout on disk: <dir>/<language>/<channel kind>.title.mustache and .body.mustache, for each
// language of words.h (zh-CN, en) and each kind of channel_kind.h. A programme edits the wording
// there and restarts alertd-notify; no rebuild. Mustache renders an unknown key as nothing, so a
// misspelt tag would silently drop words from a message: every tag is checked against the view
// model's keys (SpecimenView) when the templates load, and a template that does not parse or names
// an unknown key is refused with "<file>:<line>: <what>".
// MessageTemplates is immutable after Load; share it between threads freely.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "engine/notify/channel_kind.h"
#include "engine/notify/words.h"

namespace alertd::notify {

// A message's words: its title (chat title, alert summary) and its body.
struct RenderedText {
  std::string title;
  std::string body;
};

// How a template's {{values}} are escaped. Chat text and markdown go into JSON through a JSON
// encoder, so they are not escaped here (HTML entities would show on the phone); a webhook body
// that is itself JSON escapes each value as the inside of a JSON string.
enum class TemplateEscape { kNone, kJsonString };

// Checks that `text` parses as mustache and that every tag names a key of `view` (sections resolve
// in their own context first, as mustache does). `source` names the template in errors.
[[nodiscard]] absl::Status CheckTemplate(std::string_view text, const nlohmann::json& view, std::string_view source);

// Renders `text` over `view`. The text must have passed CheckTemplate; a render error is returned.
[[nodiscard]] absl::StatusOr<std::string> RenderTemplate(std::string_view text, const nlohmann::json& view,
                                                         TemplateEscape escape);

class MessageTemplates {
 public:
  // Reads and checks every template under `dir`; a missing, unreadable or invalid one is an error.
  [[nodiscard]] static absl::StatusOr<MessageTemplates> Load(const std::string& dir);

  // The title and body for a channel of `kind` in `language`, over a view from BuildView.
  [[nodiscard]] absl::StatusOr<RenderedText> Render(ChannelKind kind, Language language,
                                                    const nlohmann::json& view) const;

 private:
  struct Pair {
    std::string title;
    std::string body;
  };
  std::map<std::pair<Language, ChannelKind>, Pair> texts_;
};

}  // namespace alertd::notify
