// Per-server-connection naming of prepared statements and the replay of a
// client's settings (startup parameters, plain SETs) on the server connection it lands on.
#include "pgmoat/session/server_connection.h"

#include "pgmoat/common/ascii.h"
#include "pgmoat/common/sql_quote.h"

#include <fmt/format.h>

namespace pgmoat::session {

std::string prepared_name(std::string_view parse_rest) {
    // FNV-1a over the text and parameter types; with the length, a collision
    // between two of one client's statements is out of reach in practice.
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : parse_rest) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return fmt::format("pgmoat_{:016x}_{}", h, parse_rest.size());
}

namespace {
const std::string* find(const Parameters& list, std::string_view name) {
    const std::string* found = nullptr;  // the last one counts, as the server applies it
    for (const auto& [n, v] : list)
        if (ascii::iequals(n, name)) found = &v;  // runs per lease in transaction mode: no copies
    return found;
}
}  // namespace

std::string apply_parameters(const Parameters& applied, const Parameters& wanted) {
    std::string sql;
    for (const auto& [name, value] : applied) {
        if (!find(wanted, name) && find(applied, name) == &value) {
            sql += fmt::format("RESET {};", quote_identifier(name));
        }
    }
    for (const auto& [name, value] : wanted) {
        if (find(wanted, name) != &value) continue;  // an earlier duplicate
        const std::string* now = find(applied, name);
        if (now && *now == value) continue;
        // GUC names match case-insensitively, so the quoted name works as sent.
        sql += fmt::format("SET {} TO {};", quote_identifier(name), value);
    }
    return sql;
}

}  // namespace pgmoat::session
