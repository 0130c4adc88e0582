// A deadline for one phase of a connection (startup, connecting upstream): when it
// passes, the given action runs (usually closing a socket, which ends every
// pending operation on it). Destroying the watchdog disarms it.
#pragma once

#include "asio.h"

#include <chrono>
#include <functional>
#include <memory>

namespace pgmoat::net {

class Watchdog {
  public:
    Watchdog(const asio::any_io_executor& executor, std::chrono::milliseconds timeout, std::function<void()> on_expiry)
        : timer_(executor), state_(std::make_shared<State>()) {
        state_->on_expiry = std::move(on_expiry);
        timer_.expires_after(timeout);
        timer_.async_wait([state = state_](error_code ec) {
            if (ec || !state->on_expiry) return;
            state->fired = true;
            state->on_expiry();
        });
    }
    // A timer's cancel throws only when epoll refuses a descriptor it holds:
    // ending the process then is right.
    ~Watchdog() {  // NOLINT(bugprone-exception-escape)
        state_->on_expiry = nullptr;
        timer_.cancel();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    bool fired() const { return state_->fired; }

  private:
    struct State {
        std::function<void()> on_expiry;
        bool fired = false;
    };
    asio::steady_timer timer_;
    std::shared_ptr<State> state_;
};

}  // namespace pgmoat::net
