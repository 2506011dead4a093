// Cumulative proof of work as a 256-bit integer (docs/consensus.md,
// "Cumulative work and fork choice").
#pragma once

#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace powchain {

using Work = boost::multiprecision::uint256_t;

// 2^difficulty. Requires difficulty <= 255.
Work BlockWork(std::uint32_t difficulty);

// a + b, saturating at 2^256 - 1 (unreachable with real work, but never wraps).
Work AddWork(const Work& a, const Work& b);

// Lower-case hex without prefix or leading zeros; "0" for zero.
std::string WorkToHex(const Work& w);
// Inverse of WorkToHex; accepts 1..64 hex digits of either case.
std::optional<Work> WorkFromHex(std::string_view hex);

}  // namespace powchain
