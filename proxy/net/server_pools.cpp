#include "server_pools.h"

#include "pgmoat/common/log.h"
#include "spawn.h"

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
        it = pools_.emplace(key, std::make_unique<Entry>(target.pool)).first;
        it->second->target = target.name;
    }
    it->second->pool.configure(target.pool);  // a reload's settings
    return *it->second;
}

void ServerPools::update_gauges(Entry& e) {
    waiting_.labels({e.target}).set(static_cast<double>(e.pool.waiting()));
    servers_.labels({e.target, "active"}).set(static_cast<double>(e.pool.active() + e.pool.opening()));
    servers_.labels({e.target, "idle"}).set(static_cast<double>(e.pool.idle()));
}

bool ServerPools::admit_client(const config::Target& target) {
    std::lock_guard lock(mutex_);
    return entry(target).pool.admit_client();
}

void ServerPools::client_gone(const config::Target& target) {
    std::lock_guard lock(mutex_);
    entry(target).pool.client_gone();
}

void ServerPools::grant_idle(Entry& e, uint64_t id, uint64_t client, Deliver deliver) {
    auto it = e.idle.find(id);
    if (it == e.idle.end()) return;
    // Its watch ends first; then the socket is the client's (watch_idle).
    it->second.leased_to = std::move(deliver);
    it->second.leased_client = client;
    stop_watch(e, id);
}

void ServerPools::stop_watch(Entry& e, uint64_t id) {
    // Called from any thread. The watch's read can only be cancelled on the
    // socket's executor, where it runs: posted there, the cancel either finds the
    // read pending, or runs before the watch has started and the watch, seeing
    // leased_to or closing, does not read at all. (A cancel from here could come
    // before the read starts, and the watch would then wait for a server that says
    // nothing, holding the client's lease forever.)
    Idle& idle = e.idle.at(id);
    asio::post(idle.transport->socket().get_executor(), [self = shared_from_this(), e = &e, id, watch = idle.watch] {
        std::lock_guard lock(self->mutex_);
        auto it = e->idle.find(id);
        if (it == e->idle.end() || it->second.watch != watch) return;
        error_code ignored;
        it->second.transport->socket().cancel(ignored);
    });
}

void ServerPools::lease(const config::Target& target, uint64_t client, Deliver deliver) {
    std::lock_guard lock(mutex_);
    lease_locked(entry(target), client, std::move(deliver));
}

void ServerPools::lease_locked(Entry& e, uint64_t client, Deliver deliver) {
    auto g = e.pool.lease(client, Clock::now());
    switch (g.kind) {
        case session::Pool::Grant::Kind::idle_server:
            wait_seconds_.labels({e.target}).observe(0);
            grant_idle(e, g.server, client, std::move(deliver));
            break;
        case session::Pool::Grant::Kind::open_new:
            wait_seconds_.labels({e.target}).observe(0);
            deliver(PoolGrant{.kind = PoolGrant::Kind::open, .id = g.server});
            break;
        case session::Pool::Grant::Kind::wait:
            e.waiting[client] = std::move(deliver);
            break;
    }
    update_gauges(e);
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
    wait_seconds_.labels({e.target}).observe_duration(h.waited);
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
    Entry& e = entry(target);
    bool closes = true;
    auto h = e.pool.release(id, reusable && transport && state, Clock::now(), closes);
    if (closes) {
        if (transport) transport->close();
        if (h) hand_off(e, *h, nullptr, nullptr);
    } else if (h) {
        hand_off(e, *h, std::move(transport), std::move(state));
    } else {
        e.idle.emplace(id, Idle{.transport = std::move(transport), .state = std::move(state), .watch = ++next_watch_});
        watch(e, id);
    }
    update_gauges(e);
}

void ServerPools::closed(const config::Target& target, uint64_t id) {
    std::lock_guard lock(mutex_);
    Entry& e = entry(target);
    if (auto h = e.pool.closed(id, Clock::now())) hand_off(e, *h, nullptr, nullptr);
    update_gauges(e);
}

void ServerPools::watch(Entry& e, uint64_t id) {
    // Started from a posted handler: spawn() may run a coroutine at once, and the
    // watch takes the lock this caller holds.
    Idle& idle = e.idle.at(id);
    auto executor = idle.transport->socket().get_executor();
    asio::post(executor, [self = shared_from_this(), e = &e, id, watch = idle.watch, executor] {
        spawn(executor, self->watch_idle(e, id, watch), "pool watch", [self] {});
    });
}

awaitable<void> ServerPools::watch_idle(Entry* e, uint64_t id, uint64_t watch) {
    // An idle server connection says nothing; anything it sends (a FATAL before
    // it goes, as pg_terminate_backend makes it) or its close ends it.
    Transport* transport = nullptr;
    {
        std::lock_guard lock(mutex_);
        auto it = e->idle.find(id);
        if (it == e->idle.end() || it->second.watch != watch) co_return;
        // Leased or expired before the watch began: nothing to wait for.
        if (!it->second.leased_to && !it->second.closing) transport = it->second.transport.get();
    }
    // Nothing runs on this executor between the check above and the read's start,
    // so a stop_watch() from now on finds the read pending.
    error_code ec = asio::error::operation_aborted;
    size_t n = 0;
    if (transport) {
        char c;
        std::tie(ec, n) = co_await transport->read_some(asio::buffer(&c, 1));
    }
    std::lock_guard lock(mutex_);
    auto it = e->idle.find(id);
    if (it == e->idle.end() || it->second.watch != watch) co_return;
    Idle idle = std::move(it->second);
    e->idle.erase(it);
    bool healthy = ec == asio::error::operation_aborted && n == 0;
    if (idle.leased_to && healthy) {
        idle.leased_to(PoolGrant{.kind = PoolGrant::Kind::server,
                                 .id = id,
                                 .transport = std::move(idle.transport),
                                 .state = std::move(idle.state)});
        co_return;
    }
    idle.transport->close();
    if (!idle.closing) {
        log::info("pool of target \"{}\": idle server connection (backend {}) closed by the server", e->target,
                  idle.state ? idle.state->key.process_id : 0);
        auto h = e->pool.closed(id, Clock::now());
        if (h) hand_off(*e, *h, nullptr, nullptr);
        // The client it was leased to asks again.
        if (idle.leased_to) lease_locked(*e, idle.leased_client, std::move(idle.leased_to));
    }
    update_gauges(*e);
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

awaitable<void> ServerPools::maintain() {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor);
    for (;;) {
        timer.expires_after(100ms);
        auto [ec] = co_await timer.async_wait(nothrow_awaitable);
        if (ec) co_return;
        std::lock_guard lock(mutex_);
        auto now = Clock::now();
        for (auto& [key, e] : pools_) {
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
                it->second.closing = true;
                stop_watch(*e, id);
            }
            update_gauges(*e);
        }
    }
}

}  // namespace pgmoat::net
