// The server: one io_context per thread, an acceptor that hands connections out in
// turn, signals (SIGTERM/SIGINT drain, SIGHUP reload, SIGUSR1 reopen the audit
// log), the policy file watcher and the operators' HTTP endpoint.
#include "pgmoat/net/server.h"

#include "admin_state.h"
#include "approval_webhook.h"
#include "client_connection.h"
#include "connection_set.h"
#include "http_endpoint.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/log.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/common/utc_time.h"
#include "pgmoat/metrics/process_collector.h"
#include "pgmoat/policy/loader.h"
#include "readiness.h"
#include "runtime.h"
#include "spawn.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <mutex>
#include <thread>

namespace pgmoat::net {

namespace {

using namespace std::chrono_literals;

// Level and format of pgmoat's own log, at start and on every reload.
void apply_logging(const config::Server& server) {
    log::Level level = log::Level::info;
    log::parse_level(server.log_level, level);
    log::set_level(level);
    log::Format format = log::Format::text;
    log::parse_format(server.log_format, format);
    log::set_format(format);
}

class Server {
  public:
    Server(std::string config_path, std::shared_ptr<const Snapshot> snapshot)
        : readiness_(runtime_), admin_(runtime_, connections_, readiness_, [this] { return reload(); }) {
        runtime_.config_path = std::move(config_path);
        runtime_.snapshot.store(std::move(snapshot));
        started_ = runtime_.current()->config;
        runtime_.freezes.set(runtime_.current()->config);
        set_grants();
        const auto& cfg = *runtime_.current()->config;
        runtime_.cancels.set_peer_id(cfg.server.peer_id);
        runtime_.analyses = std::make_unique<sql::AnalysisCache>(cfg.analyzer.cache_bytes);
        if (cfg.audit.enabled) runtime_.audit = std::make_unique<audit::AuditLog>(cfg.audit);
        runtime_.admin = &admin_;
        register_metrics();
        size_t n = cfg.server.threads > 0 ? static_cast<size_t>(cfg.server.threads)
                                          : std::max(1u, std::thread::hardware_concurrency());
        for (size_t i = 0; i < n; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(1));
            guards_.emplace_back(contexts_.back()->get_executor());
        }
        webhook_.emplace(*contexts_[0], runtime_);
        runtime_.approvals.set_listener([this](const session::ApprovalEvent& e) { webhook_->send(e); });
    }

    int run() {
        auto& main_ctx = *contexts_[0];
        auto snapshot = runtime_.current();
        const auto& cfg = *snapshot->config;
        listen(main_ctx, cfg.server);
        if (cfg.metrics.enabled) {
            http_.emplace(
                main_ctx, cfg.metrics.listen_host, cfg.metrics.listen_port,
                HttpHandlers{[this] { return runtime_.registry.render(); }, [this] { return readiness_.ready(); }});
            http_->start();
            log::info("metrics and health endpoint on http://{}:{}/metrics", cfg.metrics.listen_host, http_->port());
        }
        // Targets are probed for /readyz and for the admin console's SHOW TARGETS.
        bool console = std::any_of(cfg.apps.begin(), cfg.apps.end(), [](const auto& a) { return a.second.admin; });
        if (cfg.metrics.enabled || console)
            spawn(main_ctx.get_executor(), readiness_.probe_forever(), "readiness probe");
        log::info("pgmoat {} started with {} threads, listening on {}:{}, policies version {}", PGMOAT_VERSION,
                  contexts_.size(), acceptor_->local_endpoint().address().to_string(),
                  acceptor_->local_endpoint().port(), snapshot->policies->version);
        audit::Record start;
        start.event = audit::Event::pgmoat_start;
        start.policy_version = snapshot->policies->version;
        runtime_.audit_event(std::move(start));

        signals_.emplace(main_ctx, SIGTERM, SIGINT, SIGHUP);
        signals_->add(SIGUSR1);
        wait_for_signal();
        spawn(main_ctx.get_executor(), watch_policy_files(), "policy watcher");
        spawn(main_ctx.get_executor(), accept_loop(), "accept loop");
        spawn(main_ctx.get_executor(), runtime_.pools->maintain([this](const std::string& name) {
            TargetNow now;
            auto snapshot = runtime_.current();
            auto it = snapshot->config->targets.find(name);
            if (it == snapshot->config->targets.end()) return now;
            now.config = snapshot->config;
            now.target = &it->second;
            if (auto tls = snapshot->target_tls.find(name); tls != snapshot->target_tls.end()) now.tls = tls->second;
            return now;
        }),
              "pool maintenance");

        std::vector<std::thread> threads;
        for (size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
        main_ctx.run();
        for (auto& t : threads) t.join();
        // Sessions still open end with their io_contexts: their holds are not posted.
        runtime_.approvals.set_listener({});
        audit::Record stop;
        stop.event = audit::Event::pgmoat_stop;
        runtime_.audit_event(std::move(stop));
        if (runtime_.audit) runtime_.audit->stop();
        log::info("pgmoat stopped");
        return 0;
    }

  private:
    void listen(asio::io_context& ctx, const config::Server& s) {
        tcp::resolver resolver(ctx);
        error_code ec;
        auto endpoints = resolver.resolve(s.listen_host, std::to_string(s.listen_port), ec);
        if (ec || endpoints.empty()) {
            throw ConfigError(runtime_.config_path, 0, 0,
                              fmt::format("cannot resolve listen address {}: {}", s.listen_host, ec.message()));
        }
        tcp::endpoint endpoint = endpoints.begin()->endpoint();
        acceptor_.emplace(ctx);
        acceptor_->open(endpoint.protocol());
        acceptor_->set_option(tcp::acceptor::reuse_address(true));
        acceptor_->bind(endpoint, ec);
        if (ec) {
            throw ConfigError(runtime_.config_path, 0, 0,
                              fmt::format("cannot listen on {}:{}: {}", s.listen_host, s.listen_port, ec.message()));
        }
        acceptor_->listen(asio::socket_base::max_listen_connections);
    }

    void register_metrics() {
        auto& r = runtime_.registry;
        r.add(std::make_shared<metrics::ProcessCollector>());
        runtime_.net_metrics.policy_info.set({runtime_.current()->policies->version});
        mark_reload(true);
        for (const auto& [name, target] : runtime_.current()->config->targets)
            runtime_.net_metrics.connection.upstream_connect_errors.labels({name});
        auto* cache = runtime_.analyses.get();
        r.callback_counter("pgmoat_decision_cache_hits_total", "Statements whose analysis came from the cache.",
                           [cache] { return static_cast<double>(cache->stats().hits); });
        r.callback_counter("pgmoat_decision_cache_misses_total", "Statements analyzed anew.",
                           [cache] { return static_cast<double>(cache->stats().misses); });
        r.callback_gauge("pgmoat_decision_cache_bytes", "Memory held by cached analyses.",
                         [cache] { return static_cast<double>(cache->stats().bytes); });
        r.callback_gauge("pgmoat_grants_active", "Time-boxed grants in force now (pgmoat grant).", [this] {
            auto now = std::chrono::system_clock::now();
            double n = 0;
            for (const auto& g : runtime_.grants.all()) n += g.active(now) ? 1 : 0;
            return n;
        });
        r.callback_gauge("pgmoat_client_connections", "Client connections open now, logged in or not.",
                         [this] { return static_cast<double>(runtime_.clients.load()); });
        if (auto* log = runtime_.audit.get()) {
            r.callback_counter("pgmoat_audit_records_written_total", "Audit records appended to the log.",
                               [log] { return static_cast<double>(log->stats().records_written); });
            r.callback_counter("pgmoat_audit_write_errors_total", "Failed audit log writes, syncs or opens.",
                               [log] { return static_cast<double>(log->stats().write_errors); });
            r.callback_counter("pgmoat_audit_records_dropped_total",
                               "Audit records lost: refused by a full queue or never written.", [log] {
                                   auto s = log->stats();
                                   return static_cast<double>(s.dropped + s.lost);
                               });
            r.callback_gauge("pgmoat_audit_queue_depth", "Audit records waiting to be written.",
                             [log] { return static_cast<double>(log->stats().queue_records); });
            r.callback_gauge("pgmoat_audit_failing", "1 while the audit log cannot be written.",
                             [log] { return log->stats().failing ? 1.0 : 0.0; });
        }
    }

    awaitable<void> accept_loop() {
        size_t next = 0;
        const int hard_limit_slack = 64;
        while (true) {
            auto& ctx = *contexts_[next++ % contexts_.size()];
            auto [ec, socket] = co_await acceptor_->async_accept(ctx, nothrow_awaitable);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
                // Out of file descriptors and the like: log, breathe, keep serving.
                log::warning("accept failed: {}", ec.message());
                asio::steady_timer pause(co_await asio::this_coro::executor, 100ms);
                co_await pause.async_wait(nothrow_awaitable);
                continue;
            }
            int max = runtime_.current()->config->server.max_client_connections;
            int n = runtime_.clients.fetch_add(1, std::memory_order_relaxed) + 1;
            if (n > max + std::max(hard_limit_slack, max / 10)) {
                // Far past the limit: don't spend even a startup exchange on it.
                runtime_.clients.fetch_sub(1, std::memory_order_relaxed);
                runtime_.net_metrics.connection.refused_for_limits.labels({}).inc();
                refuse_at_once(socket);
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            uint64_t id = ++runtime_.next_session_id;
            auto conn = std::make_shared<ClientConnection>(std::move(socket), runtime_, id);
            connections_.add(id, conn);
            conn->on_close([this, id] { connections_.remove(id); });
            conn->start();
        }
    }

    // The 53300 error without reading the startup packet, as PostgreSQL's
    // postmaster answers when it cannot start a backend: one non-blocking write into
    // the empty send buffer. Whatever the client sent already is read first, so
    // that closing sends FIN, not a reset that could overtake the error.
    template <typename Socket>
    static void refuse_at_once(Socket& socket) {
        static const std::string refusal = [] {
            std::string out;
            session::ClientStartup::write_fatal(out, sqlstate::too_many_connections, "sorry, too many clients already");
            return out;
        }();
        error_code ignored;
        socket.non_blocking(true, ignored);
        auto drain = [&] {
            char sink[512];
            while (socket.read_some(asio::buffer(sink), ignored) > 0) {
            }
        };
        drain();
        socket.write_some(asio::buffer(refusal), ignored);
        socket.shutdown(asio::socket_base::shutdown_send, ignored);
        drain();
        socket.close(ignored);
    }

    // Polls the policy directory: an edited, added or removed file triggers a
    // reload, as SIGHUP does. It runs even with watch_interval = 0 (then it only
    // follows the files without reloading) so that a reload can turn watching on
    // or move the directory: policies.watch_interval and .dir are reloadable keys.
    awaitable<void> watch_policy_files() {
        asio::steady_timer tick(*contexts_[0]);
        auto files_stamp = [this] {
            const auto& policies = runtime_.current()->config->policies;
            return policy::policy_files_stamp(policies.dir) + grants_stamp(policies.grants);
        };
        std::string stamp = files_stamp();
        while (!runtime_.draining) {
            auto interval = runtime_.current()->config->policies.watch_interval;
            tick.expires_after(interval.count() > 0 ? interval : std::chrono::milliseconds(1000));
            co_await tick.async_wait(nothrow_awaitable);
            std::string now = files_stamp();
            if (now == stamp) continue;
            stamp = now;
            if (interval.count() == 0) continue;
            log::info("policy files in {} changed", runtime_.current()->config->policies.dir);
            reload();
        }
    }

    void wait_for_signal() {
        signals_->async_wait([this](error_code ec, int signo) {
            if (ec) return;
            if (signo == SIGHUP || signo == SIGUSR1) {
                // Both reopen the audit log (logrotate); SIGHUP also reloads.
                if (runtime_.audit) runtime_.audit->reopen();
                if (signo == SIGHUP) reload();
                wait_for_signal();
                return;
            }
            log::info("received {}, shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
            spawn(contexts_[0]->get_executor(), shutdown(), "shutdown");
        });
    }

    // "" on success, else the error; from SIGHUP, the watcher and the admin console's RELOAD.
    std::string reload() {
        std::lock_guard serial(reload_mutex_);
        std::string error;
        audit::Record r;
        r.event = audit::Event::policy_reload;
        try {
            auto fresh = load_snapshot(runtime_.config_path);
            // Listeners, threads and the audit writer were made at start (keys.h says
            // which keys): a new value for one of them waits for a restart.
            for (const auto& change : config::restart_only_changes(*started_, *fresh->config))
                log::warning("configuration reload: {} takes effect only after a restart", change);
            apply_logging(fresh->config->server);
            runtime_.cancels.set_peer_id(fresh->config->server.peer_id);
            std::string version = fresh->policies->version;
            runtime_.snapshot.store(std::move(fresh));
            runtime_.freezes.set(runtime_.current()->config);  // running sessions too
            set_grants();
            runtime_.net_metrics.policy_info.set({version});
            runtime_.net_metrics.policy_reloads.labels({"success"}).inc();
            mark_reload(true);
            for (const auto& [name, target] : runtime_.current()->config->targets)
                runtime_.net_metrics.connection.upstream_connect_errors.labels({name});
            log::info("configuration reloaded from {}, policies version {}", runtime_.config_path, version);
            r.policy_version = version;
        } catch (const std::exception& e) {
            std::string version = runtime_.current()->policies->version;
            runtime_.net_metrics.policy_reloads.labels({"failure"}).inc();
            mark_reload(false);
            log::error("configuration reload failed, keeping policies version {}: {}", version, e.what());
            r.policy_version = version;
            r.reason = e.what();
            error = e.what();
        }
        runtime_.audit_event(std::move(r));
        return error;
    }

    static std::string grants_stamp(const std::string& path) {
        std::error_code ec;
        auto size = std::filesystem::file_size(path, ec);
        auto mtime = std::filesystem::last_write_time(path, ec).time_since_epoch().count();
        return ec ? std::string("none") : fmt::format("grants:{}:{}", size, mtime);
    }

    // The grants of the snapshot in force; each one added or gone is audited.
    void set_grants() {
        const auto& fresh = runtime_.current()->grants;
        auto before = runtime_.grants.all();
        auto has = [](const std::vector<policy::Grant>& list, const std::string& id) {
            for (const auto& g : list)
                if (g.id == id) return true;
            return false;
        };
        auto audit = [this](const policy::Grant& g, std::string what) {
            log::info("grant {} {}: app \"{}\" allow {} on target \"{}\" until {} (by {}): {}", g.id, what, g.app,
                      g.allow, g.target, format_utc(g.expires), g.granted_by, g.reason);
            audit::Record r;
            r.event = audit::Event::grant;
            r.grant = g.id;
            r.reason = fmt::format("{}: app \"{}\" allow {} on target \"{}\" until {}, granted by {}: {}", what, g.app,
                                   g.allow, g.target, format_utc(g.expires), g.granted_by, g.reason);
            runtime_.audit_event(std::move(r));
        };
        for (const auto& g : fresh)
            if (!has(before, g.id)) audit(g, "added");
        for (const auto& g : before)
            if (!has(fresh, g.id)) audit(g, "removed");
        runtime_.grants.set(fresh);
    }

    void mark_reload(bool ok) {
        runtime_.net_metrics.last_reload_successful.labels({}).set(ok ? 1 : 0);
        if (ok) {
            auto now = std::chrono::system_clock::now().time_since_epoch();
            runtime_.net_metrics.last_reload_success_time.labels({}).set(std::chrono::duration<double>(now).count());
        }
    }

    awaitable<void> shutdown() {
        runtime_.draining = true;
        error_code ignored;
        acceptor_->close(ignored);
        signals_->cancel();
        if (http_) http_->stop();
        for (auto& c : connections_.all()) c->post_drain();
        auto deadline = std::chrono::steady_clock::now() + runtime_.current()->config->server.shutdown_timeout;
        asio::steady_timer tick(*contexts_[0]);
        while (runtime_.clients.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            tick.expires_after(50ms);
            co_await tick.async_wait(nothrow_awaitable);
        }
        if (runtime_.clients.load() > 0) {
            log::warning("shutdown_timeout passed with {} sessions still running; closing them",
                         runtime_.clients.load());
            for (auto& c : connections_.all()) c->post_terminate();
            auto hard = std::chrono::steady_clock::now() + 2s;
            while (runtime_.clients.load() > 0 && std::chrono::steady_clock::now() < hard) {
                tick.expires_after(20ms);
                co_await tick.async_wait(nothrow_awaitable);
            }
        }
        // Idle server connections close while their io_contexts still exist.
        runtime_.pools->close_all();
        guards_.clear();
        for (auto& ctx : contexts_) ctx->stop();
    }

    Runtime runtime_;
    Readiness readiness_;
    ConnectionSet connections_;
    RuntimeAdmin admin_;
    std::mutex reload_mutex_;
    std::shared_ptr<const config::Config> started_;  // what the restart-only keys were read from
    // Before contexts_: deliveries still in flight end with their io_context.
    std::optional<ApprovalWebhook> webhook_;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::optional<tcp::acceptor> acceptor_;
    std::optional<asio::signal_set> signals_;
    std::optional<HttpEndpoint> http_;
};

}  // namespace

int serve(const std::string& config_path) {
    auto snapshot = load_snapshot(config_path);
    apply_logging(snapshot->config->server);
    // A client that disappears mid-write must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Every session is two sockets: take all the descriptors the system allows.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    Server server(config_path, std::move(snapshot));
    return server.run();
}

}  // namespace pgmoat::net
