#!/usr/bin/env bash
# Installs every Debian 12 package powchain needs to build, benchmark and
# fuzz (with --test, to run the test suite too). Idempotent: when everything
# is present it only asks dpkg and exits.
# Uses sudo when not run as root. Nothing is downloaded except through apt
# and, for the explorer, npm ci from explorer/package-lock.json.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libsecp256k1-dev
  libspdlog-dev libfmt-dev libcli11-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev wrk
  clang-14 libclang-rt-14-dev llvm-14 lld clang-format clang-tidy
)
# --test: also what only the test suite needs (make test): Chromium for the
# explorer's browser tests, promtool (package prometheus) for the metrics.
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium prometheus)
fi
# Node.js and npm build the explorer and run its browser tests; Debian's
# packages are used when the machine has none of its own.
command -v npm >/dev/null || packages+=(nodejs npm)

# The explorer's npm packages, exactly as the lockfile pins them, whenever
# the lockfile is newer than what npm last installed.
install_explorer() {
  local dir major
  dir="$(dirname "$0")/../explorer"
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [[ "${1:-}" == "--test" ]] && ((major < 20)); then
    echo "setup: the browser tests need Node.js 20 or later (playwright-core); found $(node -v 2>/dev/null || echo none)" >&2
    exit 1
  fi
  if [[ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    echo "setup: npm ci in explorer/" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  install_explorer "${1:-}"
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
install_explorer "${1:-}"
