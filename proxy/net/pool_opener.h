// A pool's server connection opened ahead, with no client waiting for it
// (min_pool_size): connect and log in as the pool's server connections do.
#pragma once

#include "asio.h"
#include "pgmoat/config/config.h"
#include "pgmoat/session/server_connection.h"
#include "transport.h"

#include <string>

namespace pgmoat::net {

// Connects `transport` to the target, over TLS unless its sslmode is "disable"
// (SSLRequest, then the handshake with `tls`, the target's context), and logs in
// with no client's parameters, within the target's connect_timeout; fills
// `server`'s key and reported parameters. Returns "" once the server is ready,
// else what went wrong.
awaitable<std::string> open_server_connection(Transport& transport, const config::Target& target,
                                              asio::ssl::context* tls, session::ServerConnection& server);

}  // namespace pgmoat::net
