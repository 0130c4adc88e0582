// Transaction pooling in the connection engine: a server connection is leased from
// the target's pool when the client's next request needs one, the client's
// startup parameters are applied on it, and it goes back at the end of the
// transaction (ReadyForQuery 'I' with nothing else in flight), unless a statement
// pinned the session to it. The pool's decisions are session::Pool's; net/ holds
// the sockets.
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/connection.h"

#include <fmt/format.h>

namespace pgmoat::session {

void Connection::request_server() {
    lease_ = Lease::waiting;
    actions_.push_back({.kind = Action::Kind::lease_server, .target = target_});
}

void Connection::on_server_granted(ServerConnection server) {
    if (closed() || lease_ != Lease::waiting) return;
    server_conn_ = std::make_shared<ServerConnection>(std::move(server));
    lease_ = Lease::held;
    upstream_ = Upstream::ready;
    upstream_key_ = server_conn_->key;
    server_lost_ = false;
    if (registered_cancel_) {
        context_.cancels->set_upstream(cancel_key_.process_id, upstream_key_);
    } else {
        cancel_key_ = context_.cancels->add({*target_, upstream_key_});
        registered_cancel_ = true;
    }
    if (phase_ == Phase::admitting) {
        return admit(patch_welcome({server_conn_->reported, {}}, startup_->identity().forward_parameters), {});
    }
    server_attached();
}

void Connection::on_server_to_open(uint64_t server_id) {
    if (closed() || lease_ != Lease::waiting) return;
    opening_server_id_ = server_id;
    server_lost_ = false;
    attach_upstream();
}

void Connection::on_server_wait_timeout() {
    if (closed() || lease_ != Lease::waiting) return;
    lease_ = Lease::none;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(target_->pool.wait_timeout);
    std::string message = fmt::format(
        "pgmoat: query_wait_timeout: no server connection of target \"{}\" became free within pool_wait_timeout ({} "
        "ms)",
        target_->name, wait.count());
    log::warning("session {}: {}", context_.id, message);
    // As pgbouncer ends a client at its query_wait_timeout: FATAL 08P01 with
    // "query_wait_timeout" in the message, which retry logic written for
    // pgbouncer looks for.
    write_fatal(sqlstate::protocol_violation, message);
    if (phase_ == Phase::admitting) {
        close_reason_ = "pool wait timeout";
        login_failed();
    }
    close("pool wait timeout");
}

void Connection::on_pool_full() {
    if (closed()) return;
    lease_ = Lease::none;
    log::info("session {}: over max_client_connections of target \"{}\"'s pool", context_.id, target_->name);
    write_fatal(sqlstate::too_many_connections, "sorry, too many clients already");
    if (phase_ == Phase::admitting) {
        close_reason_ = "pool client limit";
        login_failed();
    }
    close("pool client limit");
}

void Connection::server_attached() {
    session_->attach_server(server_conn_.get());
    std::string sql = apply_parameters(server_conn_->applied, session_->settings());
    if (!sql.empty()) {
        protocol::write_query(out_.to_server, sql);
        server_conn_->applied = session_->settings();
        replaying_ = true;
        replay_error_.clear();
    }
    if (!client_.in.empty()) relay(Side::client);
    maybe_release();
}

void Connection::on_replay_input() {
    auto& in = server_.in;
    while (replaying_ && !closed()) {
        auto r = protocol::decode_message(in.data(), 1 << 20);
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal(sqlstate::protocol_violation, "pgmoat: invalid message from server: " + r.error);
            server_lost_ = true;
            return close("protocol violation: " + r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) {
            server_.wanted = r.frame_size ? r.frame_size : 5;
            return;
        }
        server_.wanted = 0;
        switch (r.frame.type) {
            case protocol::backend::ErrorResponse:
                if (auto fields = protocol::read_error_fields(r.frame.body)) {
                    replay_error_ = std::string(protocol::find_field(*fields, 'M'));
                }
                if (replay_error_.empty()) replay_error_ = "error";
                break;
            case protocol::backend::ParameterStatus:
                if (auto p = protocol::read_parameter_status(r.frame.body))
                    session_->on_server_parameter(p->name, p->value);
                break;
            case protocol::backend::ReadyForQuery:
                replaying_ = false;
                break;
            default:
                break;  // CommandComplete, notices: pgmoat's own statements
        }
        in.consume(r.frame.size);
    }
    if (!replaying_ && !replay_error_.empty()) {
        server_conn_->applied.clear();
        server_lost_ = true;  // its settings are not known any more
        std::string message = fmt::format(
            "pgmoat: the session's settings could not be applied on a server connection of "
            "target \"{}\": {}",
            target_->name, replay_error_);
        log::warning("session {}: {}", context_.id, message);
        write_fatal(sqlstate::invalid_parameter_value, message);
        close("settings refused by the server");
    }
}

bool Connection::server_reusable() const {
    // Nothing in flight, outside a transaction, nothing of the client's left on it.
    return !server_lost_ && pin_reason_.empty() && upstream_ == Upstream::ready && !replaying_ && session_ &&
           session_->idle() && session_->transaction_status() == 'I' && !batch_open_ && out_.to_server.empty() &&
           held_for_server_.empty() && server_.in.empty() && server_.stream.left == 0 && client_.stream.left == 0 &&
           !lookup_ && !cancel_in_flight_;
}

void Connection::maybe_release() {
    if (!pooled_ || lease_ != Lease::held || closed() || phase_ != Phase::relay || !server_reusable()) return;
    release_server(true);
    // A request that arrived while the server connection was busy leases again.
    if (!client_.in.empty()) relay(Side::client);
}

void Connection::release_server(bool reusable) {
    if (session_) session_->attach_server(nullptr);
    if (registered_cancel_) context_.cancels->set_upstream(cancel_key_.process_id, {});
    Action a{.kind = Action::Kind::release_server};
    a.server = std::move(server_conn_);
    a.reusable = reusable;
    actions_.push_back(std::move(a));
    lease_ = Lease::none;
    upstream_ = Upstream::none;
    upstream_key_ = {};
    server_.in.consume(server_.in.size());
    server_.wanted = 0;
    server_.stream = {};
}

void Connection::note_pin() {
    if (pooled_ && pin_reason_.empty()) {
        pin_reason_ = out_.pin_reason;
        log::info("session {}: {} pins the session to its server connection (backend {}) of target \"{}\"", context_.id,
                  out_.pin_statement, upstream_key_.process_id, target_->name);
        if (context_.metrics) context_.metrics->pins.labels({target_->name, pin_reason_}).inc();
    }
    out_.pin_reason.clear();
    out_.pin_statement.clear();
}

}  // namespace pgmoat::session
