// What every YAML file alertd reads shares: one document only, error messages that point at the
// file, line and column, and values quoted the same way in every message.
//
// Used by the policy file (policy_file.cc) and the notification config (engine/notify). Stateless
// functions; any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace alertd::config {

// How a value the file gave reads in an error message: "nothing", "a list", "a mapping", or the
// scalar quoted on one line and cut after 40 bytes (enough to recognise it).
std::string DescribeYaml(const YAML::Node& node);

// InvalidArgument "<source>:<line>:<column>: <field>: <what>", counted from 1 as editors do; no
// field: "<source>:<line>:<column>: <what>". A null mark points at 1:1.
absl::Status YamlError(std::string_view source, const YAML::Mark& mark, std::string_view field,
                       std::string_view what);

// The file's one document: a Null node for an empty file. Refuses invalid YAML and a second
// document (a config whose second half is silently ignored is a config nobody meant) with a
// YamlError at the place. Never hangs: it parses no further than the second document, because
// yaml-cpp 0.7's LoadAll appends null documents without end on some malformed files (a stray ','
// after a value, e.g. `'',`; fixed upstream by jbeder/yaml-cpp#1319).
absl::StatusOr<YAML::Node> LoadOneDocument(std::string_view source, std::string_view text);

// True for a quoted scalar ("120"): a string in YAML, so a number written in quotes is refused
// where the author may have meant something else.
bool IsQuotedString(const YAML::Node& node);

}  // namespace alertd::config
