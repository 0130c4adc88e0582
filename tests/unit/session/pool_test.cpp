#include "pgmoat/session/pool.h"

#include <doctest/doctest.h>

using namespace pgmoat;
using namespace pgmoat::session;
using namespace std::chrono_literals;
using Kind = Pool::Grant::Kind;

namespace {
config::Pool settings(int size) {
    config::Pool p;
    p.pool_size = size;
    p.wait_timeout = 5s;
    p.server_lifetime = 1h;
    p.server_idle_timeout = 10min;
    return p;
}
const auto t0 = Pool::Clock::time_point{} + 1h;
}  // namespace

TEST_CASE("a pool opens server connections up to pool_size, then queues clients in arrival order") {
    Pool pool(settings(2));
    auto a = pool.lease(1, t0);
    auto b = pool.lease(2, t0);
    CHECK(a.kind == Kind::open_new);
    CHECK(b.kind == Kind::open_new);
    CHECK(a.server != b.server);
    pool.opened(a.server);
    pool.opened(b.server);
    CHECK(pool.lease(3, t0).kind == Kind::wait);
    CHECK(pool.lease(4, t0 + 1s).kind == Kind::wait);
    CHECK(pool.waiting() == 2);
    CHECK(pool.active() == 2);

    bool closes = true;
    auto h = pool.release(b.server, true, t0 + 2s, closes);
    CHECK_FALSE(closes);
    REQUIRE(h);
    CHECK(h->client == 3);
    CHECK(h->server == b.server);
    CHECK_FALSE(h->open_new);
    CHECK(h->waited == 2s);
    h = pool.release(a.server, true, t0 + 3s, closes);
    REQUIRE(h);
    CHECK(h->client == 4);
    CHECK(pool.waiting() == 0);
    // Nobody waits: the connection goes idle and is the next one handed out.
    CHECK_FALSE(pool.release(a.server, true, t0 + 4s, closes));
    CHECK(pool.idle() == 1);
    auto c = pool.lease(5, t0 + 5s);
    CHECK(c.kind == Kind::idle_server);
    CHECK(c.server == a.server);
}

TEST_CASE("a newcomer does not overtake clients already waiting for an idle connection") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0);
    pool.opened(a.server);
    CHECK(pool.lease(2, t0).kind == Kind::wait);
    bool closes = false;
    auto h = pool.release(a.server, true, t0, closes);
    REQUIRE(h);
    CHECK(h->client == 2);
    CHECK(pool.lease(3, t0).kind == Kind::wait);
}

TEST_CASE("a server connection that is not reusable is closed and its slot goes to the next client, who opens one") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0);
    pool.opened(a.server);
    CHECK(pool.lease(2, t0).kind == Kind::wait);
    bool closes = false;
    auto h = pool.release(a.server, false, t0 + 1s, closes);
    CHECK(closes);
    REQUIRE(h);
    CHECK(h->client == 2);
    CHECK(h->open_new);
    CHECK(h->server != a.server);
}

TEST_CASE("a connection that failed to open or died while idle frees its slot") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0);
    CHECK(pool.lease(2, t0).kind == Kind::wait);
    auto h = pool.closed(a.server, t0 + 1s);  // the login failed
    REQUIRE(h);
    CHECK(h->client == 2);
    CHECK(h->open_new);
    pool.opened(h->server);
    bool closes = false;
    CHECK_FALSE(pool.release(h->server, true, t0 + 2s, closes));
    CHECK(pool.idle() == 1);
    CHECK_FALSE(pool.closed(h->server, t0 + 3s));  // killed while idle
    CHECK(pool.idle() == 0);
    CHECK(pool.lease(3, t0 + 4s).kind == Kind::open_new);
}

TEST_CASE("clients waiting past wait_timeout are expired, the others stay queued") {
    Pool pool(settings(1));
    pool.opened(pool.lease(1, t0).server);
    CHECK(pool.lease(2, t0).kind == Kind::wait);
    CHECK(pool.lease(3, t0 + 3s).kind == Kind::wait);
    CHECK(pool.next_deadline() == t0 + 5s);
    CHECK(pool.expire(t0 + 4999ms).clients.empty());
    auto e = pool.expire(t0 + 5s);
    REQUIRE(e.clients.size() == 1);
    CHECK(e.clients[0] == 2);
    CHECK(pool.waiting() == 1);
    pool.cancel_wait(3);  // disconnected while waiting
    CHECK(pool.waiting() == 0);
    CHECK(pool.expire(t0 + 1h).clients.empty());
}

TEST_CASE("idle connections close after server_idle_timeout, down to min_pool_size") {
    auto s = settings(3);
    s.min_pool_size = 1;
    Pool pool(s);
    uint64_t ids[3];
    for (int i = 0; i < 3; ++i) {
        ids[i] = pool.lease(i + 1, t0).server;
        pool.opened(ids[i]);
    }
    bool closes = false;
    for (auto id : ids) pool.release(id, true, t0, closes);
    CHECK(pool.idle() == 3);
    CHECK(pool.next_deadline() == t0 + 10min);
    CHECK(pool.expire(t0 + 9min).servers.empty());
    auto e = pool.expire(t0 + 10min);
    CHECK(e.servers.size() == 2);
    CHECK(pool.idle() == 1);
    CHECK(pool.expire(t0 + 50min).servers.empty());
}

TEST_CASE("a connection past server_lifetime is closed when it comes back, not handed on") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0);
    pool.opened(a.server);
    CHECK(pool.lease(2, t0 + 1h).kind == Kind::wait);
    bool closes = false;
    auto h = pool.release(a.server, true, t0 + 1h, closes);
    CHECK(closes);
    REQUIRE(h);
    CHECK(h->open_new);
    // An idle one past its lifetime is closed by expire.
    pool.opened(h->server);
    CHECK_FALSE(pool.release(h->server, true, t0 + 1h, closes));
    CHECK(pool.expire(t0 + 2h).servers.size() == 1);
}

TEST_CASE("max_client_connections of a pool counts its clients") {
    auto s = settings(1);
    s.max_client_connections = 2;
    Pool pool(s);
    CHECK(pool.admit_client());
    CHECK(pool.admit_client());
    CHECK_FALSE(pool.admit_client());
    pool.client_gone();
    CHECK(pool.admit_client());
    CHECK(pool.clients() == 2);
}

TEST_CASE("an idle server connection of the client's own thread is leased first, else the last returned") {
    Pool pool(settings(3));
    uint64_t ids[3];
    for (int i = 0; i < 3; ++i) {
        ids[i] = pool.lease(i + 1, t0, 1).server;
        pool.opened(ids[i]);
    }
    bool closes = false;
    // Returned in this order, living on threads 1, 2 and 2.
    pool.release(ids[0], true, t0, closes, 1);
    pool.release(ids[1], true, t0, closes, 2);
    pool.release(ids[2], true, t0, closes, 2);
    auto a = pool.lease(4, t0, 1);
    CHECK(a.kind == Kind::idle_server);
    CHECK(a.server == ids[0]);
    // No idle one of thread 1 left: the one returned last, wherever it lives.
    auto b = pool.lease(5, t0, 1);
    CHECK(b.server == ids[2]);
    auto c = pool.lease(6, t0, 3);
    CHECK(c.server == ids[1]);
    CHECK(pool.idle() == 0);
    CHECK(pool.active() == 3);
}

TEST_CASE("a returned connection goes to a waiter of its own thread, but no waiter is passed over without bound") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0, 1);
    pool.opened(a.server);
    CHECK(pool.lease(2, t0, 2).kind == Kind::wait);  // the oldest waiter, on thread 2
    bool closes = false;
    uint64_t client = 3;
    for (int pass = 0; pass < Pool::max_passes; ++pass) {
        CHECK(pool.lease(client, t0 + 1s, 1).kind == Kind::wait);
        auto h = pool.release(a.server, true, t0 + 2s, closes, 1);
        REQUIRE(h);
        CHECK_FALSE(closes);
        CHECK(h->client == client);  // thread 1's waiter went first
        CHECK(h->server == a.server);
        CHECK(h->waited == 1s);
        ++client;
    }
    // Passed over max_passes times: client 2 is next, though thread 1 waits too.
    CHECK(pool.lease(client, t0 + 3s, 1).kind == Kind::wait);
    auto h = pool.release(a.server, true, t0 + 4s, closes, 1);
    REQUIRE(h);
    CHECK(h->client == 2);
    CHECK(h->waited == 4s);
    h = pool.release(a.server, true, t0 + 5s, closes, 1);
    REQUIRE(h);
    CHECK(h->client == client);
    CHECK(pool.waiting() == 0);
}

TEST_CASE("waiters of other threads keep arrival order among themselves and time out oldest first") {
    Pool pool(settings(1));
    auto a = pool.lease(1, t0, 1);
    pool.opened(a.server);
    CHECK(pool.lease(2, t0, 2).kind == Kind::wait);
    CHECK(pool.lease(3, t0 + 1s, 3).kind == Kind::wait);
    CHECK(pool.lease(4, t0 + 2s, 1).kind == Kind::wait);
    bool closes = false;
    // Returned on thread 1: client 4 (thread 1) first, then 2 and 3 in order.
    CHECK(pool.release(a.server, true, t0 + 3s, closes, 1)->client == 4);
    CHECK(pool.release(a.server, true, t0 + 3s, closes, 1)->client == 2);
    CHECK(pool.lease(5, t0 + 3s, 3).kind == Kind::wait);
    auto e = pool.expire(t0 + 6s);
    REQUIRE(e.clients.size() == 1);
    CHECK(e.clients[0] == 3);
    CHECK(pool.release(a.server, true, t0 + 6s, closes, 1)->client == 5);
}

TEST_CASE("min_pool_size server connections are opened ahead, again when one closes, not at once after a failure") {
    auto s = settings(3);
    s.min_pool_size = 2;
    Pool pool(s);
    auto ahead = pool.top_up(t0);
    REQUIRE(ahead.size() == 2);
    CHECK(pool.opening() == 2);
    CHECK(pool.top_up(t0).empty());  // already opening
    // A client meanwhile opens a third: the pool is at pool_size.
    CHECK(pool.lease(1, t0, 1).kind == Kind::open_new);
    CHECK(pool.lease(2, t0, 1).kind == Kind::wait);
    // The first opened ahead goes idle, then to the waiting client.
    pool.opened(ahead[0]);
    bool closes = true;
    auto h = pool.release(ahead[0], true, t0, closes, 1);
    REQUIRE(h);
    CHECK(h->client == 2);
    CHECK(h->server == ahead[0]);
    // The second fails to open: a second passes before the next try.
    CHECK_FALSE(pool.open_failed(ahead[1], t0 + 1s));
    CHECK(pool.top_up(t0 + 1500ms).empty());
    auto again = pool.top_up(t0 + 2s);
    REQUIRE(again.size() == 0);  // still 2 open (the client's and ahead[0]): at min_pool_size
    // One of them closes: the pool opens one ahead in its place.
    pool.closed(ahead[0], t0 + 3s);
    again = pool.top_up(t0 + 3s);
    CHECK(again.size() == 1);
}
