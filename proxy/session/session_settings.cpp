// Plain SETs in transaction pooling: a client's `SET name = value` run outside a
// transaction block becomes one of the settings pgmoat applies on every server
// connection the session lands on, as it does its startup parameters, instead of
// pinning the session. Drivers set things once after login (pgjdbc's
// extra_float_digits, an ORM's search_path or TimeZone); pinning every such
// session would leave the pool no server connection to share.
#include "pgmoat/common/ascii.h"
#include "pgmoat/session/session.h"
#include "pgmoat/session/session_state.h"

#include <algorithm>

namespace pgmoat::session {

void Session::note_setting(const Execution& e, bool ok) {
    const sql::Statement* facts = e.statement ? e.statement->facts() : nullptr;
    if (!ok || !facts) return;
    if (sql::category(facts->kind) == sql::StatementCategory::transaction) {
        pending_settings_.transaction_command = true;
        return;
    }
    if (facts->kind != sql::StatementKind::set) return;
    auto state = session_state(*facts);
    // Other SETs pinned the session when they were sent (session_state_refusal).
    if (state && state->replay) pending_settings_.sets.emplace_back(facts->parameter, std::move(*state->replay));
}

void Session::settle_settings(char status, Outbox& out) {
    PendingSettings pending = std::exchange(pending_settings_, {});
    if (pending.sets.empty()) return;
    if (status != 'I' || pending.transaction_command) {
        // A transaction block decides later whether the SETs last (COMMIT, ROLLBACK,
        // ROLLBACK TO SAVEPOINT): the session keeps this server connection instead.
        out.pin_reason = "set";
        out.pin_statement = "SET " + pending.sets.front().first + " in a transaction block";
        return;
    }
    // The batch's implicit transaction failed: its SETs were undone with it.
    if (pending.failed) return;
    for (auto& [name, value] : pending.sets) {
        std::erase_if(settings_wanted_, [&name = name](const auto& s) { return ascii::iequals(s.first, name); });
        settings_wanted_.emplace_back(std::move(name), std::move(value));
    }
    // The server connection has them now: the next session that lands on it gets
    // them reset or replaced (apply_parameters).
    if (server_) server_->applied = settings_wanted_;
}

}  // namespace pgmoat::session
