// A pooled server connection's state as pgmoat knows it, handed with its socket
// from client to client: its backend key, what the server reported at login, the
// settings pgmoat applied on it for the last client, and the statements pgmoat
// prepared on it under its own names. No I/O.
#pragma once

#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/welcome.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace pgmoat::session {

struct ServerConnection {
    uint64_t id = 0;  // in its pool
    protocol::BackendKeyData key{};
    Parameters reported;  // ParameterStatus at its login
    // The settings of the last client, applied with SET: its startup parameters and
    // the plain SETs it ran (name, the value as SQL after TO: see Session::settings());
    // names absent here have the server's login default.
    Parameters applied;
    std::unordered_set<std::string> prepared;  // server-side names (prepared_name())
};

// The name a client's prepared statement has on every server connection: one per
// distinct Parse (text and parameter types), so clients preparing the same
// statement share it, and a name can be prepared again without asking the server.
std::string prepared_name(std::string_view parse_rest);

// The simple Query that turns `applied` into `wanted` on a server connection (SET
// and RESET), or "" when they already agree. Values are SQL, as after `SET name TO`.
std::string apply_parameters(const Parameters& applied, const Parameters& wanted);

}  // namespace pgmoat::session
