#include "pool_opener.h"

#include "pgmoat/auth/scram.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/upstream_login.h"
#include "upstream.h"

#include <array>
#include <memory>
#include <optional>

namespace pgmoat::net {

namespace {
constexpr uint32_t kMaxLoginMessageBytes = 1 << 20;

// SSLRequest, its one-byte answer, the handshake: as a session's own server
// connection does it (session/upstream_attach.cpp). Returns "" once TLS is up.
awaitable<std::string> start_tls(Transport& transport, const config::Target& target, asio::ssl::context* tls) {
    if (!tls) co_return "no TLS context for the target";
    std::string request;
    protocol::write_ssl_request(request);
    if (auto ec = co_await transport.write_all(asio::buffer(request))) co_return "write: " + ec.message();
    // One byte only: what follows the answer is the server's side of the handshake.
    char answer = 0;
    auto [ec, n] = co_await transport.read_some(asio::buffer(&answer, 1));
    if (ec) co_return "read: " + ec.message();
    if (answer != 'S') co_return "the server does not support TLS";
    if (auto hs = co_await transport.tls_connect(*tls, target.host, target.sslmode == config::SslMode::verify_full))
        co_return "TLS handshake failed: " + hs.message();
    co_return "";
}

awaitable<std::string> log_in(Transport& transport, const config::Target& target, asio::ssl::context* tls,
                              session::ServerConnection& server) {
    if (auto ec = co_await connect_tcp(transport.socket(), target)) co_return "connect: " + ec.message();
    std::optional<auth::ChannelBinding> binding;
    if (target.sslmode != config::SslMode::disable) {
        if (auto failure = co_await start_tls(transport, target, tls); !failure.empty()) co_return failure;
        if (auto der = transport.peer_certificate_der(); !der.empty())
            binding = auth::ChannelBinding{"tls-server-end-point", auth::tls_server_end_point(der)};
    }
    session::UpstreamLogin login(target, {}, std::move(binding));
    std::string out;
    std::string in;
    login.start(out);
    std::array<char, 4096> chunk{};
    for (;;) {
        if (!out.empty()) {
            if (auto ec = co_await transport.write_all(asio::buffer(out))) co_return "write: " + ec.message();
            out.clear();
        }
        auto [ec, n] = co_await transport.read_some(asio::buffer(chunk));
        if (ec) co_return "read: " + ec.message();
        in.append(chunk.data(), n);
        for (;;) {
            auto r = protocol::decode_message(in, kMaxLoginMessageBytes);
            if (r.status == protocol::DecodeStatus::error) co_return "invalid message from server: " + r.error;
            if (r.status == protocol::DecodeStatus::need_more) break;
            auto status = login.on_message(r.frame, out);
            in.erase(0, r.frame.size);
            if (status == session::UpstreamLogin::Status::failed) co_return login.failure_reason();
            if (status == session::UpstreamLogin::Status::ready) {
                if (!in.empty()) co_return "server sent data after ReadyForQuery";
                server.key = login.backend_key();
                server.reported = login.parameters();
                co_return "";
            }
        }
    }
}
}  // namespace

awaitable<std::string> open_server_connection(Transport& transport, const config::Target& target,
                                              asio::ssl::context* tls, session::ServerConnection& server) {
    // The socket closes when connect_timeout passes; the login then fails.
    struct Deadline {
        bool finished = false;
        bool passed = false;
    };
    auto deadline = std::make_shared<Deadline>();
    asio::steady_timer timer(transport.socket().get_executor());
    timer.expires_after(target.connect_timeout);
    timer.async_wait([deadline, t = &transport](error_code ec) {
        if (ec || deadline->finished) return;
        deadline->passed = true;
        t->close();
    });
    std::string failure = co_await log_in(transport, target, tls, server);
    deadline->finished = true;
    timer.cancel();
    if (deadline->passed) failure = "no login within connect_timeout";
    co_return failure;
}

}  // namespace pgmoat::net
