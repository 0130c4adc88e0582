// The statements whose effect outlives their transaction, as PostgreSQL keeps
// them per backend: settings, notifications, temporary relations, holdable
// cursors, session-level advisory locks, SQL prepared statements, loaded libraries.
#include "pgmoat/session/session_state.h"

#include "pgmoat/common/sql_quote.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::session {

namespace {
bool catalog_function(const sql::FunctionCall& f, std::string_view name) {
    return f.name == name && (f.schema.empty() || f.schema == "pg_catalog");
}

// The values of a plain SET as SQL that sets them again: each constant as the
// grammar made it (a bare word and a quoted string are both string constants, so
// `public` and 'public' are the same value). Empty when a value is not a plain
// constant (SET TIME ZONE INTERVAL ...) or the parameter must stay on its own
// server connection: who the session is (role, session_authorization), how its
// text is read (client_encoding, standard_conforming_strings), transaction
// characteristics.
std::optional<std::string> replayable_value(const sql::Statement& st) {
    constexpr std::string_view kKept[] = {"role", "session_authorization", "session characteristics", "client_encoding",
                                          "standard_conforming_strings"};
    if (st.changes_parse_settings || std::find(std::begin(kKept), std::end(kKept), st.parameter) != std::end(kKept))
        return std::nullopt;
    std::string sql;
    for (const auto& l : st.literals) {
        if (l.clause != sql::Clause::set_value) continue;
        if (!l.cast_type.empty()) return std::nullopt;
        if (!sql.empty()) sql += ", ";
        bool number = (l.kind == sql::LiteralKind::integer || l.kind == sql::LiteralKind::float_) && !l.value.empty() &&
                      l.value.find_first_not_of("0123456789.eE+-") == std::string::npos;
        if (number) {
            sql += l.value;
        } else if (l.kind == sql::LiteralKind::string || l.kind == sql::LiteralKind::boolean) {
            sql += quote_literal(l.value);
        } else {
            return std::nullopt;
        }
    }
    if (sql.empty()) return std::nullopt;
    return sql;
}
}  // namespace

std::optional<SessionState> session_state(const sql::Statement& st) {
    using sql::StatementKind;
    constexpr std::string_view kResetAlternative =
        "SET the value explicitly (SET LOCAL inside a transaction); startup parameters are applied again on every "
        "server connection";
    switch (st.kind) {
        case StatementKind::set: {
            if (st.set_local || st.parameter == "transaction") break;
            if (st.set_default) {
                return SessionState{"reset", fmt::format("SET {} TO DEFAULT", st.parameter),
                                    std::string(kResetAlternative), true};
            }
            SessionState set{"set", fmt::format("SET {}", st.parameter),
                             fmt::format("SET LOCAL {} inside a transaction (BEGIN; SET LOCAL ...; ...; COMMIT), "
                                         "or the setting as a startup parameter",
                                         st.parameter),
                             false};
            set.replay = replayable_value(st);
            return set;
        }
        case StatementKind::reset:
            return SessionState{"reset", st.parameter == "all" ? "RESET ALL" : fmt::format("RESET {}", st.parameter),
                                std::string(kResetAlternative), true};
        case StatementKind::discard:
            if (st.name == "all") return SessionState{"reset", "DISCARD ALL", std::string(kResetAlternative), true};
            break;
        case StatementKind::listen:
            return SessionState{"listen", "LISTEN",
                                "notifications need a server connection of their own: LISTEN through a target in "
                                "session pool_mode",
                                false};
        case StatementKind::declare_cursor:
            if (st.cursor_with_hold) {
                return SessionState{"cursor_with_hold", "DECLARE ... WITH HOLD",
                                    "declare the cursor without HOLD inside a transaction and FETCH before COMMIT",
                                    false};
            }
            break;
        case StatementKind::prepare:
            return SessionState{"prepare", "PREPARE",
                                "prepare through the protocol (your driver's prepared statements), which pgmoat "
                                "prepares again on every server connection",
                                false};
        case StatementKind::load:
            return SessionState{"load", "LOAD", "load libraries through a target in session pool_mode", false};
        default:
            break;
    }
    bool temporary = st.temporary;
    for (const auto& r : st.relations) temporary |= r.schema == "pg_temp" && r.access.has(sql::Access::ddl);
    if (temporary) {
        return SessionState{"temporary_table", "CREATE TEMPORARY",
                            "use a CTE (WITH ...), or a regular table the app cleans up", false};
    }
    for (const auto& f : st.functions) {
        for (auto name :
             {"pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared"}) {
            if (catalog_function(f, name)) {
                return SessionState{"advisory_lock", fmt::format("{}()", name),
                                    "take a transaction-level lock (pg_advisory_xact_lock, pg_try_advisory_xact_lock), "
                                    "released at COMMIT",
                                    false};
            }
        }
        if (catalog_function(f, "set_config")) {
            return SessionState{"set", "set_config()", "SET LOCAL inside a transaction (it lasts until COMMIT)", false};
        }
    }
    return std::nullopt;
}

}  // namespace pgmoat::session
