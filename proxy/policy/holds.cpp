// Approval holds: a statement of a held kind, or an UPDATE/DELETE/MERGE that does
// not select its rows by value, waits for a person's approval.
#include "pgmoat/policy/holds.h"

#include <fmt/format.h>

namespace pgmoat::policy {

std::optional<HoldReason> hold_reason(const Policy& p, const sql::Analysis& a) {
    if (!p.holds.enabled() || p.mode != Mode::enforce || !a.ok()) return std::nullopt;
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto& st = a.statements[i];
        int index = static_cast<int>(i);
        // EXPLAIN ANALYZE and PREPARE run (or will run) what they hold.
        for (auto kind : {st.kind, st.inner_kind}) {
            if (kind != sql::StatementKind::none && p.holds.kinds.test(static_cast<size_t>(kind))) {
                return HoldReason{
                    Rule::hold_statements, p.holds.kinds_source, index,
                    fmt::format("{} statements are held for approval by policy \"{}\"", sql::name(kind), p.name)};
            }
        }
        if (!p.holds.unrestricted_writes) continue;
        for (const auto& w : st.writes) {
            bool changes_rows = w.kind == sql::StatementKind::update || w.kind == sql::StatementKind::delete_ ||
                                w.kind == sql::StatementKind::merge;
            if (w.row_lock || !changes_rows || w.restricts) continue;
            return HoldReason{
                Rule::hold_unrestricted_writes, p.holds.unrestricted_writes_source, index,
                fmt::format("{} {} is held for approval by policy \"{}\"", sql::name(w.kind),
                            w.has_where ? "whose WHERE does not select rows by value" : "without WHERE", p.name)};
        }
    }
    return std::nullopt;
}

}  // namespace pgmoat::policy
