// A target's production mode, for agents' and people's identities: read_only
// refuses every write and anything that could turn the server's second lock off;
// no_ddl refuses DDL and DCL unless a grant lifts it (the rule `production`, or
// the statement's kind). read_only is never lifted by a grant: the server session
// started with default_transaction_read_only = on, and pgmoat cannot honestly
// take that back mid-session (README "Production mode").
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/policy/read_only_lock.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

using Production = config::Target::Production;

std::optional<policy::Decision> Session::production_refusal(const sql::Analysis& a, std::string_view sql) const {
    if (!services_.freezes || !a.ok()) return std::nullopt;
    for (size_t i = 0; i < a.statements.size(); ++i) {
        auto d = production_refusal(&a.statements[i], sql);
        if (!d) continue;
        d->statement = static_cast<int32_t>(i);
        return d;
    }
    return std::nullopt;
}

std::optional<policy::Decision> Session::production_refusal(const sql::Statement* facts, std::string_view sql) const {
    if (!services_.freezes) return std::nullopt;
    auto mode = services_.freezes->production(identity_.target, identity_.kind);
    if (mode.mode == Production::off) return std::nullopt;
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    d.rule = policy::Rule::production;
    std::string who = fmt::format("{} \"{}\"", identity_.kind == "agent" ? "agent" : "person", identity_.app);
    if (mode.mode == Production::read_only) {
        // facts null: a statement pgmoat cannot see from here (an unknown portal): a write.
        if (facts && !changes_database(*facts)) {
            auto breach = sql.empty() ? std::nullopt : policy::read_only_breach(*facts, sql);
            if (!breach) return std::nullopt;
            d.sqlstate = sqlstate::insufficient_privilege;
            d.message = fmt::format("pgmoat: {} may not make its session writable on production target \"{}\": {}", who,
                                    identity_.target, breach->what);
            d.position = breach->offset >= 0 ? sql::character_position(sql, breach->offset) : 0;
        } else {
            d.sqlstate = sqlstate::read_only_sql_transaction;  // what the server's second lock answers
            d.message = fmt::format("pgmoat: target \"{}\" is in production mode read_only: {} may not write",
                                    identity_.target, who);
        }
        d.detail = fmt::format(
            "Rejected by production = \"read_only\" ({}), which applies to agents and people; "
            "their server sessions are read-only too.",
            mode.where);
        d.hint =
            "reads work; a grant does not lift read_only: the write needs an identity of kind app that may "
            "write, or the operator sets production = \"no_ddl\"";
        return d;
    }
    // no_ddl
    if (facts) {
        auto c = sql::category(facts->kind);
        if (c != sql::StatementCategory::ddl && c != sql::StatementCategory::dcl) return std::nullopt;
        for (const auto& g : grants_)
            if (g.rule == policy::Rule::production || g.kinds.test(static_cast<size_t>(facts->kind)))
                return std::nullopt;
    } else if (granted(policy::Rule::production)) {
        return std::nullopt;
    }
    d.sqlstate = sqlstate::insufficient_privilege;
    d.message = fmt::format("pgmoat: target \"{}\" is in production mode no_ddl: {} may not change schema or roles",
                            identity_.target, who);
    d.detail = fmt::format("Rejected by production = \"no_ddl\" ({}), which applies to agents and people.", mode.where);
    d.hint =
        "ask an admin for a time-boxed grant (GRANT <kind> TO <app> ON <target> FOR 30m REASON '…' on the "
        "admin console, or pgmoat grant)";
    return d;
}

}  // namespace pgmoat::session
