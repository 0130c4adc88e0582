// One client connection from accept to close: the startup phase with its deadline,
// the upstream login, then two pumps, client to server and server to client, that
// feed frames through the session and write what it produces.
#pragma once

#include "asio.h"
#include "pgmoat/protocol/byte_buffer.h"
#include "pgmoat/session/client_startup.h"
#include "pgmoat/session/session.h"
#include "runtime.h"
#include "transport.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace pgmoat::net {

class ClientConnection : public std::enable_shared_from_this<ClientConnection>, private session::AuditSink {
public:
    ClientConnection(tcp::socket socket, Runtime& runtime, uint64_t id);
    ~ClientConnection();

    void start();
    // Runs when the connection object is gone (the server's bookkeeping).
    void on_close(std::function<void()> f) { on_close_ = std::move(f); }
    // From any thread. Server shutdown: close now if no statement is running, else
    // once it finishes.
    void post_drain();
    // From any thread. Shutdown deadline passed: close regardless.
    void post_terminate();

private:
    awaitable<void> run();
    awaitable<bool> startup();
    // Connects and logs in to the target; on failure the client has its FATAL.
    awaitable<bool> attach_upstream(std::string& out, std::vector<std::pair<std::string, std::string>>& parameters,
                                    std::string& notices);
    // The first statement of a session admitted without a server.
    awaitable<bool> attach_upstream_now();
    awaitable<void> pump_frontend();
    awaitable<void> pump_backend();
    void start_cancel();
    awaitable<void> close_idle_for_shutdown();
    // Ends a quiet session with a FATAL the client reads first.
    awaitable<void> say_goodbye(std::string sqlstate, std::string message, std::string reason);
    // Decides to end the session if it is quiet, and stops forwarding client input.
    bool stop_if_quiet();
    awaitable<void> watch_idle();

    // Client writes come from both pumps; this keeps them whole and in order.
    awaitable<bool> write_client(std::string& bytes);
    awaitable<bool> write_server(std::string& bytes);
    // Feeds buffered bytes through the session in one direction.
    void process(protocol::ByteBuffer& in, bool from_client, session::Outbox& out);
    void close_all(const std::string& reason);
    void drain();
    void login_failed();

    // AuditSink: the session's records go to the audit log; with fsync per record,
    // results are held back until their records are durable.
    bool accepting() const override;
    void submit(audit::Record&& record) override;
    awaitable<bool> wait_until_durable();
    audit::Record event(audit::Event e) const;

    Runtime& runtime_;
    uint64_t id_;
    std::shared_ptr<const Snapshot> snapshot_;
    Transport client_;
    std::unique_ptr<Transport> server_;
    std::optional<session::ClientStartup> startup_;
    std::optional<session::Session> session_;
    protocol::BackendKeyData cancel_key_{};
    bool registered_cancel_ = false;
    uint32_t max_message_bytes_ = 0;

    // Progress through a message too large to buffer, per direction.
    struct StreamState {
        size_t left = 0;    // bytes of the message still to come
        bool relay = true;  // false: the session refused it, drop the bytes
    };
    StreamState stream_from_client_;
    StreamState stream_from_server_;

    bool client_writing_ = false;
    int client_write_waiters_ = 0;
    asio::steady_timer client_write_done_;
    bool closed_ = false;
    bool draining_ = false;
    // A batch of the server's answers is on its way to the client (audit
    // durability wait and write included).
    bool delivering_ = false;
    // Nothing is running and nothing is owed to the client: safe to close.
    bool quiet() const { return session_->idle() && !delivering_; }
    bool stopping_ = false;  // a quiet session is being told goodbye
    std::string close_reason_;
    std::chrono::steady_clock::time_point last_client_activity_;
    std::optional<asio::steady_timer> idle_timer_;
    std::function<void()> on_close_;

    std::shared_ptr<audit::SessionInfo> pre_login_info_;
    uint64_t audit_submitted_ = 0;
    uint64_t audit_durable_ = 0;
    bool audit_failed_ = false;
    bool audit_waiting_ = false;
    asio::steady_timer audit_durable_signal_;
    // A CancelRequest for a statement over max_rows is on its way to the server;
    // requests to the server wait for it (see write_server).
    bool cancel_in_flight_ = false;
    asio::steady_timer cancel_done_;
    metrics::Gauge* session_gauge_ = nullptr;
    metrics::Gauge* upstream_gauge_ = nullptr;
    std::string target_name_;
    protocol::BackendKeyData upstream_key_{};
    std::optional<config::Target> target_;
    // ParameterStatus values the client was told at login without a server; the
    // server's own values replace any that differ once it is attached.
    std::vector<std::pair<std::string, std::string>> told_parameters_;
};

}  // namespace pgmoat::net
