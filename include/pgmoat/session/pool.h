// The decisions of one transaction pool (a target's server connections for one
// upstream role): who gets a server connection, who waits and for how long, when
// a new one is opened and when one is closed. Pure bookkeeping on ids and times;
// net/ holds the sockets, calls this under its lock and carries out the answers.
#pragma once

#include "pgmoat/config/config.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

namespace pgmoat::session {

class Pool {
  public:
    using Clock = std::chrono::steady_clock;

    explicit Pool(config::Pool settings) : settings_(settings) {}
    // The settings of a reloaded config: limits apply from the next decision.
    void configure(const config::Pool& settings) { settings_ = settings; }
    const config::Pool& settings() const { return settings_; }

    // A client logs in to the pool's target: false over its max_client_connections.
    bool admit_client();
    void client_gone();

    // What a client that needs a server connection gets.
    struct Grant {
        enum class Kind : uint8_t {
            idle_server,  // `server`, idle until now and now the client's
            open_new,     // a free slot: the client opens server connection `server` itself
            wait,         // in the queue; an answer comes from release, closed or expire
        };
        Kind kind;
        uint64_t server = 0;
    };
    // `home`: where the client runs (its I/O thread, opaque here). An idle server
    // connection of the same home is preferred: handing it over costs no move
    // between threads.
    Grant lease(uint64_t client, Clock::time_point now, uint64_t home = 0);
    // A server connection granted as open_new has logged in.
    void opened(uint64_t server);
    // A client in the queue gave up (disconnected).
    void cancel_wait(uint64_t client);

    // A server connection handed from release/closed/expire to a waiting client.
    struct Handoff {
        uint64_t client;
        uint64_t server;
        bool open_new;  // the client opens it (a slot freed) rather than taking it as is
        Clock::duration waited;
    };
    // The client's server connection is back. reusable: idle and clean (else it is
    // closed). Returns the waiting client who gets it, if any; when it is not kept
    // (not reusable, or past server_lifetime) `closes` says so. `home`: where the
    // server connection lives now; a waiter of the same home goes first, unless
    // an older waiter was already passed over max_passes times.
    std::optional<Handoff> release(uint64_t server, bool reusable, Clock::time_point now, bool& closes,
                                   uint64_t home = 0);
    static constexpr int max_passes = 4;
    // A server connection is gone (failed to open, died while idle, closed): its
    // slot frees; a waiting client may open one in its place.
    std::optional<Handoff> closed(uint64_t server, Clock::time_point now);

    // Server connections to open ahead, without a client, so that the pool keeps
    // min_pool_size open (each counts as opening from now); none within a second
    // of one that failed to open.
    std::vector<uint64_t> top_up(Clock::time_point now);
    // One of those failed to open: closed, and top_up pauses for a second.
    std::optional<Handoff> open_failed(uint64_t server, Clock::time_point now);

    // Waiting clients whose wait_timeout passed, and idle server connections past
    // server_idle_timeout (beyond min_pool_size) or server_lifetime, to close.
    struct Expired {
        std::vector<uint64_t> clients;
        std::vector<uint64_t> servers;
    };
    Expired expire(Clock::time_point now);
    // When expire() next has something to do (time_point::max(): never).
    Clock::time_point next_deadline() const;

    size_t waiting() const { return waiters_.size(); }
    size_t active() const;
    size_t idle() const { return idle_.size(); }
    size_t opening() const;
    size_t clients() const { return clients_; }

  private:
    enum class State : uint8_t { opening, active, idle };
    struct Server {
        State state;
        Clock::time_point created;
        Clock::time_point idle_since{};
        uint64_t home = 0;
    };
    struct Waiter {
        uint64_t client;
        Clock::time_point since;
        uint64_t home;
        int passed = 0;  // times a younger waiter of another home went first
    };
    Waiter take_waiter(uint64_t home);
    uint64_t open(Clock::time_point now);
    std::optional<Handoff> next_waiter_opens(Clock::time_point now);

    config::Pool settings_;
    uint64_t next_server_ = 0;
    Clock::time_point no_top_up_before_{};
    size_t clients_ = 0;
    std::unordered_map<uint64_t, Server> servers_;
    std::deque<uint64_t> idle_;  // most recently returned last: reused first, so extras age out
    std::deque<Waiter> waiters_;
};

}  // namespace pgmoat::session
