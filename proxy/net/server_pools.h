// The transaction pools' server connections: idle sockets, checked for a server
// that went away when leased and by a periodic sweep, handed to the client a
// pool::lease names, taken back on release. session::Pool decides; this holds the
// sockets and runs the answers, under one lock per process (taken per
// transaction, never per message).
#pragma once

#include "asio.h"
#include "pgmoat/config/config.h"
#include "pgmoat/metrics/registry.h"
#include "pgmoat/session/pool.h"
#include "pgmoat/session/server_connection.h"
#include "transport.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace pgmoat::net {

struct PoolGrant {
    enum class Kind : uint8_t { server, open, wait_timeout, full };
    Kind kind;
    uint64_t id = 0;
    std::unique_ptr<Transport> transport{};  // server
    std::shared_ptr<session::ServerConnection> state{};
    std::chrono::steady_clock::duration waited{};
};

// A target as the running configuration has it now, for what maintain() opens
// ahead of clients (min_pool_size). `target` is null once a reload removed it.
struct TargetNow {
    std::shared_ptr<const config::Config> config;  // keeps `target` alive
    const config::Target* target = nullptr;
    std::shared_ptr<asio::ssl::context> tls;  // unless its sslmode is "disable"
};

class ServerPools : public std::enable_shared_from_this<ServerPools> {
  public:
    using TargetsNow = std::function<TargetNow(const std::string& name)>;
    // Called from any thread, with the pools' lock held: post to the owner's executor.
    using Deliver = std::function<void(PoolGrant)>;
    // Where a socket is read and written: its io_context, one per I/O thread.
    static uint64_t home_of(const tcp::socket::executor_type& executor) {
        return reinterpret_cast<uintptr_t>(&executor.context());
    }

    explicit ServerPools(metrics::Registry& registry);

    // The first request of a client: false over the pool's max_client_connections.
    bool admit_client(const config::Target& target);
    void client_gone(const config::Target& target);
    // A client of `home` needs a server connection. An idle one (checked alive) or
    // a slot to open one is returned at once, to be used on the caller's own
    // executor; otherwise the client waits, and `waiting()`'s Deliver brings the
    // answer later.
    std::optional<PoolGrant> lease(const config::Target& target, uint64_t client, uint64_t home,
                                   const std::function<Deliver()>& waiting);
    void cancel_wait(const config::Target& target, uint64_t client);
    void opened(const config::Target& target, uint64_t id);
    void release(const config::Target& target, uint64_t id, std::unique_ptr<Transport> transport,
                 std::shared_ptr<session::ServerConnection> state, bool reusable);
    // A server connection that never came back (failed to open, lost).
    void closed(const config::Target& target, uint64_t id);
    // Shutdown, once the clients are gone: closes the idle server connections.
    void close_all();
    // Expires waiting clients and idle server connections, notices idle ones the
    // server closed, and opens server connections ahead as the target's current
    // configuration says; runs until the io_context stops.
    awaitable<void> maintain(TargetsNow targets_now);

  private:
    // An idle server connection: no operation is pending on its socket, so whoever
    // holds the lock may look at it, close it or hand it over.
    struct Idle {
        std::unique_ptr<Transport> transport;
        std::shared_ptr<session::ServerConnection> state;
    };
    // A pool's metric children, looked up once when the pool is made: a look-up per
    // lease and release would take the family's lock and build its label values.
    struct PoolMetrics {
        metrics::Gauge& waiting;
        metrics::Gauge& active;
        metrics::Gauge& idle;
        metrics::Histogram& wait_seconds;
    };
    struct Entry {
        Entry(const config::Target& t, PoolMetrics m) : pool(t.pool), target(t.name), user(t.user), metrics(m) {}
        session::Pool pool;
        std::string target;
        std::string user;
        PoolMetrics metrics;
        std::map<uint64_t, Idle> idle;
        std::map<uint64_t, Deliver> waiting;
    };
    Entry& entry(const config::Target& target);
    void hand_off(Entry& e, const session::Pool::Handoff& h, std::unique_ptr<Transport> transport,
                  std::shared_ptr<session::ServerConnection> state);
    // An idle server connection the server closed (or spoke on): closed, logged,
    // its slot freed.
    void gone(Entry& e, uint64_t id, Idle& idle);
    void sweep(Entry& e);
    void release_locked(Entry& e, uint64_t id, std::unique_ptr<Transport> transport,
                        std::shared_ptr<session::ServerConnection> state, bool reusable);
    // A server connection top_up() asked for, opened with no client (min_pool_size).
    awaitable<void> open_ahead(Entry* e, uint64_t id, TargetNow now);
    void update_gauges(Entry& e);

    std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Entry>> pools_;  // target name and role
    metrics::Family<metrics::Gauge>& waiting_;
    metrics::Family<metrics::Gauge>& servers_;
    metrics::Family<metrics::Histogram>& wait_seconds_;
};

}  // namespace pgmoat::net
