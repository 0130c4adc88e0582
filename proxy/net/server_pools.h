// The transaction pools' server connections: idle sockets watched for a server
// that goes away, handed to the client a pool::lease names, taken back on
// release. session::Pool decides; this holds the sockets and runs the answers,
// under one lock per process (taken per transaction, never per message).
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

class ServerPools : public std::enable_shared_from_this<ServerPools> {
  public:
    // Called from any thread, with the pools' lock held: post to the owner's executor.
    using Deliver = std::function<void(PoolGrant)>;

    explicit ServerPools(metrics::Registry& registry);

    // The first request of a client: false over the pool's max_client_connections.
    bool admit_client(const config::Target& target);
    void client_gone(const config::Target& target);
    void lease(const config::Target& target, uint64_t client, Deliver deliver);
    void cancel_wait(const config::Target& target, uint64_t client);
    void opened(const config::Target& target, uint64_t id);
    void release(const config::Target& target, uint64_t id, std::unique_ptr<Transport> transport,
                 std::shared_ptr<session::ServerConnection> state, bool reusable);
    // A server connection that never came back (failed to open, lost).
    void closed(const config::Target& target, uint64_t id);
    // Shutdown, once the clients are gone: closes the idle server connections.
    void close_all();
    // Expires waiting clients and idle server connections; runs until the io_context stops.
    awaitable<void> maintain();

  private:
    // An idle server connection and its watch: a read of one byte on the socket's
    // own executor. The socket is handed over (leased_to) or closed (closing) only
    // once that read has ended, so that no byte of an answer goes to the watch.
    struct Idle {
        std::unique_ptr<Transport> transport;
        std::shared_ptr<session::ServerConnection> state;
        uint64_t watch = 0;   // this stay's watch (a server comes back under the same id)
        Deliver leased_to{};  // set: stop the watch, then hand it over
        uint64_t leased_client = 0;
        bool closing = false;
    };
    struct Entry {
        explicit Entry(const config::Pool& p) : pool(p) {}
        session::Pool pool;
        std::string target;
        std::map<uint64_t, Idle> idle;
        std::map<uint64_t, Deliver> waiting;
    };
    Entry& entry(const config::Target& target);
    void watch(Entry& e, uint64_t id);
    // Ends the watch of an idle server connection (leased_to or closing set).
    void stop_watch(Entry& e, uint64_t id);
    awaitable<void> watch_idle(Entry* e, uint64_t id, uint64_t watch);
    void hand_off(Entry& e, const session::Pool::Handoff& h, std::unique_ptr<Transport> transport,
                  std::shared_ptr<session::ServerConnection> state);
    void grant_idle(Entry& e, uint64_t id, uint64_t client, Deliver deliver);
    void lease_locked(Entry& e, uint64_t client, Deliver deliver);
    void update_gauges(Entry& e);

    std::mutex mutex_;
    uint64_t next_watch_ = 0;
    std::map<std::string, std::unique_ptr<Entry>> pools_;  // target name and role
    metrics::Family<metrics::Gauge>& waiting_;
    metrics::Family<metrics::Gauge>& servers_;
    metrics::Family<metrics::Histogram>& wait_seconds_;
};

}  // namespace pgmoat::net
