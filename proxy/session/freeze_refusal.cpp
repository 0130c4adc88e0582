// A write on a frozen target is refused before it runs, whatever the policy
// allows: the freeze is the operator's, read from the configuration in force.
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

std::optional<policy::Decision> Session::freeze_refusal(const sql::Analysis& a) const {
    if (!services_.freezes || !a.ok()) return std::nullopt;
    for (size_t i = 0; i < a.statements.size(); ++i) {
        if (!changes_database(a.statements[i])) continue;
        auto d = freeze_refusal(&a.statements[i]);
        if (d) d->statement = static_cast<int32_t>(i);
        return d;
    }
    return std::nullopt;
}

std::optional<policy::Decision> Session::freeze_refusal(const sql::Statement* facts) const {
    if (!services_.freezes || (facts && !changes_database(*facts))) return std::nullopt;
    auto reason = services_.freezes->frozen(identity_.target, std::chrono::system_clock::now());
    if (!reason) return std::nullopt;
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    d.rule = policy::Rule::freeze;
    d.sqlstate = sqlstate::read_only_sql_transaction;  // what a write meets on a read-only server
    d.message = fmt::format("pgmoat: target \"{}\" is frozen: writes are not allowed", identity_.target);
    d.detail = fmt::format("Rejected by the production freeze: {}.", *reason);
    d.hint = "reads still work; ask the operator to lift the freeze, or retry after the window";
    return d;
}

}  // namespace pgmoat::session
