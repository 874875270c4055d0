// The global policy file: a human-edited YAML mapping that overrides domain::Policy's defaults.
//
// Every key is optional; an absent key keeps the default in engine/domain/policy.h. The file is
// checked completely before the daemon starts: an unknown key, a value of the wrong type or an
// impossible threshold is refused with "<file>:<line>:<column>: <field.path>: <what was expected>".
// Stateless functions; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/domain/policy.h"

namespace alertd::config {

// Reads and checks the policy file at `path`. A missing, unreadable or empty file is an error: a
// deployment that names a policy file means to use one.
[[nodiscard]] absl::StatusOr<domain::Policy> LoadPolicyFile(const std::string& path);

// Checks `yaml_text` as a policy file; `source_name` is the file name that error messages carry.
[[nodiscard]] absl::StatusOr<domain::Policy> ParsePolicy(std::string_view yaml_text, std::string_view source_name);

// `policy` as a policy file in the same schema, every key commented with its meaning and unit:
// ParsePolicy(FormatPolicy(p), ...) == p. deploy/policy.yaml is FormatPolicy(domain::Policy{}).
std::string FormatPolicy(const domain::Policy& policy);

// One worker's effective policy, domain::EffectivePolicy(global, profile.policy), in the same schema,
// headed by comments that name the worker and list what their individual policy overrides (with the
// global value it replaces, or why an override is ignored) and the settings that are not policy
// numbers (focus tracking, extra recipients, self-test enrolment). Parses back to the effective policy.
std::string FormatWorkerPolicy(const domain::Policy& global, const domain::WorkerProfile& profile);

}  // namespace alertd::config
