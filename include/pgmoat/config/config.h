// pgmoat.toml: where pgmoat listens, the upstream targets it logs into with
// credentials it alone holds, and which app identities may use which target.
#pragma once

#include "pgmoat/audit/options.h"
#include "pgmoat/config/keys.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pgmoat {
class TomlTable;
}

namespace pgmoat::config {

using std::chrono::milliseconds;

// How pgmoat protects its connection to a target, named as libpq's sslmode.
enum class SslMode { disable, require, verify_full };

// How long a client holds a server connection of a target.
enum class PoolMode {
    session,      // for its whole session (its own server connection)
    transaction,  // for a transaction, or a statement or Sync-bounded batch outside one
};

// What a client in transaction pooling that does something outliving its
// transaction (SET, LISTEN, a temporary table, ...) gets.
enum class SessionStatePolicy {
    pin,     // the server connection stays the client's for the rest of its session
    reject,  // an error naming the statement and the transaction-safe alternative
};

// pool_mode = "transaction": a pool per (target, upstream role), as pgbouncer's.
struct Pool {
    int pool_size = 20;                        // server connections at most
    int min_pool_size = 0;                     // idle ones kept open past server_idle_timeout
    int max_client_connections = 0;            // clients of the target at most; 0: [server]'s only
    milliseconds wait_timeout{120000};         // a client waiting for a server (pgbouncer's query_wait_timeout)
    milliseconds server_lifetime{3600000};     // closed once returned after this long
    milliseconds server_idle_timeout{600000};  // idle this long: closed
    SessionStatePolicy session_state = SessionStatePolicy::pin;

    bool operator==(const Pool&) const = default;
};

// A time during which a target is frozen: [from, until), UTC.
struct FreezeWindow {
    std::chrono::system_clock::time_point from, until;
    std::string text;  // as written, "2026-12-24T00:00:00Z/2026-12-27T00:00:00Z"

    bool operator==(const FreezeWindow&) const = default;
};

struct Target {
    std::string name;  // what clients ask for as their database, e.g. "prod"
    std::string host;
    uint16_t port = 5432;
    std::string database;  // the real database name upstream
    std::string user;      // pgmoat's own login upstream
    std::string password;  // resolved from password_file or password_env; never logged
    SslMode sslmode = SslMode::disable;
    std::string sslrootcert;  // CA file for verify-full
    milliseconds connect_timeout{5000};
    PoolMode pool_mode = PoolMode::session;
    Pool pool;  // pool_mode = "transaction"
    // Production freeze (session/freezes.h): every write is refused while `freeze`
    // is on or the time is inside one of the windows. Reloads apply to running sessions.
    bool freeze = false;
    int freeze_line = 0;  // where freeze = true is written, for the error
    std::vector<FreezeWindow> freeze_windows;
    // freeze_action = "hold": a write during the freeze waits for a person's
    // approval (README "Approval holds") instead of being refused.
    bool freeze_holds = false;
    // Production mode (session/freezes.h): for agents' and people's identities
    // (kind "agent" or "person"), read_only refuses every write and gives their
    // server sessions the second lock; no_ddl refuses DDL and DCL unless a grant
    // lifts it. Apps (kind "app") are not affected.
    enum class Production { off, read_only, no_ddl };
    Production production = Production::off;
    int production_line = 0;

    bool operator==(const Target&) const = default;
};

struct App {
    std::string name;
    std::vector<std::string> targets;  // target names this app may connect to
    // May open the admin console (database "pgmoat"): SHOW, RELOAD, PAUSE, KILL.
    bool admin = false;
    // What is behind the identity: "app" (code), "agent" (an AI agent: an MCP server,
    // a coding agent) or "person". Policies select on it ([applies_to] kinds).
    std::string kind = "app";
    bool may_use(std::string_view target) const;

    bool operator==(const App&) const = default;
};

// When a client session gets its connection to the target.
enum class UpstreamConnect {
    login,            // during login: a target that is down fails the login
    first_statement,  // at the first statement, as pgbouncer does: idle sessions hold no server
};

struct Server {
    std::string listen_host = "127.0.0.1";
    uint16_t listen_port = 6432;
    int threads = 0;  // 0: one per core
    int max_client_connections = 1000;
    milliseconds startup_timeout{10000};
    milliseconds idle_timeout{0};  // 0: none
    milliseconds shutdown_timeout{30000};
    // A client message's length word above this is refused (FATAL 08P01). The
    // default is PostgreSQL's own limit (PQ_LARGE_MESSAGE_LIMIT, 1 GB - 2 bytes):
    // large messages stream through, so it costs no memory.
    uint32_t max_message_bytes = (1u << 30) - 2;
    std::string tls_cert;
    std::string tls_key;
    // Startup parameters forwarded to the target; names compared case-insensitively.
    std::vector<std::string> forward_parameters;
    std::string log_level = "info";
    std::string log_format = "text";  // or "json"
    UpstreamConnect upstream_connect = UpstreamConnect::login;
    // This instance's number among its [peers] (1-255); 0: no peering.
    int peer_id = 0;

    bool operator==(const Server&) const = default;
};

// Another pgmoat instance behind the same load balancer: a CancelRequest for one
// of its sessions that reaches this instance is forwarded to it (the cancel key
// carries the peer's number), as pgbouncer's peering does.
struct Peer {
    int id = 0;
    std::string host;
    uint16_t port = 6432;

    bool operator==(const Peer&) const = default;
};

struct Policies {
    std::string dir;  // every *.toml in it; default "policies" beside the config file
    // How often the files are checked for changes (hot reload); 0: only on SIGHUP.
    milliseconds watch_interval{1000};
    // Time-boxed elevations (policy/grants.h); default "grants.toml" beside the
    // config file, written by `pgmoat grant` and read with the policies.
    std::string grants;

    bool operator==(const Policies&) const = default;
};

struct Analyzer {
    uint64_t max_statement_bytes = 4u << 20;  // longer statements are rejected (54000)
    uint32_t max_depth = 10000;               // deeper nesting is rejected (54001)
    uint64_t cache_bytes = 64u << 20;         // analyses kept for repeated statements

    bool operator==(const Analyzer&) const = default;
};

// The HTTP endpoint for Prometheus and health checks.
struct Metrics {
    bool enabled = false;
    std::string listen_host = "127.0.0.1";
    uint16_t listen_port = 9187;
    // How often each target is probed for /readyz.
    milliseconds readiness_interval{2000};

    bool operator==(const Metrics&) const = default;
};

// [approvals]: who hears of a statement held for approval besides the log and
// the metrics. Read at start and on every reload.
struct ApprovalNotices {
    // POST a JSON document per new pending approval (and per outcome) to
    // http://host:port/path; empty host: no webhook. Plain HTTP only.
    std::string webhook;  // as written
    std::string webhook_host;
    uint16_t webhook_port = 80;
    std::string webhook_path = "/";
    milliseconds webhook_timeout{5000};  // for the whole delivery: connect, send, answer
    bool webhook_outcomes = true;        // also POST when a hold ends (approved, denied, ...)

    bool operator==(const ApprovalNotices&) const = default;
};

struct Config {
    std::string file;
    Server server;
    Policies policies;
    Analyzer analyzer;
    audit::Options audit;
    Metrics metrics;
    ApprovalNotices approvals;
    std::string credentials_file;
    std::map<std::string, Target, std::less<>> targets;
    std::map<std::string, App, std::less<>> apps;
    std::map<int, Peer> peers;  // by peer id
    // Each key written in the file, by its full path ("targets.prod.port"), with its
    // value as TOML text: what a reload compares for the keys it cannot apply.
    std::map<std::string, std::string> settings;

    const Target* find_target(std::string_view name) const;
    const App* find_app(std::string_view name) const;

    bool operator==(const Config&) const = default;
};

// "http://host[:port][/path]" into its parts, or why it is not one.
struct HttpUrl {
    std::string host;
    uint16_t port = 80;
    std::string path = "/";
};
std::variant<HttpUrl, std::string> parse_http_url(std::string_view text);

// The startup parameters drivers send that are safe to pass on: the default of
// server.forward_parameters in the key table (keys.h).
const std::vector<std::string>& default_forward_parameters();

// Loads and validates a config file; relative paths in it are resolved against the
// file's directory. Throws ConfigError naming file:line:column and the key.
Config load_config(const std::string& path);
Config parse_config(const std::string& text, const std::string& file);

// The [audit] table; each key set is recorded in settings when given.
audit::Options read_audit_options(TomlTable& audit, const std::string& base_dir,
                                  std::map<std::string, std::string>* settings = nullptr);

// The keys a reload cannot apply (keys.h: Reload::restart) whose value differs
// between the configuration pgmoat started with and a fresh one, each as
// "server.threads (2 -> 4)"; empty when a reload applies everything that changed.
std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh);

// "2026-12-24T00:00:00Z/2026-12-27T00:00:00Z" (UTC, from before until); nullopt otherwise.
std::optional<FreezeWindow> parse_freeze_window(std::string_view text);

}  // namespace pgmoat::config
