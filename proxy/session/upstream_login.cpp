#include "pgmoat/session/upstream_login.h"

#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::session {

using namespace pgmoat::protocol;

UpstreamLogin::UpstreamLogin(const config::Target& target,
                             std::vector<std::pair<std::string, std::string>> forward_parameters,
                             std::optional<auth::ChannelBinding> channel_binding)
    : target_(target),
      forward_parameters_(std::move(forward_parameters)),
      channel_binding_(std::move(channel_binding)) {}

void UpstreamLogin::start(std::string& out) {
    std::vector<std::pair<std::string, std::string>> params = {{"user", target_.user}, {"database", target_.database}};
    for (const auto& p : forward_parameters_) params.push_back(p);
    // The statement analyzer parses with standard_conforming_strings on; pin it so
    // the server reads string literals exactly as pgmoat did.
    params.emplace_back("standard_conforming_strings", "on");
    write_startup_message(out, params);
}

UpstreamLogin::Status UpstreamLogin::fail(const std::string& sqlstate, const std::string& message, std::string reason) {
    error_.severity = "FATAL";
    error_.sqlstate = sqlstate;
    error_.message = message;
    reason_ = std::move(reason);
    return Status::failed;
}

UpstreamLogin::Status UpstreamLogin::on_message(const Frame& frame, std::string& out) {
    switch (frame.type) {
        case backend::Authentication: {
            auto a = read_authentication(frame.body);
            if (!a)
                return fail(sqlstate::connection_failure,
                            fmt::format("pgmoat: target \"{}\" sent a malformed authentication request", target_.name),
                            "malformed authentication request");
            return on_authentication(*a, out);
        }
        case backend::ErrorResponse: {
            auto fields = read_error_fields(frame.body);
            std::string code = fields ? std::string(find_field(*fields, 'C')) : "";
            std::string msg = fields ? std::string(find_field(*fields, 'M')) : "malformed error";
            // "Too many connections" and "starting up / shutting down" mean the same to
            // the client as from PostgreSQL itself; anything else about pgmoat's own
            // login (its password, its role) is pgmoat's problem, reported as a
            // connection failure so the client does not think its own password is wrong.
            std::string sqlstate = (code == sqlstate::too_many_connections || code == sqlstate::cannot_connect_now)
                                       ? code
                                       : sqlstate::connection_failure;
            return fail(sqlstate, fmt::format("pgmoat: target \"{}\" refused the connection: {}", target_.name, msg),
                        fmt::format("login refused by server: {} {}", code, msg));
        }
        case backend::NoticeResponse:
            notices_.append(frame.bytes());
            return Status::in_progress;
        case backend::ParameterStatus: {
            auto p = read_parameter_status(frame.body);
            if (!p)
                return fail(sqlstate::connection_failure,
                            fmt::format("pgmoat: target \"{}\" sent a malformed message", target_.name),
                            "malformed ParameterStatus");
            parameters_.emplace_back(std::string(p->name), std::string(p->value));
            return Status::in_progress;
        }
        case backend::BackendKeyData: {
            auto k = read_backend_key_data(frame.body);
            if (!k)
                return fail(sqlstate::connection_failure,
                            fmt::format("pgmoat: target \"{}\" sent a malformed message", target_.name),
                            "malformed BackendKeyData");
            key_ = *k;
            have_key_ = true;
            return Status::in_progress;
        }
        case backend::NegotiateProtocolVersion:
            // pgmoat asks for exactly 3.0 without extensions; nothing to negotiate.
            return Status::in_progress;
        case backend::ReadyForQuery:
            if (!authenticated_ || !read_ready_for_query(frame.body)) {
                return fail(sqlstate::connection_failure,
                            fmt::format("pgmoat: target \"{}\" sent ReadyForQuery before authentication", target_.name),
                            "ReadyForQuery before AuthenticationOk");
            }
            return Status::ready;
        default:
            return fail(sqlstate::connection_failure,
                        fmt::format("pgmoat: target \"{}\" sent an unexpected message during login", target_.name),
                        fmt::format("unexpected message type '{}' during login", frame.type));
    }
}

UpstreamLogin::Status UpstreamLogin::on_authentication(const Authentication& a, std::string& out) {
    auto auth_error = [&](const std::string& why) {
        return fail(sqlstate::connection_failure, fmt::format("pgmoat could not log in to target \"{}\"", target_.name),
                    why);
    };
    switch (a.code) {
        case auth_request::Ok:
            if (scram_ && !authenticated_) {
                // A server that skips SASLFinal never proved it knows the verifier.
                return auth_error("server ended SCRAM without proving its identity");
            }
            authenticated_ = true;
            return Status::in_progress;
        case auth_request::CleartextPassword:
            if (target_.password.empty()) return auth_error("server asks for a password and none is configured");
            write_password_message(out, target_.password);
            return Status::in_progress;
        case auth_request::MD5Password: {
            if (a.payload.size() != 4) return auth_error("malformed MD5 salt");
            if (target_.password.empty()) return auth_error("server asks for a password and none is configured");
            std::array<uint8_t, 4> salt;
            std::copy(a.payload.begin(), a.payload.end(), salt.begin());
            write_password_message(out, auth::md5_password_response(target_.user, target_.password, salt));
            return Status::in_progress;
        }
        case auth_request::SASL: {
            auto mechs = read_sasl_mechanisms(a.payload);
            if (!mechs) return auth_error("malformed SASL mechanism list");
            if (target_.password.empty()) return auth_error("server asks for a password and none is configured");
            bool plus = std::find(mechs->begin(), mechs->end(), "SCRAM-SHA-256-PLUS") != mechs->end();
            bool plain = std::find(mechs->begin(), mechs->end(), "SCRAM-SHA-256") != mechs->end();
            std::optional<auth::ChannelBinding> cb;
            if (plus && channel_binding_)
                cb = channel_binding_;
            else if (!plain)
                return auth_error("server offers no SASL mechanism pgmoat supports");
            scram_.emplace(target_.password, cb);
            std::string first = scram_->client_first();
            write_sasl_initial_response(out, scram_->mechanism(), first);
            return Status::in_progress;
        }
        case auth_request::SASLContinue: {
            if (!scram_) return auth_error("SASLContinue without SASL");
            auto final_msg = scram_->server_first(a.payload);
            if (!final_msg) return auth_error("SCRAM: " + scram_->error());
            write_sasl_response(out, *final_msg);
            return Status::in_progress;
        }
        case auth_request::SASLFinal:
            if (!scram_ || !scram_->server_final(a.payload)) {
                return auth_error("SCRAM: server signature did not verify" +
                                  (scram_ && !scram_->error().empty() ? ": " + scram_->error() : std::string()));
            }
            authenticated_ = true;
            return Status::in_progress;
        default:
            return auth_error(fmt::format("server asks for unsupported authentication method {}", a.code));
    }
}

}  // namespace pgmoat::session
