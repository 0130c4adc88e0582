// The table of pgmoat.toml's keys (keys.h says what reads it).
#include "pgmoat/config/keys.h"

#include <fmt/format.h>

namespace pgmoat::config {

namespace {
constexpr int64_t kB = 1024, MB = 1024 * kB, GB = 1024 * MB;
constexpr int64_t sec = 1000;
constexpr auto restart = Reload::restart;
}  // namespace

const std::vector<Key>& keys() {
    using T = KeyType;
    // One key a line or two, read as a table.
    // clang-format off
    static const std::vector<Key> table = {
        {"server.listen", T::string, R"("127.0.0.1:6432")", 0, 0, {}, restart,
         "where clients connect: \"host:port\", \"[v6]:port\" or \":port\" (all addresses)"},
        {"server.credentials", T::string, "", 0, 0, {}, Reload::applies,
         "required: the file with the apps' SCRAM verifiers (see Credentials)"},
        {"server.threads", T::integer, "0", 0, 256, {}, restart,
         "I/O threads; 0: one per core. Where the database and its clients share the cores, 1 costs less CPU per "
         "statement (bench/README.md)"},
        {"server.max_client_connections", T::integer, "1000", 1, 1'000'000, {}, Reload::applies,
         "client connections at most; beyond it: FATAL 53300"},
        {"server.startup_timeout", T::duration, R"("10s")", 1, 0, {}, Reload::applies,
         "the whole login, including pgmoat's own login upstream"},
        {"server.idle_timeout", T::duration, "0", 0, 0, {}, Reload::applies,
         "close sessions idle this long (FATAL 57P05); 0: never"},
        {"server.shutdown_timeout", T::duration, R"("30s")", 0, 0, {}, Reload::applies,
         "SIGTERM: running statements get this long to finish"},
        {"server.max_message_size", T::size, "1073741822", 1 * kB, 1 * GB, {}, Reload::applies,
         "client messages longer: FATAL 08P01; default PostgreSQL's own limit (1 GB - 2 bytes), "
         "large messages stream through"},
        {"server.forward_parameters", T::strings,
         R"(["application_name", "client_encoding", "DateStyle", "TimeZone", "extra_float_digits", )"
         R"("IntervalStyle", "lc_monetary", "lc_numeric", "lc_time", "geqo", "statement_timeout", "lock_timeout", )"
         R"("idle_in_transaction_session_timeout", "bytea_output", "client_min_messages"])", 0, 0, {}, Reload::applies,
         "startup parameters forwarded to targets (case-insensitive); user, database, options, search_path, "
         "role, session_authorization, replication and standard_conforming_strings never are"},
        {"server.log_level", T::string, R"("info")", 0, 0, {"debug", "info", "warning", "error"}, Reload::applies,
         "pgmoat's own log on stderr"},
        {"server.log_format", T::string, R"("text")", 0, 0, {"text", "json"}, Reload::applies,
         "json: one object per line, {\"time\",\"level\",\"message\"}"},
        {"server.upstream_connect", T::string, R"("login")", 0, 0, {"login", "first_statement"}, Reload::applies,
         "first_statement: a session gets its server connection at its first statement, as pgbouncer"},
        {"server.peer_id", T::integer, "0", 0, 255, {}, Reload::applies,
         "this instance's number among its [peers]; 0: no peering"},
        {"server.tls.cert", T::string, "", 0, 0, {}, Reload::applies,
         "TLS for clients (answers SSLRequest with 'S'): certificate file, with key"},
        {"server.tls.key", T::string, "", 0, 0, {}, Reload::applies, "TLS for clients: private key file, with cert"},

        {"targets.*.host", T::string, "", 0, 0, {}, Reload::applies, "required: the PostgreSQL server"},
        {"targets.*.port", T::integer, "5432", 1, 65535, {}, Reload::applies, "its port"},
        {"targets.*.database", T::string, "", 0, 0, {}, Reload::applies,
         "the real database name; default: the target's name"},
        {"targets.*.user", T::string, "", 0, 0, {}, Reload::applies, "required: the role pgmoat logs in as"},
        {"targets.*.password_file", T::string, "", 0, 0, {}, Reload::applies,
         "file holding that role's password (never in this file)"},
        {"targets.*.password_env", T::string, "", 0, 0, {}, Reload::applies, "or the environment variable holding it"},
        {"targets.*.sslmode", T::string, R"("disable")", 0, 0, {"disable", "require", "verify-full"}, Reload::applies,
         "TLS to the target, as libpq's sslmode"},
        {"targets.*.sslrootcert", T::string, "", 0, 0, {}, Reload::applies, "CA file for verify-full"},
        {"targets.*.connect_timeout", T::duration, R"("5s")", 1, 0, {}, Reload::applies,
         "connect, TLS and login to the target"},
        {"targets.*.pool_mode", T::string, R"("session")", 0, 0, {"session", "transaction"}, Reload::applies,
         "transaction: clients share server connections (see Transaction pooling)"},
        {"targets.*.pool_size", T::integer, "20", 1, 10000, {}, Reload::applies,
         "transaction pooling: server connections at most, per upstream role"},
        {"targets.*.min_pool_size", T::integer, "0", 0, 10000, {}, Reload::applies,
         "server connections kept open: opened ahead once the pool has had a client, reopened when one closes, kept past server_idle_timeout; at most pool_size"},
        {"targets.*.max_client_connections", T::integer, "0", 0, 1'000'000, {}, Reload::applies,
         "clients of this pool at most; 0: [server]'s only"},
        {"targets.*.pool_wait_timeout", T::duration, R"("2min")", 1, 0, {}, Reload::applies,
         "a client waiting longer for a server connection: FATAL 08P01 query_wait_timeout"},
        {"targets.*.server_lifetime", T::duration, R"("1h")", 0, 0, {}, Reload::applies,
         "a server connection is closed when returned after this long"},
        {"targets.*.server_idle_timeout", T::duration, R"("10min")", 0, 0, {}, Reload::applies,
         "a server connection idle this long is closed"},
        {"targets.*.session_state", T::string, R"("pin")", 0, 0, {"pin", "reject"}, Reload::applies,
         "what SET, LISTEN, temporary tables, ... get in transaction pooling"},
        {"targets.*.freeze", T::boolean, "false", 0, 0, {}, Reload::applies,
         "production freeze: every write refused (25006), running sessions too"},
        {"targets.*.freeze_windows", T::strings, "[]", 0, 0, {}, Reload::applies,
         "scheduled freezes, \"FROM/UNTIL\" in UTC"},
        {"targets.*.freeze_action", T::string, R"("reject")", 0, 0, {"reject", "hold"}, Reload::applies,
         "hold: a write during a freeze waits for a person's approval"},
        {"targets.*.production", T::string, R"("off")", 0, 0, {"off", "read_only", "no_ddl"}, Reload::applies,
         "production mode for agents and people (see Production mode)"},

        {"apps.*.targets", T::strings, "", 0, 0, {}, Reload::applies,
         "required unless admin: the targets this app may connect to"},
        {"apps.*.admin", T::boolean, "false", 0, 0, {}, Reload::applies, "may open the admin console (dbname=pgmoat)"},
        {"apps.*.kind", T::string, R"("app")", 0, 0, {"app", "agent", "person"}, Reload::applies,
         "what is behind the identity; policies select on it"},

        {"peers.*.host", T::string, "", 0, 0, {}, Reload::applies,
         "required: where peer N (1-255) listens for clients"},
        {"peers.*.port", T::integer, "6432", 1, 65535, {}, Reload::applies, "its port"},

        {"policies.dir", T::string, R"("policies")", 0, 0, {}, Reload::applies, "every *.toml in it (see Policies)"},
        {"policies.watch_interval", T::duration, R"("1s")", 0, 0, {}, Reload::applies,
         "reload when a policy file changes; 0: only on SIGHUP"},
        {"policies.grants", T::string, R"("grants.toml")", 0, 0, {}, Reload::applies,
         "time-boxed grants (pgmoat grant), reloaded with the policies"},

        {"analyzer.max_statement_size", T::size, R"("4MB")", 1 * kB, 1 * GB, {}, Reload::applies,
         "longer statements are rejected (54000)"},
        {"analyzer.max_depth", T::integer, "10000", 10, 100000, {}, Reload::applies,
         "deeper nesting is rejected (54001)"},
        {"analyzer.cache_size", T::size, R"("64MB")", 0, 0, {}, restart,
         "analyses of repeated statements, bounded by bytes"},

        {"audit.enabled", T::boolean, "true", 0, 0, {}, restart, "write the audit log (see Audit log)"},
        {"audit.path", T::string, R"("pgmoat-audit.jsonl")", 0, 0, {}, restart, "the log file; \"-\": stdout"},
        {"audit.fsync", T::string, R"("interval")", 0, 0, {"every_record", "interval"}, restart,
         "when records are synced to disk"},
        {"audit.fsync_interval", T::duration, R"("100ms")", 1, 60 * sec, {}, restart, "with fsync = \"interval\""},
        {"audit.failure_policy", T::string, R"("block")", 0, 0, {"block", "continue"}, restart,
         "block: refuse statements while the log cannot be written"},
        {"audit.queue_records", T::integer, "65536", 16, 100'000'000, {}, restart,
         "records waiting for the writer at most"},
        {"audit.queue_bytes", T::size, R"("64MB")", 64 * kB, 16 * GB, {}, restart,
         "and their (approximate) bytes at most"},
        {"audit.hmac_key_file", T::string, "", 0, 0, {}, restart,
         "chain with HMAC-SHA-256 under this key (16 bytes or more) instead of SHA-256"},

        {"metrics.enabled", T::boolean, "true", 0, 0, {}, restart,
         "the HTTP endpoint for Prometheus and health checks; off unless [metrics] is present"},
        {"metrics.listen", T::string, R"("127.0.0.1:9187")", 0, 0, {}, restart, "where it listens"},
        {"metrics.readiness_interval", T::duration, R"("2s")", 100, 0, {}, Reload::applies,
         "how often each target is probed for /readyz"},

        {"approvals.webhook", T::string, "", 0, 0, {}, Reload::applies,
         "POST each held statement to this http:// URL (see Approval holds); unset: no webhook"},
        {"approvals.webhook_timeout", T::duration, R"("5s")", 100, 60 * sec, {}, Reload::applies,
         "for the whole delivery"},
        {"approvals.webhook_outcomes", T::boolean, "true", 0, 0, {}, Reload::applies,
         "also POST when a hold ends (approved, denied, ...)"},
        // clang-format on
    };
    return table;
}

std::string_view Key::name() const {
    return path.substr(path.rfind('.') + 1);
}

std::string_view Key::table() const {
    return path.substr(0, path.rfind('.'));
}

namespace {
// "targets.*" matches "targets.prod"; a "*" part matches any one part.
bool table_matches(std::string_view pattern, std::string_view table) {
    while (true) {
        auto pdot = pattern.find('.'), tdot = table.find('.');
        auto p = pattern.substr(0, pdot), t = table.substr(0, tdot);
        if (p != "*" && p != t) return false;
        if (pdot == std::string_view::npos || tdot == std::string_view::npos) return pdot == tdot;
        pattern.remove_prefix(pdot + 1);
        table.remove_prefix(tdot + 1);
    }
}
}  // namespace

const Key* find_key(std::string_view table, std::string_view name) {
    for (const auto& k : keys())
        if (k.name() == name && table_matches(k.table(), table)) return &k;
    return nullptr;
}

std::string format_duration_ms(int64_t ms) {
    return ms != 0 && ms % sec == 0 ? fmt::format("{}s", ms / sec) : fmt::format("{}ms", ms);
}

std::string format_size(int64_t bytes) {
    for (auto [unit, factor] : {std::pair{"GB", GB}, {"MB", MB}, {"kB", kB}})
        if (bytes != 0 && bytes % factor == 0) return fmt::format("{}{}", bytes / factor, unit);
    return fmt::format("{}", bytes);
}

namespace {
std::string type_text(const Key& k) {
    auto bound = [&](int64_t v) {
        return k.type == KeyType::duration ? format_duration_ms(v)
               : k.type == KeyType::size   ? format_size(v)
                                           : fmt::format("{}", v);
    };
    std::string range;
    if (!k.allowed.empty())
        range = fmt::format(": {}", fmt::join(k.allowed, ", "));
    else if (k.has_range() && k.max == 0)
        range = k.min == 1 && k.type == KeyType::duration ? " > 0" : fmt::format(" ≥ {}", bound(k.min));
    else if (k.has_range())
        range = fmt::format(" {}..{}", bound(k.min), bound(k.max));
    static constexpr const char* names[] = {"string", "integer", "boolean", "duration", "size", "strings"};
    return names[static_cast<int>(k.type)] + range;
}
}  // namespace

std::string reference_markdown() {
    std::string out = "| key | type | default | reload | what it does |\n|---|---|---|---|---|\n";
    for (const auto& k : keys()) {
        std::string dflt = k.default_value.empty() ? "—" : fmt::format("`{}`", k.default_value);
        out += fmt::format("| `{}` | {} | {} | {} | {} |\n", k.path, type_text(k), dflt,
                           k.reload == Reload::applies ? "applies" : "restart", k.doc);
    }
    return out;
}

}  // namespace pgmoat::config
