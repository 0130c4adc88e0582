// The connection engine's life cycle: startup and login, admission with its
// welcome, what goes out and what is held back, deadlines, drain and close. The
// relay's framing is in relay.cpp, pgmoat's own login upstream in upstream_attach.cpp.
#include "pgmoat/session/connection.h"

#include "pgmoat/audit/json.h"
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace pgmoat::session {

using namespace std::chrono_literals;

namespace {
// Reads: clients send small messages, so an idle session's buffer stays small; a
// buffer grows for a large message and shrinks back once it has passed.
constexpr size_t kClientReadChunk = 2 * 1024;
constexpr size_t kServerReadChunk = 16 * 1024;
// While a message streams through, reads take bigger bites.
constexpr size_t kStreamReadChunk = 64 * 1024;
// SASL messages are small; PostgreSQL caps them at 64 kB (PG_MAX_AUTH_TOKEN_LENGTH).
constexpr uint32_t kMaxAuthMessageBytes = 65535;
// Output waiting for a side (held back, or not yet taken) beyond which the other
// side is not read: a slow reader slows its peer down instead of growing memory.
constexpr size_t kMaxBacklog = 1 << 20;
// How long a client that sent a message over max_message_size may go on sending
// it, so that it reads the FATAL instead of a connection reset.
constexpr auto kDrainTimeout = 10s;
// Console commands are one line each.
constexpr uint32_t kMaxConsoleMessageBytes = 1 << 20;
}  // namespace

Connection::Connection(ConnectionContext context)
    : context_(std::move(context)), client_(kClientReadChunk), server_(kServerReadChunk) {
    if (!context_.clock) context_.clock = [] { return Clock::now(); };
    max_message_bytes_ = context_.config->server.max_message_bytes;
}

Connection::~Connection() {
    if (listing_) context_.directory->remove(context_.id);
    if (registered_cancel_) context_.cancels->remove(cancel_key_.process_id);
    if (session_gauge_) session_gauge_->dec();
    if (upstream_gauge_) upstream_gauge_->dec();
    // Gone without a close (net/ dropped it): a pending approval must not outlive it.
    if (session_ && session_->held_approval() && context_.approvals)
        context_.approvals->withdraw(session_->held_approval(), ApprovalOutcome::abandoned);
}

audit::Record Connection::event(audit::Event e) const {
    audit::Record r;
    r.event = e;
    if (session_)
        r.session = session_->audit_info();
    else
        r.session = pre_login_info_;
    return r;
}

void Connection::start() {
    auto info = std::make_shared<audit::SessionInfo>();
    info->id = context_.id;
    info->client_addr = context_.client_address;
    info->client_port = context_.client_port;
    pre_login_info_ = std::move(info);
    if (context_.metrics) context_.metrics->accepted.labels({}).inc();
    if (context_.audit) context_.audit->submit(event(audit::Event::connection_accepted), 0);

    StartupContext ctx;
    ctx.config = context_.config;
    ctx.credentials = context_.credentials;
    ctx.policies = context_.policies;
    ctx.tls_available = context_.tls_available;
    ctx.over_connection_limit = context_.over_connection_limit;
    ctx.client_address = context_.client_address;
    ctx.client_port = context_.client_port;
    startup_.emplace(std::move(ctx));
    // The whole login, including pgmoat's own login upstream, must finish in time;
    // a client that sends one byte a second is closed when it runs out.
    startup_deadline_ = now() + context_.config->server.startup_timeout;
}

// ---- reading ----

std::pair<char*, size_t> Connection::read_buffer(Side side) {
    Direction& d = direction(side);
    size_t want = side == Side::client ? kClientReadChunk : kServerReadChunk;
    if (d.stream.left > 0) want = std::max(want, std::min(d.stream.left, kStreamReadChunk));
    // Room for the whole message the framing waits for, allocated once.
    if (d.wanted > d.in.size()) want = std::max(want, d.wanted - d.in.size());
    char* p = d.in.prepare(want);
    return {p, d.in.free_space()};
}

void Connection::on_read(Side side, size_t n) {
    Direction& d = direction(side);
    d.in.commit(n);
    if (side == Side::client) {
        last_activity_ = now();
        on_client_input();
    } else {
        on_server_input();
    }
    if (listing_) publish_state();
    if (!d.in.empty()) return;
    // Idle sessions hold no big buffers: a large message has passed.
    d.in.shrink_if_idle();
}

void Connection::feed(Side side, std::string_view bytes) {
    while (!bytes.empty()) {
        auto [p, n] = read_buffer(side);
        size_t take = std::min(n, bytes.size());
        std::memcpy(p, bytes.data(), take);
        bytes.remove_prefix(take);
        on_read(side, take);
    }
}

void Connection::on_client_input() {
    switch (phase_) {
        case Phase::startup:
            return on_startup_input();
        case Phase::admitting:
            return;  // kept until the welcome is out
        case Phase::relay:
            return relay(Side::client);
        case Phase::console:
            return console_input();
        case Phase::draining: {
            size_t n = client_.in.size();
            client_.in.consume(n);
            drain_left_ -= std::min(drain_left_, n);
            if (drain_left_ == 0) close(close_reason_);
            return;
        }
        case Phase::closed:
            client_.in.consume(client_.in.size());
            return;
    }
}

void Connection::on_read_failed(Side side, bool eof, std::string_view error) {
    if (closed() || (phase_ == Phase::draining && side == Side::server)) return;
    if (side == Side::client) {
        if (phase_ == Phase::startup || phase_ == Phase::admitting) {
            close_reason_ = "client closed during startup";
            login_failed();
            return close(close_reason_);
        }
        if (phase_ == Phase::draining) return close(close_reason_);
        return close(eof ? "client closed the connection" : "client read: " + std::string(error));
    }
    if (upstream_ != Upstream::ready) {
        protocol::ErrorFields e;
        e.severity = "FATAL";
        e.sqlstate = sqlstate::connection_failure;
        e.message = fmt::format("pgmoat: cannot connect to target \"{}\": server closed the connection during login",
                                target_->name);
        return upstream_failed(e, "login read: " + std::string(error));
    }
    server_lost_ = true;
    // The server went away without a goodbye (crash, kill, network): tell the
    // client plainly instead of leaving it to guess from a closed socket.
    write_fatal(sqlstate::connection_failure,
                fmt::format("pgmoat: lost the connection to target \"{}\"", target_->name));
    close("server closed the connection");
}

void Connection::on_write_failed(Side side, std::string_view error) {
    if (closed() || (phase_ == Phase::draining && side == Side::server)) return;
    if (side == Side::server && upstream_ != Upstream::ready) {
        protocol::ErrorFields e;
        e.severity = "FATAL";
        e.sqlstate = sqlstate::connection_failure;
        e.message = fmt::format("pgmoat: cannot connect to target \"{}\": {}", target_->name, error);
        return upstream_failed(e, "login write: " + std::string(error));
    }
    if (side == Side::server) server_lost_ = true;
    if (phase_ == Phase::draining) return close(close_reason_);
    close(fmt::format("{} write: {}", side == Side::client ? "client" : "server", error));
}

// ---- startup ----

void Connection::on_startup_input() {
    while (phase_ == Phase::startup && !client_tls_pending_ && !cancel_in_flight_) {
        auto& in = client_.in;
        auto r = startup_->expects_typed_messages() ? protocol::decode_message(in.data(), kMaxAuthMessageBytes)
                                                    : protocol::decode_startup_packet(in.data());
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal(sqlstate::protocol_violation, r.error);
            return close("protocol violation in startup: " + r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) return;
        StartupStep step = startup_->on_frame(r.frame, out_.to_client);
        in.consume(r.frame.size);
        startup_step(step);
    }
}

void Connection::startup_step(StartupStep step) {
    switch (step) {
        case StartupStep::read_more:
            return;
        case StartupStep::start_tls:
            // Bytes sent after SSLRequest but before the handshake were not
            // protected by TLS and could be injected by anyone on the path.
            if (!client_.in.empty()) {
                write_fatal(sqlstate::protocol_violation, "received unencrypted data after SSL request");
                return close("unencrypted data after SSLRequest");
            }
            client_tls_pending_ = true;
            actions_.push_back({.kind = Action::Kind::start_client_tls});
            return;
        case StartupStep::cancel: {
            const auto& request = startup_->cancel_request();
            const auto& cfg = *context_.config;
            int owner = context_.cancels->peer_of(request.process_id);
            if (owner != cfg.server.peer_id) {
                // A session of another instance behind the same load balancer: its
                // client port takes the request as it came, in plain TCP as libpq sends it.
                auto peer = cfg.peers.find(owner);
                if (peer == cfg.peers.end()) {
                    log::info("session {}: cancel request for unknown peer {} ignored", context_.id, owner);
                    return close("cancel request");
                }
                log::info("session {}: forwarded cancel request to peer {} ({}:{})", context_.id, owner,
                          peer->second.host, peer->second.port);
                config::Target to;
                to.name = fmt::format("peer {}", peer->second.id);
                to.host = peer->second.host;
                to.port = peer->second.port;
                to.connect_timeout = 3s;
                cancel_target_ = CancelTarget{std::move(to), {request.process_id, request.secret_key}};
                close_after_cancel_ = true;
                return send_cancel(&cancel_target_->target, cancel_target_->upstream);
            }
            if (auto target = context_.cancels->find(request)) {
                // The client's cancel connection stays open until the server has it,
                // as PostgreSQL's does: a client that sends its next query on seeing
                // the close must not have it cancelled instead.
                log::info("session {}: forwarded cancel request to target \"{}\"", context_.id, target->target.name);
                cancel_target_ = std::move(*target);
                close_after_cancel_ = true;
                return send_cancel(&cancel_target_->target, cancel_target_->upstream);
            }
            log::info("session {}: cancel request with unknown key ignored", context_.id);
            return close("cancel request");
        }
        case StartupStep::close:
            close_reason_ = startup_->failure_reason();
            log::info("session {}: login refused from {}:{}: {}", context_.id, context_.client_address,
                      context_.client_port, close_reason_);
            login_failed();
            return close(close_reason_);
        case StartupStep::authenticated:
            return authenticated();
        case StartupStep::admin_console:
            return open_console();
    }
}

void Connection::on_client_tls(bool ok, std::string_view error) {
    if (closed()) return;
    client_tls_pending_ = false;
    if (!ok) {
        std::string reason = "TLS handshake failed: " + std::string(error);
        log::info("session {}: {}", context_.id, reason);
        return close(std::move(reason));
    }
    startup_->tls_established(context_.tls_channel_binding);
    on_startup_input();
}

void Connection::authenticated() {
    const Identity& who = startup_->identity();
    auto info = std::make_shared<audit::SessionInfo>(*pre_login_info_);
    info->app = who.app;
    info->target = who.target;
    if (!who.application_name.empty()) info->application_name = who.application_name;
    pre_login_info_ = std::move(info);
    if (context_.audit) context_.audit->submit(event(audit::Event::auth_succeeded), 0);
    target_ = &startup_->target();
    if (draining_for_shutdown_) {
        write_fatal(sqlstate::cannot_connect_now, "the database system is shutting down");
        return close("server shutting down");
    }
    phase_ = Phase::admitting;
    pooled_ = target_->pool_mode == config::PoolMode::transaction;
    if (pooled_) {
        // Pool servers log in without any client's parameters, so a remembered
        // welcome patched with this client's is what it would see; without one,
        // the first server connection leased tells.
        std::optional<Welcome> known = context_.welcomes ? context_.welcomes->find(target_->name) : std::nullopt;
        if (!known) return request_server();
        cancel_key_ = context_.cancels->add({*target_, {}});
        registered_cancel_ = true;
        return admit(patch_welcome(*known, who.forward_parameters), {});
    }
    // pgbouncer's way: with a known welcome for the target, the login completes
    // without a server; the server is attached when the first statement comes.
    std::optional<Welcome> welcome;
    if (context_.config->server.upstream_connect == config::UpstreamConnect::first_statement && context_.welcomes) {
        welcome = context_.welcomes->find(target_->name);
    }
    if (!welcome) return attach_upstream();
    cancel_key_ = context_.cancels->add({*target_, {}});
    registered_cancel_ = true;
    Parameters parameters = patch_welcome(*welcome, who.forward_parameters);
    told_parameters_ = parameters;
    admit(parameters, {});
}

void Connection::admit(const Parameters& parameters, std::string_view notices) {
    std::string& out = out_.to_client;
    protocol::write_authentication(out, protocol::auth_request::Ok);
    for (const auto& [name, value] : parameters) protocol::write_parameter_status(out, name, value);
    out.append(notices);
    protocol::write_backend_key_data(out, cancel_key_.process_id, cancel_key_.secret_key);
    protocol::write_ready_for_query(out, 'I');

    StatementServices services;
    services.policies = context_.policies;
    services.analyses = context_.analyses;
    services.analyzer.max_statement_bytes = context_.config->analyzer.max_statement_bytes;
    services.analyzer.max_depth = context_.config->analyzer.max_depth;
    services.audit = this;
    services.metrics = context_.statement_metrics;
    services.rate_limiter = context_.rate_limiter;
    services.rejections = context_.rejections;
    services.freezes = context_.freezes;
    services.approvals = context_.approvals;
    services.grants = context_.grants;
    services.session_id = context_.id;
    services.upstream_user = target_->user;
    services.database = target_->database;
    services.transaction_pooling = pooled_;
    services.reject_session_state = target_->pool.session_state == config::SessionStatePolicy::reject;
    session_.emplace(startup_->identity(), parameters, std::move(services));
    startup_.reset();
    phase_ = Phase::relay;
    last_activity_ = now();

    const Identity& who = session_->identity();
    if (context_.metrics) {
        session_gauge_ = &context_.metrics->sessions.labels({who.app, who.target});
        session_gauge_->inc();
    }
    log::info("session {}: app \"{}\" connected to target \"{}\" from {}:{}{}, policy \"{}\"", context_.id, who.app,
              who.target, who.client_address, who.client_port, who.tls ? " over TLS" : "", session_->policy().name);
    list_session(who, who.target, {});
    publish_state();
    if (pooled_ && lease_ == Lease::held) return server_attached();
    if (upstream_ == Upstream::ready) session_->set_backend_pid(upstream_key_.process_id);
    // Whatever the client sent before its welcome.
    if (!client_.in.empty()) relay(Side::client);
}

// The console answers like a server (pgbouncer's does too): a welcome of the
// settings clients read, then commands as simple queries. No server, no target.
void Connection::open_console() {
    const Identity& who = startup_->identity();
    auto info = std::make_shared<audit::SessionInfo>(*pre_login_info_);
    info->app = who.app;
    info->target = std::string(kAdminDatabase);
    if (!who.application_name.empty()) info->application_name = who.application_name;
    pre_login_info_ = info;
    if (context_.audit) context_.audit->submit(event(audit::Event::auth_succeeded), 0);
    if (draining_for_shutdown_) {
        write_fatal(sqlstate::cannot_connect_now, "the database system is shutting down");
        return close("server shutting down");
    }
    if (!context_.admin) {
        write_fatal(sqlstate::feature_not_supported, "pgmoat: the admin console is not available here");
        return close("admin console not available");
    }
    std::string& out = out_.to_client;
    protocol::write_authentication(out, protocol::auth_request::Ok);
    const std::pair<const char*, std::string> settings[] = {
        {"server_version", "15.0 (pgmoat " PGMOAT_VERSION " admin console)"},
        {"server_encoding", "UTF8"},
        {"client_encoding", "UTF8"},
        {"DateStyle", "ISO, MDY"},
        {"TimeZone", "UTC"},
        {"integer_datetimes", "on"},
        {"standard_conforming_strings", "on"},
        {"is_superuser", "off"},
        {"session_authorization", who.app},
        {"application_name", who.application_name},
    };
    for (const auto& [name, value] : settings) protocol::write_parameter_status(out, name, value);
    protocol::write_ready_for_query(out, 'I');
    console_.emplace(*context_.admin, static_cast<AuditSink*>(this), std::move(info));
    phase_ = Phase::console;
    last_activity_ = now();
    log::info("session {}: admin \"{}\" opened the admin console from {}:{}", context_.id, who.app, who.client_address,
              who.client_port);
    list_session(who, kAdminDatabase, "admin console");
    startup_.reset();
    // Whatever the client sent before its welcome.
    if (!client_.in.empty()) console_input();
}

void Connection::console_input() {
    auto& in = client_.in;
    while (phase_ == Phase::console && !in.empty()) {
        auto r = protocol::decode_message(in.data(), kMaxConsoleMessageBytes);
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal(sqlstate::protocol_violation, r.error);
            return close("protocol violation: " + r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) {
            client_.wanted = r.frame_size;
            return;
        }
        client_.wanted = 0;
        bool more = console_->on_frontend(r.frame, out_.to_client);
        in.consume(r.frame.size);
        if (!more)
            return close(r.frame.type == protocol::frontend::Terminate ? "client closed the connection"
                                                                       : "protocol violation on the admin console");
    }
}

void Connection::list_session(const Identity& who, std::string_view target, std::string_view state) {
    if (!context_.directory) return;
    SessionRow row;
    row.id = context_.id;
    row.app = who.app;
    row.target = std::string(target);
    row.application_name = who.application_name;
    row.client_addr = who.client_address;
    row.client_port = who.client_port;
    row.state = std::string(state);
    audit::json::append_time(row.connected_at, std::chrono::system_clock::now());
    listing_ = context_.directory->add(std::move(row));
}

void Connection::publish_state() {
    if (!listing_ || !session_ || phase_ != Phase::relay) return;
    char tx = session_->transaction_status();
    std::string_view state = held_               ? "paused"
                             : !session_->idle() ? "active"
                             : tx == 'T'         ? "idle in transaction"
                             : tx == 'E'         ? "idle in transaction (aborted)"
                                                 : "idle";
    std::string_view kind = session_->last_statement_kind();
    if (state.data() == listed_state_.data() && kind.data() == listed_kind_.data()) return;
    listed_state_ = state;
    listed_kind_ = kind;
    listing_->set_state(state, kind);
}

void Connection::on_resume() {
    if (!held_ || closed()) return;
    if (context_.pauses && context_.pauses->paused(target_->name)) return;
    held_ = false;
    relay(Side::client);
    if (listing_) publish_state();
}

void Connection::on_approval(uint64_t approval, bool approved, std::string_view by, std::string_view reason) {
    if (closed() || phase_ != Phase::relay || session_->held_approval() != approval) return;
    session_->approval_decided(approved, by, reason, out_);
    after_session_event();
    if (phase_ == Phase::relay) relay(Side::client);
    if (listing_) publish_state();
}

void Connection::on_kill(std::string_view by) {
    if (closed() || (phase_ != Phase::relay && phase_ != Phase::console)) return;
    // Not in the middle of a message streaming to the client: that one is cut short
    // and the client sees the connection end.
    if (server_.stream.left == 0) {
        ClientStartup::write_fatal(
            out_.to_client, sqlstate::admin_shutdown, "terminating connection due to administrator command",
            fmt::format("pgmoat: session {} was ended by admin \"{}\" on the admin console.", context_.id, by));
    }
    // What runs on the server stops there too: closing its connection alone would
    // leave a long statement running until it next writes.
    if (upstream_ == Upstream::ready && session_ && !session_->idle() && !cancel_in_flight_)
        send_cancel(target_, upstream_key_);
    log::info("session {}: ended by admin \"{}\"", context_.id, by);
    close(fmt::format("killed by admin \"{}\"", by));
}

void Connection::login_failed() {
    const std::string& code = startup_ ? startup_->failure_sqlstate() : std::string();
    std::string reason =
        code == sqlstate::invalid_password                                                                ? "password"
        : code == sqlstate::invalid_authorization_specification || code == sqlstate::invalid_catalog_name ? "target"
        : code == sqlstate::insufficient_privilege || code == sqlstate::syntax_error ||
                code == sqlstate::feature_not_supported
            ? "parameter"
        : code == sqlstate::too_many_connections ? "limit"
        : code == sqlstate::protocol_violation   ? "protocol"
        : close_reason_ == "startup timeout"     ? "timeout"
                                                 : "";
    if (reason.empty() || (startup_ && startup_->cancel_request().process_id != 0)) return;
    if (context_.metrics) {
        context_.metrics->login_failures.labels({reason}).inc();
        if (reason == "limit") context_.metrics->refused_for_limits.labels({}).inc();
    }
    if (!context_.audit) return;
    auto info = std::make_shared<audit::SessionInfo>(*pre_login_info_);
    if (startup_ && !startup_->identity().app.empty()) info->app = startup_->identity().app;
    if (startup_ && !startup_->identity().target.empty()) info->target = startup_->identity().target;
    audit::Record r;
    r.event = reason == "password" ? audit::Event::auth_failed
              : reason == "target" ? audit::Event::target_denied
                                   : audit::Event::disconnect;
    r.session = std::move(info);
    r.reason = close_reason_;
    context_.audit->submit(std::move(r), 0);
}

void Connection::write_fatal(const std::string& sqlstate, const std::string& message) {
    ClientStartup::write_fatal(out_.to_client, sqlstate, message);
}

// ---- time ----

Connection::Clock::time_point Connection::deadline() const {
    auto at = Clock::time_point::max();
    switch (phase_) {
        case Phase::startup:
        case Phase::admitting:
            at = startup_deadline_;
            break;
        case Phase::draining:
            at = drain_deadline_;
            break;
        case Phase::relay:
        case Phase::console: {
            auto idle = context_.config->server.idle_timeout;
            if (idle.count() > 0) {
                // Checked on a coarse tick while the session is busy: that costs
                // nothing per message, unlike re-arming a timer on every read.
                auto tick = std::max<std::chrono::milliseconds>(idle / 4, 100ms);
                at = std::max(last_activity_ + idle, now() + tick);
            }
            break;
        }
        case Phase::closed:
            return at;
    }
    if (upstream_ != Upstream::none && upstream_ != Upstream::ready) at = std::min(at, connect_deadline_);
    if (phase_ == Phase::relay) at = std::min(at, session_->hold_deadline());
    return at;
}

void Connection::on_tick() {
    if (closed()) return;
    auto t = now();
    if ((phase_ == Phase::startup || phase_ == Phase::admitting) && t >= startup_deadline_) {
        // Logged before the close, so the line is there when the client sees it.
        log::info("session {}: startup timeout, closing", context_.id);
        close_reason_ = "startup timeout";
        login_failed();
        return close(close_reason_);
    }
    if (upstream_ != Upstream::none && upstream_ != Upstream::ready && t >= connect_deadline_) {
        protocol::ErrorFields e;
        e.severity = "FATAL";
        e.sqlstate = sqlstate::connection_failure;
        e.message = fmt::format("pgmoat: cannot connect to target \"{}\": timed out", target_->name);
        return upstream_failed(e, "connect timeout");
    }
    if (phase_ == Phase::draining && t >= drain_deadline_) return close(close_reason_);
    if (phase_ == Phase::relay && t >= session_->hold_deadline()) {
        // Nobody decided in time; a decision that took the entry first is on its
        // way (on_approval) and wins.
        if (context_.approvals->withdraw(session_->held_approval(), ApprovalOutcome::timed_out)) {
            session_->hold_timed_out(out_);
            after_session_event();
            relay(Side::client);
            if (listing_) publish_state();
        }
        return;
    }
    auto idle = context_.config->server.idle_timeout;
    if (idle.count() > 0 && quiet() && !held_ && t - last_activity_ >= idle) {
        write_fatal(sqlstate::idle_session_timeout, "terminating connection due to idle-session timeout");
        close("idle timeout");
    }
}

// ---- shutdown ----

void Connection::on_drain() {
    draining_for_shutdown_ = true;
    // Still starting up: refused when it gets there.
    maybe_close_idle_for_shutdown();
}

bool Connection::quiet() const {
    // Nothing runs, nothing is coming from the server, and nothing owed to the
    // client waits for the audit log: a goodbye now follows every result.
    if (phase_ == Phase::console) return true;
    return phase_ == Phase::relay && session_->idle() && server_.in.empty() && server_.stream.left == 0 &&
           client_.stream.left == 0 && holds_.empty() && !client_waits_ && !lookup_ && !session_->holds_client();
}

void Connection::maybe_close_idle_for_shutdown() {
    if (!draining_for_shutdown_ || !quiet()) return;
    write_fatal(sqlstate::admin_shutdown, "terminating connection due to administrator command");
    close("server shutting down");
}

void Connection::on_terminate() {
    close("shutdown deadline passed");
}

void Connection::send_cancel(const config::Target* target, protocol::BackendKeyData key) {
    // PostgreSQL cancels whatever runs when the signal lands: requests to the
    // server wait until the cancel has landed, or it would hit the next one.
    cancel_in_flight_ = true;
    Action a{.kind = Action::Kind::send_cancel, .target = target};
    // PostgreSQL 15's libpq sends CancelRequest without TLS too; servers accept it.
    protocol::write_cancel_request(a.bytes, key.process_id, key.secret_key);
    actions_.push_back(std::move(a));
}

// ---- output ----

std::optional<Action> Connection::next_action() {
    if (actions_.empty()) return std::nullopt;
    Action a = actions_.front();
    actions_.pop_front();
    return a;
}

void Connection::take_output(Side side, std::string& into) {
    into.clear();
    if (side == Side::server) {
        if (!server_login_out_.empty()) return std::swap(into, server_login_out_);
        if (server_output_released()) std::swap(into, out_.to_server);
        return;
    }
    while (!holds_.empty() && holds_.front().ticket <= audit_durable_) holds_.erase(holds_.begin());
    if (holds_.empty()) return std::swap(into, out_.to_client);
    size_t end = holds_.front().from;
    if (end == 0) return;
    into.assign(out_.to_client, 0, end);
    out_.to_client.erase(0, end);
    for (auto& h : holds_) h.from -= end;
}

bool Connection::wants_read(Side side) const {
    if (closed()) return false;
    if (side == Side::client) {
        if (client_tls_pending_) return false;
        if (phase_ == Phase::draining) return true;
        if (phase_ == Phase::admitting) return client_.in.size() < kMaxBacklog;
        // While a statement waits for approval the client is still read (its
        // messages stay buffered behind it), so that pgmoat sees it leave.
        if (session_ && session_->held_approval()) return !held_ && client_.in.size() < kMaxBacklog;
        // Waiting for a pooled server connection: what arrives meanwhile is kept, up to a bound.
        if (pooled_ && lease_ != Lease::held && client_.in.size() >= kMaxBacklog) return false;
        return !client_waits_ && !held_ && !(session_ && session_->holds_client()) &&
               out_.to_server.size() < kMaxBacklog && out_.to_client.size() < kMaxBacklog;
    }
    if (upstream_ == Upstream::none || upstream_ == Upstream::connecting || upstream_ == Upstream::tls) return false;
    if (replaying_) return true;
    return out_.to_client.size() < kMaxBacklog;
}

// ---- ending ----

void Connection::close(std::string reason) {
    if (closed()) return;
    bool was_session = session_.has_value() || console_.has_value();
    bool reusable = pooled_ && lease_ == Lease::held && server_reusable();
    phase_ = Phase::closed;
    // Off SHOW SESSIONS at once: net/ may take a moment to let the connection go.
    if (listing_) {
        context_.directory->remove(context_.id);
        listing_.reset();
    }
    close_reason_ = std::move(reason);
    // A statement waiting for approval will not run: off the table, and audited.
    if (session_ && session_->held_approval() &&
        context_.approvals->withdraw(session_->held_approval(), ApprovalOutcome::abandoned)) {
        session_->hold_abandoned(close_reason_);
    }
    if (pooled_ && lease_ == Lease::held) {
        out_.to_server.clear();
        release_server(reusable);
    }
    // A session closing before its first statement has no server to tell.
    if (upstream_ != Upstream::ready) {
        out_.to_server.clear();
        server_login_out_.clear();
    }
    actions_.push_back({.kind = Action::Kind::close});
    if (!was_session) return;
    log::info("session {}: disconnected ({})", context_.id, close_reason_);
    audit::Record bye = event(audit::Event::disconnect);
    bye.reason = close_reason_;
    if (session_) bye.bytes_sent = session_->bytes_to_client();
    submit(std::move(bye));
}

void Connection::start_drain(std::string reason, size_t bytes_to_drain) {
    if (closed()) return;
    close_reason_ = std::move(reason);
    drain_left_ = bytes_to_drain;
    if (drain_left_ == 0) return close(close_reason_);
    phase_ = Phase::draining;
    drain_deadline_ = now() + kDrainTimeout;
    out_.to_server.clear();
    actions_.push_back({.kind = Action::Kind::drain_client});
}

// ---- audit ----

bool Connection::accepting() const {
    return !context_.audit || context_.audit->accepting();
}

void Connection::submit(audit::Record&& record) {
    if (!context_.audit) return;
    uint64_t ticket = ++audit_submitted_;
    if (!context_.audit->holds_results()) {
        context_.audit->submit(std::move(record), 0);
        audit_durable_ = ticket;
        return;
    }
    context_.audit->submit(std::move(record), ticket);
}

void Connection::on_durable(uint64_t ticket, bool ok) {
    audit_durable_ = std::max(audit_durable_, ticket);
    if (ok) {
        while (!holds_.empty() && holds_.front().ticket <= audit_durable_) holds_.erase(holds_.begin());
        return maybe_close_idle_for_shutdown();
    }
    if (audit_failed_) return;
    audit_failed_ = true;
    if (closed()) return;
    // A record that could not be written: its statement's result is not released
    // (fail closed); the session ends with an error.
    if (!holds_.empty()) {
        out_.to_client.resize(holds_.front().from);
        holds_.clear();
    }
    write_fatal(sqlstate::io_error,
                "pgmoat: the audit record of a statement could not be written; its result is withheld");
    close("audit record not durable");
}

}  // namespace pgmoat::session
