// The P2P message set (docs/protocol.md, "Messages"): one JSON object per
// WebSocket text frame, with a "type" field. Pure encode/decode: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "consensus/work.h"
#include "primitives/block.h"
#include "util/bytes.h"
#include "util/result.h"

namespace powchain::p2p {

// Version 2 added headers-first sync (getheaders, headers, getdata);
// version 3 transactions (tx, getmempool, mempool, gettxs, txs). A node
// talks to peers of versions kMinProtocolVersion and up, and sends the
// version-3 messages only to peers that speak it.
inline constexpr std::uint32_t kProtocolVersion = 3;
inline constexpr std::uint32_t kMinProtocolVersion = 2;
inline constexpr std::uint32_t kTxRelayVersion = 3;

// Limits on what a decoded message may hold. The transport separately
// limits the whole frame (4 MiB by default).
struct ProtocolLimits {
  static constexpr std::size_t kMaxLocator = 128;  // hashes in a locator
  static constexpr std::size_t kMaxBlocksPerMessage = 2000;
  static constexpr std::size_t kMaxHeadersPerMessage = 2000;
  static constexpr std::size_t kMaxGetData = 2000;  // hashes in one getdata
  static constexpr std::size_t kMaxPeersPerMessage = 1000;
  static constexpr std::size_t kMaxAgentLength = 256;
  static constexpr std::size_t kMaxReasonLength = 1024;
  static constexpr std::size_t kMaxDepth = 64;            // JSON nesting
  static constexpr std::size_t kMaxMempoolTxids = 50000;  // txids in one mempool message
  static constexpr std::size_t kMaxGetTxs = 100;          // txids in one gettxs
  static constexpr std::size_t kMaxTxsPerMessage = 100;   // transactions in one txs
};

struct Hello {
  std::uint32_t version = kProtocolVersion;
  Hash32 genesis{};
  std::uint64_t height = 0;
  Hash32 tip{};
  Work work = 0;
  std::optional<std::uint16_t> port;  // listening P2P port, or null
  std::string agent;                  // e.g. "powchain/0.1.0"
  // Random per node process (16 hex digits). Not in the core message set: an
  // optional field that lets a node see that it dialled itself or a peer it
  // already has. Empty when the peer did not send one.
  std::string node_id;
};
struct BlockMsg {
  Block block;
};
struct GetHeaders {
  std::vector<Hash32> locator;  // tip first, spaced back exponentially to genesis
  std::uint32_t limit = 0;
};
struct Headers {
  std::vector<HashedHeader> headers;  // genesis side first
};
struct GetData {
  std::vector<Hash32> hashes;  // blocks wanted, on any branch
};
struct GetBlocks {
  std::vector<Hash32> locator;  // tip first, spaced back exponentially to genesis
  std::uint32_t limit = 0;
};
struct Blocks {
  std::vector<Block> blocks;  // genesis side first
};
struct GetPeers {};
struct Peers {
  std::vector<std::string> peers;  // ws://host:port, each checked by ParsePeerUrl
};
struct Ping {
  std::uint64_t nonce = 0;
};
struct Pong {
  std::uint64_t nonce = 0;
};
struct ErrorMsg {
  std::string reason;
};
struct TxMsg {
  Transaction tx;
};
struct GetMempool {};
struct MempoolTxids {         // the "mempool" message
  std::vector<Hash32> txids;  // parents before children
};
struct GetTxs {
  std::vector<Hash32> txids;
};
struct Txs {
  std::vector<Transaction> txs;
};

using Message =
    std::variant<Hello, BlockMsg, GetHeaders, Headers, GetData, GetBlocks, Blocks, GetPeers, Peers,
                 Ping, Pong, ErrorMsg, TxMsg, GetMempool, MempoolTxids, GetTxs, Txs>;

// The "type" string of a message: "hello", "block", "getblocks", ...
std::string_view TypeName(const Message& message);

// One JSON object, compact, with "type" first. Blocks are written in their
// JSON form (BlockToJson); data as canonical bytes.
std::string Encode(const Message& message);

// A "blocks" message from blocks already in their JSON form: `items` is
// BlockToJson of each, separated by commas (BlockStore::AppendBlocksJson).
// Equal to Encode(Blocks{...}) of the same blocks, without decoding them.
std::string EncodeBlocksJson(std::string_view items);

// Why a text could not be decoded; the peer policy treats every kind as a
// protocol violation.
enum class DecodeError {
  kMalformedJson,  // not JSON, too deep, not an object
  kUnknownType,    // "type" missing, not a string, or not one we know
  kBadField,       // a field missing, of the wrong type or out of range
  kTooMany,        // a list longer than its limit
  kBadBlock,       // a block that cannot be read (BlockFromJson failed)
  kBadTx,          // a transaction that cannot be read (TxFromJson failed)
};

struct DecodeFailure {
  DecodeError error;
  std::string message;  // what and where, for logs and the "error" reply
};

// Decodes one message. Unknown extra fields are ignored. Never throws.
std::variant<Message, DecodeFailure> Decode(std::string_view text);

}  // namespace powchain::p2p
