// ParseJson on the shapes a hostile peer would send to make the parsed tree
// as large as possible for its size: time per input byte, and the heap the
// finished value holds per input byte (`held_per_byte`, from glibc's
// mallinfo2), which bounds the memory one message of the 4 MiB frame limit
// can cost (docs/security.md).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>

#include "primitives/json.h"

namespace powchain {
namespace {

constexpr std::size_t kInputBytes = std::size_t{4} * 1024 * 1024 - 64;

// Repeats `item` (with commas) inside `open`/`close` up to kInputBytes.
std::string Fill(const std::string& open, const std::string& item, const std::string& close) {
  std::string s = open;
  while (s.size() + item.size() + 1 + close.size() < kInputBytes) {
    if (s.size() > open.size()) s += ',';
    s += item;
  }
  return s + close;
}

std::string Shape(int shape) {
  switch (shape) {
    case 0:
      return Fill("[", "0", "]");  // numbers: 2 bytes each
    case 1:
      return Fill("[", "[]", "]");  // empty arrays: 3 bytes each
    case 2: {
      // Small objects with distinct short keys.
      std::string s = "[";
      for (std::size_t i = 0; s.size() < kInputBytes - 32; ++i) {
        if (i > 0) s += ',';
        s += "{\"a\":0,\"b\":0}";
      }
      return s + "]";
    }
    default:
      return Fill("[", "\"\"", "]");  // empty strings: 3 bytes each
  }
}

// Bytes allocated from the heap, including chunks served by mmap.
std::size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

const char* kShapeNames[] = {"numbers", "empty_arrays", "small_objects", "empty_strings"};

void BM_ParseHostile(benchmark::State& state) {
  const std::string text = Shape(static_cast<int>(state.range(0)));
  state.SetLabel(kShapeNames[state.range(0)]);
  double held = 0;
  for (auto _ : state) {
    const std::size_t before = HeapInUse();
    auto value = ParseJson(text);
    held = static_cast<double>(HeapInUse() - before);
    if (!value.ok()) state.SkipWithError(value.error().c_str());
    benchmark::DoNotOptimize(value);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["held_per_byte"] = held / static_cast<double>(text.size());
  state.counters["held_MiB"] = held / (1024.0 * 1024.0);
}
BENCHMARK(BM_ParseHostile)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace powchain
