// Reading a secret's file: its first line, trimmed.
#include "engine/tool/secret_file.h"

#include <cctype>
#include <fstream>

#include "absl/status/status.h"

namespace alertd::tool {

absl::StatusOr<std::string> ReadSecretFile(const std::string& flag, const std::string& path) {
  if (path.empty()) return std::string();
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(flag + " " + path + ": cannot read the file");
  std::string line;
  std::getline(in, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  return line;
}

}  // namespace alertd::tool
