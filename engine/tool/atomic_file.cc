// Files other processes poll for, written through a temporary file and a rename.
#include "engine/tool/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace alertd::tool {

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  // The pid keeps two writers of one path (two clusters racing for a bootstrap file) apart.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << content;
    out.close();
    if (!out) return absl::InternalError("cannot write " + temporary + ": " + std::strerror(errno));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    return absl::InternalError("cannot rename " + temporary + " to " + path + ": " + reason);
  }
  return absl::OkStatus();
}

}  // namespace alertd::tool
