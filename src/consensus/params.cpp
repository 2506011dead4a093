#include "consensus/params.h"

namespace powchain {

Params Params::Main() {
  Params p;
  p.network = "main";
  return p;
}

Params Params::Regtest() {
  Params p;
  p.network = "regtest";
  p.mine_rate_ms = 1000;
  p.initial_difficulty = 8;
  p.halving_interval = 150;
  p.coinbase_maturity = 10;
  p.address_prefix = "powrt";
  return p;
}

std::optional<Params> Params::ForNetwork(std::string_view name) {
  if (name == "main") return Main();
  if (name == "regtest") return Regtest();
  return std::nullopt;
}

std::vector<std::string> Params::NetworkNames() { return {"main", "regtest"}; }

}  // namespace powchain
