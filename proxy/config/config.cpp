#include "pgmoat/config/config.h"

#include "section.h"

#include "pgmoat/common/ascii.h"
#include "pgmoat/common/utc_time.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/secret_file.h"
#include "pgmoat/common/toml_reader.h"
#include "pgmoat/config/keys.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace pgmoat::config {

namespace fs = std::filesystem;

bool App::may_use(std::string_view target) const {
    return std::find(targets.begin(), targets.end(), target) != targets.end();
}

const Target* Config::find_target(std::string_view name) const {
    auto it = targets.find(name);
    return it == targets.end() ? nullptr : &it->second;
}

const App* Config::find_app(std::string_view name) const {
    auto it = apps.find(name);
    return it == apps.end() ? nullptr : &it->second;
}

const std::vector<std::string>& default_forward_parameters() {
    // Written once, as README shows it: the key table's default, read as the file would be.
    static const std::vector<std::string> params = [] {
        const Key* key = find_key("server", "forward_parameters");
        std::string text = "forward_parameters = " + std::string(key->default_value) + "\n";
        toml::table doc = parse_toml(text, "the key table's server.forward_parameters");
        return *TomlTable(doc, "the key table").strings("forward_parameters");
    }();
    return params;
}

// Plain HTTP only: the webhook is meant for a relay on the same network.
std::variant<HttpUrl, std::string> parse_http_url(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (text.starts_with("https://"))
        return std::string("https is not supported: pgmoat posts plain HTTP (point it at a local relay for TLS)");
    if (!text.starts_with(scheme)) return fmt::format("\"{}\" is not an http:// URL", text);
    auto rest = text.substr(scheme.size());
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    HttpUrl u;
    if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
    if (authority.find('@') != std::string_view::npos) return std::string("user:password@ in the URL is not supported");
    std::string_view host = authority;
    auto colon = authority.rfind(':');
    bool bracketed = !authority.empty() && authority.front() == '[';
    if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
        host = authority.substr(0, colon);
        auto portstr = authority.substr(colon + 1);
        unsigned p = 0;
        auto res = std::from_chars(portstr.data(), portstr.data() + portstr.size(), p);
        if (res.ec != std::errc() || res.ptr != portstr.data() + portstr.size() || p == 0 || p > 65535)
            return fmt::format("\"{}\" is not a valid port", portstr);
        u.port = static_cast<uint16_t>(p);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return fmt::format("\"{}\" names no host", text);
    auto bad = [](char c) { return c <= ' ' || c == 0x7f || c == '/' || c == '?' || c == '#'; };
    if (std::any_of(host.begin(), host.end(), bad)) return fmt::format("\"{}\" is not a host name", host);
    if (std::any_of(u.path.begin(), u.path.end(), [](char c) { return c <= ' ' || c == 0x7f; }))
        return std::string("the path may not hold spaces or control characters");
    u.host = std::string(host);
    return u;
}

namespace {

std::string resolve_path(const std::string& base_file, const std::string& p) {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(base_file).parent_path() / p).lexically_normal().string();
}

bool valid_name(std::string_view s) {
    if (s.empty() || s.size() > 63) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
    });
}

// "host:port", "[v6]:port" or ":port".
void parse_listen(const Section& t, const std::string& text, std::string& host, uint16_t& port) {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) t.fail("listen", "expected \"host:port\", e.g. \"127.0.0.1:6432\"");
    std::string h = text.substr(0, colon);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    unsigned p = 0;
    auto portstr = std::string_view(text).substr(colon + 1);
    auto res = std::from_chars(portstr.data(), portstr.data() + portstr.size(), p);
    if (res.ec != std::errc() || res.ptr != portstr.data() + portstr.size() || p > 65535) {
        t.fail("listen", fmt::format("\"{}\" is not a valid port", portstr));
    }
    host = h.empty() ? "0.0.0.0" : h;
    port = static_cast<uint16_t>(p);
}

void read_approvals(Section t, ApprovalNotices& a) {
    if (auto v = t.string("webhook")) {
        auto url = parse_http_url(*v);
        if (auto* why = std::get_if<std::string>(&url)) t.fail("webhook", *why);
        auto& u = std::get<HttpUrl>(url);
        a.webhook = *v;
        a.webhook_host = u.host;
        a.webhook_port = u.port;
        a.webhook_path = u.path;
    }
    if (auto v = t.duration("webhook_timeout")) a.webhook_timeout = *v;
    if (auto v = t.boolean("webhook_outcomes")) a.webhook_outcomes = *v;
    t.reject_unknown_keys();
}

void read_server(Section t, Config& c) {
    Server& s = c.server;
    if (auto v = t.string("listen")) parse_listen(t, *v, s.listen_host, s.listen_port);
    if (auto v = t.integer("threads")) s.threads = static_cast<int>(*v);
    if (auto v = t.integer("max_client_connections")) s.max_client_connections = static_cast<int>(*v);
    if (auto v = t.duration("startup_timeout")) s.startup_timeout = *v;
    if (auto v = t.duration("idle_timeout")) s.idle_timeout = *v;
    if (auto v = t.duration("shutdown_timeout")) s.shutdown_timeout = *v;
    if (auto v = t.size("max_message_size")) s.max_message_bytes = static_cast<uint32_t>(*v);
    if (auto v = t.string("credentials")) c.credentials_file = resolve_path(c.file, *v);
    if (auto v = t.strings("forward_parameters")) {
        for (const auto& p : *v) {
            std::string lower = ascii::lower(p);
            // These change who the session is or what it can see: never from an app.
            for (const char* forbidden : {"user", "database", "options", "search_path", "role", "session_authorization",
                                          "replication", "standard_conforming_strings"}) {
                if (lower == forbidden) {
                    t.fail("forward_parameters", fmt::format("\"{}\" cannot be forwarded from apps", p));
                }
            }
        }
        s.forward_parameters = *v;
    }
    if (auto v = t.string("log_level")) s.log_level = *v;
    if (auto v = t.string("log_format")) s.log_format = *v;
    if (auto v = t.integer("peer_id")) s.peer_id = static_cast<int>(*v);
    if (auto v = t.string("upstream_connect"))
        s.upstream_connect = *v == "login" ? UpstreamConnect::login : UpstreamConnect::first_statement;
    if (auto table = t.table("tls")) {
        Section tls(*table, t.settings());
        auto cert = tls.string("cert");
        auto key = tls.string("key");
        if (!cert || !key) tls.fail_here("both cert and key are required for TLS");
        s.tls_cert = resolve_path(c.file, *cert);
        s.tls_key = resolve_path(c.file, *key);
        tls.reject_unknown_keys();
    }
    t.reject_unknown_keys();
}

Target read_target(const std::string& name, Section t, const std::string& config_file) {
    Target target;
    target.name = name;
    if (!valid_name(name)) t.fail_here("target names may use letters, digits, '_', '-' and '.'");
    if (name == "pgmoat") {
        t.fail_here(
            "the database name \"pgmoat\" opens the admin console: name the target otherwise "
            "(its real database can still be pgmoat: database = \"pgmoat\")");
    }
    auto host = t.string("host");
    if (!host || host->empty()) t.fail("host", "is required");
    target.host = *host;
    if (auto v = t.integer("port")) target.port = static_cast<uint16_t>(*v);
    target.database = t.string("database").value_or(name);
    auto user = t.string("user");
    if (!user || user->empty()) t.fail("user", "is required (the role pgmoat logs in as)");
    target.user = *user;
    auto pw_file = t.string("password_file");
    auto pw_env = t.string("password_env");
    if (pw_file && pw_env) t.fail("password_env", "set either password_file or password_env, not both");
    if (t.has("password"))
        t.fail("password", "passwords are not written in the config: use password_file or password_env");
    if (pw_file) {
        target.password = read_secret_file(resolve_path(config_file, *pw_file), "password file of target " + name);
    } else if (pw_env) {
        const char* v = std::getenv(pw_env->c_str());
        if (!v || !*v) t.fail("password_env", fmt::format("environment variable {} is not set", *pw_env));
        target.password = v;
    }
    if (auto v = t.string("sslmode")) {
        target.sslmode = *v == "disable" ? SslMode::disable : *v == "require" ? SslMode::require : SslMode::verify_full;
    }
    if (auto v = t.string("sslrootcert")) target.sslrootcert = resolve_path(config_file, *v);
    if (target.sslmode == SslMode::verify_full && target.sslrootcert.empty()) {
        t.fail("sslmode", "verify-full needs sslrootcert (the CA file that signed the server's certificate)");
    }
    if (auto v = t.duration("connect_timeout")) target.connect_timeout = *v;
    if (auto v = t.string("pool_mode")) target.pool_mode = *v == "session" ? PoolMode::session : PoolMode::transaction;
    Pool& pool = target.pool;
    if (auto v = t.integer("pool_size")) pool.pool_size = static_cast<int>(*v);
    if (auto v = t.integer("min_pool_size")) pool.min_pool_size = static_cast<int>(*v);
    if (pool.min_pool_size > pool.pool_size) t.fail("min_pool_size", "must not exceed pool_size");
    if (auto v = t.integer("max_client_connections")) pool.max_client_connections = static_cast<int>(*v);
    if (auto v = t.duration("pool_wait_timeout")) pool.wait_timeout = *v;
    if (auto v = t.duration("server_lifetime")) pool.server_lifetime = *v;
    if (auto v = t.duration("server_idle_timeout")) pool.server_idle_timeout = *v;
    if (auto v = t.string("session_state"))
        pool.session_state = *v == "pin" ? SessionStatePolicy::pin : SessionStatePolicy::reject;
    bool pool_keys = t.has("pool_size") || t.has("min_pool_size") || t.has("max_client_connections") ||
                     t.has("pool_wait_timeout") || t.has("server_lifetime") || t.has("server_idle_timeout") ||
                     t.has("session_state");
    if (pool_keys && target.pool_mode != PoolMode::transaction) {
        t.fail("pool_mode", "pool settings apply to pool_mode = \"transaction\" only");
    }
    if (auto v = t.boolean("freeze")) {
        target.freeze = *v;
        target.freeze_line = t.line_of("freeze");
    }
    if (auto v = t.string("freeze_action")) target.freeze_holds = *v == "hold";
    if (auto v = t.string("production")) {
        target.production = *v == "read_only" ? Target::Production::read_only
                            : *v == "no_ddl"  ? Target::Production::no_ddl
                                              : Target::Production::off;
        target.production_line = t.line_of("production");
    }
    if (auto windows = t.strings("freeze_windows")) {
        for (const auto& text : *windows) {
            auto w = parse_freeze_window(text);
            if (!w) {
                t.fail("freeze_windows", fmt::format("\"{}\" is not a window: write \"FROM/UNTIL\" in UTC, e.g. "
                                                     "\"2026-12-24T00:00:00Z/2026-12-27T00:00:00Z\"",
                                                     text));
            }
            target.freeze_windows.push_back(std::move(*w));
        }
    }
    t.reject_unknown_keys();
    return target;
}

}  // namespace

std::optional<FreezeWindow> parse_freeze_window(std::string_view text) {
    auto slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto from = parse_utc(text.substr(0, slash));
    auto until = parse_utc(text.substr(slash + 1));
    if (!from || !until || *until <= *from) return std::nullopt;
    return FreezeWindow{*from, *until, std::string(text)};
}

Config parse_config(const std::string& text, const std::string& file) {
    Config c;
    c.file = file;
    c.server.forward_parameters = default_forward_parameters();
    toml::table doc = parse_toml(text, file);
    TomlTable root(doc, file);
    if (auto server = root.table("server")) read_server(Section(*server, c.settings), c);
    c.policies.dir = resolve_path(file, "policies");
    c.policies.grants = resolve_path(file, "grants.toml");
    if (auto table = root.table("policies")) {
        Section p(*table, c.settings);
        if (auto v = p.string("dir")) c.policies.dir = resolve_path(file, *v);
        if (auto v = p.string("grants")) c.policies.grants = resolve_path(file, *v);
        if (auto v = p.duration("watch_interval")) c.policies.watch_interval = *v;
        p.reject_unknown_keys();
    }
    std::string base_dir = fs::path(file).parent_path().string();
    c.audit = audit::default_options(base_dir);
    if (auto a = root.table("audit")) c.audit = read_audit_options(*a, base_dir, &c.settings);
    if (auto table = root.table("metrics")) {
        Section m(*table, c.settings);
        c.metrics.enabled = true;
        if (auto v = m.string("listen")) parse_listen(m, *v, c.metrics.listen_host, c.metrics.listen_port);
        if (auto v = m.boolean("enabled")) c.metrics.enabled = *v;
        // The table alone turns the endpoint on: a reload must see that as a change too.
        if (!m.has("enabled")) c.settings["metrics.enabled"] = "true";
        if (auto v = m.duration("readiness_interval")) c.metrics.readiness_interval = *v;
        m.reject_unknown_keys();
    }
    if (auto a = root.table("approvals")) read_approvals(Section(*a, c.settings), c.approvals);
    if (auto table = root.table("analyzer")) {
        Section a(*table, c.settings);
        if (auto v = a.size("max_statement_size")) c.analyzer.max_statement_bytes = *v;
        if (auto v = a.integer("max_depth")) c.analyzer.max_depth = static_cast<uint32_t>(*v);
        if (auto v = a.size("cache_size")) c.analyzer.cache_bytes = *v;
        a.reject_unknown_keys();
    }
    auto targets = root.table("targets");
    if (!targets) root.fail_here("at least one [targets.NAME] table is required");
    for (auto& [name, t] : targets->tables()) c.targets.emplace(name, read_target(name, Section(t, c.settings), file));
    if (c.targets.empty()) targets->fail_here("at least one target is required");
    if (auto apps = root.table("apps")) {
        for (auto& [name, table] : apps->tables()) {
            Section t(table, c.settings);
            if (!valid_name(name)) t.fail_here("app names may use letters, digits, '_', '-' and '.'");
            App app;
            app.name = name;
            if (auto v = t.boolean("admin")) app.admin = *v;
            if (auto v = t.string("kind")) app.kind = *v;
            auto ts = t.strings("targets");
            // An operator's identity may hold the console only.
            if (!ts && !app.admin) {
                t.fail("targets",
                       "is required: the targets this app may connect to (or admin = true for an "
                       "identity that only opens the admin console)");
            }
            for (const auto& tn : ts ? *ts : std::vector<std::string>{}) {
                if (!c.find_target(tn)) t.fail("targets", fmt::format("no target named \"{}\" is defined", tn));
            }
            if (ts) app.targets = *ts;
            t.reject_unknown_keys();
            c.apps.emplace(name, std::move(app));
        }
    }
    if (auto peers = root.table("peers")) {
        for (auto& [name, table] : peers->tables()) {
            Section t(table, c.settings);
            int id = 0;
            auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
            if (ec != std::errc() || end != name.data() + name.size() || id < 1 || id > 255) {
                t.fail_here("peers are numbered 1 to 255: [peers.1], [peers.2], ...");
            }
            Peer peer;
            peer.id = id;
            auto host = t.string("host");
            if (!host) t.fail("host", "is required: where the peer listens for clients");
            peer.host = *host;
            if (auto v = t.integer("port")) peer.port = static_cast<uint16_t>(*v);
            t.reject_unknown_keys();
            c.peers.emplace(id, std::move(peer));
        }
    }
    if (c.server.peer_id > 0 && !c.peers.empty() && !c.peers.count(c.server.peer_id)) {
        root.fail_here(
            fmt::format("[server] peer_id = {} has no [peers.{}] table", c.server.peer_id, c.server.peer_id));
    }
    if (c.credentials_file.empty()) {
        root.fail_here("[server] credentials is required: the file with the apps' SCRAM verifiers");
    }
    root.reject_unknown_keys();
    return c;
}

std::vector<std::string> restart_only_changes(const Config& running, const Config& fresh) {
    std::vector<std::string> changed;
    auto value = [](const std::map<std::string, std::string>& settings, const std::string& path) {
        auto it = settings.find(path);
        return it == settings.end() ? std::string("its default") : it->second;
    };
    auto check = [&](const std::string& path) {
        auto dot = path.rfind('.');
        const Key* k = find_key(std::string_view(path).substr(0, dot), std::string_view(path).substr(dot + 1));
        if (!k || k->reload != Reload::restart) return;
        auto before = value(running.settings, path), after = value(fresh.settings, path);
        if (before != after) changed.push_back(fmt::format("{} ({} -> {})", path, before, after));
    };
    for (const auto& [path, v] : running.settings) check(path);
    for (const auto& [path, v] : fresh.settings)
        if (!running.settings.count(path)) check(path);
    std::sort(changed.begin(), changed.end());
    return changed;
}

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "cannot open config file");
    std::ostringstream buf;
    buf << in.rdbuf();
    return parse_config(buf.str(), path);
}

}  // namespace pgmoat::config
