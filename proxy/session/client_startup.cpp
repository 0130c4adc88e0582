#include "pgmoat/session/client_startup.h"

#include "pgmoat/common/ascii.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/policy/read_only_lock.h"

#include "pgmoat/policy/setting_limits.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/admin_console.h"
#include "pgmoat/session/startup_options.h"

#include <fmt/format.h>

#include <algorithm>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {
using ascii::iequals;

// PostgreSQL's parse_bool for the "replication" parameter: anything true-ish asks
// for a replication connection.
bool is_false(std::string_view v) {
    return iequals(v, "false") || iequals(v, "off") || iequals(v, "no") || v == "0" || iequals(v, "f") ||
           iequals(v, "n");
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}
}  // namespace

ClientStartup::ClientStartup(StartupContext context) : context_(std::move(context)) {
    identity_.client_address = context_.client_address;
    identity_.client_port = context_.client_port;
}

void ClientStartup::write_fatal(std::string& out, const std::string& sqlstate, const std::string& message,
                                const std::string& detail, const std::string& hint) {
    ErrorFields e;
    e.severity = "FATAL";
    e.sqlstate = sqlstate;
    e.message = message;
    e.detail = detail;
    e.hint = hint;
    write_error_response(out, e);
}

StartupStep ClientStartup::refuse(std::string& out, const std::string& sqlstate, const std::string& message,
                                  const std::string& reason, const std::string& hint) {
    write_fatal(out, sqlstate, message, {}, hint);
    failure_ = reason;
    failure_sqlstate_ = sqlstate;
    state_ = State::done;
    return StartupStep::close;
}

void ClientStartup::tls_established(std::optional<auth::ChannelBinding> channel_binding) {
    tls_active_ = true;
    identity_.tls = true;
    channel_binding_ = std::move(channel_binding);
}

StartupStep ClientStartup::on_frame(const Frame& frame, std::string& out) {
    switch (state_) {
        case State::initial:
            return on_startup_packet(frame, out);
        case State::sasl_initial:
        case State::sasl_continue:
            return on_sasl(frame, out);
        case State::done:
            break;
    }
    return refuse(out, sqlstate::protocol_violation, "unexpected message after authentication",
                  "message after login completed");
}

StartupStep ClientStartup::on_startup_packet(const Frame& frame, std::string& out) {
    StartupPacket packet = read_startup_packet(frame.body);
    if (std::holds_alternative<SSLRequest>(packet)) {
        // A second request (or one after GSSENC was refused and TLS is up) is a
        // protocol violation, as in PostgreSQL.
        if (ssl_requested_ || tls_active_) {
            return refuse(out, sqlstate::protocol_violation, "unsupported frontend protocol: repeated SSLRequest",
                          "repeated SSLRequest");
        }
        ssl_requested_ = true;
        if (context_.tls_available) {
            out.push_back('S');
            return StartupStep::start_tls;
        }
        out.push_back('N');
        return StartupStep::read_more;
    }
    if (std::holds_alternative<GSSENCRequest>(packet)) {
        if (gss_requested_ || tls_active_) {
            return refuse(out, sqlstate::protocol_violation, "unsupported frontend protocol: repeated GSSENCRequest",
                          "repeated GSSENCRequest");
        }
        gss_requested_ = true;
        out.push_back('N');  // pgmoat does not offer GSSAPI encryption
        return StartupStep::read_more;
    }
    if (auto* c = std::get_if<CancelRequest>(&packet)) {
        cancel_ = *c;
        state_ = State::done;
        return StartupStep::cancel;
    }
    if (auto* invalid = std::get_if<InvalidStartup>(&packet)) {
        return refuse(out, sqlstate::protocol_violation, invalid->error, invalid->error);
    }
    return on_startup_message(std::get<StartupMessage>(packet), out);
}

StartupStep ClientStartup::on_startup_message(const StartupMessage& m, std::string& out) {
    if (context_.over_connection_limit) {
        return refuse(out, sqlstate::too_many_connections, "sorry, too many clients already",
                      "over max_client_connections");
    }
    const auto& cfg = *context_.config;
    const auto& allowed = cfg.server.forward_parameters;
    auto forwardable = [&](std::string_view name) {
        return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return iequals(a, name); });
    };
    // A parameter given twice counts once, with its last value, as the server
    // applies them in order: what pgmoat checks is what the server ends up with.
    auto forward = [&](const std::string& name, const std::string& value) {
        auto& params = identity_.forward_parameters;
        auto it = std::find_if(params.begin(), params.end(), [&](const auto& p) { return iequals(p.first, name); });
        if (it == params.end())
            params.emplace_back(name, value);
        else
            it->second = value;
    };
    std::string user;
    std::string database;
    std::vector<std::string> unrecognized_options;
    std::vector<std::pair<std::string, std::string>> option_settings;
    for (const auto& [name, value] : m.parameters) {
        if (name == "options") {
            // Settings in -c name=value form (PGOPTIONS); each must be one pgmoat
            // forwards, and goes upstream as a parameter of its own.
            auto options = parse_startup_options(value);
            if (!options.error.empty()) {
                return refuse(
                    out, options.unsupported ? sqlstate::insufficient_privilege : sqlstate::syntax_error,
                    options.unsupported
                        ? fmt::format("pgmoat: {} in startup parameter \"options\" is not supported", options.error)
                        : fmt::format("pgmoat: startup parameter \"options\": {}", options.error),
                    "startup parameter \"options\" refused",
                    "pgmoat takes only settings there: -c name=value or --name=value");
            }
            for (auto& [setting, setting_value] : options.settings) {
                if (!forwardable(setting)) {
                    return refuse(
                        out, sqlstate::insufficient_privilege,
                        fmt::format("pgmoat: setting \"{}\" in startup parameter \"options\" is not allowed", setting),
                        fmt::format("setting \"{}\" in startup parameter \"options\" refused", setting),
                        fmt::format("pgmoat forwards only these settings: {}", join(allowed)));
                }
                option_settings.emplace_back(std::move(setting), std::move(setting_value));
            }
        } else if (name == "user") {
            user = value;
        } else if (name == "database") {
            database = value;
        } else if (name.rfind("_pq_.", 0) == 0) {
            // Protocol extensions pgmoat does not implement: say so, don't fail.
            unrecognized_options.push_back(name);
        } else if (name == "replication") {
            if (!is_false(value)) {
                return refuse(out, sqlstate::feature_not_supported, "pgmoat: replication connections are not supported",
                              "replication connection refused",
                              "connect without the replication parameter; replicate from the database directly");
            }
        } else {
            if (!forwardable(name)) {
                return refuse(out, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: startup parameter \"{}\" is not allowed", name),
                              fmt::format("startup parameter \"{}\" refused", name),
                              fmt::format("pgmoat forwards only these startup parameters: {}", join(allowed)));
            }
            forward(name, value);
        }
    }
    // The server applies options before the other parameters, which win; among
    // options too the last of a name counts.
    auto explicit_count = identity_.forward_parameters.size();
    for (const auto& setting : option_settings) {
        auto& params = identity_.forward_parameters;
        auto same = [&](const auto& p) { return iequals(p.first, setting.first); };
        if (std::any_of(params.begin(), params.begin() + static_cast<std::ptrdiff_t>(explicit_count), same)) continue;
        forward(setting.first, setting.second);
    }
    for (const auto& [name, value] : identity_.forward_parameters)
        if (iequals(name, "application_name")) identity_.application_name = value;
    if (user.empty()) {
        return refuse(out, sqlstate::invalid_authorization_specification,
                      "no PostgreSQL user name specified in startup packet", "no user name");
    }
    identity_.app = user;
    identity_.target = database.empty() ? user : database;
    if (m.minor > 0 || !unrecognized_options.empty()) {
        write_negotiate_protocol_version(out, 0, unrecognized_options);
    }

    const auto* verifier = context_.credentials->find(user);
    unknown_app_ = verifier == nullptr;
    scram_.emplace(verifier ? *verifier : auth::mock_verifier(user), tls_active_ ? channel_binding_ : std::nullopt);
    write_authentication_sasl(out, scram_->mechanisms());
    state_ = State::sasl_initial;
    return StartupStep::read_more;
}

StartupStep ClientStartup::on_sasl(const Frame& frame, std::string& out) {
    if (frame.type == frontend::Terminate) {
        failure_ = "client ended the connection during authentication";
        state_ = State::done;
        return StartupStep::close;
    }
    if (frame.type != frontend::PasswordMessage) {
        return refuse(out, sqlstate::protocol_violation,
                      fmt::format("expected SASL response, got message type {}", static_cast<int>(frame.type)),
                      "unexpected message during authentication");
    }
    auto auth_failed = [&]() {
        if (scram_->failure() == auth::ScramFailure::protocol_violation) {
            return refuse(out, sqlstate::protocol_violation, "malformed SCRAM message",
                          fmt::format("SCRAM exchange failed: {}", scram_->failure_reason()));
        }
        return refuse(out, sqlstate::invalid_password,
                      fmt::format("password authentication failed for user \"{}\"", identity_.app),
                      unknown_app_ ? std::string("no credentials for this app")
                                   : fmt::format("authentication failed: {}", scram_->failure_reason()));
    };
    if (state_ == State::sasl_initial) {
        auto initial = read_sasl_initial_response(frame.body);
        if (!initial)
            return refuse(out, sqlstate::protocol_violation, "malformed SASLInitialResponse message",
                          "malformed SASL message");
        auto mechanisms = scram_->mechanisms();
        if (std::find(mechanisms.begin(), mechanisms.end(), initial->mechanism) == mechanisms.end()) {
            return refuse(out, sqlstate::protocol_violation, "client selected an invalid SASL authentication mechanism",
                          "invalid SASL mechanism");
        }
        auto server_first = scram_->client_first(initial->mechanism, initial->data);
        if (!server_first) return auth_failed();
        write_authentication(out, auth_request::SASLContinue, *server_first);
        state_ = State::sasl_continue;
        return StartupStep::read_more;
    }
    auto server_final = scram_->client_final(frame.body);
    if (!server_final) return auth_failed();
    write_authentication(out, auth_request::SASLFinal, *server_final);
    return authenticated(out);
}

StartupStep ClientStartup::authenticated(std::string& out) {
    // Target and grant checks come after authentication so that a client without
    // valid credentials learns nothing about targets or grants.
    const auto& cfg = *context_.config;
    const config::App* app = cfg.find_app(identity_.app);
    if (identity_.target == kAdminDatabase) {
        if (!app || !app->admin) {
            return refuse(out, sqlstate::invalid_authorization_specification,
                          fmt::format("pgmoat: app \"{}\" may not open the admin console", identity_.app),
                          "admin console refused: not an admin identity",
                          fmt::format("an operator makes an identity an admin with admin = true under [apps.{}] in "
                                      "pgmoat.toml",
                                      identity_.app));
        }
        state_ = State::done;
        return StartupStep::admin_console;
    }
    target_ = cfg.find_target(identity_.target);
    if (!target_) {
        return refuse(
            out, sqlstate::invalid_catalog_name, fmt::format("pgmoat: no target named \"{}\"", identity_.target),
            fmt::format("unknown target \"{}\"", identity_.target),
            app ? fmt::format("app \"{}\" may connect to: {}", identity_.app, join(app->targets)) : std::string{});
    }
    if (!app || !app->may_use(identity_.target)) {
        return refuse(
            out, sqlstate::invalid_authorization_specification,
            fmt::format("pgmoat: app \"{}\" may not connect to target \"{}\"", identity_.app, identity_.target),
            fmt::format("target \"{}\" not granted", identity_.target),
            app && !app->targets.empty()
                ? fmt::format("app \"{}\" may connect to: {}", identity_.app, join(app->targets))
                : std::string("ask the operator to grant a target to this app in pgmoat.toml"));
    }
    identity_.kind = app->kind;
    return pin_setting_limits(out);
}

StartupStep ClientStartup::pin_setting_limits(std::string& out) {
    if (context_.policies) {
        auto policy = context_.policies->select(
            {identity_.app, identity_.target, identity_.application_name, identity_.client_address, identity_.kind});
        auto& forward = identity_.forward_parameters;
        // The target's production = "read_only" gives agents and people the lock too.
        bool production_lock = target_ && target_->production == config::Target::Production::read_only &&
                               (identity_.kind == "agent" || identity_.kind == "person");
        if (policy->read_only || production_lock) {
            // The second lock: the server itself refuses writes (25006), whatever
            // pgmoat's analysis lets through.
            auto sent = std::find_if(forward.begin(), forward.end(),
                                     [](const auto& p) { return iequals(p.first, "default_transaction_read_only"); });
            if (sent != forward.end() && !policy::reads_as_on(sent->second)) {
                return refuse(
                    out, sqlstate::insufficient_privilege,
                    fmt::format("pgmoat: startup parameter default_transaction_read_only={} is not allowed: "
                                "{} is read-only",
                                sent->second,
                                policy->read_only
                                    ? fmt::format("policy \"{}\"", policy->name)
                                    : fmt::format("target \"{}\" (production = read_only)", identity_.target)),
                    "startup parameter \"default_transaction_read_only\" off for a read-only policy", "leave it out");
            }
            if (sent == forward.end()) forward.emplace_back("default_transaction_read_only", "on");
        }
        for (const auto& limit : policy->setting_limits) {
            auto sent = std::find_if(forward.begin(), forward.end(),
                                     [&](const auto& p) { return iequals(p.first, limit.parameter); });
            if (sent == forward.end()) {
                // The server starts the session at the limit; RESET comes back to it.
                forward.emplace_back(limit.parameter, limit.value);
                continue;
            }
            auto value = policy::setting_base_value(limit.parameter, sent->second);
            if (!value || *value > limit.base_value) {
                return refuse(out, sqlstate::insufficient_privilege,
                              fmt::format("pgmoat: startup parameter {}={} is above the limit of policy \"{}\"",
                                          limit.parameter, sent->second, policy->name),
                              fmt::format("startup parameter \"{}\" above its limit", limit.parameter),
                              fmt::format("{} may be at most {} ({}:{}); leave it out or lower it", limit.parameter,
                                          limit.value, limit.source.file, limit.source.line));
            }
        }
    }
    state_ = State::done;
    return StartupStep::authenticated;
}

}  // namespace pgmoat::session
