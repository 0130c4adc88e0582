#include "server_pools.h"

#include "pgmoat/common/log.h"
#include "pool_opener.h"
#include "spawn.h"

#include <tuple>

namespace pgmoat::net {

using namespace std::chrono_literals;
using Clock = session::Pool::Clock;

ServerPools::ServerPools(metrics::Registry& r)
    : waiting_(
          r.gauge("pgmoat_pool_clients_waiting", "Clients waiting for a server connection, by target.", {"target"})),
      servers_(r.gauge("pgmoat_pool_server_connections",
                       "Server connections of transaction pools, by target and state (active, idle).",
                       {"target", "state"})),
      wait_seconds_(r.histogram("pgmoat_pool_wait_seconds",
                                "How long clients waited for a server connection, by target.", {"target"},
                                {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30})) {}

ServerPools::Entry& ServerPools::entry(const config::Target& target) {
    std::string key = target.name + '\0' + target.user;
    auto it = pools_.find(key);
    if (it == pools_.end()) {
        PoolMetrics m{waiting_.labels({target.name}), servers_.labels({target.name, "active"}),
                      servers_.labels({target.name, "idle"}), wait_seconds_.labels({target.name})};
        it = pools_.emplace(key, std::make_unique<Entry>(target, m)).first;
    }
    it->second->pool.configure(target.pool);  // a reload's settings
    return *it->second;
}

void ServerPools::update_gauges(Entry& e) {
    e.metrics.waiting.set(static_cast<double>(e.pool.waiting()));
    e.metrics.active.set(static_cast<double>(e.pool.active() + e.pool.opening()));
    e.metrics.idle.set(static_cast<double>(e.pool.idle()));
}

bool ServerPools::admit_client(const config::Target& target) {
    std::lock_guard lock(mutex_);
    return entry(target).pool.admit_client();
}

void ServerPools::client_gone(const config::Target& target) {
    std::lock_guard lock(mutex_);
    entry(target).pool.client_gone();
}

std::optional<PoolGrant> ServerPools::lease(const config::Target& target, uint64_t client, uint64_t home,
                                            const std::function<Deliver()>& waiting) {
    std::lock_guard lock(mutex_);
    Entry& e = entry(target);
    for (;;) {
        auto g = e.pool.lease(client, Clock::now(), home);
        switch (g.kind) {
            case session::Pool::Grant::Kind::idle_server: {
                auto it = e.idle.find(g.server);
                if (it == e.idle.end()) {
                    e.pool.closed(g.server, Clock::now());  // never: the two lists move together
                    continue;
                }
                Idle idle = std::move(it->second);
                e.idle.erase(it);
                if (!idle.transport->quiet()) {
                    // Gone while idle, since the last sweep: the next one, or a new one.
                    gone(e, g.server, idle);
                    continue;
                }
                e.metrics.wait_seconds.observe(0);
                update_gauges(e);
                return PoolGrant{.kind = PoolGrant::Kind::server,
                                 .id = g.server,
                                 .transport = std::move(idle.transport),
                                 .state = std::move(idle.state)};
            }
            case session::Pool::Grant::Kind::open_new:
                e.metrics.wait_seconds.observe(0);
                update_gauges(e);
                return PoolGrant{.kind = PoolGrant::Kind::open, .id = g.server};
            case session::Pool::Grant::Kind::wait:
                e.waiting[client] = waiting();
                update_gauges(e);
                return std::nullopt;
        }
    }
}

void ServerPools::cancel_wait(const config::Target& target, uint64_t client) {
    std::lock_guard lock(mutex_);
    Entry& e = entry(target);
    e.pool.cancel_wait(client);
    e.waiting.erase(client);
    update_gauges(e);
}

void ServerPools::opened(const config::Target& target, uint64_t id) {
    std::lock_guard lock(mutex_);
    Entry& e = entry(target);
    e.pool.opened(id);
    update_gauges(e);
}

void ServerPools::hand_off(Entry& e, const session::Pool::Handoff& h, std::unique_ptr<Transport> transport,
                           std::shared_ptr<session::ServerConnection> state) {
    auto w = e.waiting.find(h.client);
    if (w == e.waiting.end()) return;
    Deliver deliver = std::move(w->second);
    e.waiting.erase(w);
    e.metrics.wait_seconds.observe_duration(h.waited);
    if (h.open_new) {
        deliver(PoolGrant{.kind = PoolGrant::Kind::open, .id = h.server, .waited = h.waited});
    } else {
        deliver(PoolGrant{.kind = PoolGrant::Kind::server,
                          .id = h.server,
                          .transport = std::move(transport),
                          .state = std::move(state),
                          .waited = h.waited});
    }
}

void ServerPools::release(const config::Target& target, uint64_t id, std::unique_ptr<Transport> transport,
                          std::shared_ptr<session::ServerConnection> state, bool reusable) {
    std::lock_guard lock(mutex_);
    release_locked(entry(target), id, std::move(transport), std::move(state), reusable);
}

void ServerPools::release_locked(Entry& e, uint64_t id, std::unique_ptr<Transport> transport,
                                 std::shared_ptr<session::ServerConnection> state, bool reusable) {
    bool closes = true;
    uint64_t home = transport ? home_of(transport->socket().get_executor()) : 0;
    auto h = e.pool.release(id, reusable && transport && state, Clock::now(), closes, home);
    if (closes) {
        if (transport) transport->close();
        if (h) hand_off(e, *h, nullptr, nullptr);
    } else if (h) {
        hand_off(e, *h, std::move(transport), std::move(state));
    } else {
        e.idle.emplace(id, Idle{.transport = std::move(transport), .state = std::move(state)});
    }
    update_gauges(e);
}

void ServerPools::closed(const config::Target& target, uint64_t id) {
    std::lock_guard lock(mutex_);
    Entry& e = entry(target);
    if (auto h = e.pool.closed(id, Clock::now())) hand_off(e, *h, nullptr, nullptr);
    update_gauges(e);
}

void ServerPools::gone(Entry& e, uint64_t id, Idle& idle) {
    // Its FATAL (pg_terminate_backend, a shutdown) or its close: either way it is
    // no longer a server connection anyone can use.
    idle.transport->close();
    log::info("pool of target \"{}\": idle server connection (backend {}) closed by the server", e.target,
              idle.state ? idle.state->key.process_id : 0);
    if (auto h = e.pool.closed(id, Clock::now())) hand_off(e, *h, nullptr, nullptr);
}

void ServerPools::sweep(Entry& e) {
    for (auto it = e.idle.begin(); it != e.idle.end();) {
        if (it->second.transport->quiet()) {
            ++it;
            continue;
        }
        Idle idle = std::move(it->second);
        uint64_t id = it->first;
        it = e.idle.erase(it);
        gone(e, id, idle);
    }
}

void ServerPools::close_all() {
    std::lock_guard lock(mutex_);
    for (auto& [key, e] : pools_) {
        for (auto& [id, idle] : e->idle) {
            idle.transport->close();
            e->pool.closed(id, Clock::now());
        }
        e->idle.clear();
        update_gauges(*e);
    }
}

awaitable<void> ServerPools::open_ahead(Entry* e, uint64_t id, TargetNow now) {
    auto executor = co_await asio::this_coro::executor;
    auto transport = std::make_unique<Transport>(tcp::socket(executor));
    auto state = std::make_shared<session::ServerConnection>();
    state->id = id;
    std::string failure = co_await open_server_connection(*transport, *now.target, now.tls.get(), *state);
    std::lock_guard lock(mutex_);
    if (!failure.empty()) {
        log::warning("pool of target \"{}\": opening a server connection ahead (min_pool_size) failed: {}", e->target,
                     failure);
        transport->close();
        if (auto h = e->pool.open_failed(id, Clock::now())) hand_off(*e, *h, nullptr, nullptr);
        update_gauges(*e);
        co_return;
    }
    e->pool.opened(id);
    release_locked(*e, id, std::move(transport), std::move(state), true);
}

awaitable<void> ServerPools::maintain(TargetsNow targets_now) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    auto swept = Clock::now();
    for (;;) {
        timer.expires_after(100ms);
        auto [ec] = co_await timer.async_wait(nothrow_awaitable);
        if (ec) co_return;
        std::vector<std::tuple<Entry*, uint64_t, TargetNow>> to_open;
        std::unique_lock lock(mutex_);
        auto now = Clock::now();
        // A server that closes an idle connection is noticed within half a second
        // (one recv per idle connection then), not only at its next lease.
        bool sweeping = now - swept >= 500ms;
        if (sweeping) swept = now;
        for (auto& [key, e] : pools_) {
            if (sweeping && !e->idle.empty()) {
                sweep(*e);
                update_gauges(*e);
            }
            // Opened with the target's settings of now; none for a pool whose target a
            // reload removed or gave another upstream user (that is another pool).
            if (auto ids = e->pool.top_up(now); !ids.empty()) {
                TargetNow target = targets_now(e->target);
                for (auto id : ids) {
                    if (target.target && target.target->user == e->user)
                        to_open.emplace_back(e.get(), id, target);
                    else if (auto h = e->pool.open_failed(id, now))
                        hand_off(*e, *h, nullptr, nullptr);
                }
                update_gauges(*e);
            }
            if (e->pool.next_deadline() > now) continue;
            auto expired = e->pool.expire(now);
            for (auto client : expired.clients) {
                auto w = e->waiting.find(client);
                if (w == e->waiting.end()) continue;
                w->second(PoolGrant{.kind = PoolGrant::Kind::wait_timeout});
                e->waiting.erase(w);
            }
            for (auto id : expired.servers) {
                auto it = e->idle.find(id);
                if (it == e->idle.end()) continue;
                it->second.transport->close();
                e->idle.erase(it);
            }
            update_gauges(*e);
        }
        lock.unlock();
        // Outside the lock: a coroutine may start running at once, and takes it.
        for (auto& [e, id, target] : to_open)
            spawn(executor, open_ahead(e, id, std::move(target)), "pool open ahead", [self = shared_from_this()] {});
    }
}

}  // namespace pgmoat::net
