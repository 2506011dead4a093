// Waiting for a condition in tests: poll, never sleep a fixed time.
#pragma once

#include <chrono>
#include <thread>

namespace powchain::testutil {

// Polls `cond` until it holds; false after `limit`, a generous bound that
// only keeps a broken build from hanging the suite (what is waited for
// holds within milliseconds to seconds).
template <typename F>
bool WaitUntil(F cond, std::chrono::milliseconds limit = std::chrono::seconds(60),
               std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace powchain::testutil
