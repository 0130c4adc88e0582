// The relay's protocol bookkeeping: which frontend message is forwarded, dropped or
// replaced, which backend message ends which statement, and the decoys that make
// the server fail exactly where pgmoat rejected something.
#include "pgmoat/session/session.h"

#include "pgmoat/common/log.h"
#include "pgmoat/common/sql_quote.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/messages.h"

#include <fmt/format.h>

#include <charconv>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
// The text of every decoy: not SQL, so PostgreSQL's parser refuses it before
// anything runs, and recognisable in the server's error message and log.
constexpr std::string_view kDecoySql = "pgmoat_rejected_statement";
// Statement name for decoys that stand in for an Execute: no client can have a
// statement of that name, and a Parse that fails to parse creates nothing.
constexpr std::string_view kDecoyStatement = "\x01pgmoat";

// The row count at the end of a CommandComplete tag ("INSERT 0 5", "SELECT 10").
uint64_t rows_in_tag(std::string_view tag) {
    auto space = tag.rfind(' ');
    if (space == std::string_view::npos) return 0;
    uint64_t n = 0;
    auto digits = tag.substr(space + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), n);
    return n;
}
}  // namespace

Session::Session(Identity identity, const std::vector<std::pair<std::string, std::string>>& server_parameters,
                 StatementServices services)
    : identity_(std::move(identity)), services_(std::move(services)) {
    policy_ = services_.policies->select(
        {identity_.app, identity_.target, identity_.application_name, identity_.client_address, identity_.kind});
    base_policy_ = policy_;
    auto info = std::make_shared<audit::SessionInfo>();
    info->id = services_.session_id;
    info->app = identity_.app;
    info->upstream_user = services_.upstream_user;
    info->target = identity_.target;
    info->database = services_.database;
    if (!identity_.application_name.empty()) info->application_name = identity_.application_name;
    info->client_addr = identity_.client_address;
    info->client_port = identity_.client_port;
    audit_info_ = std::move(info);
    if (auto* m = services_.metrics) {
        // Label look-ups take a lock: done once here, not per statement.
        analysis_seconds_ = &m->analysis_seconds.labels({});
        decision_seconds_ = &m->decision_seconds.labels({});
        first_byte_seconds_ = &m->first_byte_seconds.labels({identity_.target});
        complete_seconds_ = &m->complete_seconds.labels({identity_.target});
    }
    for (const auto& [name, value] : server_parameters) on_server_parameter(name, value);
    for (const auto& [name, value] : identity_.forward_parameters)
        settings_wanted_.emplace_back(name, quote_literal(value));
}

void Session::protocol_violation(Outbox& out, const std::string& message) {
    ErrorFields e;
    e.severity = "FATAL";
    e.sqlstate = sqlstate::protocol_violation;
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
        objects_.parse_sent(syncs_sent_, std::string(statement_name), nullptr);
        skip_until_sync_ = true;
    } else if (origin == Origin::function_call && statement_name == kDecoyStatement) {
        // Standing in for an Execute inside a batch.
        write_parse(out.to_server, kDecoyStatement, kDecoySql);
        objects_.parse_sent(syncs_sent_, std::string(kDecoyStatement), nullptr);
        skip_until_sync_ = true;
    } else {
        write_query(out.to_server, kDecoySql);
        ++syncs_sent_;
    }
}

bool Session::is_decoy_error(std::string_view body) const {
    auto fields = read_error_fields(body);
    if (!fields) return false;
    return find_field(*fields, 'C') == sqlstate::syntax_error &&
           find_field(*fields, 'M').find(kDecoySql) != std::string_view::npos;
}

namespace {
// Messages of an extended-protocol batch, which the server answers at Sync.
bool in_batch(char type) {
    return type == frontend::Parse || type == frontend::Bind || type == frontend::Describe ||
           type == frontend::Execute || type == frontend::Close;
}
}  // namespace

void Session::on_frontend(const Frame& frame, Outbox& out) {
    unsynced_before_ = unsynced_;
    if (in_batch(frame.type)) unsynced_ = true;
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
            on_statement(&frame, q->sql, {}, Origin::simple_query, out);
            return;
        }
        case frontend::Parse: {
            auto p = read_parse(frame.body);
            if (!p) return protocol_violation(out, "invalid Parse message");
            on_statement(&frame, p->sql, p->statement, Origin::parse, out);
            return;
        }
        case frontend::Bind: {
            auto b = read_bind(frame.body);
            if (!b) return protocol_violation(out, "invalid Bind message");
            BindValues values;
            if (policy_->audit_parameters) {
                if (auto v = read_bind_values(frame.body)) values = std::move(*v);
            }
            objects_.bind_sent(syncs_sent_, std::string(b->portal), std::string(b->statement), std::move(values));
            code_may_run();  // planning folds immutable functions: they run at Bind
            forward_bind(frame, b->statement, out);
            return;
        }
        case frontend::Execute: {
            auto e = read_execute(frame.body);
            if (!e) return protocol_violation(out, "invalid Execute message");
            return on_execute(frame, e->portal, out);
        }
        case frontend::Describe:
        case frontend::Close: {
            auto d = read_describe_or_close(frame.body);
            if (!d) {
                return protocol_violation(
                    out, frame.type == frontend::Describe ? "invalid Describe message" : "invalid Close message");
            }
            if (frame.type == frontend::Close) objects_.close_sent(syncs_sent_, d->kind, std::string(d->name));
            forward_describe_or_close(frame, d->kind, d->name, out);
            return;
        }
        case frontend::Sync:
            if (!frame.body.empty()) return protocol_violation(out, "invalid Sync message");
            skip_until_sync_ = false;
            unsynced_ = false;
            forward(frame, out);
            if (copy_in_ || copy_in_expected_)
                ++tentative_syncs_;
            else
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
            if (!copy_in_ && !copy_in_expected_) return;
            if (frame.type != frontend::CopyData) {
                // The COPY ends here; Syncs sent during it were read and ignored by it.
                copy_in_ = copy_in_expected_ = false;
                tentative_syncs_ = 0;
            }
            forward(frame, out);
            return;
        case frontend::FunctionCall:
            on_function_call(&frame, frame.body, {}, out);  // a function nobody looked up
            return;
        case frontend::Terminate:
            forward(frame, out);
            out.close = true;
            out.close_reason = "client sent Terminate";
            return;
        case frontend::PasswordMessage:
            return protocol_violation(out, "unexpected password message after authentication");
        default:
            return protocol_violation(out,
                                      fmt::format("invalid frontend message type {}", static_cast<int>(frame.type)));
    }
}

bool Session::on_frontend_stream(char type, std::string_view head, size_t size, Outbox& out) {
    if (type == frontend::CopyData) return copy_in_ || copy_in_expected_;
    if (skip_until_sync_) return false;  // as for a message held whole (on_frontend)
    unsynced_before_ = unsynced_;
    if (in_batch(type)) unsynced_ = true;
    switch (type) {
        case frontend::Bind: {
            // The values go on to the server as they come; pgmoat needs only the
            // names, and the values' first bytes when the policy audits them.
            auto b = read_bind_names(head);
            if (!b) {
                protocol_violation(out, "invalid Bind message: its names do not end within its first bytes");
                return false;
            }
            if (server_ && !b->statement.empty()) forward_streaming_bind(*b, head, size, out);
            streaming_bind_ = StreamingBind{std::string(b->portal), std::string(b->statement), std::nullopt};
            if (policy_->audit_parameters) {
                streaming_bind_->values.emplace();
                streaming_bind_->values->feed(head);
            }
            return true;
        }
        case frontend::Query:
        case frontend::Parse: {
            // Longer than [analyzer] max_statement_size can be: judged too large
            // without holding it, and rejected (54000) with a decoy as any other
            // rejection, so the server fails the batch or transaction exactly.
            std::string_view name;
            if (type == frontend::Parse) name = head.substr(0, head.find('\0'));
            size_t body = size - 5;
            auto a = std::make_shared<sql::Analysis>();
            a->status = sql::AnalysisStatus::too_large;
            a->error = type == frontend::Query
                           ? fmt::format("statement too large: {} bytes, limit {}", body - 1,
                                         services_.analyzer.max_statement_bytes)
                           : fmt::format("statement too large: a Parse message of {} bytes, limit {}", body,
                                         services_.analyzer.max_statement_bytes);
            return on_statement(nullptr, {}, name, type == frontend::Query ? Origin::simple_query : Origin::parse, out,
                                std::move(a));
        }
        default:
            protocol_violation(out, fmt::format("frontend message type {} is too large", static_cast<int>(type)));
            return false;
    }
}

void Session::on_frontend_stream_data(std::string_view bytes) {
    if (streaming_bind_ && streaming_bind_->values) streaming_bind_->values->feed(bytes);
}

void Session::on_frontend_stream_end() {
    if (!streaming_bind_) return;
    BindValues values;
    if (auto& reader = streaming_bind_->values; reader && reader->ok() && reader->complete()) values = reader->take();
    objects_.bind_sent(syncs_sent_, std::move(streaming_bind_->portal), std::move(streaming_bind_->statement),
                       std::move(values));
    code_may_run();  // planning folds immutable functions: they run at Bind
    streaming_bind_.reset();
}

void Session::on_parameter_status(std::string_view body) {
    if (auto p = read_parameter_status(body)) on_server_parameter(p->name, p->value);
}

void Session::on_server_parameter(std::string_view name, std::string_view value) {
    if (name == "standard_conforming_strings")
        settings_.standard_conforming_strings = value == "on";
    else if (name == "client_encoding")
        settings_.client_encoding = std::string(value);
}

void Session::relay(const Frame& frame, Outbox& out) {
    out.to_client.append(frame.bytes());
    bytes_to_client_ += frame.size;
    if (!executions_.empty() && executions_.front().batch == syncs_done_) executions_.front().bytes += frame.size;
}

void Session::relay_asynchronous(const Frame& frame, Outbox& out) {
    switch (frame.type) {
        case backend::ParameterStatus:
            on_parameter_status(frame.body);
            [[fallthrough]];
        case backend::NoticeResponse:
        case backend::NotificationResponse:
            relay(frame, out);
            break;
        default:
            break;
    }
}

void Session::write_row_cap_error(Outbox& out) {
    ErrorFields e;
    e.sqlstate = sqlstate::program_limit_exceeded;
    e.message = fmt::format("pgmoat: the statement returned more than {} rows, the limit of policy \"{}\"",
                            policy_->max_rows, policy_->name);
    e.detail = fmt::format("Rejected by rule \"{}\" of policy \"{}\" ({}:{}).", name(policy::Rule::max_rows),
                           policy_->name, policy_->max_rows_source.file, policy_->max_rows_source.line);
    e.hint = "select fewer rows: add a WHERE condition or LIMIT $1, or page through the result";
    size_t before = out.to_client.size();
    write_error_response(out.to_client, e);
    bytes_to_client_ += out.to_client.size() - before;
    complete_execution(sqlstate::program_limit_exceeded, executions_.front().rows);
    fail_batch_executions();
}

void Session::on_data_row(Outbox& out, bool& relay_it) {
    relay_it = true;
    if (executions_.empty() || executions_.front().batch != syncs_done_) return;
    Execution& e = executions_.front();
    if (!e.answered) {
        e.answered = true;
        if (services_.metrics) {
            first_byte_seconds_->observe_duration(Clock::now() - e.started);
        }
    }
    if (e.capped) {
        relay_it = false;
        return;
    }
    // Rows earlier pages of the same portal or cursor returned count too.
    resolve(e);
    const Portal* portal = e.result_portal.empty() ? nullptr : objects_.portal(e.result_portal);
    uint64_t before = portal ? portal->rows : 0;
    if (policy_->max_rows > 0 && before + e.rows >= policy_->max_rows) {
        // Past the cap: stop relaying, have the server stop too, and end the
        // statement with pgmoat's error when its answer comes.
        e.capped = true;
        relay_it = false;
        out.cancel_upstream = true;
        if (services_.metrics) services_.metrics->row_caps.labels({identity_.app}).inc();
        log::info("session app=\"{}\": statement passed max_rows {} of policy \"{}\"; cancelling it", identity_.app,
                  policy_->max_rows, policy_->name);
        return;
    }
    ++e.rows;
}

void Session::batch_answered(char status, Outbox& out) {
    transaction_status_ = status;
    if (services_.transaction_pooling) settle_settings(status, out);
    // Requests the server skipped after an error never ran.
    fail_batch_executions();
    ++syncs_done_;
    copy_in_ = copy_out_ = false;
    // Decoys the server skipped (an earlier error in their batch) are moot.
    while (!decoys_.empty() && decoys_.front().batch < syncs_done_) decoys_.pop_front();
    objects_.batch_done(syncs_done_ - 1, status);
}

void Session::fail_batch_executions() {
    while (!executions_.empty() && executions_.front().batch == syncs_done_) executions_.pop_front();
}

void Session::on_backend(const Frame& frame, Outbox& out) {
    if (!own_requests_.empty() && own_requests_.front() == syncs_done_ && on_own_answer(frame, out)) return;
    if ((silent_decoy_ || discard_until_ready_) && frame.type != backend::ReadyForQuery) {
        // Only what the server sends on its own (notices, settings, notifications)
        // still reaches the client; the batch's results and errors do not.
        if (frame.type == backend::ParameterStatus) on_parameter_status(frame.body);
        if (frame.type == backend::NoticeResponse || frame.type == backend::ParameterStatus ||
            frame.type == backend::NotificationResponse) {
            relay(frame, out);
        }
        return;
    }
    switch (frame.type) {
        case backend::ReadyForQuery: {
            auto status = read_ready_for_query(frame.body);
            if (!status) return protocol_violation(out, "server sent an invalid ReadyForQuery message");
            if (capped_query_ && capped_query_->sent && !capped_query_->closing &&
                capped_query_->batch == syncs_done_ && on_capped_query_ready(*status, out)) {
                return;
            }
            if (discard_until_ready_ && *status == 'T') {
                // Fail the server's transaction as the client now believes it failed:
                // a decoy whose error and ReadyForQuery ('E') pgmoat answers itself.
                discard_until_ready_ = false;
                silent_decoy_ = true;
                fail_batch_executions();
                ++syncs_done_;
                write_query(out.to_server, kDecoySql);
                ++syncs_sent_;
                return;
            }
            discard_until_ready_ = false;
            silent_decoy_ = false;
            batch_answered(*status, out);
            relay(frame, out);
            // A capped Query waits for the answers to what was sent before it.
            if (capped_query_ && !capped_query_->sent && !capped_query_->own_transaction &&
                syncs_sent_ == syncs_done_ && executions_.empty()) {
                send_capped_query(out);
            }
            return;
        }
        case backend::ParseComplete:
            if (objects_.parse_complete()) return;  // of a Parse pgmoat added
            break;
        case backend::BindComplete:
            objects_.bind_complete();
            break;
        case backend::CloseComplete:
            if (objects_.close_complete()) return;
            break;
        case backend::ErrorResponse: {
            auto fields = read_error_fields(frame.body);
            if (!on_error_response(fields.value_or(std::vector<ErrorField>{}), fields && is_decoy_error(frame.body),
                                   out)) {
                return;
            }
            break;
        }
        case backend::CommandComplete:
        case backend::EmptyQueryResponse:
        case backend::PortalSuspended:
            if (!executions_.empty() && executions_.front().batch == syncs_done_ && executions_.front().capped) {
                // The statement finished before the cancel reached the server: the
                // client still gets the error, and the rest of the batch is
                // withheld as after any error; an open transaction is failed on
                // the server too when the batch ends (see ReadyForQuery).
                write_row_cap_error(out);
                discard_until_ready_ = true;
                return;
            }
            if (!executions_.empty() && executions_.front().batch == syncs_done_ &&
                executions_.front().affected_cap != AffectedCap::none && on_affected_rows(frame, out)) {
                return;
            }
            if (!executions_.empty() && executions_.front().batch == syncs_done_) {
                uint64_t rows = executions_.front().rows;
                if (frame.type == backend::CommandComplete) {
                    auto tag = read_command_complete(frame.body);
                    if (!tag) return protocol_violation(out, "server sent an invalid CommandComplete message");
                    rows = rows_in_tag(*tag);
                }
                relay(frame, out);
                resolve(executions_.front());
                objects_.statement_completed(executions_.front().statement);
                complete_execution(sqlstate::successful_completion, rows);
                return;
            }
            break;
        case backend::DataRow: {
            bool relay_it = true;
            on_data_row(out, relay_it);
            if (!relay_it) return;
            break;
        }
        case backend::ParameterStatus:
            on_parameter_status(frame.body);
            break;
        case backend::CopyInResponse:
            copy_in_ = true;
            break;
        case backend::CopyOutResponse:
            copy_out_ = true;
            break;
        case backend::CopyData:
            // COPY ... TO STDOUT sends a row per CopyData: max_rows counts them.
            if (copy_out_) {
                bool relay_it = true;
                on_data_row(out, relay_it);
                if (!relay_it) return;
            }
            break;
        case backend::CopyDone:
            copy_out_ = false;
            // Past the cap the client gets nothing more of the COPY but the error.
            if (!executions_.empty() && executions_.front().batch == syncs_done_ && executions_.front().capped) return;
            break;
        case backend::CopyBothResponse:
            // Only replication connections use CopyBoth, and pgmoat refuses those.
            return protocol_violation(out, "server sent CopyBothResponse, which pgmoat does not relay");
        case backend::Authentication:
        case backend::BackendKeyData:
        case backend::NegotiateProtocolVersion:
            return protocol_violation(out, "server sent a startup message during the session");
        case backend::FunctionCallResponse:
            if (!executions_.empty() && executions_.front().batch == syncs_done_) {
                relay(frame, out);
                complete_execution(sqlstate::successful_completion, 0);
                return;
            }
            break;
        case backend::RowDescription:
        case backend::ParameterDescription:
        case backend::NoData:
        case backend::NoticeResponse:
        case backend::NotificationResponse:
            break;
        default:
            return protocol_violation(out,
                                      fmt::format("server sent unknown message type {}", static_cast<int>(frame.type)));
    }
    relay(frame, out);
}

bool Session::on_error_response(const std::vector<ErrorField>& fields, bool decoy_error, Outbox& out) {
    if (copy_in_expected_ && !copy_in_) {
        // The COPY failed before it started: the Syncs behind it are the
        // server's to answer after all.
        syncs_sent_ += tentative_syncs_;
    }
    tentative_syncs_ = 0;
    copy_in_ = copy_in_expected_ = copy_out_ = false;
    pending_settings_.failed = true;  // the batch's transaction is undone
    bool decoy = !decoys_.empty() && decoys_.front().batch == syncs_done_ && decoy_error;
    objects_.batch_failed(syncs_done_, decoy);
    if (decoy) {
        out.to_client.append(decoys_.front().error_response);
        bytes_to_client_ += decoys_.front().error_response.size();
        decoys_.pop_front();
        return false;
    }
    std::string code(find_field(fields, 'C'));
    if (code.size() != 5) code = sqlstate::internal_error;
    if (!executions_.empty() && executions_.front().batch == syncs_done_ && executions_.front().capped) {
        // The cancel pgmoat sent for a statement over max_rows: say why.
        write_row_cap_error(out);
        return false;
    }
    if (!executions_.empty() && executions_.front().batch == syncs_done_) {
        complete_execution(code, 0);
        fail_batch_executions();
    }
    return true;
}

bool Session::on_backend_stream(char type, std::string_view head, size_t size, Outbox& out) {
    if (silent_decoy_ || discard_until_ready_) {
        // As on_backend: only what the server sends on its own reaches the client.
        bool own = type == backend::NoticeResponse || type == backend::ParameterStatus ||
                   type == backend::NotificationResponse;
        if (type == backend::ParameterStatus) on_parameter_status_head(head);
        if (own) bytes_to_client_ += size;
        return own;
    }
    switch (type) {
        case backend::ErrorResponse:
            // The fields PostgreSQL sends first (severity, SQLSTATE) are in the head;
            // a decoy's error is small, so this is never one.
            if (!on_error_response(read_error_fields_prefix(head), false, out)) return false;
            break;
        case backend::ParameterStatus:
            on_parameter_status_head(head);
            break;
        case backend::NoticeResponse:
        case backend::NotificationResponse:
        case backend::RowDescription:
        case backend::ParameterDescription:
        case backend::FunctionCallResponse:
            break;
        case backend::DataRow:
        case backend::CopyData:
            return on_backend_stream_rows(type, size, out);
        default:
            protocol_violation(
                out, fmt::format("server message type {} of {} bytes is too large", static_cast<int>(type), size));
            return false;
    }
    bytes_to_client_ += size;
    if (!executions_.empty() && executions_.front().batch == syncs_done_) {
        executions_.front().bytes += size;
        if (type == backend::FunctionCallResponse) complete_execution(sqlstate::successful_completion, 0);
    }
    return true;
}

void Session::on_parameter_status_head(std::string_view head) {
    // A value too long to hold: one that decides how text is read becomes
    // unusable, so statements are refused until the server reports it again.
    auto name = head.substr(0, head.find('\0'));
    if (name.size() < head.size()) on_server_parameter(name, "(too long)");
}

bool Session::on_backend_stream_rows(char type, size_t size, Outbox& out) {
    if (type == backend::DataRow || (type == backend::CopyData && copy_out_)) {
        bool relay_it = true;
        on_data_row(out, relay_it);
        if (relay_it) {
            bytes_to_client_ += size;
            if (!executions_.empty() && executions_.front().batch == syncs_done_) executions_.front().bytes += size;
        }
        return relay_it;
    }
    if (type == backend::CopyData) {
        bytes_to_client_ += size;
        return true;
    }
    protocol_violation(out, fmt::format("server message type {} is too large", static_cast<int>(type)));
    return false;
}

void Session::complete_execution(std::string_view sqlstate, uint64_t rows) {
    Execution& e = executions_.front();
    resolve(e);
    if (!e.result_portal.empty()) objects_.count_rows(e.result_portal, e.rows);
    auto elapsed = Clock::now() - e.started;
    if (services_.metrics) {
        complete_seconds_->observe_duration(elapsed);
        if (!e.answered) first_byte_seconds_->observe_duration(elapsed);
    }
    record(e, sqlstate, rows);
    if (services_.transaction_pooling) note_setting(e, sqlstate == sqlstate::successful_completion);
    executions_.pop_front();
}

}  // namespace pgmoat::session
