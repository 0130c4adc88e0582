#include "readiness.h"

#include "watchdog.h"

#include <fmt/format.h>

namespace pgmoat::net {

awaitable<void> Readiness::probe(const config::Target& target) {
    auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    tcp::resolver resolver(executor);
    Watchdog deadline(executor, target.connect_timeout, [&socket, &resolver] {
        error_code ignored;
        resolver.cancel();
        socket.close(ignored);
    });
    std::string why;
    auto [rec, results] = co_await resolver.async_resolve(target.host, std::to_string(target.port), nothrow_awaitable);
    if (rec) {
        why = rec.message();
    } else {
        auto [cec, ep] = co_await asio::async_connect(socket, results, nothrow_awaitable);
        if (cec) why = deadline.fired() ? "timed out" : cec.message();
    }
    error_code ignored;
    socket.close(ignored);
    runtime_.net_metrics.target_up.labels({target.name}).set(why.empty() ? 1 : 0);
    std::lock_guard lock(mutex_);
    if (why.empty()) down_.erase(target.name);
    else down_[target.name] = fmt::format("target \"{}\" ({}:{}) is unreachable: {}", target.name, target.host, target.port, why);
}

awaitable<void> Readiness::probe_forever() {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    while (!runtime_.draining) {
        auto snapshot = runtime_.current();
        for (const auto& [name, target] : snapshot->config->targets) co_await probe(target);
        {
            std::lock_guard lock(mutex_);
            probed_ = true;
        }
        tick.expires_after(snapshot->config->metrics.readiness_interval);
        co_await tick.async_wait(nothrow_awaitable);
    }
}

std::pair<bool, std::string> Readiness::ready() const {
    if (runtime_.draining) return {false, "shutting down\n"};
    if (!runtime_.current()->policies) return {false, "policies are not loaded\n"};
    std::lock_guard lock(mutex_);
    if (!probed_) return {false, "targets not probed yet\n"};
    if (down_.empty()) return {true, {}};
    std::string out;
    for (const auto& [name, why] : down_) out += why + "\n";
    return {false, out};
}

}  // namespace pgmoat::net
