# powchain: every target sets up what it needs first (scripts/setup.sh
# installs missing Debian packages; it is quick when nothing is missing).
JOBS ?= 2
POWCHAIN := build/release/powchain
# make fuzz: how long each target runs, which targets, extra libFuzzer flags.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= fuzz_block fuzz_p2p_decode fuzz_p2p_dispatch fuzz_http fuzz_canonical_json fuzz_hex \
                fuzz_http_wire fuzz_ws_transport fuzz_store fuzz_settings fuzz_tx fuzz_address \
                fuzz_wallet_file fuzz_p2p_sync fuzz_mempool fuzz_block_store
FUZZ_ARGS ?=

.PHONY: all setup setup-test build test tsa run bench debug fuzz format tidy clean

all: build

setup:
	@./scripts/setup.sh

# The same, plus what only the tests need (Chromium, promtool).
setup-test:
	@./scripts/setup.sh --test

build: setup
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

# The whole suite, built by clang 14 under AddressSanitizer +
# UndefinedBehaviorSanitizer, with the thread-safety analysis and (over src/)
# clang-tidy's function-size check as errors: one build does all three.
test: setup-test
	cmake --preset asan
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

# The thread-safety and function-size checks alone, without sanitizers or
# tests: the quickest way to try a locking change.
tsa: setup
	cmake --preset tsa
	cmake --build --preset tsa -j $(JOBS)

# Every libFuzzer target (clang, ASan + UBSan) for FUZZ_SECONDS each, on a
# copy of its seed corpus under build/fuzz/corpus; fails if any target does.
fuzz: setup
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	./scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS) -- $(FUZZ_ARGS)

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
	find src tests bench fuzz -name '*.h' -o -name '*.cpp' | xargs clang-format -i --style=file

tidy: debug
	find src -name '*.cpp' | xargs clang-tidy -p build/debug --quiet

clean:
	rm -rf build
