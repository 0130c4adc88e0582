// What the connection engine's tests share: drivers already logged in or just
// accepted, config variants, and readers of what a client was sent.
#pragma once

#include "../../support/engine_driver.h"
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace pgmoat::session::testing {

using namespace pgmoat::testing;
using Kind = Action::Kind;

// A field of the first ErrorResponse in bytes written to a client ("" if none).
inline std::string error_field(std::string_view bytes, char field) {
    for (const auto& [type, body] : messages_in(bytes)) {
        if (type != backend::ErrorResponse) continue;
        auto fields = read_error_fields(body);
        return fields ? std::string(find_field(*fields, field)) : std::string();
    }
    return {};
}

inline std::string sqlstate(std::string_view bytes) {
    return error_field(bytes, 'C');
}
inline std::string message_of(std::string_view bytes) {
    return error_field(bytes, 'M');
}
inline std::string severity(std::string_view bytes) {
    return error_field(bytes, 'S');
}

inline std::string cancel_request(int32_t pid, int32_t secret) {
    std::string out;
    write_cancel_request(out, pid, secret);
    return out;
}

inline std::string terminate() {
    std::string out;
    write_terminate(out);
    return out;
}

// The last disconnect record's reason.
inline std::string disconnect_reason(const MemoryAuditPort& audit) {
    for (auto it = audit.records.rbegin(); it != audit.records.rend(); ++it) {
        if (it->event == audit::Event::disconnect) return it->reason.value_or("");
    }
    return "(none)";
}

// A connection that has only just been accepted.
struct Fresh {
    EngineServices services;
    EngineDriver d;
    explicit Fresh(DriverOptions o = {}) : d(services, std::move(o)) { d.start(); }
};

inline DriverOptions with_config(const std::string& server) {
    DriverOptions o;
    o.config = engine_config(server);
    return o;
}

inline DriverOptions with_tls() {
    DriverOptions o;
    o.tls_available = true;
    return o;
}

// upstream_connect = "first_statement", after a first session of target dev
// connected at login and left its welcome behind.
inline DriverOptions remembered_welcome(EngineServices& services) {
    DriverOptions o = with_config("upstream_connect = \"first_statement\"");
    EngineDriver first(services, o);
    first.start();
    REQUIRE(first.login());
    CHECK(first.count(Kind::connect_upstream) == 1);
    return o;
}

// A logged-in session on target dev, with the server's welcome answered.
struct LoggedIn {
    EngineServices services;
    std::unique_ptr<EngineDriver> d;
    explicit LoggedIn(DriverOptions o = {}, std::string_view app = "orders") {
        d = std::make_unique<EngineDriver>(services, std::move(o));
        d->start();
        REQUIRE(d->login(app));
        d->new_client_bytes();
        d->new_server_bytes();
    }
    EngineDriver& operator*() { return *d; }
    EngineDriver* operator->() { return d.get(); }
};

}  // namespace pgmoat::session::testing
