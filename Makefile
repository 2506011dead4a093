# powchain: every target sets up what it needs first (scripts/setup.sh
# installs missing Debian packages; it is quick when nothing is missing).
JOBS ?= 2
POWCHAIN := build/release/powchain

.PHONY: all setup build test run bench debug format tidy clean

all: build

setup:
	@./scripts/setup.sh

build: setup
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test: setup
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

debug: setup
	cmake --preset debug
	cmake --build --preset debug -j $(JOBS)

# Builds, then starts the node with the environment passed through
# (HTTP_PORT, P2P_PORT, PEERS, ...). ARGS adds flags.
run: build
	$(POWCHAIN) node $(ARGS)

# Every Google Benchmark binary, then the node's own summary (powchain bench).
bench: build
	@set -e; for b in build/release/bench/bench_*; do echo "== $$b"; $$b $(BENCH_ARGS); done
	$(POWCHAIN) bench

format:
	find src tests bench -name '*.h' -o -name '*.cpp' | xargs clang-format -i --style=file

tidy: debug
	find src -name '*.cpp' | xargs clang-tidy -p build/debug --quiet

clean:
	rm -rf build
