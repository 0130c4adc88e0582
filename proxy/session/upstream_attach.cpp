// pgmoat's own connection to the target, as the connection engine drives it:
// connect, TLS as the target's sslmode says (SSLRequest and its one-byte answer),
// the login (UpstreamLogin), all within the target's connect_timeout; then the
// welcome (at login) or the settings the client has not been told yet (a server
// attached at the first statement).
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/connection.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::session {

namespace {
// Login messages are small; anything larger during login is not a PostgreSQL server.
constexpr uint32_t kMaxLoginMessageBytes = 1 << 20;

protocol::ErrorFields connection_failure(const config::Target& t, std::string_view what) {
    protocol::ErrorFields e;
    e.severity = "FATAL";
    e.sqlstate = sqlstate::connection_failure;
    e.message = fmt::format("pgmoat: cannot connect to target \"{}\": {}", t.name, what);
    return e;
}
}  // namespace

void Connection::attach_upstream() {
    upstream_ = Upstream::connecting;
    connect_deadline_ = now() + target_->connect_timeout;
    actions_.push_back({.kind = Action::Kind::connect_upstream, .target = target_});
}

void Connection::on_upstream_connected() {
    if (closed() || upstream_ != Upstream::connecting) return;
    if (target_->sslmode != config::SslMode::disable) {
        protocol::write_ssl_request(server_login_out_);
        upstream_ = Upstream::ssl_answer;
        return;
    }
    upstream_ = Upstream::login;
    // A pooled server connection serves every client: it logs in with none's
    // parameters; each client's are applied on it with SET.
    const auto& forward = pooled_    ? Parameters{}
                          : session_ ? session_->identity().forward_parameters
                                     : startup_->identity().forward_parameters;
    login_.emplace(*target_, forward, std::nullopt);
    login_->start(server_login_out_);
}

void Connection::on_upstream_failed(std::string_view error) {
    if (closed()) return;
    upstream_failed(connection_failure(*target_, error),
                    fmt::format("connect to {}:{}: {}", target_->host, target_->port, error));
}

void Connection::on_server_tls(bool ok, const std::vector<uint8_t>& certificate_der, std::string_view error) {
    if (closed() || upstream_ != Upstream::tls) return;
    if (!ok) {
        return upstream_failed(connection_failure(*target_, fmt::format("TLS handshake failed: {}", error)),
                               fmt::format("TLS handshake: {}", error));
    }
    std::optional<auth::ChannelBinding> binding;
    if (!certificate_der.empty()) {
        binding = auth::ChannelBinding{"tls-server-end-point", auth::tls_server_end_point(certificate_der)};
    }
    upstream_ = Upstream::login;
    const auto& forward = pooled_    ? Parameters{}
                          : session_ ? session_->identity().forward_parameters
                                     : startup_->identity().forward_parameters;
    login_.emplace(*target_, forward, std::move(binding));
    login_->start(server_login_out_);
}

void Connection::on_server_input() {
    auto& in = server_.in;
    switch (upstream_) {
        case Upstream::ssl_answer: {
            char answer = in.data()[0];
            in.consume(1);
            if (answer != 'S') {
                return upstream_failed(connection_failure(*target_, "the server does not support TLS"),
                                       "server refused SSLRequest");
            }
            // Bytes after the answer and before the handshake could be anyone's.
            if (!in.empty()) {
                return upstream_failed(connection_failure(*target_, "received unencrypted data after SSL response"),
                                       "unencrypted data after SSL response");
            }
            upstream_ = Upstream::tls;
            actions_.push_back({.kind = Action::Kind::start_server_tls, .target = target_});
            return;
        }
        case Upstream::login:
            return on_login_input();
        case Upstream::ready:
            if (replaying_) on_replay_input();
            if (replaying_ || closed() || upstream_ != Upstream::ready) return;
            if (in.empty()) return maybe_release();
            return relay(Side::server);
        default:
            in.consume(in.size());
            return;
    }
}

void Connection::on_login_input() {
    auto& in = server_.in;
    while (upstream_ == Upstream::login && !closed()) {
        auto r = protocol::decode_message(in.data(), kMaxLoginMessageBytes);
        if (r.status == protocol::DecodeStatus::error) {
            return upstream_failed(connection_failure(*target_, "invalid message from server"), r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) return;
        auto status = login_->on_message(r.frame, server_login_out_);
        in.consume(r.frame.size);
        if (status == UpstreamLogin::Status::failed) return upstream_failed(login_->error(), login_->failure_reason());
        if (status == UpstreamLogin::Status::ready) {
            if (!in.empty()) {
                return upstream_failed(connection_failure(*target_, "server sent data after ReadyForQuery"),
                                       "data after login");
            }
            return upstream_ready();
        }
    }
}

void Connection::upstream_ready() {
    upstream_ = Upstream::ready;
    if (pooled_) {
        // A new server connection of the pool, opened for this client.
        auto server = std::make_shared<ServerConnection>();
        server->id = opening_server_id_;
        server->key = login_->backend_key();
        server->reported = login_->parameters();
        if (context_.welcomes) context_.welcomes->remember(target_->name, server->reported, {});
        std::string notices = login_->notices();
        login_.reset();
        server_conn_ = std::move(server);
        lease_ = Lease::held;
        upstream_key_ = server_conn_->key;
        if (phase_ == Phase::admitting) {
            cancel_key_ = context_.cancels->add({*target_, upstream_key_});
            registered_cancel_ = true;
            return admit(patch_welcome({server_conn_->reported, {}}, startup_->identity().forward_parameters), notices);
        }
        context_.cancels->set_upstream(cancel_key_.process_id, upstream_key_);
        return server_attached();
    }
    if (context_.metrics) {
        upstream_gauge_ = &context_.metrics->upstream_connections.labels({target_->name});
        upstream_gauge_->inc();
    }
    upstream_key_ = login_->backend_key();
    if (registered_cancel_) {
        context_.cancels->set_upstream(cancel_key_.process_id, upstream_key_);
    } else {
        cancel_key_ = context_.cancels->add({*target_, upstream_key_});
        registered_cancel_ = true;
    }
    Parameters parameters = login_->parameters();
    std::string notices = login_->notices();
    const auto& forward = session_ ? session_->identity().forward_parameters : startup_->identity().forward_parameters;
    if (context_.welcomes) context_.welcomes->remember(target_->name, parameters, forward);
    login_.reset();
    if (phase_ == Phase::admitting) return admit(parameters, notices);

    // What the server reports may differ from the welcome the client got: tell it.
    out_.to_client += notices;
    for (const auto& [name, value] : parameters) {
        auto it = std::find_if(told_parameters_.begin(), told_parameters_.end(),
                               [&name = name](const auto& p) { return p.first == name; });
        if (it == told_parameters_.end() || it->second != value) {
            protocol::write_parameter_status(out_.to_client, name, value);
            session_->on_server_parameter(name, value);
        }
    }
    told_parameters_.clear();
}

void Connection::upstream_failed(const protocol::ErrorFields& error, const std::string& reason) {
    if (closed()) return;
    log::warning("session {}: target \"{}\" ({}:{}): {}", context_.id, target_->name, target_->host, target_->port,
                 reason);
    if (context_.metrics) {
        context_.metrics->upstream_connect_errors.labels({target_->name}).inc();
        if (phase_ == Phase::admitting) context_.metrics->login_failures.labels({"upstream"}).inc();
    }
    protocol::write_error_response(out_.to_client, error);  // (error may be login_'s)
    login_.reset();
    close("target unavailable");
}

bool Connection::server_output_released() const {
    return upstream_ == Upstream::ready && !cancel_in_flight_;
}

void Connection::on_cancel_sent() {
    cancel_in_flight_ = false;
    if (close_after_cancel_) close("cancel request");
}

}  // namespace pgmoat::session
