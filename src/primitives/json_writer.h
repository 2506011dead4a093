// The one way the node writes the JSON it sends: HTTP answers, peer messages
// and the JSON form of blocks and headers. It appends one JSON text to a
// string (what the string held before is left alone) and puts the commas
// in; strings are written with canonical JSON's escaping
// (canonical_json.h) after invalid UTF-8 is repaired, numbers as plain
// digits. A value that is JSON text already (a block's canonical data, a
// block encoded once) goes in whole with Raw().
//
// Not for consensus: what a block's data hash covers is CanonicalJson's
// output, and the reader of outside JSON is json.h.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "util/bytes.h"
#include "util/hex.h"

namespace powchain {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // A member name, before its value. Names are the node's own ASCII field
  // names, written as they are.
  JsonWriter& Key(std::string_view name) {
    Separate();
    out_ += '"';
    out_ += name;
    out_ += "\":";
    return *this;
  }

  JsonWriter& UInt(std::uint64_t v) {
    Separate();
    AppendDigits(v);
    return *this;
  }
  JsonWriter& Int(std::int64_t v) {
    Separate();
    if (v < 0) out_ += '-';
    // The magnitude as unsigned: -INT64_MIN does not fit an int64.
    AppendDigits(v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v));
    return *this;
  }
  JsonWriter& Bool(bool v) { return Raw(v ? "true" : "false"); }
  JsonWriter& Null() { return Raw("null"); }

  // `text` as a JSON string: invalid UTF-8 replaced by U+FFFD, then cut to
  // at most `max_bytes` bytes at a character boundary.
  JsonWriter& String(std::string_view text,
                     std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

  // Bytes as a string of lower-case hex digits.
  JsonWriter& Hex(ByteSpan bytes) {
    Separate();
    out_ += '"';
    AppendHex(out_, bytes);
    out_ += '"';
    return *this;
  }
  JsonWriter& Hex(const Hash32& hash) { return Hex(ByteSpan(hash)); }

  // A member and its value at once, put together on the stack and appended
  // in one piece (a block header is eight of these, and the appends were
  // most of its cost). Names longer than kMaxFastName take the slow path.
  JsonWriter& Member(std::string_view name, std::uint64_t v) {
    if (name.size() > kMaxFastName) return Key(name).UInt(v);
    char buf[kMaxFastName + 32];
    char* p = MemberPrefix(buf, name);
    p = std::to_chars(p, buf + sizeof(buf), v).ptr;
    out_.append(buf, static_cast<std::size_t>(p - buf));
    return *this;
  }
  JsonWriter& Member(std::string_view name, const Hash32& hash) {
    if (name.size() > kMaxFastName) return Key(name).Hex(hash);
    char buf[kMaxFastName + 80];
    char* p = MemberPrefix(buf, name);
    *p++ = '"';
    p = HexDigits(hash, p);
    *p++ = '"';
    out_.append(buf, static_cast<std::size_t>(p - buf));
    return *this;
  }

  // A value that is JSON text already, appended as it is.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_ += json;
    return *this;
  }

  std::string& out() { return out_; }

 private:
  static constexpr std::size_t kMaxFastName = 32;

  // Writes [,]"name": into `p` and returns the end.
  char* MemberPrefix(char* p, std::string_view name) const {
    if (NeedsComma()) *p++ = ',';
    *p++ = '"';
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = '"';
    *p++ = ':';
    return p;
  }
  static char* HexDigits(const Hash32& hash, char* p) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (const std::uint8_t b : hash) {
      *p++ = kDigits[b >> 4];
      *p++ = kDigits[b & 0xF];
    }
    return p;
  }
  bool NeedsComma() const {
    if (out_.size() == start_) return false;
    const char last = out_.back();
    return last != '{' && last != '[' && last != ':';
  }

  void AppendDigits(std::uint64_t v) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, res.ptr);
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_ += bracket;
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_ += bracket;
    return *this;
  }
  // A comma before a value or key unless it opens the text, an object or
  // an array, or follows its key: read off the last byte written, so the
  // writer keeps no state but where it began.
  void Separate() {
    if (NeedsComma()) out_ += ',';
  }

  std::string& out_;
  const std::size_t start_ = out_.size();  // where this writer began
};

}  // namespace powchain
