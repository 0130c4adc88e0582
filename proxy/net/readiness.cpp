#include "readiness.h"

#include "spawn.h"
#include "watchdog.h"

#include <fmt/format.h>

namespace pgmoat::net {

Readiness::Readiness(Runtime& runtime) : runtime_(runtime) {
    runtime_.registry.callback_gauge(
        "pgmoat_target_up", "Whether the last readiness probe reached the target (1) or not (0).", {"target"}, [this] {
            std::vector<metrics::LabeledValue> out;
            auto snapshot = runtime_.current();
            std::lock_guard lock(mutex_);
            for (const auto& [name, why] : status_) {
                if (snapshot->config->find_target(name)) out.push_back({{name}, why.empty() ? 1.0 : 0.0});
            }
            return out;
        });
}

awaitable<void> Readiness::probe(config::Target target) {
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
    std::lock_guard lock(mutex_);
    if (!runtime_.current()->config->find_target(target.name)) co_return;  // removed meanwhile
    status_[target.name] = why.empty() ? std::string()
                                       : fmt::format("target \"{}\" ({}:{}) is unreachable: {}", target.name,
                                                     target.host, target.port, why);
}

awaitable<void> Readiness::probe_forever() {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer tick(executor);
    while (!runtime_.draining) {
        auto snapshot = runtime_.current();
        {
            // Targets a reload removed are no longer anyone's concern.
            std::lock_guard lock(mutex_);
            std::erase_if(status_, [&](const auto& e) { return !snapshot->config->find_target(e.first); });
        }
        // Concurrently: a target that drops packets must not delay the others.
        for (const auto& [name, target] : snapshot->config->targets) {
            spawn(executor, probe(target), "readiness probe of target \"" + name + "\"");
        }
        tick.expires_after(snapshot->config->metrics.readiness_interval);
        co_await tick.async_wait(nothrow_awaitable);
    }
}

std::pair<bool, std::string> Readiness::ready() const {
    if (runtime_.draining) return {false, "shutting down\n"};
    auto snapshot = runtime_.current();
    if (!snapshot->policies) return {false, "policies are not loaded\n"};
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& [name, target] : snapshot->config->targets) {
        auto it = status_.find(name);
        if (it == status_.end())
            out += fmt::format("target \"{}\" not probed yet\n", name);
        else if (!it->second.empty())
            out += it->second + "\n";
    }
    if (out.empty()) return {true, {}};
    return {false, out};
}

}  // namespace pgmoat::net
