#pragma once

#include "consensus/params.h"
#include "primitives/block.h"

namespace powchain {

// The genesis block: a pure function of the parameters. Height 0, zero
// lastHash, params.genesis_timestamp, difficulty = initial_difficulty,
// nonce 0, and data = a canonical JSON object naming the network and every
// consensus parameter. It need not meet proof of work. Because the data
// names the parameters, the genesis hash identifies the network.
Block MakeGenesis(const Params& params);

}  // namespace powchain
