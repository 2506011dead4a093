// The one way the node writes the JSON it sends: HTTP answers, peer messages
// and the JSON form of blocks and headers. It appends to a string and puts
// the commas in; strings are written with canonical JSON's escaping
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
    first_ = true;  // the value follows without a comma
    return *this;
  }

  JsonWriter& UInt(std::uint64_t v) {
    Separate();
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v);
    out_.append(buf, res.ptr);
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

  // A value that is JSON text already, appended as it is.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_ += json;
    return *this;
  }

  std::string& out() { return out_; }

 private:
  JsonWriter& Open(char bracket) {
    Separate();
    out_ += bracket;
    first_ = true;
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }
  void Separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;  // nothing yet at this level, or a key was just written
};

}  // namespace powchain
