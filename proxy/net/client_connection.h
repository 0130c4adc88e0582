// One client connection's sockets, TLS and timer, driven by its sans-IO engine
// (session::Connection): a reader per side feeds the engine what arrives, and
// whoever fed it then carries out what it asks for (writes, TLS, connecting
// upstream, cancels, close). No protocol logic lives here.
#pragma once

#include "asio.h"
#include "pgmoat/session/connection.h"
#include "runtime.h"
#include "transport.h"

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace pgmoat::net {

class ClientConnection : public std::enable_shared_from_this<ClientConnection>, private session::AuditPort {
  public:
    ClientConnection(tcp::socket socket, Runtime& runtime, uint64_t id);
    ~ClientConnection() override;

    void start();
    // Runs when the connection object is gone (the server's bookkeeping).
    void on_close(std::function<void()> f) { on_close_ = std::move(f); }
    // From any thread. Server shutdown: close now if no statement is running, else
    // once it finishes.
    void post_drain();
    // From any thread. Shutdown deadline passed: close regardless.
    void post_terminate();
    // From any thread. RESUME of a target: a statement held for it goes on.
    void post_resume();
    // From any thread. KILL on the admin console by the admin `by`.
    void post_kill(std::string by);
    // From any thread. A person decided the approval this session's statement waits for.
    void post_approval(uint64_t approval, bool approved, std::string by, std::string reason);

  private:
    using Side = session::Side;

    awaitable<void> run();
    // A reader of the client, or of the server connection of `generation` (its
    // socket `t`): a pooled server's reader stops once that socket is handed back.
    awaitable<void> read_loop(Side side, Transport& t, uint64_t generation);
    awaitable<void> timer_loop();
    // Carries out what the engine asks for until it asks for nothing more.
    awaitable<void> act();
    awaitable<void> execute(session::Action action);
    // Writes what the engine releases for a side until it releases nothing more;
    // false if there was nothing to write.
    awaitable<bool> write(Side side);
    awaitable<void> cancel(config::Target target, std::string request);
    // Transaction pooling.
    void lease(const config::Target& target);
    void on_grant(PoolGrant grant);
    void release_server(session::Action& action);
    void written_after_release(Transport& t, error_code ec);
    void finish_releases();
    void start_server_reader();
    void spawn_act();
    void close_all();
    void wake_readers();
    Transport& transport(Side side) { return side == Side::client ? client_ : *server_; }
    std::string name() const { return "session " + std::to_string(id_); }

    // AuditPort: records go to the audit log; with fsync per record the writer
    // thread's answer comes back to the engine on this connection's executor.
    bool accepting() const override;
    bool holds_results() const override;
    void submit(audit::Record&& record, uint64_t ticket) override;

    Runtime& runtime_;
    uint64_t id_;
    std::shared_ptr<const Snapshot> snapshot_;
    Transport client_;
    std::unique_ptr<Transport> server_;
    std::optional<session::Connection> engine_;
    std::array<std::string, 2> write_buffer_;
    std::array<bool, 2> writing_{false, false};
    // A reader waits here while the engine does not want its side read.
    std::array<std::optional<asio::steady_timer>, 2> wake_;
    std::array<bool, 2> waiting_{false, false};
    asio::steady_timer deadline_timer_;
    asio::steady_timer::time_point armed_ = asio::steady_timer::time_point::max();
    bool close_requested_ = false;
    bool closed_ = false;
    bool draining_client_ = false;
    std::function<void()> on_close_;
    // Transaction pooling: the pool's id of the server connection in server_ (0:
    // none), the target whose pool it is, and server sockets being handed back
    // once their reader has stopped (by reader generation: each server connection
    // the client holds is a new one).
    const config::Target* pool_target_ = nullptr;
    uint64_t server_id_ = 0;
    bool pool_client_ = false;
    bool lease_waiting_ = false;
    uint64_t server_generation_ = 0;
    // The generation whose server reader runs, if one does: a server connection
    // released without a reader goes back to the pool at once.
    std::optional<uint64_t> live_reader_;
    struct Releasing {
        std::unique_ptr<Transport> transport;
        std::shared_ptr<session::ServerConnection> state;
        uint64_t id;
        bool reusable;
        bool reader_done;  // its reader has stopped (or there was none)
    };
    Transport* server_writing_ = nullptr;  // the server socket a write is on
    std::map<uint64_t, Releasing> releasing_;
};

}  // namespace pgmoat::net
