// The JSON form of a block (docs/consensus.md, "JSON form"), as served over
// HTTP and sent to peers:
//   {"version":1,"height":H,"lastHash":"<hex>","dataHash":"<hex>",
//    "timestamp":T,"difficulty":D,"nonce":N,"hash":"<hex>","data":<json>,
//    "txs":[<transaction>,...]}
// "txs" is always written (empty for a block of data only) and may be
// absent when read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "primitives/block.h"
#include "primitives/json.h"
#include "primitives/json_writer.h"
#include "util/result.h"

namespace powchain {

// The block as one JSON object; `data` is written as its canonical bytes.
std::string BlockToJson(const Block& block);
// The same, as the next value of `w` (for messages of many blocks).
void WriteBlockJson(JsonWriter& w, const Block& block);

// Reads a block from a parsed JSON object. Every field is required and must
// have its exact type and range (u32/u64 integers written as plain digits,
// 64-digit hex hashes); unknown fields are ignored. `data` is canonicalized;
// a number it cannot carry exactly is an error. The "hash" field is copied
// as sent: CheckBlock compares it with the recomputed one.
Result<Block> BlockFromJson(const JsonValue& value);

// A header in the same form without "data":
//   {"version":1,"height":H,"lastHash":"<hex>","dataHash":"<hex>",
//    "timestamp":T,"difficulty":D,"nonce":N,"hash":"<hex>"}
std::string HeaderToJson(const HashedHeader& header);
void WriteHeaderJson(JsonWriter& w, const HashedHeader& header);

// Reads a header as BlockFromJson reads a block's header fields; other
// members (a "data", say) are ignored.
Result<HashedHeader> HeaderFromJson(const JsonValue& value);

// ParseJson + BlockFromJson.
Result<Block> BlockFromJsonText(std::string_view text, const JsonLimits& limits = {});

}  // namespace powchain
