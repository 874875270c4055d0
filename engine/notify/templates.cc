// Checking, loading and rendering the message templates with kainjow mustache.
#include "engine/notify/templates.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <kainjow/mustache.hpp>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "engine/notify/view_model.h"

namespace alertd::notify {
namespace {

using nlohmann::json;
namespace mstch = kainjow::mustache;

// A template is a page of text; anything larger is a mistake (a wrong file), not a message.
constexpr std::size_t kMaxTemplateBytes = 64 * 1024;

int LineAt(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// kainjow reports "Unclosed tag at 123" with a byte offset; people read lines.
std::string WithLine(std::string_view text, const std::string& message) {
  const std::size_t at = message.rfind(" at ");
  std::size_t offset = 0;
  if (at != std::string::npos) {
    const char* begin = message.data() + at + 4;
    const char* end = message.data() + message.size();
    if (std::from_chars(begin, end, offset).ec == std::errc{}) {
      return fmt::format("{}: {}", LineAt(text, offset), message.substr(0, at));
    }
  }
  return fmt::format("1: {}", message);
}

mstch::data ToMustache(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      mstch::data out{mstch::data::type::object};
      for (const auto& [key, child] : value.items()) out.set(key, ToMustache(child));
      return out;
    }
    case json::value_t::array: {
      mstch::data out{mstch::data::type::list};
      for (const json& child : value) out.push_back(ToMustache(child));
      return out;
    }
    case json::value_t::string:
      return mstch::data{value.get<std::string>()};
    case json::value_t::boolean:
      return mstch::data{value.get<bool>()};
    case json::value_t::null:
      return mstch::data{std::string()};
    default:
      return mstch::data{JsonText(value)};
  }
}

// The inside of a JSON string literal for `s`, so a value cannot end the string or the document.
std::string JsonStringInside(const std::string& s) {
  const std::string quoted = JsonText(json(s));
  return quoted.substr(1, quoted.size() - 2);
}

// Where a name is looked up: the contexts of the open sections, innermost last. A section over a
// list looks names up in its (specimen's) first element; over a bool, in the enclosing context.
const json* Lookup(const std::vector<const json*>& contexts, std::string_view name) {
  std::vector<std::string> parts;
  for (std::size_t from = 0;;) {
    const std::size_t dot = name.find('.', from);
    parts.emplace_back(name.substr(from, dot == std::string_view::npos ? std::string_view::npos : dot - from));
    if (dot == std::string_view::npos) break;
    from = dot + 1;
  }
  const json* found = nullptr;
  for (auto it = contexts.rbegin(); it != contexts.rend() && found == nullptr; ++it) {
    if ((*it)->is_object() && (*it)->contains(parts[0])) found = &(*it)->at(parts[0]);
  }
  for (std::size_t i = 1; i < parts.size() && found != nullptr; ++i) {
    found = found->is_object() && found->contains(parts[i]) ? &found->at(parts[i]) : nullptr;
  }
  return found;
}

// Mustache's standalone rule, which kainjow does not apply: a line holding only a section, inverted
// section, end or comment tag (and blanks) leaves no line behind, so a section that is left out
// does not leave an empty line in the message.
std::string DropStandaloneTagLines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    const bool last = newline == std::string_view::npos;
    text = last ? std::string_view() : text.substr(newline + 1);
    std::string_view tag = line;
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t' || tag.back() == '\r')) tag.remove_suffix(1);
    const bool standalone = tag.size() > 4 && tag.starts_with("{{") && tag.ends_with("}}") &&
                            std::string_view("#^/!").find(tag[2]) != std::string_view::npos &&
                            tag.find("{{", 2) == std::string_view::npos;
    if (standalone) {
      out += tag;  // the tag without its indentation and line break
    } else {
      out += line;
      if (!last) out += '\n';
    }
  }
  return out;
}

const json* SectionContext(const json* value) {
  if (value->is_array()) return value->empty() ? nullptr : &value->front();
  return value->is_object() ? value : nullptr;
}

// The names a template's view offers at the top level, for an error message.
std::string TopLevelKeys(const json& view) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : view.items()) keys.push_back(key);
  return fmt::format("{}", fmt::join(keys, " "));
}

}  // namespace

absl::Status CheckTemplate(std::string_view text, const json& view, std::string_view source) {
  if (text.size() > kMaxTemplateBytes) {
    return absl::InvalidArgumentError(
        fmt::format("{}: {} bytes; a template may hold at most {}", source, text.size(), kMaxTemplateBytes));
  }
  const std::string owned(text);
  mstch::mustache parsed{owned};
  if (!parsed.is_valid()) {
    return absl::InvalidArgumentError(fmt::format("{}:{}", source, WithLine(text, parsed.error_message())));
  }
  std::vector<const json*> contexts{&view};
  for (std::size_t pos = text.find("{{"); pos != std::string_view::npos; pos = text.find("{{", pos)) {
    const bool triple = text.substr(pos, 3) == "{{{";
    const std::string_view close = triple ? "}}}" : "}}";
    const std::size_t start = pos + (triple ? 3 : 2);
    const std::size_t end = text.find(close, start);
    if (end == std::string_view::npos) break;  // the parser above already refused it
    std::string_view tag = text.substr(start, end - start);
    const int line = LineAt(text, pos);
    pos = end + close.size();
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    const char sigil = tag.empty() ? '\0' : tag.front();
    if (sigil == '!') continue;  // a comment
    if (sigil == '=' || sigil == '>') {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {{{{{}}}}}: {} tags are not supported here; use the view's keys directly", source, line,
                      tag, sigil == '=' ? "set-delimiter" : "partial"));
    }
    std::string_view name = tag;
    if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '&') {
      name.remove_prefix(1);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    }
    if (sigil == '/') {
      // balanced: the parser checked
      contexts.pop_back();
      continue;
    }
    if (name == "." && contexts.size() > 1) {
      if (sigil == '#' || sigil == '^') contexts.push_back(contexts.back());
      continue;
    }
    const json* value = Lookup(contexts, name);
    if (value == nullptr) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {{{{{}}}}}: unknown key \"{}\" (mustache would render it as nothing); the view has: {}",
                      source, line, tag, name, TopLevelKeys(view)));
    }
    if (sigil == '#' || sigil == '^') {
      const json* inner = sigil == '#' ? SectionContext(value) : nullptr;
      contexts.push_back(inner != nullptr ? inner : contexts.back());
      continue;
    }
    if (value->is_object() || value->is_array()) {
      return absl::InvalidArgumentError(
          fmt::format("{}:{}: {{{{{}}}}}: \"{}\" is a {}; open it as a section ({{{{#{}}}}}...{{{{/{}}}}})", source,
                      line, tag, name, value->is_array() ? "list" : "group of keys", name, name));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderTemplate(std::string_view text, const json& view, TemplateEscape escape) {
  const std::string prepared = DropStandaloneTagLines(text);
  mstch::mustache tmpl{prepared};
  if (!tmpl.is_valid()) return absl::InvalidArgumentError(WithLine(prepared, tmpl.error_message()));
  if (escape == TemplateEscape::kNone) {
    tmpl.set_custom_escape([](const std::string& s) { return s; });
  } else {
    tmpl.set_custom_escape(JsonStringInside);
  }
  std::string out = tmpl.render(ToMustache(view));
  if (!tmpl.is_valid()) return absl::InvalidArgumentError(WithLine(prepared, tmpl.error_message()));
  return out;
}

absl::StatusOr<MessageTemplates> MessageTemplates::Load(const std::string& dir) {
  MessageTemplates out;
  for (Language language : {Language::kZhCN, Language::kEn}) {
    const json specimen = SpecimenView(language);
    for (ChannelKind kind : kChannelKinds) {
      Pair& pair = out.texts_[{language, kind}];
      for (auto [part, text] : {std::pair{"title", &pair.title}, std::pair{"body", &pair.body}}) {
        const std::string path =
            fmt::format("{}/{}/{}.{}.mustache", dir, LanguageTag(language), ChannelKindName(kind), part);
        std::ifstream in(path, std::ios::binary);
        if (!in)
          return absl::NotFoundError(fmt::format(
              "{}: cannot read the template (every language needs a title and body per channel kind)", path));
        std::ostringstream buffer;
        buffer << in.rdbuf();
        *text = buffer.str();
        if (absl::Status st = CheckTemplate(*text, specimen, path); !st.ok()) return st;
      }
    }
  }
  return out;
}

absl::StatusOr<RenderedText> MessageTemplates::Render(ChannelKind kind, Language language, const json& view) const {
  const auto it = texts_.find({language, kind});
  if (it == texts_.end()) {
    return absl::FailedPreconditionError(
        fmt::format("no templates loaded for {} in {}", ChannelKindName(kind), LanguageTag(language)));
  }
  absl::StatusOr<std::string> title = RenderTemplate(it->second.title, view, TemplateEscape::kNone);
  if (!title.ok()) return title.status();
  absl::StatusOr<std::string> body = RenderTemplate(it->second.body, view, TemplateEscape::kNone);
  if (!body.ok()) return body.status();
  // A title is one line wherever it shows (alert summary, chat title); template newlines are layout.
  std::string one_line = *title;
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  while (!one_line.empty() && one_line.back() == ' ') one_line.pop_back();
  return RenderedText{std::move(one_line), *std::move(body)};
}

}  // namespace alertd::notify
