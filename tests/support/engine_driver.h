// The connection engine with scripted peers, shared by the engine's unit tests and
// the fuzz targets: the services it needs kept in memory, a clock the test moves,
// a client that logs in with SCRAM, a server that accepts pgmoat's login, and the
// actions net/ would carry out done by hand. Nothing here asserts: callers check
// what they care about with their own framework.
#pragma once

#include "pgmoat/audit/record.h"
#include "pgmoat/auth/credentials.h"
#include "pgmoat/auth/scram.h"
#include "pgmoat/config/config.h"
#include "pgmoat/metrics/registry.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/connection.h"

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::testing {

inline constexpr const char* kAppPassword = "app-password-1";

inline void write_file(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// The shipped policies, plus one for the app "capped" that caps rows, audits raw
// text and parameters, one in monitor mode for the app "watched", and one for the
// app "largeobjects" that allows the large-object functions (but server files). Loaded once
// per process from copies in a private scratch directory.
inline std::shared_ptr<const policy::PolicySet> engine_policies(const std::string& source_dir) {
    static const auto set = [&] {
        std::string dir =
            std::filesystem::temp_directory_path().string() + "/pgmoat-policies-" + std::to_string(::getpid());
        std::filesystem::create_directories(dir);
        for (const auto& e : std::filesystem::directory_iterator(source_dir + "/policies")) {
            if (e.path().extension() == ".toml") {
                std::filesystem::copy_file(e.path(), dir + "/" + e.path().filename().string(),
                                           std::filesystem::copy_options::overwrite_existing);
            }
        }
        write_file(dir + "/zz-capped.toml", R"([policy]
extends = "baseline"
priority = 20
[applies_to]
apps = ["capped"]
[limits]
max_rows = 3
statements_per_second = 1000000
[audit]
raw_statement = true
parameters = true
)");
        write_file(dir + "/zz-watched.toml", R"([policy]
extends = "baseline"
priority = 20
mode = "monitor"
[applies_to]
apps = ["watched"]
)");
        write_file(dir + "/zz-largeobjects.toml", R"([policy]
extends = "baseline"
priority = 20
[applies_to]
apps = ["largeobjects"]
[functions]
deny = ["pg_sleep*", "lo_import", "lo_export"]
)");
        auto loaded = std::make_shared<const policy::PolicySet>(policy::load_policy_dir(dir));
        std::filesystem::remove_all(dir);
        return loaded;
    }();
    return set;
}

// "ops" is an admin (the console, no target). Apps "orders", "capped" and "watched" may use targets "dev" and "tls"
// (which asks for TLS upstream), "largeobjects" only "dev"; "prod" is granted to no one. `server` is extra [server]
// settings, one per line; `upstream_password` is pgmoat's password on every target (none: the server trusts pgmoat).
inline std::shared_ptr<const config::Config> engine_config(const std::string& server = {},
                                                           const std::string& upstream_password = {}) {
    auto c = config::parse_config(R"([server]
credentials = "credentials.toml"
)" + server + R"(
[targets.dev]
host = "127.0.0.1"
user = "pgmoat"
database = "app"
[targets.prod]
host = "127.0.0.1"
user = "pgmoat"
[targets.tls]
host = "db.example"
user = "pgmoat"
sslmode = "require"
[apps.orders]
targets = ["dev", "tls"]
[apps.capped]
targets = ["dev", "tls"]
[apps.watched]
targets = ["dev", "tls"]
[apps.largeobjects]
targets = ["dev"]
[apps.ops]
admin = true
)",
                                  "/nonexistent/pgmoat.toml");
    for (auto& [name, target] : c.targets) target.password = upstream_password;
    return std::make_shared<const config::Config>(std::move(c));
}

inline std::shared_ptr<const auth::Credentials> engine_credentials() {
    static const auto creds = [] {
        auto c = std::make_shared<auth::Credentials>();
        // One iteration: PBKDF2 per login stays cheap in tests and the fuzzer.
        std::vector<uint8_t> salt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        for (const char* app : {"orders", "capped", "watched", "largeobjects", "ops"}) {
            c->verifiers.emplace(app, auth::ScramVerifier::from_password(kAppPassword, salt, 1));
        }
        return c;
    }();
    return creds;
}

// Server parameters as PostgreSQL reports them at login.
inline session::Parameters server_parameters() {
    return {{"application_name", ""},
            {"client_encoding", "UTF8"},
            {"DateStyle", "ISO, MDY"},
            {"integer_datetimes", "on"},
            {"IntervalStyle", "postgres"},
            {"is_superuser", "off"},
            {"server_encoding", "UTF8"},
            {"server_version", "15.5"},
            {"session_authorization", "pgmoat"},
            {"standard_conforming_strings", "on"},
            {"TimeZone", "UTC"}};
}

// What a server answers to pgmoat's StartupMessage when it trusts pgmoat.
inline std::string server_welcome(int32_t pid = 4242, int32_t secret = 99) {
    std::string out;
    protocol::write_authentication(out, protocol::auth_request::Ok);
    for (const auto& [name, value] : server_parameters()) protocol::write_parameter_status(out, name, value);
    protocol::write_backend_key_data(out, pid, secret);
    protocol::write_ready_for_query(out, 'I');
    return out;
}

inline std::string startup_message(std::string_view user, std::string_view database,
                                   std::vector<std::pair<std::string, std::string>> extra = {}) {
    std::vector<std::pair<std::string, std::string>> params = {{"user", std::string(user)},
                                                               {"database", std::string(database)}};
    for (auto& p : extra) params.push_back(std::move(p));
    std::string out;
    protocol::write_startup_message(out, params);
    return out;
}

// Every message in a byte string, as (type, body); stops at the first incomplete one.
// (Readers here return views into their input: keep it alive.)
inline std::vector<std::pair<char, std::string>> messages_in(std::string_view bytes) {
    std::vector<std::pair<char, std::string>> out;
    while (!bytes.empty()) {
        auto r = protocol::decode_message(bytes, 0x7fffffff);
        if (r.status != protocol::DecodeStatus::frame) break;
        out.emplace_back(r.frame.type, std::string(r.frame.body));
        bytes.remove_prefix(r.frame.size);
    }
    return out;
}

// What follows the one-byte answers to SSLRequest / GSSENCRequest ('N', 'S').
inline std::string_view after_ssl_answers(std::string_view out) {
    while (!out.empty() && (out.front() == 'N' || out.front() == 'S') &&
           (out.size() == 1 || protocol::decode_message(out, 1 << 20).status != protocol::DecodeStatus::frame)) {
        out.remove_prefix(1);
    }
    return out;
}

inline std::optional<protocol::Authentication> authentication_in(std::string_view bytes, int32_t code) {
    while (!bytes.empty()) {
        auto r = protocol::decode_message(bytes, 1 << 20);
        if (r.status != protocol::DecodeStatus::frame) return std::nullopt;
        if (r.frame.type == protocol::backend::Authentication) {
            auto a = protocol::read_authentication(r.frame.body);
            if (a && a->code == code) return a;
        }
        bytes.remove_prefix(r.frame.size);
    }
    return std::nullopt;
}

// Collects audit records in memory; with holds set, the engine waits for
// on_durable, which the test sends when it likes.
struct MemoryAuditPort : session::AuditPort {
    bool ok = true;
    bool holds = false;
    std::vector<audit::Record> records;
    std::vector<uint64_t> tickets;  // records whose durability the engine waits for
    bool accepting() const override { return ok; }
    bool holds_results() const override { return holds; }
    void submit(audit::Record&& record, uint64_t ticket) override {
        records.push_back(std::move(record));
        if (ticket) tickets.push_back(ticket);
    }
};

// The services every connection shares, once per test or fuzz process.
struct EngineServices {
    metrics::Registry registry;
    session::ConnectionMetrics metrics{registry};
    session::StatementMetrics statements{registry};
    session::CancelRegistry cancels;
    session::WelcomeCache welcomes;
    session::FunctionNames function_names;
    session::RateLimiter limiter;
    sql::AnalysisCache cache{1 << 20};
    session::SessionDirectory directory;
    session::TargetPauses pauses;
};

struct DriverOptions {
    std::shared_ptr<const config::Config> config = engine_config();
    bool tls_available = false;
    bool over_connection_limit = false;
    bool analysis_cache = false;
    bool audit = true;
    size_t stream_threshold = 256 * 1024;
    session::AdminState* admin = nullptr;  // null: the console cannot be opened
};

// One engine and the hands that carry out its actions. Actions that need an
// answer are answered at once (success) unless the test turns that off.
class EngineDriver {
  public:
    using Clock = session::Connection::Clock;

    EngineDriver(EngineServices& services, DriverOptions options = {},
                 const std::string& source_dir = PGMOAT_SOURCE_DIR)
        : engine_(context(services, options, source_dir)) {}
    EngineDriver(const EngineDriver&) = delete;
    EngineDriver& operator=(const EngineDriver&) = delete;

    session::Connection& engine() { return engine_; }
    MemoryAuditPort audit;
    Clock::time_point now = Clock::time_point() + std::chrono::hours(1);

    // Everything written to each side, and every action, in order.
    std::string client_got, server_got;
    std::vector<session::Action> actions;
    bool auto_connect = true;  // connect_upstream: connected at once
    bool auto_cancel = true;   // send_cancel: sent at once
    std::vector<uint8_t> server_certificate = std::vector<uint8_t>(64, 0x5a);

    void start() {
        engine_.start();
        pump();
    }
    // Bytes from a side, in pieces of `piece` bytes (0: as they come).
    void from_client(std::string_view bytes, size_t piece = 0) { from(session::Side::client, bytes, piece); }
    void from_server(std::string_view bytes, size_t piece = 0) { from(session::Side::server, bytes, piece); }
    void from(session::Side side, std::string_view bytes, size_t piece) {
        while (!bytes.empty()) {
            size_t n = piece ? std::min(piece, bytes.size()) : bytes.size();
            engine_.feed(side, bytes.substr(0, n));
            bytes.remove_prefix(n);
            pump();
        }
    }
    // Moves the clock, ticking at each deadline on the way as net/'s timer does.
    void advance(std::chrono::milliseconds d) {
        auto end = now + d;
        for (int ticks = 0; ticks < 1000; ++ticks) {
            auto at = engine_.deadline();
            if (at > end) break;
            now = std::max(now, at);
            engine_.on_tick();
            pump();
        }
        now = end;
        pump();
    }
    bool closed() const { return closed_; }
    bool drained() const { return drained_; }
    size_t count(session::Action::Kind kind) const {
        size_t n = 0;
        for (const auto& a : actions) n += a.kind == kind;
        return n;
    }
    // What arrived since the last call.
    std::string new_client_bytes() { return take(client_got, client_seen_); }
    std::string new_server_bytes() { return take(server_got, server_seen_); }

    // Takes the engine's output and carries out its actions until it has none.
    void pump() {
        for (bool more = true; more;) {
            more = false;
            std::string buf;
            engine_.take_output(session::Side::client, buf);
            if (!buf.empty()) client_got += buf, more = true;
            engine_.take_output(session::Side::server, buf);
            if (!buf.empty()) server_got += buf, more = true;
            while (auto a = engine_.next_action()) {
                more = true;
                actions.push_back(*a);
                carry_out(*a);
            }
        }
    }

    // The SCRAM exchange as a correct client, answering the AuthenticationSASL the
    // engine sent last. True when the engine accepted the proof (SASLFinal verified).
    bool scram(const std::string& password = kAppPassword) {
        std::string got = new_client_bytes();
        auto request = authentication_in(after_ssl_answers(got), protocol::auth_request::SASL);
        if (!request) return false;
        auto mechanisms = protocol::read_sasl_mechanisms(request->payload);
        if (!mechanisms) return false;
        bool plus = std::find(mechanisms->begin(), mechanisms->end(), "SCRAM-SHA-256-PLUS") != mechanisms->end();
        std::optional<auth::ChannelBinding> binding;
        if (plus) binding = channel_binding_;
        auth::ScramClient client(password, binding);
        std::string msg;
        protocol::write_sasl_initial_response(msg, client.mechanism(), client.client_first());
        from_client(msg);
        got = new_client_bytes();
        auto cont = authentication_in(got, protocol::auth_request::SASLContinue);
        if (!cont) return false;
        auto final_msg = client.server_first(cont->payload);
        if (!final_msg) return false;
        msg.clear();
        protocol::write_sasl_response(msg, *final_msg);
        from_client(msg);
        std::string after = new_client_bytes();
        auto final_auth = authentication_in(after, protocol::auth_request::SASLFinal);
        unseen_client_ = after;
        return final_auth && client.server_final(final_auth->payload);
    }
    // StartupMessage and SCRAM: true when the client proved its password.
    bool authenticate(std::string_view app = "orders", std::string_view database = "dev",
                      const std::string& password = kAppPassword) {
        from_client(startup_message(app, database));
        return scram(password);
    }
    // A whole login: startup, SCRAM, the server accepting pgmoat (when asked), up
    // to the client's ReadyForQuery. True when the client got it.
    bool login(std::string_view app = "orders", std::string_view database = "dev") {
        if (!authenticate(app, database)) return false;
        if (count(session::Action::Kind::connect_upstream) > 0 && server_got.empty() == false) {
            from_server(server_welcome());
        }
        std::string welcome = unseen_client_ + new_client_bytes();
        unseen_client_.clear();
        auto msgs = messages_in(welcome);
        return !msgs.empty() && msgs.back().first == protocol::backend::ReadyForQuery;
    }
    // The channel binding the client computes over TLS (the certificate's hash).
    void set_channel_binding(auth::ChannelBinding b) { channel_binding_ = std::move(b); }

  private:
    session::ConnectionContext context(EngineServices& s, const DriverOptions& o, const std::string& source_dir) {
        session::ConnectionContext c;
        c.id = 7;
        c.config = o.config;
        c.credentials = engine_credentials();
        c.policies = engine_policies(source_dir);
        c.tls_available = o.tls_available;
        if (o.tls_available) c.tls_channel_binding = channel_binding_;
        c.over_connection_limit = o.over_connection_limit;
        c.client_address = "192.0.2.7";
        c.client_port = 40000;
        c.cancels = &s.cancels;
        c.welcomes = &s.welcomes;
        c.function_names = &s.function_names;
        c.analyses = o.analysis_cache ? &s.cache : nullptr;
        c.statement_metrics = &s.statements;
        c.metrics = &s.metrics;
        c.rate_limiter = &s.limiter;
        c.audit = o.audit ? &audit : nullptr;
        c.clock = [this] { return now; };
        c.stream_threshold = o.stream_threshold;
        c.directory = &s.directory;
        c.pauses = &s.pauses;
        c.admin = o.admin;
        return c;
    }
    void carry_out(const session::Action& a) {
        using Kind = session::Action::Kind;
        switch (a.kind) {
            case Kind::start_client_tls:
                engine_.on_client_tls(true, {});
                break;
            case Kind::connect_upstream:
                if (auto_connect) engine_.on_upstream_connected();
                break;
            case Kind::start_server_tls:
                engine_.on_server_tls(true, server_certificate, {});
                break;
            case Kind::send_cancel:
                if (auto_cancel) engine_.on_cancel_sent();
                break;
            case Kind::drain_client:
                drained_ = true;
                break;
            // Transaction pooling's server connections are net/'s (ServerPools): its
            // decisions are tested in pool_test.cpp, its sockets by test_pooling.py.
            case Kind::lease_server:
            case Kind::release_server:
                break;
            case Kind::close:
                closed_ = true;
                break;
        }
    }
    static std::string take(const std::string& all, size_t& seen) {
        std::string out = all.substr(seen);
        seen = all.size();
        return out;
    }

    auth::ChannelBinding channel_binding_{"tls-server-end-point", std::vector<uint8_t>(32, 0xab)};
    session::Connection engine_;
    size_t client_seen_ = 0;
    size_t server_seen_ = 0;
    std::string unseen_client_;
    bool closed_ = false;
    bool drained_ = false;
};

}  // namespace pgmoat::testing
