// Runs a function on a fresh thread with a stack of a given size and waits for
// it: how deep (but bounded) input is parsed without risking the caller's stack.
#pragma once

#include <cstddef>
#include <functional>

namespace pgmoat::sql::detail {

// False when the thread could not be started (the caller fails closed).
bool run_with_stack(size_t stack_bytes, const std::function<void()>& fn);

}  // namespace pgmoat::sql::detail
