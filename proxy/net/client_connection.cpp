#include "client_connection.h"

#include "pgmoat/common/log.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "upstream.h"
#include "watchdog.h"

#include <fmt/format.h>

namespace pgmoat::net {

using namespace std::chrono_literals;
using protocol::DecodeStatus;

namespace {
// The protocol's own ceiling for any message (PostgreSQL's PQ_LARGE_MESSAGE_LIMIT).
constexpr uint32_t kProtocolMaxBody = (1u << 30) - 1;
// DataRow and CopyData larger than this are relayed as they arrive, not buffered.
constexpr size_t kStreamThreshold = 256 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kClientReadChunk = 2 * 1024;
// SASL messages are small; PostgreSQL caps them at 64 kB (PG_MAX_AUTH_TOKEN_LENGTH).
constexpr uint32_t kMaxAuthMessageBytes = 65535;

void log_exception(std::exception_ptr e, uint64_t id) {
    if (!e) return;
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log::error("session {}: internal error: {}", id, ex.what());
    }
}
}  // namespace

ClientConnection::ClientConnection(tcp::socket socket, Runtime& runtime, uint64_t id)
    : runtime_(runtime),
      id_(id),
      snapshot_(runtime.current()),
      client_(std::move(socket)),
      client_write_done_(client_.socket().get_executor()),
      audit_durable_signal_(client_.socket().get_executor()),
      cancel_done_(client_.socket().get_executor()) {
    client_write_done_.expires_at(asio::steady_timer::time_point::max());
    audit_durable_signal_.expires_at(asio::steady_timer::time_point::max());
    cancel_done_.expires_at(asio::steady_timer::time_point::max());
    max_message_bytes_ = snapshot_->config->server.max_message_bytes;
}

ClientConnection::~ClientConnection() {
    if (registered_cancel_) runtime_.cancels.remove(cancel_key_.process_id);
    if (session_gauge_) session_gauge_->dec();
    if (upstream_gauge_) upstream_gauge_->dec();
    runtime_.clients.fetch_sub(1, std::memory_order_relaxed);
    if (on_close_) on_close_();
}

void ClientConnection::start() {
    asio::co_spawn(client_.socket().get_executor(), run(),
                   [self = shared_from_this()](std::exception_ptr e) { log_exception(e, self->id_); });
}

void ClientConnection::close_all(const std::string& reason) {
    if (closed_) return;
    closed_ = true;
    close_reason_ = reason;
    client_.close();
    if (server_) server_->close();
    if (idle_timer_) idle_timer_->cancel();
    client_write_done_.cancel();
    audit_durable_signal_.cancel();
    cancel_done_.cancel();
}

bool ClientConnection::accepting() const { return !runtime_.audit || runtime_.audit->accepting(); }

void ClientConnection::submit(audit::Record&& record) {
    if (!runtime_.audit) return;
    uint64_t ticket = ++audit_submitted_;
    if (runtime_.audit->options().fsync != audit::FsyncMode::every_record) {
        runtime_.audit->submit(std::move(record));
        audit_durable_ = ticket;
        return;
    }
    // The writer thread says when the record is on disk; results wait for that.
    std::weak_ptr<ClientConnection> weak = shared_from_this();
    auto executor = client_.socket().get_executor();
    runtime_.audit->submit(std::move(record), [weak, executor, ticket](bool ok) {
        asio::post(executor, [weak, ticket, ok] {
            auto self = weak.lock();
            if (!self) return;
            if (!ok) self->audit_failed_ = true;
            self->audit_durable_ = std::max(self->audit_durable_, ticket);
            if (self->audit_waiting_) self->audit_durable_signal_.cancel();
        });
    });
}

awaitable<bool> ClientConnection::wait_until_durable() {
    uint64_t wanted = audit_submitted_;
    while (audit_durable_ < wanted && !closed_) {
        audit_waiting_ = true;
        co_await audit_durable_signal_.async_wait(nothrow_awaitable);
        audit_waiting_ = false;
    }
    if (audit_failed_ && !closed_) {
        // A record that could not be written: its statement's result is not
        // released (fail closed); the session ends with an error.
        protocol::ErrorFields e;
        e.severity = "FATAL";
        e.sqlstate = "58030";
        e.message = "pgmoat: the audit record of a statement could not be written; its result is withheld";
        std::string bye;
        protocol::write_error_response(bye, e);
        co_await write_client(bye);
        close_all("audit record not durable");
    }
    co_return !closed_;
}

audit::Record ClientConnection::event(audit::Event e) const {
    audit::Record r;
    r.event = e;
    r.session = session_ ? session_->audit_info() : pre_login_info_;
    return r;
}

void ClientConnection::login_failed() {
    const std::string& code = startup_->failure_sqlstate();
    std::string reason = code == "28P01"                     ? "password"
                         : code == "28000" || code == "3D000" ? "target"
                         : code == "42501" || code == "0A000" ? "parameter"
                         : code == "53300"                    ? "limit"
                         : code == "08P01"                    ? "protocol"
                         : close_reason_ == "startup timeout" ? "timeout"
                                                              : "";
    if (reason.empty()) return;
    runtime_.net_metrics.login_failures.labels({reason}).inc();
    if (reason == "limit") runtime_.net_metrics.refused_for_limits.labels({}).inc();
    auto info = std::make_shared<audit::SessionInfo>(*pre_login_info_);
    if (!startup_->identity().app.empty()) info->app = startup_->identity().app;
    if (!startup_->identity().target.empty()) info->target = startup_->identity().target;
    audit::Record r;
    r.event = reason == "password" ? audit::Event::auth_failed
              : reason == "target" ? audit::Event::target_denied
                                   : audit::Event::disconnect;
    r.session = std::move(info);
    r.reason = close_reason_;
    runtime_.audit_event(std::move(r));
}

awaitable<bool> ClientConnection::write_client(std::string& bytes) {
    if (bytes.empty()) co_return !closed_;
    while (client_writing_ && !closed_) {
        ++client_write_waiters_;
        co_await client_write_done_.async_wait(nothrow_awaitable);
        --client_write_waiters_;
    }
    if (closed_) co_return false;
    client_writing_ = true;
    error_code ec = co_await client_.write_all(asio::buffer(bytes));
    client_writing_ = false;
    // Wakes a pump waiting for its turn. Only when one waits: cancelling a timer
    // wakes the reactor with a syscall, which would otherwise cost every write.
    if (client_write_waiters_ > 0) client_write_done_.cancel();
    bytes.clear();
    if (ec) {
        close_all("client write: " + ec.message());
        co_return false;
    }
    co_return true;
}

awaitable<bool> ClientConnection::write_server(std::string& bytes) {
    if (bytes.empty()) co_return !closed_;
    // PostgreSQL cancels whatever runs when the signal lands: a cancel still on its
    // way would hit the next request instead of the statement it was meant for.
    while (cancel_in_flight_ && !closed_) co_await cancel_done_.async_wait(nothrow_awaitable);
    if (closed_) co_return false;
    error_code ec = co_await server_->write_all(asio::buffer(bytes));
    bytes.clear();
    if (ec) {
        close_all("server write: " + ec.message());
        co_return false;
    }
    co_return true;
}

awaitable<void> ClientConnection::run() {
    error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (ec) co_return;
    pre_login_info_ = std::make_shared<audit::SessionInfo>();
    pre_login_info_->id = id_;
    pre_login_info_->client_addr = remote.address().to_string();
    pre_login_info_->client_port = remote.port();
    runtime_.net_metrics.accepted.labels({}).inc();
    runtime_.audit_event(event(audit::Event::connection_accepted));
    bool ok = co_await startup();
    if (!ok) {
        if (startup_ && startup_->cancel_request().process_id == 0) login_failed();
        close_all(close_reason_.empty() ? "startup ended" : close_reason_);
        co_return;
    }
    const auto& who = session_->identity();
    session_gauge_ = &runtime_.net_metrics.sessions.labels({who.app, who.target});
    session_gauge_->inc();
    log::info("session {}: app \"{}\" connected to target \"{}\" from {}:{}{}, policy \"{}\"", id_, who.app, who.target,
              remote.address().to_string(), remote.port(), who.tls ? " over TLS" : "", session_->policy().name);
    last_client_activity_ = std::chrono::steady_clock::now();
    if (snapshot_->config->server.idle_timeout.count() > 0) {
        asio::co_spawn(client_.socket().get_executor(), watch_idle(),
                       [self = shared_from_this()](std::exception_ptr e) { log_exception(e, self->id_); });
    }
    if (server_) {
        asio::co_spawn(client_.socket().get_executor(), pump_backend(),
                       [self = shared_from_this()](std::exception_ptr e) {
                           log_exception(e, self->id_);
                           self->close_all("server side ended");
                       });
    }
    co_await pump_frontend();
    close_all("client side ended");
    log::info("session {}: disconnected ({})", id_, close_reason_);
    audit::Record bye = event(audit::Event::disconnect);
    bye.reason = close_reason_;
    bye.bytes_sent = session_->bytes_to_client();
    submit(std::move(bye));
}

awaitable<bool> ClientConnection::startup() {
    auto executor = co_await asio::this_coro::executor;
    const auto& server_cfg = snapshot_->config->server;
    session::StartupContext ctx;
    ctx.config = snapshot_->config;
    ctx.credentials = snapshot_->credentials;
    ctx.policies = snapshot_->policies;
    ctx.tls_available = snapshot_->server_tls != nullptr;
    ctx.over_connection_limit = runtime_.clients.load(std::memory_order_relaxed) > server_cfg.max_client_connections;
    error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (ec) co_return false;
    ctx.client_address = remote.address().to_string();
    ctx.client_port = remote.port();
    startup_.emplace(std::move(ctx));

    // The whole login, including pgmoat's own login upstream, must finish in time;
    // a client that sends one byte a second is closed when it runs out.
    Transport* client = &client_;
    Watchdog deadline(executor, server_cfg.startup_timeout, [client, id = id_] {
        // Logged before the close, so the line is there when the client sees it.
        log::info("session {}: startup timeout, closing", id);
        client->close();
    });

    protocol::ByteBuffer in(1024);
    std::string out;
    while (true) {
        auto r = startup_->expects_typed_messages() ? protocol::decode_message(in.data(), kMaxAuthMessageBytes)
                                                    : protocol::decode_startup_packet(in.data());
        if (r.status == DecodeStatus::error) {
            session::ClientStartup::write_fatal(out, "08P01", r.error);
            co_await write_client(out);
            close_reason_ = "protocol violation in startup: " + r.error;
            co_return false;
        }
        if (r.status == DecodeStatus::need_more) {
            auto [rec, n] = co_await client_.read_some(writable(in, 1024));
            if (rec) {
                close_reason_ = deadline.fired() ? "startup timeout" : "client closed during startup";
                co_return false;
            }
            in.commit(n);
            continue;
        }
        auto step = startup_->on_frame(r.frame, out);
        in.consume(r.frame.size);
        if (!co_await write_client(out)) co_return false;
        switch (step) {
            case session::StartupStep::read_more: continue;
            case session::StartupStep::start_tls: {
                // Bytes sent after SSLRequest but before the handshake were not
                // protected by TLS and could be injected by anyone on the path.
                if (!in.empty()) {
                    session::ClientStartup::write_fatal(out, "08P01", "received unencrypted data after SSL request");
                    co_await write_client(out);
                    close_reason_ = "unencrypted data after SSLRequest";
                    co_return false;
                }
                error_code tec = co_await client_.tls_accept(*snapshot_->server_tls);
                if (tec) {
                    close_reason_ = "TLS handshake failed: " + tec.message();
                    log::info("session {}: {}", id_, close_reason_);
                    co_return false;
                }
                startup_->tls_established(snapshot_->server_channel_binding);
                continue;
            }
            case session::StartupStep::cancel: {
                const auto& request = startup_->cancel_request();
                const auto& cfg = *snapshot_->config;
                int owner = runtime_.cancels.peer_of(request.process_id);
                if (owner != cfg.server.peer_id) {
                    // A session of another instance behind the same load balancer.
                    if (auto peer = cfg.peers.find(owner); peer != cfg.peers.end()) {
                        co_await send_cancel(peer_target(peer->second), {request.process_id, request.secret_key});
                        log::info("session {}: forwarded cancel request to peer {} ({}:{})", id_, owner,
                                  peer->second.host, peer->second.port);
                    } else {
                        log::info("session {}: cancel request for unknown peer {} ignored", id_, owner);
                    }
                } else if (auto target = runtime_.cancels.find(request)) {
                    co_await send_cancel(target->target, target->upstream);
                    log::info("session {}: forwarded cancel request to target \"{}\"", id_, target->target.name);
                } else {
                    log::info("session {}: cancel request with unknown key ignored", id_);
                }
                close_reason_ = "cancel request";
                co_return false;
            }
            case session::StartupStep::close:
                close_reason_ = startup_->failure_reason();
                log::info("session {}: login refused from {}:{}: {}", id_, startup_->identity().client_address,
                          startup_->identity().client_port, close_reason_);
                co_return false;
            case session::StartupStep::authenticated: break;
        }
        break;
    }

    {
        auto info = std::make_shared<audit::SessionInfo>(*pre_login_info_);
        info->app = startup_->identity().app;
        info->target = startup_->identity().target;
        if (!startup_->identity().application_name.empty()) info->application_name = startup_->identity().application_name;
        pre_login_info_ = std::move(info);
        runtime_.audit_event(event(audit::Event::auth_succeeded));
    }
    const auto& target = startup_->target();
    target_ = target;
    if (runtime_.draining.load()) {
        session::ClientStartup::write_fatal(out, "57P03", "the database system is shutting down");
        co_await write_client(out);
        co_return false;
    }
    // pgbouncer's way: with a known welcome for the target, the login completes
    // without a server; the server is attached when the first statement comes.
    std::vector<std::pair<std::string, std::string>> parameters;
    auto welcome = snapshot_->config->server.upstream_connect == config::UpstreamConnect::first_statement
                       ? runtime_.welcomes.find(target.name)
                       : std::nullopt;
    if (welcome) {
        parameters = session::patch_welcome(*welcome, startup_->identity().forward_parameters);
        cancel_key_ = runtime_.cancels.add({target, {}});
        registered_cancel_ = true;
    } else {
        std::string notices;
        if (!co_await attach_upstream(out, parameters, notices)) co_return false;
        if (deadline.fired() || closed_) co_return false;
        out.clear();
        out += notices;
    }
    std::string welcome_bytes;
    protocol::write_authentication(welcome_bytes, protocol::auth_request::Ok);
    for (const auto& [name, value] : parameters) protocol::write_parameter_status(welcome_bytes, name, value);
    welcome_bytes += out;
    protocol::write_backend_key_data(welcome_bytes, cancel_key_.process_id, cancel_key_.secret_key);
    protocol::write_ready_for_query(welcome_bytes, 'I');
    out = std::move(welcome_bytes);
    session::StatementServices services;
    services.policies = snapshot_->policies;
    services.analyses = runtime_.analyses.get();
    services.analyzer.max_statement_bytes = snapshot_->config->analyzer.max_statement_bytes;
    services.analyzer.max_depth = snapshot_->config->analyzer.max_depth;
    services.audit = this;
    services.metrics = &runtime_.statement_metrics;
    services.rate_limiter = &runtime_.rate_limiter;
    services.session_id = id_;
    services.upstream_user = target.user;
    services.database = target.database;
    session_.emplace(startup_->identity(), parameters, std::move(services));
    told_parameters_ = std::move(parameters);
    startup_.reset();
    co_return co_await write_client(out);
}

awaitable<bool> ClientConnection::attach_upstream(std::string& out,
                                                  std::vector<std::pair<std::string, std::string>>& parameters,
                                                  std::string& notices) {
    const config::Target& target = *target_;
    auto tls_it = snapshot_->target_tls.find(target.name);
    const auto& forward = startup_ ? startup_->identity().forward_parameters : session_->identity().forward_parameters;
    auto upstream = co_await connect_upstream(target, tls_it == snapshot_->target_tls.end() ? nullptr : tls_it->second.get(),
                                              forward);
    if (!upstream.transport) {
        log::warning("session {}: target \"{}\" ({}:{}): {}", id_, target.name, target.host, target.port, upstream.reason);
        runtime_.net_metrics.upstream_connect_errors.labels({target.name}).inc();
        if (startup_) runtime_.net_metrics.login_failures.labels({"upstream"}).inc();
        protocol::write_error_response(out, upstream.error);
        co_await write_client(out);
        close_reason_ = "target unavailable";
        co_return false;
    }
    server_ = std::move(upstream.transport);
    upstream_gauge_ = &runtime_.net_metrics.upstream_connections.labels({target.name});
    upstream_gauge_->inc();
    upstream_key_ = upstream.login->backend_key();
    if (registered_cancel_) runtime_.cancels.set_upstream(cancel_key_.process_id, upstream_key_);
    else cancel_key_ = runtime_.cancels.add({target, upstream_key_});
    registered_cancel_ = true;
    parameters = upstream.login->parameters();
    notices = upstream.login->notices();
    runtime_.welcomes.remember(target.name, parameters, forward);
    co_return true;
}

awaitable<bool> ClientConnection::attach_upstream_now() {
    std::string out, notices;
    std::vector<std::pair<std::string, std::string>> parameters;
    if (!co_await attach_upstream(out, parameters, notices)) co_return false;
    // What the server reports may differ from the welcome the client got: tell it.
    std::string updates = notices;
    for (const auto& [name, value] : parameters) {
        auto it = std::find_if(told_parameters_.begin(), told_parameters_.end(),
                               [&](const auto& p) { return p.first == name; });
        if (it == told_parameters_.end() || it->second != value) {
            protocol::write_parameter_status(updates, name, value);
            session_->on_server_parameter(name, value);
        }
    }
    told_parameters_.clear();
    if (!co_await write_client(updates)) co_return false;
    asio::co_spawn(client_.socket().get_executor(), pump_backend(),
                   [self = shared_from_this()](std::exception_ptr e) {
                       log_exception(e, self->id_);
                       self->close_all("server side ended");
                   });
    co_return true;
}

void ClientConnection::process(protocol::ByteBuffer& in, bool from_client, session::Outbox& out) {
    StreamState& stream = from_client ? stream_from_client_ : stream_from_server_;
    std::string& relay_to = from_client ? out.to_server : out.to_client;
    while (!in.empty() && !out.close) {
        if (stream.left > 0) {
            size_t take = std::min(stream.left, in.size());
            if (stream.relay) relay_to.append(in.data().substr(0, take));
            in.consume(take);
            stream.left -= take;
            continue;
        }
        auto r = protocol::decode_message(in.data(), kProtocolMaxBody);
        bool streamable = r.type == (from_client ? protocol::frontend::CopyData : protocol::backend::CopyData) ||
                          (!from_client && r.type == protocol::backend::DataRow);
        if (r.status == DecodeStatus::need_more && r.frame_size > max_message_bytes_ && !streamable) {
            r.status = DecodeStatus::error;
            r.error = fmt::format("message of {} bytes exceeds the maximum of {} bytes", r.frame_size - 1,
                                  max_message_bytes_);
        }
        if (r.status == DecodeStatus::error) {
            protocol::ErrorFields e;
            e.severity = "FATAL";
            e.sqlstate = "08P01";
            e.message = from_client ? r.error : "pgmoat: invalid message from server: " + r.error;
            protocol::write_error_response(out.to_client, e);
            out.close = true;
            out.close_reason = "protocol violation: " + r.error;
            return;
        }
        if (r.status == DecodeStatus::need_more) {
            if (r.frame_size <= kStreamThreshold) return;  // buffer it whole
            stream.relay = from_client ? session_->on_frontend_stream(r.type, out)
                                       : session_->on_backend_stream(r.type, r.frame_size, out);
            stream.left = r.frame_size;
            continue;
        }
        if (from_client) session_->on_frontend(r.frame, out);
        else session_->on_backend(r.frame, out);
        in.consume(r.frame.size);
    }
}

awaitable<void> ClientConnection::pump_frontend() {
    // Clients send small messages; the buffer grows for a large one and shrinks
    // back when it has passed, so an idle session holds 2 kB. (Waiting for
    // readability first instead would cost an epoll_ctl per statement.)
    protocol::ByteBuffer in(kClientReadChunk);
    session::Outbox out;
    while (!closed_) {
        auto [ec, n] = co_await client_.read_some(writable(in, kClientReadChunk));
        if (ec) {
            if (!closed_) close_all(ec == asio::error::eof ? "client closed the connection" : "client read: " + ec.message());
            co_return;
        }
        if (stopping_) continue;  // the goodbye is on its way: drop what comes (stop_if_quiet())
        in.commit(n);
        last_client_activity_ = std::chrono::steady_clock::now();
        process(in, true, out);
        if (!out.to_server.empty() && !server_) {
            // A session closing before its first statement (Terminate, or a protocol
            // error) has no server to tell.
            if (out.close) out.to_server.clear();
            else if (!co_await attach_upstream_now()) {
                close_all(close_reason_.empty() ? "target unavailable" : close_reason_);
                co_return;
            }
        }
        if (!co_await write_server(out.to_server)) co_return;
        if (!co_await write_client(out.to_client)) co_return;
        if (out.close) {
            close_all(out.close_reason);
            co_return;
        }
        in.shrink_if_idle();
    }
}

awaitable<void> ClientConnection::pump_backend() {
    protocol::ByteBuffer in(kReadChunk);
    session::Outbox out;
    while (!closed_) {
        auto [ec, n] = co_await server_->read_some(writable(in, kReadChunk));
        if (ec) {
            if (closed_) co_return;
            // The server went away without a goodbye (crash, kill, network): tell the
            // client plainly instead of leaving it to guess from a closed socket.
            protocol::ErrorFields e;
            e.severity = "FATAL";
            e.sqlstate = "08006";
            e.message = fmt::format("pgmoat: lost the connection to target \"{}\"", session_->identity().target);
            std::string bye;
            protocol::write_error_response(bye, e);
            co_await write_client(bye);
            close_all("server closed the connection");
            co_return;
        }
        in.commit(n);
        process(in, false, out);
        // Until these bytes reach the client, the session only looks idle: a
        // drain or idle timeout now would drop a result whose statement ran.
        delivering_ = true;
        if (out.cancel_upstream) {
            out.cancel_upstream = false;
            if (!cancel_in_flight_) start_cancel();
        }
        // With fsync per record, no result reaches the client before its record
        // is on disk.
        if (audit_durable_ < audit_submitted_ && !co_await wait_until_durable()) co_return;
        if (!co_await write_client(out.to_client)) co_return;
        if (!co_await write_server(out.to_server)) co_return;
        delivering_ = false;
        if (out.close) {
            close_all(out.close_reason);
            co_return;
        }
        if (draining_ && in.empty() && stream_from_server_.left == 0 && stop_if_quiet()) {
            co_await close_idle_for_shutdown();
            co_return;
        }
        in.shrink_if_idle();
    }
}

void ClientConnection::start_cancel() {
    cancel_in_flight_ = true;
    auto cancel = [](std::shared_ptr<ClientConnection> self) -> awaitable<void> {
        // send_cancel returns when the server has closed the cancel connection,
        // which PostgreSQL does after signalling the backend.
        co_await send_cancel(*self->target_, self->upstream_key_);
        self->cancel_in_flight_ = false;
        self->cancel_done_.cancel();
    };
    asio::co_spawn(client_.socket().get_executor(), cancel(shared_from_this()), asio::detached);
}

awaitable<void> ClientConnection::say_goodbye(std::string sqlstate, std::string message, std::string reason) {
    if (closed_) co_return;
    std::string bye;
    session::ClientStartup::write_fatal(bye, sqlstate, message);
    co_await write_client(bye);
    close_all(reason);
}

bool ClientConnection::stop_if_quiet() {
    if (closed_ || stopping_ || !quiet()) return false;
    // From here nothing the client sends is forwarded: a statement that crossed
    // the goodbye on the wire must not run after its session was told it ended.
    stopping_ = true;
    return true;
}

awaitable<void> ClientConnection::close_idle_for_shutdown() {
    co_await say_goodbye("57P01", "terminating connection due to administrator command", "server shutting down");
}

awaitable<void> ClientConnection::watch_idle() {
    auto timeout = snapshot_->config->server.idle_timeout;
    idle_timer_.emplace(client_.socket().get_executor());
    // Checking on a coarse tick costs nothing per message, unlike re-arming a timer
    // on every read.
    auto tick = std::max<std::chrono::milliseconds>(timeout / 4, 100ms);
    while (!closed_) {
        idle_timer_->expires_after(tick);
        co_await idle_timer_->async_wait(nothrow_awaitable);
        if (closed_) co_return;
        if (std::chrono::steady_clock::now() - last_client_activity_ >= timeout && stop_if_quiet()) {
            co_await say_goodbye("57P05", "terminating connection due to idle-session timeout", "idle timeout");
            co_return;
        }
    }
}

void ClientConnection::drain() {
    draining_ = true;
    if (!session_) return;  // still starting up: refused when it gets there
    if (stop_if_quiet()) {
        asio::co_spawn(client_.socket().get_executor(), close_idle_for_shutdown(),
                       [self = shared_from_this()](std::exception_ptr e) { log_exception(e, self->id_); });
    }
}

void ClientConnection::post_drain() {
    asio::post(client_.socket().get_executor(), [self = shared_from_this()] { self->drain(); });
}

void ClientConnection::post_terminate() {
    asio::post(client_.socket().get_executor(), [self = shared_from_this()] { self->close_all("shutdown deadline passed"); });
}

}  // namespace pgmoat::net
