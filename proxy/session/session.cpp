#include "pgmoat/session/session.h"

#include "pgmoat/common/log.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/messages.h"

#include <fmt/format.h>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
// The text of every decoy: not SQL, so PostgreSQL's parser refuses it before
// anything runs, and recognisable in the server's error message and log.
constexpr std::string_view kDecoySql = "pgmoat_rejected_statement";
}  // namespace

Session::Session(Identity identity, const std::vector<std::pair<std::string, std::string>>& server_parameters,
                 StatementServices services)
    : identity_(std::move(identity)), services_(std::move(services)) {
    policy_ = services_.policies->select(
        {identity_.app, identity_.target, identity_.application_name, identity_.client_address});
    for (const auto& [name, value] : server_parameters) {
        std::string body = name;
        body.push_back('\0');
        body += value;
        body.push_back('\0');
        on_parameter_status(body);
    }
}

std::shared_ptr<const sql::Analysis> Session::analyze(std::string_view sql) {
    sql::AnalyzerOptions options = services_.analyzer;
    options.standard_conforming_strings = settings_.standard_conforming_strings;
    options.client_encoding = settings_.client_encoding;
    if (syncs_done_ < settings_settle_at_) {
        // The server has not yet confirmed how it reads text now; fail closed.
        auto a = std::make_shared<sql::Analysis>();
        a->status = sql::AnalysisStatus::session_settings;
        a->error = "a change of standard_conforming_strings or client_encoding is still in flight; send this "
                   "statement after the server has answered the previous one";
        return a;
    }
    if (services_.analyses) return services_.analyses->analyze(sql, services_.policies->version_number, options);
    return std::make_shared<const sql::Analysis>(sql::analyze(sql, options));
}

void Session::on_statement(const Frame& frame, std::string_view sql, std::string_view statement_name, Origin origin,
                           Outbox& out) {
    auto analysis = analyze(sql);
    auto decision = policy::decide(*policy_, *analysis, sql,
                                   origin == Origin::parse ? policy::Protocol::extended : policy::Protocol::simple_query);
    if (log::enabled(log::Level::debug)) {
        log::debug("session app=\"{}\" {}: {} [{}]{}", identity_.app, origin == Origin::parse ? "Parse" : "Query",
                   analysis->ok() ? analysis->normalized() : std::string(sql::name(analysis->status)),
                   decision.rule.empty() ? "allow" : decision.rule, decision.would_reject ? " (would reject)" : "");
    }
    if (!decision.allow) return reject(decision, origin, statement_name, out);
    if (decision.would_reject) {
        log::warning("monitor: app \"{}\" statement would be rejected by rule \"{}\" of policy \"{}\": {}", identity_.app,
                     decision.rule, decision.policy, decision.message);
    }
    for (const auto& st : analysis->statements) {
        if (st.changes_parse_settings) settings_settle_at_ = syncs_sent_ + 1;
    }
    forward(frame, out);
    if (origin == Origin::simple_query) ++syncs_sent_;
}

void Session::reject(const policy::Decision& d, Origin origin, std::string_view statement_name, Outbox& out) {
    ErrorFields e;
    e.sqlstate = d.sqlstate;
    e.message = d.message;
    e.detail = d.detail;
    e.hint = d.hint;
    e.position = d.position;
    log::info("rejected: app \"{}\" target \"{}\": rule \"{}\" of policy \"{}\": {}", identity_.app, identity_.target,
              d.rule, d.policy, d.message);
    send_decoy(origin, statement_name, e, out);
}

void Session::protocol_violation(Outbox& out, const std::string& message) {
    ErrorFields e;
    e.severity = "FATAL";
    e.sqlstate = "08P01";
    e.message = message;
    write_error_response(out.to_client, e);
    out.close = true;
    out.close_reason = "protocol violation: " + message;
}

void Session::send_decoy(Origin origin, std::string_view statement_name, const ErrorFields& error, Outbox& out) {
    Decoy d{syncs_sent_, {}};
    write_error_response(d.error_response, error);
    decoys_.push_back(std::move(d));
    if (origin == Origin::parse) {
        // Same statement name: a failed Parse of the unnamed statement drops the old
        // one in PostgreSQL too, so a later Bind cannot run what was there before.
        write_parse(out.to_server, statement_name, kDecoySql);
        skip_until_sync_ = true;
    } else {
        write_query(out.to_server, kDecoySql);
        ++syncs_sent_;
    }
}

bool Session::is_decoy_error(std::string_view body) const {
    auto fields = read_error_fields(body);
    if (!fields) return false;
    return find_field(*fields, 'C') == "42601" && find_field(*fields, 'M').find(kDecoySql) != std::string_view::npos;
}

void Session::on_frontend(const Frame& frame, Outbox& out) {
    // As the server does after an error in the extended protocol, ignore everything
    // up to Sync once pgmoat has rejected a message of the batch.
    if (skip_until_sync_ && frame.type != frontend::Sync && frame.type != frontend::Flush &&
        frame.type != frontend::Terminate) {
        return;
    }
    switch (frame.type) {
        case frontend::Query: {
            auto q = read_query(frame.body);
            if (!q) return protocol_violation(out, "invalid Query message");
            return on_statement(frame, q->sql, {}, Origin::simple_query, out);
        }
        case frontend::Parse: {
            auto p = read_parse(frame.body);
            if (!p) return protocol_violation(out, "invalid Parse message");
            return on_statement(frame, p->sql, p->statement, Origin::parse, out);
        }
        case frontend::Bind:
            if (!read_bind(frame.body)) return protocol_violation(out, "invalid Bind message");
            forward(frame, out);
            return;
        case frontend::Execute:
            if (!read_execute(frame.body)) return protocol_violation(out, "invalid Execute message");
            forward(frame, out);
            return;
        case frontend::Describe:
        case frontend::Close:
            if (!read_describe_or_close(frame.body)) {
                return protocol_violation(out, frame.type == frontend::Describe ? "invalid Describe message"
                                                                                : "invalid Close message");
            }
            forward(frame, out);
            return;
        case frontend::Sync:
            if (!frame.body.empty()) return protocol_violation(out, "invalid Sync message");
            skip_until_sync_ = false;
            forward(frame, out);
            ++syncs_sent_;
            return;
        case frontend::Flush:
            if (!frame.body.empty()) return protocol_violation(out, "invalid Flush message");
            forward(frame, out);
            return;
        case frontend::CopyData:
        case frontend::CopyDone:
        case frontend::CopyFail:
            // Outside COPY FROM STDIN the server ignores these; pgmoat drops them
            // rather than pass on bytes nobody asked for.
            if (!copy_in_) return;
            if (frame.type != frontend::CopyData) copy_in_ = false;
            forward(frame, out);
            return;
        case frontend::FunctionCall: {
            policy::Decision d;
            d.allow = false;
            d.rule = "function_call";
            d.policy = policy_->name;
            d.sqlstate = "42501";
            d.message = "pgmoat: FunctionCall messages are not allowed";
            d.detail = "The fast-path function call interface carries no SQL text that pgmoat could check.";
            d.hint = "call the function in a statement instead, e.g. SELECT fn($1)";
            return reject(d, Origin::function_call, {}, out);
        }
        case frontend::Terminate:
            forward(frame, out);
            out.close = true;
            out.close_reason = "client sent Terminate";
            return;
        case frontend::PasswordMessage:
            return protocol_violation(out, "unexpected password message after authentication");
        default:
            return protocol_violation(out, fmt::format("invalid frontend message type {}", static_cast<int>(frame.type)));
    }
}

bool Session::on_frontend_stream(char type, Outbox& out) {
    if (type == frontend::CopyData) return copy_in_;
    protocol_violation(out, fmt::format("frontend message type {} is too large", static_cast<int>(type)));
    return false;
}

void Session::on_parameter_status(std::string_view body) {
    auto p = read_parameter_status(body);
    if (!p) return;
    if (p->name == "standard_conforming_strings") settings_.standard_conforming_strings = p->value == "on";
    else if (p->name == "client_encoding") settings_.client_encoding = std::string(p->value);
}

void Session::on_backend(const Frame& frame, Outbox& out) {
    switch (frame.type) {
        case backend::ReadyForQuery: {
            auto status = read_ready_for_query(frame.body);
            if (!status) return protocol_violation(out, "server sent an invalid ReadyForQuery message");
            transaction_status_ = *status;
            ++syncs_done_;
            copy_in_ = copy_out_ = false;
            // Decoys the server skipped (an earlier error in their batch) are moot.
            while (!decoys_.empty() && decoys_.front().batch < syncs_done_) decoys_.pop_front();
            break;
        }
        case backend::ErrorResponse:
            copy_in_ = copy_out_ = false;
            if (!decoys_.empty() && decoys_.front().batch == syncs_done_ && is_decoy_error(frame.body)) {
                out.to_client.append(decoys_.front().error_response);
                decoys_.pop_front();
                return;
            }
            break;
        case backend::ParameterStatus: on_parameter_status(frame.body); break;
        case backend::CopyInResponse: copy_in_ = true; break;
        case backend::CopyOutResponse: copy_out_ = true; break;
        case backend::CopyDone: copy_out_ = false; break;
        case backend::CopyBothResponse:
            // Only replication connections use CopyBoth, and pgmoat refuses those.
            return protocol_violation(out, "server started COPY BOTH, which pgmoat does not relay");
        case backend::Authentication:
        case backend::BackendKeyData:
        case backend::NegotiateProtocolVersion:
            return protocol_violation(out, "server sent a startup message during the session");
        case backend::CommandComplete:
        case backend::DataRow:
        case backend::RowDescription:
        case backend::ParameterDescription:
        case backend::NoData:
        case backend::ParseComplete:
        case backend::BindComplete:
        case backend::CloseComplete:
        case backend::PortalSuspended:
        case backend::EmptyQueryResponse:
        case backend::NoticeResponse:
        case backend::NotificationResponse:
        case backend::CopyData:
        case backend::FunctionCallResponse:
            break;
        default:
            return protocol_violation(out, fmt::format("server sent unknown message type {}", static_cast<int>(frame.type)));
    }
    out.to_client.append(frame.bytes());
}

bool Session::on_backend_stream(char type, Outbox& out) {
    if (type == backend::DataRow || type == backend::CopyData) return true;
    protocol_violation(out, fmt::format("server message type {} is too large", static_cast<int>(type)));
    return false;
}

}  // namespace pgmoat::session
