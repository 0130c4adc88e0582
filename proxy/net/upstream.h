// pgmoat's connections to a target's address: the TCP connection a session's
// server runs over (the engine does TLS negotiation and the login on it), and the
// short-lived connection that carries a CancelRequest.
#pragma once

#include "asio.h"
#include "pgmoat/config/config.h"

#include <string>

namespace pgmoat::net {

// Resolves the target's host and connects, trying each address in turn as libpq
// does. No timeout of its own: the caller closes the socket when time is up.
awaitable<error_code> connect_tcp(tcp::socket& socket, const config::Target& target);

// Opens a connection to the target and sends `request` (a CancelRequest); returns
// once the server has closed the connection, which PostgreSQL does after
// signalling the backend. Best effort, as in PostgreSQL: failures are logged only.
awaitable<void> send_cancel(config::Target target, std::string request);

}  // namespace pgmoat::net
