// Printing the policy in the policy file's schema, from the field table in policy_fields.h:
// `alertd print-policy`, deploy/policy.yaml and one worker's effective policy.
#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/config/policy_fields.h"
#include "engine/config/policy_file.h"
#include "engine/config/policy_values.h"

namespace alertd::config {
namespace {

using domain::kDayMs;
using domain::kHourMs;
using domain::kMinuteMs;
using domain::Policy;

// One line of the printed file: `text`, then `comment` aligned so the units read as a column.
void AppendLine(std::string& out, std::string_view text, std::string_view comment = {}) {
  constexpr size_t kCommentColumn = 56;
  out += text;
  if (!comment.empty()) {
    out.append(text.size() < kCommentColumn ? kCommentColumn - text.size() : 1, ' ');
    out += "# ";
    out += comment;
  }
  out += '\n';
}

std::string Pair(std::string_view key, std::string_view a_name, std::string_view a, std::string_view b_name,
                 std::string_view b, std::string_view indent = "  ") {
  return fmt::format("{}{}: {{{}: {}, {}: {}}}", indent, key, a_name, a, b_name, b);
}

// absl::StrSplit over std::string_view, which this abseil does not take as absl::string_view.
std::vector<std::string_view> Split(std::string_view text, char delimiter) {
  std::vector<std::string_view> parts;
  for (absl::string_view part : absl::StrSplit(absl::string_view(text.data(), text.size()), delimiter)) {
    parts.emplace_back(part.data(), part.size());
  }
  return parts;
}

// The comment lines above section `section` ("" = the head of the file), at nesting depth `depth`.
void AppendNotes(std::string& out, std::string_view section, size_t depth) {
  for (const SectionNote& note : kSectionNotes) {
    if (note.section != section) continue;
    for (std::string_view line : Split(note.lines, '\n')) {
      AppendLine(out, fmt::format("{:{}}# {}", "", 2 * depth, line));
    }
  }
}

std::string_view LastKey(std::string_view path) { return path.substr(path.rfind('.') + 1); }

// Two fields that are the two bounds of one mapping (systolic and diastolic, min and max) print on
// one line, as a flow mapping.
bool ArePair(std::string_view first, std::string_view second) {
  const size_t parent = first.rfind('.');
  if (parent == std::string_view::npos || second.substr(0, parent + 1) != first.substr(0, parent + 1)) return false;
  const std::string_view a = LastKey(first), b = second.substr(parent + 1);
  return (a == "systolic" && b == "diastolic") || (a == "min" && b == "max");
}

}  // namespace

std::string FormatPolicy(const Policy& policy) {
  Policy p = policy;  // the table's accessors take a mutable policy
  std::string out;
  AppendNotes(out, "", 0);
  std::vector<std::string_view> open;  // the mappings the previous line is inside, outermost first
  for (size_t i = 0; i < kPolicyFields.size(); ++i) {
    const PolicyField& f = kPolicyFields[i];
    const PolicyField* partner = i + 1 < kPolicyFields.size() ? &kPolicyFields[i + 1] : nullptr;
    const bool pair = partner != nullptr && ArePair(f.path, partner->path);
    const std::vector<std::string_view> keys = Split(f.path, '.');
    const size_t depth = keys.size() - (pair ? 2 : 1);  // mappings around the printed line
    size_t same = 0;
    while (same < open.size() && same < depth && open[same] == keys[same]) ++same;
    open.resize(same);
    for (size_t d = same; d < depth; ++d) {
      if (d == 0) AppendLine(out, "");  // a blank line before each section
      AppendNotes(out, f.path.substr(0, static_cast<size_t>(keys[d].end() - f.path.begin())), d);
      AppendLine(out, fmt::format("{:{}}{}:", "", 2 * d, keys[d]));
      open.push_back(keys[d]);
    }
    const std::string indent(2 * depth, ' ');
    if (!pair) {
      AppendLine(out, fmt::format("{}{}: {}", indent, keys.back(), ValueText(f, p)), f.help);
      continue;
    }
    AppendLine(out,
               Pair(keys[depth], keys.back(), ValueText(f, p), LastKey(partner->path), ValueText(*partner, p), indent),
               f.help);
    ++i;
  }
  return out;
}

namespace {

// Text from a worker profile, safe inside a one-line YAML comment: a line break in a name would
// otherwise end the comment and turn the rest into (invalid) policy.
std::string CommentSafe(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20 || byte == 0x7f ? '?' : c);
  }
  return out;
}

std::string PersonText(const domain::Person& person) {
  if (person.name.empty()) return CommentSafe(person.id);
  return fmt::format("{} ({})", CommentSafe(person.id), CommentSafe(person.name));
}

// One number of IndividualPolicy and the schema fields it replaces.
struct OverrideLine {
  std::string path;
  std::string own;     // the worker's value, in the schema's notation
  std::string global;  // the value it replaces
  bool applied;        // false: EffectivePolicy ignored it and the global value applies
};

std::vector<OverrideLine> Overrides(const Policy& global, const Policy& effective, const domain::IndividualPolicy& own) {
  std::vector<OverrideLine> lines;
  auto mmhg = [&](const std::optional<int>& set, std::string_view path, int global_value, int effective_value) {
    if (!set) return;
    lines.push_back({std::string(path), std::to_string(*set), std::to_string(global_value), effective_value == *set});
  };
  auto duration = [&](const std::optional<int>& set, int64_t unit_ms, std::string_view path, int64_t global_ms,
                      int64_t effective_ms) {
    if (!set) return;
    const int64_t own_ms = int64_t{*set} * unit_ms;
    lines.push_back({std::string(path), DurationText(own_ms), DurationText(global_ms), *set > 0 && effective_ms == own_ms});
  };
  mmhg(own.critical_systolic_mmhg, "rules.r1_critical_bp.at_or_above.systolic", global.r1_critical_systolic,
       effective.r1_critical_systolic);
  mmhg(own.critical_diastolic_mmhg, "rules.r1_critical_bp.at_or_above.diastolic", global.r1_critical_diastolic,
       effective.r1_critical_diastolic);
  duration(own.self_test_interval_days, kDayMs, "rules.r3_self_test_missed.interval", global.self_test_interval_ms,
           effective.self_test_interval_ms);
  mmhg(own.abnormal_systolic_mmhg, "rules.r6_focus_tracking.abnormal_at_or_above.systolic", global.r6_abnormal_systolic,
       effective.r6_abnormal_systolic);
  mmhg(own.abnormal_diastolic_mmhg, "rules.r6_focus_tracking.abnormal_at_or_above.diastolic",
       global.r6_abnormal_diastolic, effective.r6_abnormal_diastolic);
  // One override, every rule's timeout.
  Policy g = global, e = effective;  // the table's accessors take a mutable policy
  for (const PolicyField& f : kPolicyFields) {
    if (!f.path.ends_with("ack_timeout")) continue;
    duration(own.ack_timeout_minutes, kMinuteMs, f.path, *std::get<int64_t*>(f.ref(g)), *std::get<int64_t*>(f.ref(e)));
  }
  duration(own.renotify_interval_hours, kHourMs, "escalation.renotify_interval", global.renotify_interval_ms,
           effective.renotify_interval_ms);
  return lines;
}

}  // namespace

std::string FormatWorkerPolicy(const Policy& global, const domain::WorkerProfile& profile) {
  const domain::IndividualPolicy& own = profile.policy;
  const Policy effective = domain::EffectivePolicy(global, own);
  std::string out;
  AppendLine(out, fmt::format("# Effective policy of worker {}{}: the global policy with the worker's own",
                              CommentSafe(profile.worker.value),
                              profile.name.empty() ? "" : fmt::format(" ({})", CommentSafe(profile.name))));
  AppendLine(out, fmt::format("# overrides (\"one person, one policy\"). Unit {}, grid {}{}.", CommentSafe(profile.unit_id),
                              CommentSafe(profile.grid_id), profile.active ? "" : "; profile inactive"));
  const std::vector<OverrideLine> overrides = Overrides(global, effective, own);
  if (overrides.empty()) {
    AppendLine(out, "# Overridden by the worker's own policy: nothing; every number below is the global one.");
  } else {
    AppendLine(out, "# Overridden by the worker's own policy:");
    for (const OverrideLine& o : overrides) {
      AppendLine(out, o.applied ? fmt::format("#   {}: {} (global {})", o.path, o.own, o.global)
                                : fmt::format("#   {}: {} ignored as implausible; the global {} applies", o.path,
                                              o.own, o.global));
    }
  }
  AppendLine(out, "# Not policy numbers (the rules read them from the profile):");
  AppendLine(out, fmt::format("#   focus_tracking: {}", own.focus_tracking
                                                           ? "on (rule R6: every abnormal reading escalates)"
                                                           : "off"));
  AppendLine(out, fmt::format("#   self_test_enrolled: {}",
                              own.self_test_enrolled ? "yes (rule R3 whatever the diagnosis)" : "no"));
  if (own.extra_recipients.empty()) {
    AppendLine(out, "#   extra_recipients: none");
  } else {
    AppendLine(out, "#   extra_recipients (also notified of every escalation):");
    for (const domain::Person& person : own.extra_recipients) AppendLine(out, "#     " + PersonText(person));
  }
  AppendLine(out, "");
  return out + FormatPolicy(effective);
}

}  // namespace alertd::config
