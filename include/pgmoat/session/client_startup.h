// The startup phase of a client connection, from its first packet to a verified
// login: SSLRequest / GSSENCRequest answers, protocol negotiation, the startup
// parameter allowlist, and SCRAM-SHA-256 against the credentials file. No I/O:
// packets in, bytes to send and the next step out.
#pragma once

#include "pgmoat/auth/credentials.h"
#include "pgmoat/auth/scram.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/identity.h"

#include <memory>
#include <optional>
#include <string>

namespace pgmoat::session {

struct StartupContext {
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const auth::Credentials> credentials;
    // The policies of the session's snapshot: their [limits] bound the client's
    // startup settings and are pinned on the upstream login. Null: no limits.
    std::shared_ptr<const policy::PolicySet> policies;
    bool tls_available = false;  // a certificate is configured
    bool over_connection_limit = false;
    std::string client_address;
    uint16_t client_port = 0;
};

enum class StartupStep {
    read_more,      // send `out`, then read the next packet or message
    start_tls,      // send `out` ('S'), then run the TLS handshake, then call tls_established()
    cancel,         // forward cancel_request() and close without a reply
    authenticated,  // the client proved its identity: connect to identity().target
    admin_console,  // an admin identity asked for database "pgmoat": open the console, no target
    close,          // send `out` (usually a FATAL ErrorResponse) and close
};

class ClientStartup {
  public:
    explicit ClientStartup(StartupContext context);

    // Until the StartupMessage is accepted, frames are untyped startup packets;
    // afterwards they are typed messages (PasswordMessage). Ask which to decode.
    bool expects_typed_messages() const { return state_ != State::initial; }

    StartupStep on_frame(const protocol::Frame& frame, std::string& out);
    // After a successful TLS handshake: channel binding data of our certificate.
    void tls_established(std::optional<auth::ChannelBinding> channel_binding);
    // Refuse whatever is in progress with a FATAL (timeouts, shutdown).
    static void write_fatal(std::string& out, const std::string& sqlstate, const std::string& message,
                            const std::string& detail = {}, const std::string& hint = {});

    const Identity& identity() const { return identity_; }
    const protocol::CancelRequest& cancel_request() const { return cancel_; }
    const config::Target& target() const { return *target_; }
    // Why the login failed, for pgmoat's own log (never contains secrets), and the
    // SQLSTATE the client was given ("" if it just went away).
    const std::string& failure_reason() const { return failure_; }
    const std::string& failure_sqlstate() const { return failure_sqlstate_; }
    // The exchange got as far as checking a password.
    bool password_checked() const { return scram_.has_value(); }
    bool tls_active() const { return tls_active_; }

  private:
    enum class State { initial, sasl_initial, sasl_continue, done };
    StartupStep on_startup_packet(const protocol::Frame& frame, std::string& out);
    StartupStep on_startup_message(const protocol::StartupMessage& m, std::string& out);
    StartupStep on_sasl(const protocol::Frame& frame, std::string& out);
    StartupStep authenticated(std::string& out);
    StartupStep pin_setting_limits(std::string& out);
    StartupStep refuse(std::string& out, const std::string& sqlstate, const std::string& message,
                       const std::string& reason, const std::string& hint = {});

    StartupContext context_;
    State state_ = State::initial;
    bool tls_active_ = false;
    bool ssl_requested_ = false;
    bool gss_requested_ = false;
    bool unknown_app_ = false;
    std::optional<auth::ChannelBinding> channel_binding_;
    std::optional<auth::ScramServer> scram_;
    Identity identity_;
    const config::Target* target_ = nullptr;
    protocol::CancelRequest cancel_;
    std::string failure_;
    std::string failure_sqlstate_;
};

}  // namespace pgmoat::session
