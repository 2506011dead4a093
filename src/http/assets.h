// The block explorer's files (explorer/ in the source tree, with the chart
// library from its pinned npm packages), built into the binary by
// scripts/embed_assets.py, so that the node serves the explorer with no
// other file and no network beyond itself.
#pragma once

#include <span>
#include <string_view>

namespace powchain::http {

struct Asset {
  std::string_view path;          // the URL path: "/" or "/explorer/<name>"
  std::string_view content_type;  // with charset for text
  std::string_view body;
  std::string_view etag;  // quoted, from the body's SHA-256
};

// Every file, in no particular order. Defined in the generated source.
std::span<const Asset> Assets();

// The file served at `path`, or nullptr.
const Asset* FindAsset(std::string_view path);

}  // namespace powchain::http
