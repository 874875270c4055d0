// The grid view's files (engine/web/assets/), compiled into the binary by embed_assets.cmake.
#pragma once

#include <span>
#include <string_view>

namespace alertd::web {

struct EmbeddedAsset {
  std::string_view name;   // file name, e.g. "app.js"
  std::string_view bytes;  // the file's content, as it is in the source tree
};

// Every embedded file; the storage lives for the whole program.
std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace alertd::web
