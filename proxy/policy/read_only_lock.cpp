// The second lock of a read-only policy: what could turn the server's
// default_transaction_read_only (or a transaction's read-only mode) off. pgmoat's
// analysis is the first lock; the server refusing writes (25006) is the second,
// and holds only while no statement can lift it.
#include "pgmoat/policy/read_only_lock.h"

#include "pgmoat/common/ascii.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace pgmoat::policy {

namespace {
using sql::StatementKind;

using ascii::lower;

bool read_only_parameter(std::string_view name) {
    return name == "default_transaction_read_only" || name == "transaction_read_only";
}

// set_config's argument `index` as a constant string; nullopt otherwise.
std::optional<std::string> constant_argument(const sql::Statement& st, const sql::FunctionCall& f, size_t index) {
    if (index >= f.arguments.size()) return std::nullopt;
    const auto& a = f.arguments[index];
    if (!a.name.empty() || a.kind != sql::ArgumentKind::literal || a.literal < 0 ||
        static_cast<size_t>(a.literal) >= st.literals.size())
        return std::nullopt;
    const auto& l = st.literals[static_cast<size_t>(a.literal)];
    if (l.kind == sql::LiteralKind::null) return std::nullopt;
    if (!l.cast_type.empty() && l.cast_type != "text" && l.cast_type != "pg_catalog.text") return std::nullopt;
    return l.value;
}
}  // namespace

bool reads_as_on(std::string_view value) {
    std::string v = lower(value);
    v.erase(0, v.find_first_not_of(" \t\n\r"));
    v.erase(v.find_last_not_of(" \t\n\r") + 1);
    if (v.empty()) return false;
    // parse_bool_with_len: prefixes of "true" and "yes", "on" (not "o"), "1".
    auto prefix_of = [&](std::string_view word) { return word.substr(0, v.size()) == v; };
    return prefix_of("true") || prefix_of("yes") || v == "on" || v == "1";
}

std::optional<ReadOnlyBreach> read_only_breach(const sql::Statement& st, std::string_view sql) {
    // SET, SET LOCAL, ALTER ROLE/DATABASE/SYSTEM ... SET of the settings themselves.
    // SHOW reads them; RESET and SET ... TO DEFAULT return to the session's
    // start, where pgmoat pinned the lock.
    if (read_only_parameter(st.parameter) && st.kind != StatementKind::show && st.kind != StatementKind::reset) {
        for (const auto& l : st.literals) {
            if (l.clause != sql::Clause::set_value) continue;
            if (l.kind == sql::LiteralKind::boolean ? lower(l.value) != "true" && l.value != "t"
                                                    : !reads_as_on(l.value)) {
                return ReadOnlyBreach{fmt::format("{} {} to '{}'", sql::name(st.kind), st.parameter, l.value),
                                      l.offset};
            }
        }
        if (st.kind != StatementKind::set) {
            bool any_value = std::any_of(st.literals.begin(), st.literals.end(),
                                         [](const sql::Literal& l) { return l.clause == sql::Clause::set_value; });
            if (!any_value) return ReadOnlyBreach{fmt::format("{} of {}", sql::name(st.kind), st.parameter), st.offset};
        }
    }
    // BEGIN / START TRANSACTION / SET TRANSACTION / SET SESSION CHARACTERISTICS
    // with READ WRITE: the grammar's transaction_read_only option, 0.
    if (st.kind == StatementKind::begin || st.parameter == "transaction" || st.parameter == "session characteristics") {
        for (const auto& l : st.literals) {
            bool read = l.offset >= 0 && static_cast<size_t>(l.offset) + 4 <= sql.size() &&
                        lower(sql.substr(static_cast<size_t>(l.offset), 4)) == "read";
            if (read && l.value == "0")
                return ReadOnlyBreach{fmt::format("{} READ WRITE", st.kind == StatementKind::begin ? "BEGIN" : "SET"),
                                      l.offset};
        }
    }
    for (const auto& f : st.functions) {
        if (f.name != "set_config" || f.attribute_notation || (!f.schema.empty() && f.schema != "pg_catalog")) continue;
        auto name = constant_argument(st, f, 0);
        if (!name) return ReadOnlyBreach{"set_config() of a parameter that is not a constant", f.offset};
        if (!read_only_parameter(lower(*name))) continue;
        auto value = constant_argument(st, f, 1);
        if (!value || !reads_as_on(*value))
            return ReadOnlyBreach{fmt::format("set_config('{}', {})", lower(*name), value ? "'" + *value + "'" : "…"),
                                  f.offset};
    }
    return std::nullopt;
}

}  // namespace pgmoat::policy
