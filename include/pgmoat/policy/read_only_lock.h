// The second lock of a read-only policy: pgmoat starts the identity's server
// session with default_transaction_read_only = on, and refuses every statement
// that could turn it off (README "The second lock").
#pragma once

#include "pgmoat/sql/analysis.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgmoat::policy {

struct ReadOnlyBreach {
    std::string what;     // e.g. "SET default_transaction_read_only to 'off'"
    int32_t offset = -1;  // in the statement text
};

// How a statement could make the server session or a transaction writable;
// nullopt when it cannot. sql: the text the statement's offsets are in.
std::optional<ReadOnlyBreach> read_only_breach(const sql::Statement& st, std::string_view sql);

// A value PostgreSQL's boolean settings read as on ("on", "true", "yes", "1", and
// their unambiguous prefixes).
bool reads_as_on(std::string_view value);

}  // namespace pgmoat::policy
