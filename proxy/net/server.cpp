#include "pgmoat/net/server.h"

#include "client_connection.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/log.h"
#include "pgmoat/policy/loader.h"
#include "runtime.h"

#include <fmt/format.h>

#include <csignal>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace pgmoat::net {

namespace {

using namespace std::chrono_literals;

// Every live client connection, so shutdown can reach them. Touched only when a
// connection starts or ends, never per statement.
class ConnectionSet {
public:
    void add(uint64_t id, std::weak_ptr<ClientConnection> c) {
        std::lock_guard lock(mutex_);
        connections_.emplace(id, std::move(c));
    }
    void remove(uint64_t id) {
        std::lock_guard lock(mutex_);
        connections_.erase(id);
    }
    std::vector<std::shared_ptr<ClientConnection>> all() {
        std::lock_guard lock(mutex_);
        std::vector<std::shared_ptr<ClientConnection>> out;
        for (auto& [id, w] : connections_)
            if (auto c = w.lock()) out.push_back(std::move(c));
        return out;
    }

private:
    std::mutex mutex_;
    std::unordered_map<uint64_t, std::weak_ptr<ClientConnection>> connections_;
};

class Server {
public:
    Server(std::string config_path, std::shared_ptr<const Snapshot> snapshot) {
        runtime_.config_path = std::move(config_path);
        runtime_.snapshot.store(std::move(snapshot));
        runtime_.analyses = std::make_unique<sql::AnalysisCache>(runtime_.current()->config->analyzer.cache_bytes);
        const auto& s = runtime_.current()->config->server;
        size_t n = s.threads > 0 ? static_cast<size_t>(s.threads) : std::max(1u, std::thread::hardware_concurrency());
        for (size_t i = 0; i < n; ++i) {
            contexts_.push_back(std::make_unique<asio::io_context>(1));
            guards_.emplace_back(contexts_.back()->get_executor());
        }
    }

    int run() {
        auto& main_ctx = *contexts_[0];
        const auto& s = runtime_.current()->config->server;
        tcp::resolver resolver(main_ctx);
        auto endpoints = resolver.resolve(s.listen_host, std::to_string(s.listen_port));
        tcp::endpoint endpoint = endpoints.begin()->endpoint();
        acceptor_.emplace(main_ctx);
        acceptor_->open(endpoint.protocol());
        acceptor_->set_option(tcp::acceptor::reuse_address(true));
        error_code ec;
        acceptor_->bind(endpoint, ec);
        if (ec) throw ConfigError(runtime_.config_path, 0, 0, fmt::format("cannot listen on {}:{}: {}", s.listen_host, s.listen_port, ec.message()));
        acceptor_->listen(asio::socket_base::max_listen_connections);
        log::info("pgmoat {} started with {} threads, listening on {}:{}, policies version {}", PGMOAT_VERSION,
                  contexts_.size(), endpoint.address().to_string(), acceptor_->local_endpoint().port(),
                  runtime_.current()->policies->version);

        signals_.emplace(main_ctx, SIGTERM, SIGINT, SIGHUP);
        wait_for_signal();
        if (runtime_.current()->config->policies.watch_interval.count() > 0) {
            asio::co_spawn(main_ctx, watch_policy_files(), asio::detached);
        }
        asio::co_spawn(main_ctx, accept_loop(), [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log::error("accept loop failed: {}", ex.what());
            }
        });

        std::vector<std::thread> threads;
        for (size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([ctx = contexts_[i].get()] { ctx->run(); });
        main_ctx.run();
        for (auto& t : threads) t.join();
        log::info("pgmoat stopped");
        return 0;
    }

private:
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
                error_code ignored;
                socket.close(ignored);
                continue;
            }
            socket.set_option(tcp::no_delay(true), ec);
            uint64_t id = ++next_id_;
            auto conn = std::make_shared<ClientConnection>(std::move(socket), runtime_, id);
            connections_.add(id, conn);
            conn->on_close([this, id] { connections_.remove(id); });
            conn->start();
        }
    }

    // Polls the policy directory: an edited, added or removed file triggers a
    // reload, as SIGHUP does.
    awaitable<void> watch_policy_files() {
        asio::steady_timer tick(*contexts_[0]);
        std::string dir = runtime_.current()->config->policies.dir;
        std::string stamp = policy::policy_files_stamp(dir);
        while (!runtime_.draining) {
            tick.expires_after(runtime_.current()->config->policies.watch_interval);
            co_await tick.async_wait(nothrow_awaitable);
            std::string now = policy::policy_files_stamp(dir);
            if (now == stamp) continue;
            stamp = now;
            log::info("policy files in {} changed", dir);
            reload();
        }
    }

    void wait_for_signal() {
        signals_->async_wait([this](error_code ec, int signo) {
            if (ec) return;
            if (signo == SIGHUP) {
                reload();
                wait_for_signal();
                return;
            }
            log::info("received {}, shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
            asio::co_spawn(*contexts_[0], shutdown(), asio::detached);
        });
    }

    void reload() {
        try {
            auto fresh = load_snapshot(runtime_.config_path);
            log::set_level(parse_level(fresh->config->server.log_level));
            std::string version = fresh->policies->version;
            runtime_.snapshot.store(std::move(fresh));
            log::info("configuration reloaded from {}, policies version {}", runtime_.config_path, version);
        } catch (const std::exception& e) {
            log::error("configuration reload failed, keeping policies version {}: {}", runtime_.current()->policies->version,
                       e.what());
        }
    }

    awaitable<void> shutdown() {
        runtime_.draining = true;
        error_code ignored;
        acceptor_->close(ignored);
        signals_->cancel();
        for (auto& c : connections_.all()) c->post_drain();
        auto deadline = std::chrono::steady_clock::now() + runtime_.current()->config->server.shutdown_timeout;
        asio::steady_timer tick(*contexts_[0]);
        while (runtime_.clients.load() > 0 && std::chrono::steady_clock::now() < deadline) {
            tick.expires_after(50ms);
            co_await tick.async_wait(nothrow_awaitable);
        }
        if (runtime_.clients.load() > 0) {
            log::warning("shutdown_timeout passed with {} sessions still running; closing them", runtime_.clients.load());
            for (auto& c : connections_.all()) c->post_terminate();
            auto hard = std::chrono::steady_clock::now() + 2s;
            while (runtime_.clients.load() > 0 && std::chrono::steady_clock::now() < hard) {
                tick.expires_after(20ms);
                co_await tick.async_wait(nothrow_awaitable);
            }
        }
        guards_.clear();
        for (auto& ctx : contexts_) ctx->stop();
    }

    static log::Level parse_level(const std::string& s) {
        log::Level l = log::Level::info;
        log::parse_level(s, l);
        return l;
    }

    Runtime runtime_;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
    std::optional<tcp::acceptor> acceptor_;
    std::optional<asio::signal_set> signals_;
    ConnectionSet connections_;
    std::atomic<uint64_t> next_id_{0};
};

}  // namespace

int serve(const std::string& config_path) {
    auto snapshot = load_snapshot(config_path);
    log::Level level = log::Level::info;
    log::parse_level(snapshot->config->server.log_level, level);
    log::set_level(level);
    // A client that disappears mid-write must not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    Server server(config_path, std::move(snapshot));
    return server.run();
}

}  // namespace pgmoat::net
