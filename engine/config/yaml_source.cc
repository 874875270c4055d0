// One-document loading and located error messages for alertd's YAML files.
#include "engine/config/yaml_source.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <optional>
#include <sstream>

namespace alertd::config {
namespace {

// Remembers where the first node of the document being parsed is.
class FirstNodeMark : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> mark;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { Note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { Note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { Note(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Note(m);
  }
  void OnMapEnd() override {}

 private:
  void Note(const YAML::Mark& m) {
    if (!mark) mark = m;
  }
};

}  // namespace

std::string DescribeYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      break;
  }
  std::string text = node.Scalar();
  constexpr size_t kShown = 40;  // enough to recognise the value; a pasted paragraph is cut
  if (text.size() > kShown) text = text.substr(0, kShown) + "...";
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '\n') {
      quoted += "\\n";  // a multi-line value stays on the message's one line
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

absl::Status YamlError(std::string_view source, const YAML::Mark& mark, std::string_view field,
                       std::string_view what) {
  const int line = mark.is_null() ? 1 : mark.line + 1;  // yaml-cpp counts from 0, editors from 1
  const int column = mark.is_null() ? 1 : mark.column + 1;
  return absl::InvalidArgumentError(
      fmt::format("{}:{}:{}: {}{}{}", source, line, column, field, field.empty() ? "" : ": ", what));
}

absl::StatusOr<YAML::Node> LoadOneDocument(std::string_view source, std::string_view text) {
  try {
    const std::string copy(text);
    YAML::Node root = YAML::Load(copy);
    std::istringstream in(copy);
    YAML::Parser parser(in);
    FirstNodeMark first;
    parser.HandleNextDocument(first);
    FirstNodeMark second;
    if (parser.HandleNextDocument(second)) {
      return YamlError(source, second.mark.value_or(YAML::Mark::null_mark()), "",
                       "expected one YAML document, found a second one here");
    }
    return root;
  } catch (const YAML::Exception& e) {
    return YamlError(source, e.mark, "", fmt::format("invalid YAML: {}", e.msg));
  }
}

bool IsQuotedString(const YAML::Node& node) { return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str"; }

}  // namespace alertd::config
