// Opening pgmoat's own connection to a target: TCP, TLS as the target's sslmode
// says, and the login, within the target's connect_timeout.
#pragma once

#include "asio.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/upstream_login.h"
#include "transport.h"

#include <memory>
#include <optional>

namespace pgmoat::net {

struct UpstreamConnection {
    std::unique_ptr<Transport> transport;  // null on failure
    std::optional<session::UpstreamLogin> login;
    protocol::ErrorFields error;  // on failure: the FATAL for the client
    std::string reason;           // on failure: for pgmoat's log
};

awaitable<UpstreamConnection> connect_upstream(const config::Target& target, asio::ssl::context* tls,
                                               std::vector<std::pair<std::string, std::string>> forward_parameters);

// Opens a connection to the target and sends a CancelRequest with the server's
// own key. Best effort, as in PostgreSQL: the result is not reported to the client.
awaitable<void> send_cancel(config::Target target, protocol::BackendKeyData key);
// Where a CancelRequest for a peer's session goes: the peer's client port, in
// plain TCP as libpq sends it.
config::Target peer_target(const config::Peer& peer);

}  // namespace pgmoat::net
