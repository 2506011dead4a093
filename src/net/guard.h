// The last line of defence of an asynchronous handler: an exception thrown
// by its body must end the one connection, never escape into
// io_context::run() and end the node.
#pragma once

#include <exception>
#include <string_view>

namespace powchain::net {

// Runs `body`; if it throws, calls `on_exception` with a description of what
// was thrown (which must not throw itself).
template <typename Body, typename OnException>
void RunGuarded(Body&& body, OnException&& on_exception) {
  try {
    body();
  } catch (const std::exception& e) {
    on_exception(std::string_view(e.what()));
  } catch (...) {
    on_exception(std::string_view("an exception of unknown type"));
  }
}

}  // namespace powchain::net
