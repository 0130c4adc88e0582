// What a statement leaves on its server connection beyond its transaction (a SET,
// LISTEN, a temporary table, ...), read from the analyzer's facts: in transaction
// pooling such a statement pins the client to its server connection or is
// rejected, or, for a plain SET, applied again on the next server connection.
// No I/O.
#pragma once

#include "pgmoat/sql/analysis.h"

#include <optional>
#include <string>

namespace pgmoat::session {

struct SessionState {
    std::string reason;       // for logs and metrics: "set", "listen", "temporary_table", ...
    std::string statement;    // as the client would name it: "SET work_mem", "LISTEN"
    std::string alternative;  // what to write instead, transaction-safe
    // RESET, SET ... TO DEFAULT, DISCARD ALL: they return settings to the server
    // connection's own login defaults, not this session's (its startup parameters
    // and the policy's pinned limits): refused in transaction pooling, never pinned.
    bool never_pinned = false;
    // A plain SET of constant values that pgmoat can apply again on any server
    // connection: the value as SQL after `SET name TO` ("'UTC'", "3", "'a', 'b'").
    // Run outside a transaction block, it is replayed, not pinned (Session::settle_settings).
    std::optional<std::string> replay = std::nullopt;
};

std::optional<SessionState> session_state(const sql::Statement& statement);

}  // namespace pgmoat::session
