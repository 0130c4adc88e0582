// Transaction pooling in the session: a client's prepared statements follow it
// from server connection to server connection (each named once per distinct
// Parse, prepared again where missing, as pgbouncer >= 1.21 does), and statements
// that leave session state pin the session or are refused.
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/session.h"
#include "pgmoat/session/session_state.h"

#include <fmt/format.h>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
std::string with_name(std::string_view name, std::string_view rest) {
    std::string body(name);
    body += '\0';
    body.append(rest);
    return body;
}
// A Close or Describe body: 'S', then the statement's name.
std::string statement_named(std::string_view name) {
    std::string body = "S";
    body.append(name);
    body += '\0';
    return body;
}
}  // namespace

void Session::forward_parse(const Frame& frame, std::string_view name, Outbox& out) {
    if (!server_ || name.empty()) return forward(frame, out);
    std::string_view rest = frame.body.substr(name.size() + 1);
    ClientStatement st{prepared_name(rest), std::string(rest)};
    // Whatever the server connection holds under that name is this very text:
    // closing it first makes the Parse succeed whether or not it was there.
    write_message(out.to_server, frontend::Close, statement_named(st.server_name));
    objects_.close_sent(syncs_sent_, 'S', st.server_name, true);
    write_message(out.to_server, frontend::Parse, with_name(st.server_name, rest));
    server_->prepared.insert(st.server_name);
    statements_[std::string(name)] = std::move(st);
}

const std::string* Session::server_statement(std::string_view name, Outbox& out) {
    auto it = statements_.find(std::string(name));
    if (it == statements_.end()) return nullptr;
    const ClientStatement& st = it->second;
    if (!server_->prepared.contains(st.server_name)) {
        // Close first: if an earlier Parse of it failed in a batch, the server may
        // hold it after all, or not.
        write_message(out.to_server, frontend::Close, statement_named(st.server_name));
        objects_.close_sent(syncs_sent_, 'S', st.server_name, true);
        write_message(out.to_server, frontend::Parse, with_name(st.server_name, st.parse_rest));
        objects_.parse_sent(syncs_sent_, st.server_name, nullptr, true);
        server_->prepared.insert(st.server_name);
    }
    return &st.server_name;
}

void Session::forward_bind(const Frame& frame, std::string_view statement, Outbox& out) {
    if (!server_ || statement.empty()) return forward(frame, out);
    const std::string* server_name = server_statement(statement, out);
    if (!server_name) return forward(frame, out);  // the server says it does not exist
    // portal \0 statement \0 rest: the statement name follows the portal's.
    size_t portal_end = frame.body.find('\0');
    std::string body(frame.body.substr(0, portal_end + 1));
    body += *server_name;
    body.append(frame.body.substr(portal_end + 1 + statement.size()));
    write_message(out.to_server, frontend::Bind, body);
}

void Session::forward_streaming_bind(const Bind& bind, std::string_view head, size_t size, Outbox& out) {
    const std::string* server_name = server_statement(bind.statement, out);
    if (!server_name) return;  // the server says it does not exist: the Bind goes as it came
    // The length changes by the names' difference; the values after the head
    // stream on unchanged.
    write_message_header(out.to_server, frontend::Bind, size - 5 - bind.statement.size() + server_name->size());
    out.to_server.append(bind.portal);
    out.to_server += '\0';
    out.to_server += *server_name;
    out.to_server += '\0';
    out.to_server.append(head.substr(bind.portal.size() + 1 + bind.statement.size() + 1));
    out.stream_head_written = true;
}

void Session::forward_describe_or_close(const Frame& frame, char kind, std::string_view name, Outbox& out) {
    if (!server_ || kind != 'S' || name.empty()) return forward(frame, out);
    if (frame.type == frontend::Close) {
        auto it = statements_.find(std::string(name));
        if (it == statements_.end()) return forward(frame, out);  // closing what is not there: fine
        // Closed on this server connection; others prepare it again if the client
        // Parses it again.
        write_message(out.to_server, frontend::Close, statement_named(it->second.server_name));
        server_->prepared.erase(it->second.server_name);
        statements_.erase(it);
        return;
    }
    const std::string* server_name = server_statement(name, out);
    if (!server_name) return forward(frame, out);
    write_message(out.to_server, frontend::Describe, statement_named(*server_name));
}

std::optional<policy::Decision> Session::session_state_refusal(const sql::Analysis& a, Outbox& out) {
    std::optional<SessionState> pin;
    for (const auto& st : a.statements) {
        auto state = session_state(st);
        if (!state) continue;
        // A plain SET outside a transaction block is replayed on the next server
        // connections once it has run (session_settings.cpp); in a block it pins.
        if (state->replay && transaction_status_ == 'I') continue;
        if (!state->never_pinned && !services_.reject_session_state) {
            if (!pin) pin = std::move(state);
            continue;
        }
        policy::Decision d;
        d.allow = false;
        d.policy = policy_->name;
        d.rule = policy::Rule::session_state;
        d.sqlstate = sqlstate::feature_not_supported;
        d.message = fmt::format(
            "pgmoat: {} is not supported in transaction pooling: target \"{}\" shares server "
            "connections between sessions at each transaction's end",
            state->statement, identity_.target);
        d.detail = state->never_pinned
                       ? "It would return settings to the server connection's own defaults, not this session's "
                         "startup parameters and policy limits."
                       : "Its effect would outlive the transaction, on a server connection other sessions then use; "
                         "the target's session_state = \"reject\" refuses it.";
        d.hint = state->alternative;
        return d;
    }
    if (pin) {
        out.pin_reason = pin->reason;
        out.pin_statement = pin->statement;
    }
    return std::nullopt;
}

}  // namespace pgmoat::session
