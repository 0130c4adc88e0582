// [holds] rows_over in the session: before an UPDATE, DELETE or MERGE goes on,
// pgmoat asks the server for its plan on the same connection (EXPLAIN (FORMAT
// JSON), a Query of pgmoat's own whose answers the client never sees) and holds
// the statement for approval when the planner expects more rows than the policy
// allows, or when no estimate can be had (fail closed). The client's messages
// wait meanwhile (holds_client), as behind any hold.
//   - outside a transaction the EXPLAIN runs alone: it plans, it runs nothing;
//   - inside one it runs as SAVEPOINT; EXPLAIN; RELEASE, so that an EXPLAIN that
//     fails (ROLLBACK TO and RELEASE follow) leaves the client's transaction as
//     it was: the server ends where the client believes it is;
//   - in a failed transaction nothing is asked: the server refuses the statement.
// Asked only where the server is free (no batch of the client's unanswered) and
// the statement can be planned alone: a Query of one statement, or a Parse
// without parameters. Anything else (a pipeline, several statements, $n
// parameters, which PostgreSQL 15 cannot plan without their values) is held, as
// its estimate is unknown.
#include "pgmoat/common/log.h"
#include "pgmoat/policy/row_estimate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_reader.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
constexpr std::string_view kSavepoint = "pgmoat_row_estimate";
}

bool Session::estimate_rows(const Frame& frame, std::string_view sql, std::string_view statement_name, Origin origin,
                            const std::shared_ptr<const sql::Analysis>& analysis, const policy::Decision& decision,
                            Clock::time_point started, Outbox& out) {
    if (origin == Origin::function_call) return false;
    int index = policy::rows_over_statement(*policy_, *analysis);
    if (index < 0) return false;
    const auto& st = analysis->statements[static_cast<size_t>(index)];
    auto unknown = [&](std::string why) {
        return hold(
            frame, sql, statement_name, origin, analysis, decision, started,
            policy::rows_hold_reason(*policy_, *analysis, index, std::variant<double, std::string>(std::move(why))),
            out);
    };
    if (analysis->statements.size() > 1) return unknown("it is one of several statements in a Query");
    if (st.param_count > 0) {
        return unknown(
            fmt::format("it has parameters (${}), which PostgreSQL 15 cannot plan before their values are "
                        "bound",
                        st.param_count));
    }
    if (syncs_sent_ != syncs_done_ || !executions_.empty() || copy_in_ || copy_out_ ||
        (origin == Origin::parse ? unsynced_before_ : unsynced_))
        return unknown("it came behind requests the server has not answered yet (a pipeline)");
    // In a failed transaction the server refuses it: there is nothing to ask.
    if (transaction_status_ == 'E') return false;
    std::string text(sql.substr(static_cast<size_t>(st.offset), static_cast<size_t>(st.length)));
    RowEstimate e{.statement = defer(frame, sql, statement_name, origin, analysis, decision, started),
                  .index = index,
                  .savepoint = transaction_status_ == 'T',
                  .cleanup = false,
                  .plan = {},
                  .error = {}};
    // Newlines end a trailing line comment of the statement's text.
    std::string explain = fmt::format("EXPLAIN (FORMAT JSON) {}\n", text);
    if (e.savepoint) explain = fmt::format("SAVEPOINT {0};\n{1};\nRELEASE SAVEPOINT {0}", kSavepoint, explain);
    estimate_ = std::move(e);
    send_own_query(explain, out);
    log::debug("session app=\"{}\": asking the server for the row estimate of a {}", identity_.app, sql::name(st.kind));
    return true;
}

bool Session::on_estimate_answer(const Frame& frame, Outbox& out) {
    auto& e = *estimate_;
    switch (frame.type) {
        case backend::DataRow: {
            MessageReader r(frame.body);
            int16_t columns = r.int16();
            int32_t length = r.int32();
            auto value = length > 0 ? r.bytes(static_cast<size_t>(length)) : std::string_view();
            if (r.ok() && columns == 1) e.plan.append(value);
            return true;
        }
        case backend::ErrorResponse: {
            // A failed ROLLBACK TO leaves the transaction failed: the statement is
            // held all the same, and runs (and fails) only if approved.
            if (e.cleanup) return true;
            auto fields = read_error_fields(frame.body);
            std::string message = "no message";
            for (const auto& f : fields.value_or(std::vector<ErrorField>{}))
                if (f.type == 'M') message = f.value;
            e.error = fmt::format("EXPLAIN failed: {}", message);
            return true;
        }
        case backend::ReadyForQuery:
            break;
        default:
            // SAVEPOINT's and RELEASE's answers, the plan's RowDescription: pgmoat's own
            relay_asynchronous(frame, out);
            return true;
    }
    auto status = own_request_answered(frame, out);
    if (!status) return true;
    if (e.savepoint && !e.error.empty() && !e.cleanup) {
        // The EXPLAIN failed inside the client's transaction: undo its failure.
        e.cleanup = true;
        send_own_query(fmt::format("ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}", kSavepoint), out);
        return true;
    }
    RowEstimate done = std::move(e);
    estimate_.reset();
    std::variant<double, std::string> estimate =
        done.error.empty() ? policy::planned_changed_rows(done.plan) : std::variant<double, std::string>(done.error);
    auto& s = done.statement;
    auto reason = policy::rows_hold_reason(*policy_, *s.analysis, done.index, estimate);
    if (auto* rows = std::get_if<double>(&estimate))
        log::debug("session app=\"{}\": the server estimates {} changed rows", identity_.app, *rows);
    auto held = decode_message(s.frame, UINT32_MAX).frame;
    if (reason &&
        hold(held, s.sql, s.statement_name, s.origin, s.analysis, s.decision, s.started, std::move(reason), out)) {
        return true;
    }
    admit(&held, s.sql, s.statement_name, s.origin, s.analysis, std::move(s.decision), s.started, out);
    return true;
}

}  // namespace pgmoat::session
