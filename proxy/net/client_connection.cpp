#include "client_connection.h"

#include "pgmoat/common/log.h"
#include "spawn.h"
#include "upstream.h"

namespace pgmoat::net {

namespace {
constexpr size_t index(session::Side s) {
    return s == session::Side::client ? 0 : 1;
}
}  // namespace

ClientConnection::ClientConnection(tcp::socket socket, Runtime& runtime, uint64_t id)
    : runtime_(runtime),
      id_(id),
      snapshot_(runtime.current()),
      client_(std::move(socket)),
      deadline_timer_(client_.socket().get_executor()) {
    for (auto& w : wake_) w.emplace(client_.socket().get_executor());
}

ClientConnection::~ClientConnection() {
    engine_.reset();
    runtime_.clients.fetch_sub(1, std::memory_order_relaxed);
    if (on_close_) on_close_();
}

void ClientConnection::start() {
    error_code ec;
    auto remote = client_.socket().remote_endpoint(ec);
    if (ec) return;
    const auto& server_cfg = snapshot_->config->server;
    session::ConnectionContext ctx;
    ctx.id = id_;
    ctx.config = snapshot_->config;
    ctx.credentials = snapshot_->credentials;
    ctx.policies = snapshot_->policies;
    ctx.tls_available = snapshot_->server_tls != nullptr;
    ctx.tls_channel_binding = snapshot_->server_channel_binding;
    ctx.over_connection_limit = runtime_.clients.load(std::memory_order_relaxed) > server_cfg.max_client_connections;
    ctx.client_address = remote.address().to_string();
    ctx.client_port = remote.port();
    ctx.cancels = &runtime_.cancels;
    ctx.welcomes = &runtime_.welcomes;
    ctx.function_names = &runtime_.function_names;
    ctx.analyses = runtime_.analyses.get();
    ctx.statement_metrics = &runtime_.statement_metrics;
    ctx.metrics = &runtime_.net_metrics.connection;
    ctx.rate_limiter = &runtime_.rate_limiter;
    ctx.audit = runtime_.audit ? this : nullptr;
    ctx.rejections = &runtime_.rejections;
    ctx.directory = &runtime_.directory;
    ctx.pauses = &runtime_.pauses;
    ctx.approvals = &runtime_.approvals;
    ctx.grants = &runtime_.grants;
    ctx.freezes = &runtime_.freezes;
    ctx.admin = runtime_.admin;
    engine_.emplace(std::move(ctx));
    engine_->start();
    auto self = shared_from_this();
    spawn(client_.socket().get_executor(), run(), name(), [self] {});
}

awaitable<void> ClientConnection::run() {
    auto self = shared_from_this();
    spawn(client_.socket().get_executor(), timer_loop(), name(), [self] {});
    co_await read_loop(Side::client, client_, 0);
}

awaitable<void> ClientConnection::read_loop(Side side, Transport& t, uint64_t generation) {
    size_t i = index(side);
    // A server socket handed back to its pool is read no more by this loop.
    auto current = [&] { return side == Side::client || generation == server_generation_; };
    while (!closed_ && current()) {
        if (!engine_->wants_read(side)) {
            if (engine_->closed()) break;
            waiting_[i] = true;
            wake_[i]->expires_at(asio::steady_timer::time_point::max());
            co_await wake_[i]->async_wait(nothrow_awaitable);
            // The reader of the next server connection may be the one waiting now.
            if (current()) waiting_[i] = false;
            continue;
        }
        auto [p, n] = engine_->read_buffer(side);
        auto [ec, got] = co_await t.read_some(asio::buffer(p, n));
        if (!current()) {
            // Anything the server sent after it was handed back: not clean.
            if (auto it = releasing_.find(generation); got > 0 && it != releasing_.end()) it->second.reusable = false;
            break;
        }
        if (closed_) break;
        if (ec)
            engine_->on_read_failed(side, ec == asio::error::eof, ec.message());
        else
            engine_->on_read(side, got);
        co_await act();
        if (ec) break;
    }
    if (side == Side::server) {
        if (live_reader_ == generation) live_reader_.reset();
        if (auto it = releasing_.find(generation); it != releasing_.end()) it->second.reader_done = true;
        finish_releases();
    }
}

awaitable<void> ClientConnection::timer_loop() {
    while (!closed_) {
        armed_ = engine_->deadline();
        deadline_timer_.expires_at(armed_);
        auto [ec] = co_await deadline_timer_.async_wait(nothrow_awaitable);
        if (closed_) break;
        if (ec) continue;  // re-armed for an earlier deadline
        engine_->on_tick();
        co_await act();
    }
}

awaitable<void> ClientConnection::act() {
    while (!closed_) {
        // Bytes first: an action may depend on them having gone out (the 'S'
        // before a TLS handshake).
        bool wrote = false;
        if (!writing_[0]) wrote |= co_await write(Side::client);
        if (!closed_ && server_ && !writing_[1]) wrote |= co_await write(Side::server);
        if (closed_) break;
        if (auto a = engine_->next_action()) {
            co_await execute(*a);
            continue;
        }
        if (!wrote) break;
    }
    if (closed_) co_return;
    if (draining_client_ && !writing_[0]) {
        // The FATAL is out: the client reads it, then its end of the connection;
        // whatever it still sends is read and dropped until the engine closes.
        draining_client_ = false;
        client_.shutdown_send();
        if (server_) server_->close();
    }
    if (close_requested_ && !writing_[0] && !writing_[1]) {
        close_all();
        co_return;
    }
    if (engine_->deadline() < armed_) deadline_timer_.cancel();
    wake_readers();
}

awaitable<bool> ClientConnection::write(Side side) {
    size_t i = index(side);
    writing_[i] = true;
    bool wrote = false;
    std::string& buffer = write_buffer_[i];
    while (!closed_) {
        if (side == Side::server && !server_) break;
        engine_->take_output(side, buffer);
        if (buffer.empty()) break;
        wrote = true;
        Transport& to = transport(side);
        if (side == Side::server) server_writing_ = &to;
        // Most writes fit in the socket's buffer: written here, with no round
        // through the io_context (and no reactor wake-up) before the next step.
        error_code ec;
        size_t done = to.write_now(asio::buffer(buffer), ec);
        if (!ec && done < buffer.size()) {
            ec = co_await to.write_all(asio::buffer(buffer) + done);
        }
        buffer.clear();
        if (side == Side::server) {
            server_writing_ = nullptr;
            // Released while this write's completion was on its way: that server
            // connection's part ends here, the current one's output goes on.
            if (&to != server_.get()) {
                written_after_release(to, ec);
                continue;
            }
        }
        if (ec) {
            if (!closed_) engine_->on_write_failed(side, ec.message());
            break;
        }
    }
    writing_[i] = false;
    co_return wrote;
}

awaitable<void> ClientConnection::execute(session::Action a) {
    using Kind = session::Action::Kind;
    switch (a.kind) {
        case Kind::start_client_tls: {
            error_code ec = co_await client_.tls_accept(*snapshot_->server_tls);
            if (!closed_) engine_->on_client_tls(!ec, ec.message());
            co_return;
        }
        case Kind::connect_upstream: {
            server_ = std::make_unique<Transport>(tcp::socket(client_.socket().get_executor()));
            error_code ec = co_await connect_tcp(server_->socket(), *a.target);
            if (closed_) co_return;
            if (ec) {
                engine_->on_upstream_failed(ec.message());
                co_return;
            }
            if (server_id_ != 0) runtime_.pools->opened(*pool_target_, server_id_);
            engine_->on_upstream_connected();
            start_server_reader();
            co_return;
        }
        case Kind::start_server_tls: {
            auto it = snapshot_->target_tls.find(a.target->name);
            if (it == snapshot_->target_tls.end() || !it->second) {
                engine_->on_server_tls(false, {}, "no TLS context for the target");
                co_return;
            }
            error_code ec = co_await server_->tls_connect(*it->second, a.target->host,
                                                          a.target->sslmode == config::SslMode::verify_full);
            if (closed_) co_return;
            engine_->on_server_tls(!ec, ec ? std::vector<uint8_t>{} : server_->peer_certificate_der(), ec.message());
            co_return;
        }
        case Kind::send_cancel: {
            auto self = shared_from_this();
            spawn(client_.socket().get_executor(), cancel(*a.target, std::move(a.bytes)), name(), [self] {});
            co_return;
        }
        case Kind::lease_server:
            lease(*a.target);
            co_return;
        case Kind::release_server:
            release_server(a);
            co_return;
        case Kind::drain_client:
            draining_client_ = true;
            co_return;
        case Kind::close:
            close_requested_ = true;
            co_return;
    }
}

awaitable<void> ClientConnection::cancel(config::Target target, std::string request) {
    co_await send_cancel(std::move(target), std::move(request));
    if (closed_) co_return;
    engine_->on_cancel_sent();
    co_await act();
}

void ClientConnection::spawn_act() {
    auto self = shared_from_this();
    spawn(client_.socket().get_executor(), act(), name(), [self] {});
}

void ClientConnection::close_all() {
    if (closed_) return;
    closed_ = true;
    client_.close();
    if (server_) server_->close();
    if (pool_target_) {
        if (server_id_ != 0) runtime_.pools->closed(*pool_target_, server_id_);
        server_id_ = 0;
        if (lease_waiting_) runtime_.pools->cancel_wait(*pool_target_, id_);
        if (pool_client_) runtime_.pools->client_gone(*pool_target_);
        pool_client_ = false;
    }
    deadline_timer_.cancel();
    for (auto& w : wake_) w->cancel();
}

void ClientConnection::wake_readers() {
    for (Side s : {Side::client, Side::server}) {
        size_t i = index(s);
        if (waiting_[i] && engine_->wants_read(s)) wake_[i]->cancel();
    }
}

void ClientConnection::post_drain() {
    asio::post(client_.socket().get_executor(), [self = shared_from_this()] {
        if (!self->engine_ || self->closed_) return;
        self->engine_->on_drain();
        self->spawn_act();
    });
}

void ClientConnection::post_resume() {
    asio::post(client_.socket().get_executor(), [self = shared_from_this()] {
        if (!self->engine_ || self->closed_) return;
        self->engine_->on_resume();
        self->spawn_act();
    });
}

void ClientConnection::post_approval(uint64_t approval, bool approved, std::string by, std::string reason) {
    asio::post(client_.socket().get_executor(),
               [self = shared_from_this(), approval, approved, by = std::move(by), reason = std::move(reason)] {
                   if (!self->engine_ || self->closed_) return;
                   self->engine_->on_approval(approval, approved, by, reason);
                   self->spawn_act();
               });
}

void ClientConnection::post_kill(std::string by) {
    asio::post(client_.socket().get_executor(), [self = shared_from_this(), by = std::move(by)] {
        if (!self->engine_ || self->closed_) return;
        self->engine_->on_kill(by);
        self->spawn_act();
    });
}

void ClientConnection::post_terminate() {
    asio::post(client_.socket().get_executor(), [self = shared_from_this()] {
        if (!self->engine_) return;
        self->engine_->on_terminate();
        self->close_all();
    });
}

// ---- transaction pooling ----

namespace {
// A grant that found its client gone goes back to the pool.
void give_back(ServerPools& pools, const config::Target& target, PoolGrant& g) {
    if (g.kind == PoolGrant::Kind::server)
        pools.release(target, g.id, std::move(g.transport), std::move(g.state), true);
    else if (g.kind == PoolGrant::Kind::open)
        pools.closed(target, g.id);
}
}  // namespace

void ClientConnection::lease(const config::Target& target) {
    pool_target_ = &target;
    if (!pool_client_) {
        if (!runtime_.pools->admit_client(target)) {
            engine_->on_pool_full();
            return;
        }
        pool_client_ = true;
    }
    // Only a client that waits needs a Deliver (built then): an idle server
    // connection or a slot to open one comes back here, on this executor. (Two
    // pointers: the factory itself needs no allocation.)
    auto waiting = [this, &target] {
        // What a grant that finds this client gone is given back under: the target as
        // this session's configuration holds it, kept alive with it (not copied).
        std::shared_ptr<const config::Target> kept_target;
        auto it = snapshot_->config->targets.find(target.name);
        if (it != snapshot_->config->targets.end() && &it->second == &target)
            kept_target = std::shared_ptr<const config::Target>(snapshot_->config, &target);
        else
            kept_target = std::make_shared<config::Target>(target);
        return [weak = weak_from_this(), executor = client_.socket().get_executor(), pools = runtime_.pools,
                kept_target = std::move(kept_target)](PoolGrant g) {
            auto grant = std::make_shared<PoolGrant>(std::move(g));
            asio::post(executor, [weak, grant, pools, kept_target] {
                auto self = weak.lock();
                if (!self || !self->engine_) return give_back(*pools, *kept_target, *grant);
                self->on_grant(std::move(*grant));
                if (!self->closed_) self->spawn_act();
            });
        };
    };
    auto grant = runtime_.pools->lease(target, id_, ServerPools::home_of(client_.socket().get_executor()), waiting);
    lease_waiting_ = !grant;
    // The act() that executes this lease goes on with what the grant starts.
    if (grant) on_grant(std::move(*grant));
}

void ClientConnection::on_grant(PoolGrant g) {
    lease_waiting_ = false;
    if (closed_) return give_back(*runtime_.pools, *pool_target_, g);
    switch (g.kind) {
        case PoolGrant::Kind::server:
            server_ = std::move(g.transport);
            // Moved to this thread when it lived on another one.
            server_->rehome(client_.socket().get_executor());
            server_id_ = g.id;
            engine_->on_server_granted(*g.state);
            start_server_reader();
            break;
        case PoolGrant::Kind::open:
            server_id_ = g.id;
            engine_->on_server_to_open(g.id);
            break;
        case PoolGrant::Kind::wait_timeout:
            engine_->on_server_wait_timeout();
            break;
        case PoolGrant::Kind::full:
            engine_->on_pool_full();
            break;
    }
}

void ClientConnection::start_server_reader() {
    // Its socket and generation are fixed now: a release may come before it starts.
    live_reader_ = server_generation_;
    auto self = shared_from_this();
    spawn(client_.socket().get_executor(), read_loop(Side::server, *server_, server_generation_), name(), [self] {});
}

void ClientConnection::release_server(session::Action& a) {
    uint64_t generation = server_generation_++;
    if (!server_) {
        if (server_id_ != 0) runtime_.pools->closed(*pool_target_, server_id_);
        server_id_ = 0;
        return;
    }
    Transport* t = server_.get();
    bool reading = live_reader_ == generation;
    live_reader_.reset();
    releasing_[generation] =
        Releasing{std::move(server_), std::move(a.server), std::exchange(server_id_, 0), a.reusable, !reading};
    if (reading) {
        // Its reader stops (its pending read cancelled now, before anyone else can
        // have the socket), then the socket goes back.
        error_code ignored;
        t->socket().cancel(ignored);
        wake_[1]->cancel();
    }
    finish_releases();
}

void ClientConnection::written_after_release(Transport& t, error_code ec) {
    for (auto& [generation, r] : releasing_) {
        if (r.transport.get() == &t && ec) r.reusable = false;
    }
    finish_releases();
}

void ClientConnection::finish_releases() {
    // A released server socket goes back to its pool once neither its reader nor a
    // write of this client's still uses it: then it is the next client's alone.
    for (auto it = releasing_.begin(); it != releasing_.end();) {
        Releasing& r = it->second;
        if (!r.reader_done || r.transport.get() == server_writing_) {
            ++it;
            continue;
        }
        runtime_.pools->release(*pool_target_, r.id, std::move(r.transport), std::move(r.state), r.reusable);
        it = releasing_.erase(it);
    }
}

// ---- audit ----

bool ClientConnection::accepting() const {
    return !runtime_.audit || runtime_.audit->accepting();
}

bool ClientConnection::holds_results() const {
    return runtime_.audit && runtime_.audit->options().fsync == audit::FsyncMode::every_record;
}

void ClientConnection::submit(audit::Record&& record, uint64_t ticket) {
    if (!runtime_.audit) return;
    if (ticket == 0) {
        runtime_.audit->submit(std::move(record));
        return;
    }
    // The writer thread says when the record is on disk; the engine releases the
    // results that waited for it.
    std::weak_ptr<ClientConnection> weak = weak_from_this();
    auto executor = client_.socket().get_executor();
    runtime_.audit->submit(std::move(record), [weak, executor, ticket](bool ok) {
        asio::post(executor, [weak, ticket, ok] {
            auto self = weak.lock();
            if (!self || !self->engine_) return;
            self->engine_->on_durable(ticket, ok);
            if (!self->closed_) self->spawn_act();
        });
    });
}

}  // namespace pgmoat::net
