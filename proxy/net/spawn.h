// Every coroutine net/ starts goes through spawn(): its completion handler logs an
// exception that escaped, so none vanishes silently and none ends the process.
#pragma once

#include "asio.h"

#include <exception>
#include <functional>
#include <string>
#include <utility>

namespace pgmoat::net {

// Logs what escaped the coroutine `what` ("session 12", "accept loop"); nothing
// for a null exception.
void log_escaped(const std::exception_ptr& e, const std::string& what);

// Runs `coroutine` on `executor`; `done` runs when it has ended, however it ended
// (it may hold what the coroutine needs kept alive).
template <typename Executor>
void spawn(Executor executor, awaitable<void> coroutine, std::string what, std::function<void()> done = {}) {
    asio::co_spawn(std::move(executor), std::move(coroutine),
                   [what = std::move(what), done = std::move(done)](const std::exception_ptr& e) {
                       log_escaped(e, what);
                       if (done) done();
                   });
}

}  // namespace pgmoat::net
