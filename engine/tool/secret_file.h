// Secrets read from files (an operator token, the HMAC key of signed links), the same way by alertd
// and alertd-notify, so both hold the same key whatever line ending the file has.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace alertd::tool {

// The first line of `path` without trailing white space ("" for an empty file, or an empty `path`:
// the flag was not given; the caller decides what that means). InvalidArgument "<flag> <path>: ..."
// if the file cannot be read.
absl::StatusOr<std::string> ReadSecretFile(const std::string& flag, const std::string& path);

}  // namespace alertd::tool
