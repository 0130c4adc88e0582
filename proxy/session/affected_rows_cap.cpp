// [limits] max_rows_affected: an UPDATE, DELETE or MERGE that changes more rows than
// the policy allows is undone, and the client gets pgmoat's error in its place.
// The rows are known only from the statement's CommandComplete, so the statement
// runs where pgmoat can still undo it, and the client's next message waits until
// its count is in (holds_client):
//   - an Execute (extended protocol): the batch up to Sync is one transaction (the
//     client's, or the implicit one PostgreSQL commits at Sync), so pgmoat sends a
//     Flush behind the Execute and waits for its CommandComplete; over the cap, a
//     decoy fails the batch as any error would, and the server undoes the write.
//   - a simple Query inside a transaction: over the cap, a silent decoy fails the
//     transaction, as any error in it would (PostgreSQL undoes it at ROLLBACK).
//   - a simple Query outside one: it autocommits, so pgmoat opens a transaction of
//     its own (BEGIN, the Query, then COMMIT or ROLLBACK) and answers the client as
//     PostgreSQL would have: the last CommandComplete after the commit, and
//     ReadyForQuery 'I'.
// A savepoint would undo the write but keep the transaction usable, which no error
// in PostgreSQL does: failing the transaction keeps the client's view exact.
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

#include <charconv>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
using sql::StatementKind;

// Kinds whose CommandComplete counts changed rows the cap applies to; EXECUTE
// runs a prepared statement that may be one of them.
bool capped_kind(StatementKind k) {
    return k == StatementKind::update || k == StatementKind::delete_ || k == StatementKind::merge ||
           k == StatementKind::execute;
}

bool capped_write(const sql::Write& w) {
    return !w.row_lock && !w.merge_action &&
           (w.kind == StatementKind::update || w.kind == StatementKind::delete_ || w.kind == StatementKind::merge);
}

// "UPDATE 5", "DELETE 0", "MERGE 12": the command and its rows; other tags count nothing.
std::optional<std::pair<std::string_view, uint64_t>> changed_rows(std::string_view tag) {
    auto space = tag.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    auto command = tag.substr(0, space);
    if (command != "UPDATE" && command != "DELETE" && command != "MERGE") return std::nullopt;
    uint64_t n = 0;
    auto digits = tag.substr(space + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return std::make_pair(command, n);
}
}  // namespace

bool Session::holds_client() const {
    return held_.has_value() || estimate_.has_value() || capped_query_.has_value() ||
           (!executions_.empty() && executions_.back().affected_cap == AffectedCap::execute);
}

bool Session::caps_affected_rows(const Statement* statement) const {
    if (policy_->max_rows_affected == 0 || policy_->mode == policy::Mode::monitor) return false;
    const sql::Statement* facts = statement ? statement->facts() : nullptr;
    return !facts || capped_kind(facts->kind);  // unknown: counted, to be safe
}

bool Session::caps_affected_rows(const sql::Analysis& a) const {
    if (policy_->max_rows_affected == 0 || policy_->mode == policy::Mode::monitor || !a.ok()) return false;
    for (const auto& st : a.statements)
        if (capped_kind(st.kind)) return true;
    return false;
}

policy::Decision Session::affected_rows_rejection() const {
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    d.rule = policy::Rule::max_rows_affected;
    d.source = policy_->max_rows_affected_source;
    d.sqlstate = sqlstate::insufficient_privilege;
    d.detail = fmt::format("Rejected by rule \"{}\" of policy \"{}\" ({}:{}).", name(d.rule), policy_->name,
                           d.source.file, d.source.line);
    return d;
}

std::optional<policy::Decision> Session::affected_rows_refusal(const sql::Analysis& a) const {
    if (policy_->max_rows_affected == 0 || policy_->mode == policy::Mode::monitor || !a.ok()) return std::nullopt;
    policy::Decision d = affected_rows_rejection();
    bool capped = caps_affected_rows(a);
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto& st = a.statements[i];
        d.statement = static_cast<int32_t>(i);
        // Rows changed where the statement's own CommandComplete does not count them.
        for (const auto& w : st.writes) {
            if (!capped_write(w) || w.place == sql::WritePlace::statement || w.place == sql::WritePlace::nested)
                continue;
            if (w.place == sql::WritePlace::inner && st.kind == StatementKind::prepare) continue;  // counted at EXECUTE
            if (w.place == sql::WritePlace::inner && st.kind == StatementKind::explain && !st.explain_analyze) continue;
            d.message =
                fmt::format("pgmoat: the rows changed by {} inside {} cannot be counted against max_rows_affected",
                            sql::name(w.kind), w.place == sql::WritePlace::with ? "a WITH query" : sql::name(st.kind));
            d.hint = "run the UPDATE, DELETE or MERGE as a statement of its own";
            return d;
        }
        // pgmoat opens and ends the transaction around a capped Query; one that
        // ends it itself would commit the write before its rows are counted, and
        // a COPY FROM STDIN would wait for the client while pgmoat holds it back.
        bool copy_in = st.copy && st.copy->direction == sql::CopyDirection::from;
        if (capped && a.statements.size() > 1 &&
            (sql::category(st.kind) == sql::StatementCategory::transaction || copy_in)) {
            d.message = fmt::format("pgmoat: a Query that changes rows under max_rows_affected cannot also hold {}",
                                    sql::name(st.kind));
            d.hint = "send the transaction control (or COPY) as a Query of its own";
            return d;
        }
    }
    return std::nullopt;
}

void Session::run_capped_query(const Frame& frame, std::shared_ptr<const sql::Analysis> analysis,
                               policy::Decision decision, Clock::time_point started, Outbox& out) {
    if (!executions_.empty() && executions_.back().batch == syncs_sent_) {
        // Inside an extended-protocol batch not yet ended by Sync, pgmoat can
        // neither know the transaction it would run in nor wait for the batch's
        // answers (the server holds them until Sync): refused, failing the batch.
        policy::Decision d = affected_rows_rejection();
        d.message =
            "pgmoat: a Query that changes rows under max_rows_affected cannot run inside an unfinished "
            "extended-protocol batch";
        d.hint = "send Sync before the Query";
        count(d, analysis.get());
        std::string_view sql = frame.body.substr(0, frame.body.size() - 1);
        return reject(d, sql, analysis, Origin::simple_query, {}, out);
    }
    capped_query_ = CappedQuery{.frame = std::string(frame.bytes()),
                                .analysis = std::move(analysis),
                                .decision = std::move(decision),
                                .started = started,
                                .sent = false,
                                .own_transaction = false,
                                .batch = 0,
                                .failed = false,
                                .closing = false,
                                .held_complete = {},
                                .commit_error = {},
                                .approval = approval_};
    // Whether pgmoat opens a transaction depends on the status the requests before
    // it leave: it waits until the server has answered them.
    if (syncs_sent_ == syncs_done_ && executions_.empty()) send_capped_query(out);
}

void Session::send_capped_query(Outbox& out) {
    auto& q = *capped_query_;
    if (transaction_status_ == 'I' && !q.own_transaction) {
        // The Query goes once BEGIN has answered: were BEGIN to fail, the Query
        // must not run in autocommit.
        q.own_transaction = true;
        send_own_query("BEGIN", out);
        return;
    }
    q.sent = true;
    q.batch = syncs_sent_;
    std::string_view sql = std::string_view(q.frame).substr(5, q.frame.size() - 6);
    approval_ = q.approval;
    query_sent(sql, q.analysis, q.decision, q.started, true);
    approval_ = 0;
    out.to_server.append(q.frame);
    std::string().swap(q.frame);
}

void Session::send_own_query(std::string_view sql, Outbox& out) {
    write_query(out.to_server, sql);
    own_requests_.push_back(syncs_sent_);
    code_may_run();  // COMMIT runs deferred triggers
    ++syncs_sent_;
}

std::optional<char> Session::own_request_answered(const Frame& frame, Outbox& out) {
    auto status = read_ready_for_query(frame.body);
    if (!status) {
        protocol_violation(out, "server sent an invalid ReadyForQuery message");
        return std::nullopt;
    }
    own_requests_.pop_front();
    batch_answered(*status, out);
    return status;
}

bool Session::on_own_answer(const Frame& frame, Outbox& out) {
    if (estimate_) return on_estimate_answer(frame, out);
    switch (frame.type) {
        case backend::ReadyForQuery: {
            auto status = own_request_answered(frame, out);
            if (!status) return true;
            if (!capped_query_) return true;
            auto& q = *capped_query_;
            if (!q.sent) {
                if (*status == 'T' && q.commit_error.empty()) return send_capped_query(out), true;
                // BEGIN failed: the Query never runs, and the client gets why.
                std::string error = q.commit_error;
                capped_query_.reset();
                out.to_client += error;
                write_ready_for_query(out.to_client, *status);
                bytes_to_client_ += error.size() + 6;
                return true;
            }
            // The end of the capped Query, as the client sees it without pgmoat.
            std::string tail = q.commit_error.empty() ? q.held_complete : q.commit_error;
            capped_query_.reset();
            out.to_client += tail;
            write_ready_for_query(out.to_client, *status);
            bytes_to_client_ += tail.size() + 6;
            return true;
        }
        case backend::ErrorResponse:
            // COMMIT's error (a deferred constraint, a serialization failure) is the
            // Query's, as PostgreSQL reports a failed autocommit.
            if (capped_query_ && (capped_query_->closing || !capped_query_->sent))
                capped_query_->commit_error = std::string(frame.bytes());
            return true;
        default:
            relay_asynchronous(frame, out);  // BEGIN's, COMMIT's, ROLLBACK's answers: pgmoat's own
            return true;
    }
}

bool Session::on_capped_query_ready(char status, Outbox& out) {
    auto& q = *capped_query_;
    if (!q.own_transaction) {
        // Inside the client's transaction: a statement over the cap left
        // discard_until_ready_, and the usual silent decoy fails the transaction.
        capped_query_.reset();
        return false;
    }
    bool failed = q.failed || status != 'T' || discard_until_ready_;
    discard_until_ready_ = false;
    batch_answered(status, out);
    q.closing = true;
    if (failed) q.held_complete.clear();
    send_own_query(failed ? "ROLLBACK" : "COMMIT", out);
    return true;
}

bool Session::on_affected_rows(const Frame& frame, Outbox& out) {
    Execution& e = executions_.front();
    AffectedCap cap = e.affected_cap;
    std::optional<std::pair<std::string_view, uint64_t>> changed;
    if (frame.type == backend::CommandComplete) {
        auto tag = read_command_complete(frame.body);
        if (!tag) {
            protocol_violation(out, "server sent an invalid CommandComplete message");
            return true;
        }
        changed = changed_rows(*tag);
    }
    ErrorFields error;
    uint64_t rows = changed ? changed->second : 0;
    if (frame.type == backend::PortalSuspended) {
        // An UPDATE ... RETURNING read a page at a time has run whole, and its
        // count comes only with its last page.
        error.sqlstate = sqlstate::program_limit_exceeded;
        error.message = fmt::format(
            "pgmoat: the rows changed by a statement read in pages (Execute with a row limit) "
            "cannot be counted against max_rows_affected = {} of policy \"{}\"; it is rolled back",
            policy_->max_rows_affected, policy_->name);
        error.hint = "execute it without a row limit";
    } else if (changed && changed->second > policy_->max_rows_affected) {
        error.sqlstate = sqlstate::program_limit_exceeded;
        error.message = fmt::format(
            "pgmoat: {} changed {} rows, more than max_rows_affected = {} of policy \"{}\"; "
            "it is rolled back",
            changed->first, changed->second, policy_->max_rows_affected, policy_->name);
        error.hint = fmt::format(
            "change fewer rows per statement: narrow its WHERE condition, or work in batches of at "
            "most {} rows",
            policy_->max_rows_affected);
    } else {
        if (cap == AffectedCap::counted && capped_query_ && capped_query_->own_transaction && executions_.size() == 1 &&
            frame.type == backend::CommandComplete) {
            // PostgreSQL sends a Query's last CommandComplete after its commit.
            capped_query_->held_complete = std::string(frame.bytes());
            resolve(e);
            objects_.statement_completed(e.statement);
            complete_execution(sqlstate::successful_completion, rows);
            return true;
        }
        return false;  // relayed as usual
    }
    error.detail =
        fmt::format("Rejected by rule \"{}\" of policy \"{}\" ({}:{}).", name(policy::Rule::max_rows_affected),
                    policy_->name, policy_->max_rows_affected_source.file, policy_->max_rows_affected_source.line);
    if (auto* m = services_.metrics)
        m->rejections.labels({identity_.app, identity_.target, std::string(name(policy::Rule::max_rows_affected))})
            .inc();
    log::info("session app=\"{}\": {}", identity_.app, error.message);
    complete_execution(error.sqlstate, rows);
    if (cap == AffectedCap::execute) {
        // The server fails the batch at a decoy behind the Execute, undoing the
        // write; its error is swapped for this one.
        send_decoy(Origin::function_call, "\x01pgmoat", error, out);
        return true;
    }
    size_t before = out.to_client.size();
    write_error_response(out.to_client, error);
    bytes_to_client_ += out.to_client.size() - before;
    fail_batch_executions();
    discard_until_ready_ = true;  // the rest of the Query is withheld, as after an error
    if (capped_query_) capped_query_->failed = true;
    return true;
}

}  // namespace pgmoat::session
