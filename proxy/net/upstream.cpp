#include "upstream.h"

#include "pgmoat/common/log.h"
#include "pgmoat/protocol/byte_buffer.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "watchdog.h"

#include <fmt/format.h>

namespace pgmoat::net {

namespace {
// Login messages are small; anything larger during login is not a PostgreSQL server.
constexpr uint32_t kMaxLoginMessageBytes = 1 << 20;

protocol::ErrorFields connection_failure(const config::Target& t, const std::string& what) {
    protocol::ErrorFields e;
    e.severity = "FATAL";
    e.sqlstate = "08006";
    e.message = fmt::format("pgmoat: cannot connect to target \"{}\": {}", t.name, what);
    return e;
}

// Resolves and connects, trying each address in turn, as libpq does.
awaitable<error_code> open_tcp(tcp::socket& socket, const config::Target& t) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(t.host, std::to_string(t.port), nothrow_awaitable);
    if (rec) co_return rec;
    auto [cec, endpoint] = co_await asio::async_connect(socket, results, nothrow_awaitable);
    if (!cec) socket.set_option(tcp::no_delay(true));
    co_return cec;
}
}  // namespace

awaitable<UpstreamConnection> connect_upstream(const config::Target& t, asio::ssl::context* tls,
                                               std::vector<std::pair<std::string, std::string>> forward_parameters) {
    UpstreamConnection result;
    auto executor = co_await asio::this_coro::executor;
    auto transport = std::make_unique<Transport>(tcp::socket(executor));
    Transport* raw = transport.get();
    Watchdog deadline(executor, t.connect_timeout, [raw] { raw->close(); });
    auto fail = [&](const std::string& what, const std::string& reason) {
        result.error = connection_failure(t, deadline.fired() ? "timed out" : what);
        result.reason = deadline.fired() ? "connect timeout" : reason;
        result.transport.reset();
        return std::move(result);
    };

    error_code ec = co_await open_tcp(transport->socket(), t);
    if (ec) co_return fail(ec.message(), fmt::format("connect to {}:{}: {}", t.host, t.port, ec.message()));

    if (t.sslmode != config::SslMode::disable) {
        std::string req;
        protocol::write_ssl_request(req);
        ec = co_await transport->write_all(asio::buffer(req));
        char answer = 0;
        size_t n = 0;
        if (!ec) std::tie(ec, n) = co_await transport->read_some(asio::buffer(&answer, 1));
        if (ec) co_return fail(ec.message(), "SSLRequest: " + ec.message());
        if (answer != 'S') co_return fail("the server does not support TLS", "server refused SSLRequest");
        ec = co_await transport->tls_connect(*tls, t.host, t.sslmode == config::SslMode::verify_full);
        if (ec) co_return fail("TLS handshake failed: " + ec.message(), "TLS handshake: " + ec.message());
    }

    std::optional<auth::ChannelBinding> cb;
    if (transport->tls()) {
        auto der = transport->peer_certificate_der();
        if (!der.empty()) cb = auth::ChannelBinding{"tls-server-end-point", auth::tls_server_end_point(der)};
    }
    result.login.emplace(t, std::move(forward_parameters), std::move(cb));
    std::string out;
    result.login->start(out);
    protocol::ByteBuffer in(4096);
    while (true) {
        if (!out.empty()) {
            ec = co_await transport->write_all(asio::buffer(out));
            if (ec) co_return fail(ec.message(), "login write: " + ec.message());
            out.clear();
        }
        auto r = protocol::decode_message(in.data(), kMaxLoginMessageBytes);
        if (r.status == protocol::DecodeStatus::error) co_return fail("invalid message from server", r.error);
        if (r.status == protocol::DecodeStatus::need_more) {
            auto [rec, n] = co_await transport->read_some(writable(in, 4096));
            if (rec) co_return fail("server closed the connection during login", "login read: " + rec.message());
            in.commit(n);
            continue;
        }
        auto status = result.login->on_message(r.frame, out);
        in.consume(r.frame.size);
        if (status == session::UpstreamLogin::Status::failed) {
            result.error = result.login->error();
            result.reason = result.login->failure_reason();
            result.transport.reset();
            co_return std::move(result);
        }
        if (status == session::UpstreamLogin::Status::ready) {
            if (!in.empty()) co_return fail("server sent data after ReadyForQuery", "data after login");
            break;
        }
    }
    result.transport = std::move(transport);
    co_return std::move(result);
}

config::Target peer_target(const config::Peer& peer) {
    config::Target t;
    t.name = fmt::format("peer {}", peer.id);
    t.host = peer.host;
    t.port = peer.port;
    t.connect_timeout = std::chrono::milliseconds(3000);
    return t;
}

awaitable<void> send_cancel(config::Target target, protocol::BackendKeyData key) {
    auto executor = co_await asio::this_coro::executor;
    tcp::socket socket(executor);
    Watchdog deadline(executor, target.connect_timeout, [&socket] {
        error_code ignored;
        socket.close(ignored);
    });
    error_code ec = co_await open_tcp(socket, target);
    if (ec) {
        log::warning("cancel: cannot connect to target \"{}\": {}", target.name, ec.message());
        co_return;
    }
    // PostgreSQL 15's libpq sends CancelRequest without TLS too; servers accept it.
    std::string req;
    protocol::write_cancel_request(req, key.process_id, key.secret_key);
    auto [wec, n] = co_await asio::async_write(socket, asio::buffer(req), nothrow_awaitable);
    if (wec) log::warning("cancel: sending to target \"{}\" failed: {}", target.name, wec.message());
    // The server closes the connection once it has read the request.
    char c;
    co_await socket.async_read_some(asio::buffer(&c, 1), nothrow_awaitable);
}

}  // namespace pgmoat::net
