// Grants in the session: the policy a session is judged by is its own widened by
// the grants applying to it now; when one expires (or a reload changes them) the
// next statement is judged without it. Each statement a grant let through names
// it in its audit records.
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/session/session.h"

#include <fmt/format.h>

namespace pgmoat::session {

void Session::refresh_grants() {
    if (!services_.grants) return;
    auto now = std::chrono::system_clock::now();
    uint64_t version = services_.grants->version();
    if (version == grants_version_ && now < grants_change_at_) return;
    grants_version_ = version;
    auto fresh = services_.grants->applying(identity_.app, identity_.target, now);
    grants_change_at_ = std::chrono::system_clock::time_point::max();
    for (const auto& g : fresh) grants_change_at_ = std::min(grants_change_at_, g.expires);
    bool same = fresh.size() == grants_.size();
    for (size_t i = 0; same && i < fresh.size(); ++i) same = fresh[i].id == grants_[i].id;
    if (same) return;
    for (const auto& g : grants_) {
        bool kept = false;
        for (const auto& f : fresh) kept = kept || f.id == g.id;
        if (!kept)
            log::info("session {}: grant {} ({} for app \"{}\") no longer applies", services_.session_id, g.id, g.allow,
                      identity_.app);
    }
    grants_ = std::move(fresh);
    policy_ =
        grants_.empty() ? base_policy_ : std::make_shared<const policy::Policy>(policy::widen(*base_policy_, grants_));
}

bool Session::granted(policy::Rule rule) const {
    for (const auto& g : grants_)
        if (g.rule == rule) return true;
    return false;
}

// The first DDL or DCL statement of `a` when the target is in production mode
// no_ddl for this identity; -1 otherwise.
int Session::no_ddl_statement(const sql::Analysis& a) const {
    if (!services_.freezes || !a.ok() ||
        services_.freezes->production(identity_.target, identity_.kind).mode != config::Target::Production::no_ddl)
        return -1;
    for (size_t i = 0; i < a.statements.size(); ++i) {
        auto c = sql::category(a.statements[i].kind);
        if (c == sql::StatementCategory::ddl || c == sql::StatementCategory::dcl) return static_cast<int>(i);
    }
    return -1;
}

void Session::attribute_grant(const sql::Analysis& a, std::string_view sql, Origin origin) {
    auto base = policy::decide(*base_policy_, a, sql,
                               origin == Origin::parse ? policy::Protocol::extended : policy::Protocol::simple_query);
    using policy::Rule;
    Rule rule = Rule::none;
    int index = 0;
    if (!base.allow || base.would_reject) {
        rule = base.rule;
        index = std::max(base.statement, 0);
    } else if (auto h = policy::hold_reason(*base_policy_, a)) {
        rule = h->rule;
        index = h->statement;
    } else if (services_.freezes && (granted(Rule::freeze) || granted(Rule::hold_freeze)) && freeze_refusal(a)) {
        rule = granted(Rule::freeze) ? Rule::freeze : Rule::hold_freeze;
    } else if (auto ddl = no_ddl_statement(a); ddl >= 0) {
        rule = Rule::production;  // a grant of the rule or of the statement's kind lifted it
        index = ddl;
    } else {
        return;  // allowed without any grant
    }
    std::optional<sql::StatementKind> kind;
    if (a.ok() && static_cast<size_t>(index) < a.statements.size()) kind = a.statements[index].kind;
    if (const auto* g = policy::grant_for(grants_, rule, kind)) grant_ = g->id;
}

std::optional<policy::Decision> Session::expired_grant_refusal(const Statement* statement) const {
    if (!statement || statement->grant.empty()) return std::nullopt;
    for (const auto& g : grants_)
        if (g.id == statement->grant) return std::nullopt;
    policy::Decision d;
    d.allow = false;
    d.policy = policy_->name;
    d.rule = policy::Rule::grant_expired;
    d.sqlstate = sqlstate::insufficient_privilege;
    d.message = fmt::format("pgmoat: grant {} that let this prepared statement through has ended", statement->grant);
    d.detail = "A statement prepared under a time-boxed grant runs only while the grant is in force.";
    d.hint = "ask for a new grant (pgmoat grant), or prepare the statement again to have it judged by the policy";
    return d;
}

}  // namespace pgmoat::session
