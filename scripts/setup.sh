#!/usr/bin/env bash
# Installs every Debian 12 package powchain needs to build, test, benchmark and
# fuzz. Idempotent: when everything is present it only asks dpkg and exits.
# Uses sudo when not run as root. Nothing is downloaded except through apt.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libsecp256k1-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev wrk
  clang-14 libclang-rt-14-dev lld clang-format clang-tidy
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
