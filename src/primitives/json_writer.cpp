#include "primitives/json_writer.h"

#include "primitives/canonical_json.h"
#include "util/utf8.h"

namespace powchain {

JsonWriter& JsonWriter::String(std::string_view text, std::size_t max_bytes) {
  Separate();
  // Most text is valid UTF-8 that fits: written as it is, without a copy.
  if (text.size() <= max_bytes) {
    const std::size_t mark = out_.size();
    if (AppendCanonicalString(text, &out_)) return *this;
    out_.resize(mark);
  }
  std::string valid = ToValidUtf8(text);
  if (valid.size() > max_bytes) {
    // Back to the start of the character that would be cut.
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;
    valid.resize(cut);
  }
  AppendCanonicalString(valid, &out_);  // cannot fail: `valid` is valid UTF-8
  return *this;
}

}  // namespace powchain
