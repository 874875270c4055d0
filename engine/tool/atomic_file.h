// Files other processes poll for (a port, a bootstrap address, a story), written so they are whole.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace alertd::tool {

// Writes `content` to `path` through a sibling temporary file renamed over it: a reader sees no file,
// the old one, or all of the new one. Internal error naming the file and the reason otherwise.
[[nodiscard]] absl::Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace alertd::tool
