// The HTTP endpoint over real loopback sockets: a plain POSIX client talks to it as
// curl or Prometheus would, and the tests look only at what comes back on the wire.
#include "../../../proxy/net/http_endpoint.h"

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

using pgmoat::net::HttpEndpoint;
using namespace std::chrono_literals;

namespace {

const std::string exposition = "# HELP up_total x\n# TYPE up_total counter\nup_total 1\n";

// An endpoint on 127.0.0.1 with a random port, its io_context on its own thread.
struct Served {
    boost::asio::io_context io;
    std::unique_ptr<HttpEndpoint> endpoint;
    std::thread thread;
    std::atomic<int> metrics_calls{0};
    std::atomic<bool> fail_metrics{false};
    std::mutex mutex;
    bool ready = true;
    std::string reason;

    explicit Served(HttpEndpoint::Limits limits = {}) {
        HttpEndpoint::Handlers h;
        h.metrics = [this] {
            ++metrics_calls;
            if (fail_metrics) throw std::runtime_error("registry exploded");
            return std::string(exposition);
        };
        h.ready = [this] {
            std::lock_guard lock(mutex);
            return std::pair<bool, std::string>{ready, reason};
        };
        endpoint = std::make_unique<HttpEndpoint>(io, "127.0.0.1", 0, std::move(h), limits);
        endpoint->start();
        thread = std::thread([this] { io.run(); });
    }
    ~Served() {
        endpoint->stop();
        thread.join();  // run() returns once every connection has wound down
        endpoint.reset();
    }
    void set_ready(bool r, std::string why) {
        std::lock_guard lock(mutex);
        ready = r;
        reason = std::move(why);
    }
    uint16_t port() const { return endpoint->port(); }
};

class Client {
  public:
    explicit Client(uint16_t port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        timeval tv{5, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~Client() { close(fd_); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // False when the peer has already gone.
    bool send(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) return false;
            data.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }

    struct Reply {
        int status = 0;
        std::map<std::string, std::string> headers;  // names lower-cased
        std::string body;
        std::string header(const std::string& name) const {
            auto it = headers.find(name);
            return it == headers.end() ? "" : it->second;
        }
    };

    // One response; for a HEAD request the body is not read (there is none).
    std::optional<Reply> read_reply(bool head = false) {
        size_t end;
        while ((end = pending_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return std::nullopt;
        Reply r;
        std::string head_text = pending_.substr(0, end);
        pending_.erase(0, end + 4);
        size_t line_end = head_text.find("\r\n");
        std::string status_line = head_text.substr(0, line_end);
        r.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
        size_t pos = line_end == std::string::npos ? head_text.size() : line_end + 2;
        while (pos < head_text.size()) {
            size_t e = head_text.find("\r\n", pos);
            if (e == std::string::npos) e = head_text.size();
            std::string line = head_text.substr(pos, e - pos);
            size_t colon = line.find(':');
            std::string name = line.substr(0, colon);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
            pos = e + 2;
        }
        size_t length = head ? 0 : std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length"));
        while (pending_.size() < length)
            if (!fill()) return std::nullopt;
        r.body = pending_.substr(0, length);
        pending_.erase(0, length);
        return r;
    }

    // True when the server closes the connection (EOF or reset) within the receive
    // timeout without sending anything more.
    bool closed_by_peer() {
        if (!pending_.empty()) return false;
        char c;
        ssize_t n = recv(fd_, &c, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

    void set_timeout(std::chrono::milliseconds t) {
        timeval tv{static_cast<time_t>(t.count() / 1000), static_cast<suseconds_t>(t.count() % 1000 * 1000)};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }

  private:
    bool fill() {
        char buf[4096];
        ssize_t n = recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending_.append(buf, static_cast<size_t>(n));
        return true;
    }

    int fd_ = -1;
    std::string pending_;
};

std::optional<Client::Reply> get(uint16_t port, const std::string& target) {
    Client c(port);
    REQUIRE(c.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    return c.read_reply();
}

}  // namespace

TEST_CASE("GET /metrics answers 200 with the Prometheus content type and the rendered text") {
    Served s;
    auto r = get(s.port(), "/metrics");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(r->body == exposition);
    CHECK(r->header("content-length") == std::to_string(r->body.size()));
    // Scrape parameters in the query string do not change the route.
    auto q = get(s.port(), "/metrics?module=default");
    REQUIRE(q);
    CHECK(q->status == 200);
}

TEST_CASE("GET /healthz answers 200 ok") {
    Served s;
    auto r = get(s.port(), "/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "ok\n");
    CHECK(r->header("content-type") == "text/plain; charset=utf-8");
}

TEST_CASE("GET /readyz answers 200 when ready and 503 with the reason when not") {
    Served s;
    auto ok = get(s.port(), "/readyz");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "ready\n");

    s.set_ready(false, "upstream main unreachable");
    auto down = get(s.port(), "/readyz");
    REQUIRE(down);
    CHECK(down->status == 503);
    CHECK(down->body == "upstream main unreachable\n");
    CHECK(down->header("content-type") == "text/plain; charset=utf-8");

    s.set_ready(true, "");
    auto back = get(s.port(), "/readyz");
    REQUIRE(back);
    CHECK(back->status == 200);
}

TEST_CASE("an unknown path is 404, a method other than GET or HEAD is 405 with Allow") {
    Served s;
    auto missing = get(s.port(), "/");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    auto other = get(s.port(), "/metricsx");
    REQUIRE(other);
    CHECK(other->status == 404);

    Client c(s.port());
    REQUIRE(c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
    auto post = c.read_reply();
    REQUIRE(post);
    CHECK(post->status == 405);
    CHECK(post->header("allow") == "GET, HEAD");
    REQUIRE(c.send("DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto del = c.read_reply();
    REQUIRE(del);
    CHECK(del->status == 405);
    CHECK(s.metrics_calls == 0);
}

TEST_CASE("HEAD /metrics gives the GET headers and no body") {
    Served s;
    Client c(s.port());
    REQUIRE(c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto head = c.read_reply(true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("content-length") == std::to_string(exposition.size()));
    // Had a body been sent, it would now be read as the start of the next answer.
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto next = c.read_reply();
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK(next->body == "ok\n");
}

TEST_CASE("a connection is kept alive across requests, pipelined ones included") {
    Served s;
    Client c(s.port());
    for (int i = 0; i < 3; ++i) {
        REQUIRE(c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto a = c.read_reply();
    auto b = c.read_reply();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->body == "ok\n");
    CHECK(b->body == "ready\n");
    CHECK(s.metrics_calls == 3);
}

TEST_CASE("Connection: close and HTTP/1.0 without keep-alive end the connection after the answer") {
    Served s;
    {
        Client c(s.port());
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(c.closed_by_peer());
    }
    {
        Client c(s.port());
        REQUIRE(c.send("GET /healthz HTTP/1.0\r\n\r\n"));
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(c.closed_by_peer());
    }
}

TEST_CASE("oversized headers get 431, an oversized body 413, and the connection is closed") {
    Served s;
    {
        Client c(s.port());
        std::string big = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(20000, 'a') + "\r\n\r\n";
        c.send(big);  // the server may stop reading part-way
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 431);
        CHECK(r->header("connection") == "close");
        CHECK(c.closed_by_peer());
    }
    {
        Client c(s.port());
        std::string body(100000, 'b');
        c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + body);
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 413);
        CHECK(c.closed_by_peer());
    }
    CHECK(s.metrics_calls == 0);
    auto after = get(s.port(), "/healthz");
    REQUIRE(after);
    CHECK(after->status == 200);
}

TEST_CASE("garbage gets 400 and a close, and the endpoint keeps serving") {
    Served s;
    for (std::string junk : {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15),
                             std::string("GET /metrics SPDY/9\r\n\r\n"), std::string("GET\r\n\r\n"),
                             std::string("GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n"),
                             std::string("GET /metrics HTTP/1.1\r\nContent-Length: -5\r\n\r\n")}) {
        CAPTURE(junk);
        Client c(s.port());
        c.send(junk);
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 400);
        CHECK(c.closed_by_peer());
    }
    {
        // A client that sends half a request and leaves.
        Client c(s.port());
        c.send("GET /metr");
    }
    auto after = get(s.port(), "/metrics");
    REQUIRE(after);
    CHECK(after->status == 200);
}

TEST_CASE("a client that goes quiet is disconnected after the timeout") {
    HttpEndpoint::Limits limits;
    limits.timeout = 300ms;
    Served s(limits);
    {
        Client silent(s.port());
        auto start = std::chrono::steady_clock::now();
        CHECK(silent.closed_by_peer());
        CHECK(std::chrono::steady_clock::now() - start < 3s);
    }
    {
        // Idle between keep-alive requests counts too.
        Client c(s.port());
        REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        REQUIRE(c.read_reply());
        CHECK(c.closed_by_peer());
    }
    {
        // Trickling a request byte by byte does not extend the deadline.
        Client c(s.port());
        bool closed = false;
        for (char ch : std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n")) {
            if (!c.send(std::string(1, ch))) {
                closed = true;
                break;
            }
            std::this_thread::sleep_for(30ms);
        }
        c.set_timeout(2s);
        CHECK((closed || c.closed_by_peer()));
    }
}

TEST_CASE("connections past the limit are closed at once while the others are served") {
    HttpEndpoint::Limits limits;
    limits.max_connections = 2;
    Served s(limits);
    Client a(s.port());
    Client b(s.port());
    // Make sure both are accepted and registered before the third arrives.
    REQUIRE(a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(a.read_reply());
    REQUIRE(b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(b.read_reply());
    Client extra(s.port());
    CHECK(extra.closed_by_peer());
    REQUIRE(a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = a.read_reply();
    REQUIRE(r);
    CHECK(r->status == 200);
}

TEST_CASE("a failing metrics handler gives 500 and the endpoint carries on") {
    Served s;
    s.fail_metrics = true;
    auto r = get(s.port(), "/metrics");
    REQUIRE(r);
    CHECK(r->status == 500);
    CHECK(r->body.find("registry exploded") == std::string::npos);  // internals stay in the log
    s.fail_metrics = false;
    auto ok = get(s.port(), "/metrics");
    REQUIRE(ok);
    CHECK(ok->status == 200);
}

TEST_CASE("stop() closes open connections and the listener, and no handler runs after it") {
    Served s;
    Client idle(s.port());
    REQUIRE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(idle.read_reply());
    uint16_t port = s.port();
    s.endpoint->stop();
    CHECK(idle.closed_by_peer());
    int calls = s.metrics_calls;
    // The listener is gone: connecting fails or the connection is closed unanswered.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        ::send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL);
        timeval tv{2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        CHECK(recv(fd, &c, 1, 0) <= 0);
    }
    close(fd);
    CHECK(s.metrics_calls == calls);
}

TEST_CASE("a listen address that cannot be bound fails at construction") {
    Served s;
    boost::asio::io_context io;
    CHECK_THROWS_AS(HttpEndpoint(io, "127.0.0.1", s.port(), {}), std::runtime_error);  // port taken
    CHECK_THROWS_AS(HttpEndpoint(io, "192.0.2.1", 0, {}), std::runtime_error);         // not a local address
    CHECK_THROWS_AS(HttpEndpoint(io, "no-such-host.invalid", 0, {}), std::runtime_error);
}
