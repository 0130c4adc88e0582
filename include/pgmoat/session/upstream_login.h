// pgmoat's own login to a target with the credentials only it holds: SCRAM-SHA-256
// (with channel binding over TLS), md5 or cleartext, then the server's
// ParameterStatus and BackendKeyData up to its first ReadyForQuery. No I/O.
#pragma once

#include "pgmoat/auth/scram.h"
#include "pgmoat/config/config.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/messages.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgmoat::session {

class UpstreamLogin {
  public:
    enum class Status { in_progress, ready, failed };

    // channel_binding: our view of the server's certificate when the connection is TLS.
    UpstreamLogin(const config::Target& target, std::vector<std::pair<std::string, std::string>> forward_parameters,
                  std::optional<auth::ChannelBinding> channel_binding);

    // The StartupMessage to send first.
    void start(std::string& out);
    Status on_message(const protocol::Frame& frame, std::string& out);

    // When failed: the error to give the client (FATAL, with a SQLSTATE a client
    // understands as "could not connect") and a reason for pgmoat's log.
    const protocol::ErrorFields& error() const { return error_; }
    const std::string& failure_reason() const { return reason_; }

    // When ready: what the server reported, to relay to the client.
    const std::vector<std::pair<std::string, std::string>>& parameters() const { return parameters_; }
    const protocol::BackendKeyData& backend_key() const { return key_; }
    // NoticeResponse frames the server sent during login, relayed to the client.
    const std::string& notices() const { return notices_; }

  private:
    Status on_authentication(const protocol::Authentication& a, std::string& out);
    Status fail(const std::string& sqlstate, const std::string& message, std::string reason);

    const config::Target& target_;
    std::vector<std::pair<std::string, std::string>> forward_parameters_;
    std::optional<auth::ChannelBinding> channel_binding_;
    std::optional<auth::ScramClient> scram_;
    bool authenticated_ = false;
    protocol::ErrorFields error_;
    std::string reason_;
    std::vector<std::pair<std::string, std::string>> parameters_;
    protocol::BackendKeyData key_;
    bool have_key_ = false;
    std::string notices_;
};

}  // namespace pgmoat::session
