// One client connection from accept to close as a state machine without I/O: the
// startup exchange and SCRAM, pgmoat's own login upstream (at login or at the first
// statement), the welcome, the relay with its framing and streaming of large
// messages in both directions, the audit durability wait, cancel ordering, idle
// timeout, drain and every close reason. Events go in (bytes read from either side,
// TLS done, upstream connected, records durable, deadline passed); what to do comes
// out (bytes to write to either side, actions such as start TLS or connect
// upstream). net/ executes the actions and feeds back the events; tests and fuzz
// targets drive it with scripted peers.
#pragma once

#include "pgmoat/auth/credentials.h"
#include "pgmoat/auth/scram.h"
#include "pgmoat/config/config.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/protocol/byte_buffer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/admin_console.h"
#include "pgmoat/session/audit_sink.h"
#include "pgmoat/session/cancel_registry.h"
#include "pgmoat/session/client_startup.h"
#include "pgmoat/session/connection_metrics.h"
#include "pgmoat/session/function_names.h"
#include "pgmoat/session/rate_limiter.h"
#include "pgmoat/session/server_connection.h"
#include "pgmoat/session/session.h"
#include "pgmoat/session/session_directory.h"
#include "pgmoat/session/statement_metrics.h"
#include "pgmoat/session/upstream_login.h"
#include "pgmoat/session/welcome.h"
#include "pgmoat/sql/analysis_cache.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::session {

enum class Side : uint8_t { client, server };

// Where a connection's audit records go: the audit log in net/, memory in tests.
class AuditPort {
  public:
    virtual ~AuditPort() = default;
    // False while statements must be refused (failure_policy = "block").
    virtual bool accepting() const = 0;
    // fsync = "every_record": results are held back until their records are durable.
    virtual bool holds_results() const = 0;
    // ticket > 0: call Connection::on_durable(ticket, ok) once the record is durable
    // (only asked for when holds_results()).
    virtual void submit(audit::Record&& record, uint64_t ticket) = 0;
};

// Everything a connection is admitted under, and the services shared by all.
struct ConnectionContext {
    using Clock = std::chrono::steady_clock;

    uint64_t id = 0;
    std::shared_ptr<const config::Config> config;
    std::shared_ptr<const auth::Credentials> credentials;
    std::shared_ptr<const policy::PolicySet> policies;
    bool tls_available = false;                               // a certificate is configured for clients
    std::optional<auth::ChannelBinding> tls_channel_binding;  // of that certificate (SCRAM-SHA-256-PLUS)
    bool over_connection_limit = false;
    std::string client_address;
    uint16_t client_port = 0;

    CancelRegistry* cancels = nullptr;
    WelcomeCache* welcomes = nullptr;
    sql::AnalysisCache* analyses = nullptr;  // null: analyze every time
    StatementMetrics* statement_metrics = nullptr;
    ConnectionMetrics* metrics = nullptr;
    RateLimiter* rate_limiter = nullptr;
    RejectionLog* rejections = nullptr;       // null: the admin console shows none
    FunctionNames* function_names = nullptr;  // null: looked up for every FunctionCall
    AuditPort* audit = nullptr;               // null: no audit log
    // The admin console (database "pgmoat"): what it shows and does; null: it cannot be opened.
    AdminState* admin = nullptr;
    SessionDirectory* directory = nullptr;     // null: sessions are not listed
    const TargetFreezes* freezes = nullptr;    // null: no target is ever frozen
    TargetPauses* pauses = nullptr;            // null: nothing is ever paused
    Approvals* approvals = nullptr;            // null: a statement under a hold is refused
    const GrantTable* grants = nullptr;        // null: no grants
    std::function<Clock::time_point()> clock;  // default: the steady clock
    // Messages larger than this are relayed as they arrive, judged on this many
    // first bytes (statement texts excepted: held up to max_statement_size). Tests
    // and fuzzing lower it to reach streaming with small inputs.
    size_t stream_threshold = 256 * 1024;
};

// What net/ must do besides writing bytes. Each action that starts an operation is
// answered with the event named here.
struct Action {
    enum class Kind : uint8_t {
        start_client_tls,  // TLS handshake as server on the client's connection -> on_client_tls
        connect_upstream,  // TCP connection to `target` -> on_upstream_connected / on_upstream_failed
        start_server_tls,  // TLS handshake as client on the server's connection -> on_server_tls
        send_cancel,       // `bytes` (a CancelRequest) to `target` on a new connection; once the
                           // server has closed it -> on_cancel_sent
        drain_client,      // write what is queued for the client, stop sending to it and close the
                           // server's connection; keep reading the client until `close`
        // Transaction pooling (the target's pool_mode):
        lease_server,    // a server connection of `target`'s pool -> on_server_granted (an idle one,
                         // now this connection's server socket), on_server_to_open (a free slot:
                         // connect_upstream follows) or on_server_wait_timeout
        release_server,  // stop reading the server socket and hand it with `server` back to the
                         // pool: kept if `reusable`, else closed
        close,           // write what is queued, then close both connections
    };
    Kind kind;
    const config::Target* target = nullptr;      // connect_upstream, start_server_tls, send_cancel
    std::string bytes{};                         // send_cancel
    std::shared_ptr<ServerConnection> server{};  // release_server
    bool reusable = false;                       // release_server
};

class Connection : private AuditSink {
  public:
    using Clock = std::chrono::steady_clock;

    explicit Connection(ConnectionContext context);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // ---- events ----
    void start();
    // Room to read into from a side (at least one byte); then on_read with how many
    // bytes arrived there.
    std::pair<char*, size_t> read_buffer(Side side);
    void on_read(Side side, size_t n);
    // Convenience for tests and fuzzing: read_buffer + copy + on_read, in pieces.
    void feed(Side side, std::string_view bytes);
    void on_read_failed(Side side, bool eof, std::string_view error);
    void on_write_failed(Side side, std::string_view error);
    void on_client_tls(bool ok, std::string_view error);
    void on_upstream_connected();
    void on_upstream_failed(std::string_view error);
    // certificate_der: the server's certificate, for channel binding.
    void on_server_tls(bool ok, const std::vector<uint8_t>& certificate_der, std::string_view error);
    void on_cancel_sent();
    // Answers to lease_server.
    void on_server_granted(ServerConnection server);
    void on_server_to_open(uint64_t server_id);
    void on_server_wait_timeout();
    // Over the pool's max_client_connections.
    void on_pool_full();
    void on_durable(uint64_t ticket, bool ok);
    // The deadline() has passed (or the timer fired early: harmless).
    void on_tick();
    // Server shutdown: close now if nothing runs, else once it has finished.
    void on_drain();
    // Shutdown deadline: close regardless.
    void on_terminate();
    // RESUME of a target: a statement held at its boundary goes on.
    void on_resume();
    // KILL from the admin console: FATAL 57P01 naming the admin, what runs on the
    // server is cancelled, the session closes.
    void on_kill(std::string_view by);
    // A person decided the approval this session's statement waits for (the entry
    // is already out of the table): it runs, or fails as a rejection does.
    void on_approval(uint64_t approval, bool approved, std::string_view by, std::string_view reason);

    // ---- what to do ----
    std::optional<Action> next_action();
    // Moves the bytes that may be written to a side now into `into` (which must be
    // empty; its capacity is kept for the next call). Bytes held back (durability,
    // a cancel on its way, a server not yet logged in) stay.
    void take_output(Side side, std::string& into);
    // Whether to read from a side now: not during its TLS handshake, not while the
    // other side's output backs up, never after close.
    bool wants_read(Side side) const;
    // When on_tick is due; time_point::max() for never.
    Clock::time_point deadline() const;
    bool closed() const { return phase_ == Phase::closed; }
    const std::string& close_reason() const { return close_reason_; }
    // The relay session, once the client is logged in (tests).
    const Session* session() const { return session_ ? &*session_ : nullptr; }
    // Transaction pooling: why the session keeps its server connection ("" if it does not).
    const std::string& pinned() const { return pin_reason_; }

  private:
    enum class Phase : uint8_t {
        startup,    // ClientStartup: startup packets, TLS, SCRAM
        admitting,  // the client is authenticated; pgmoat logs in upstream before the welcome
        relay,      // logged in: frames through the Session
        console,    // an admin on the admin console: frames to the AdminConsole, no server
        draining,   // a FATAL was sent; reading what the client still sends before closing
        closed,
    };
    enum class Upstream : uint8_t { none, connecting, ssl_answer, tls, login, ready };

    // Progress through a message too large to buffer, per direction.
    struct Stream {
        size_t left = 0;       // bytes of the message still to come
        bool relay = true;     // false: refused, the bytes are dropped
        size_t head_left = 0;  // of those, bytes of the head the Session has seen
        size_t skip = 0;       // of those, bytes the Session already sent changed
    };
    struct Direction {
        protocol::ByteBuffer in;
        Stream stream;
        size_t wanted = 0;  // bytes the framing waits for (a whole message or a head)
        explicit Direction(size_t initial) : in(initial) {}
    };
    // Client output that must wait until the audit log has these records on disk.
    struct Hold {
        size_t from;      // offset in out_.to_client where the held bytes start
        uint64_t ticket;  // records up to this ticket must be durable
    };

    Clock::time_point now() const { return context_.clock(); }
    Direction& direction(Side s) { return s == Side::client ? client_ : server_; }

    // ---- client side (connection.cpp) ----
    void on_client_input();
    void on_startup_input();
    void startup_step(StartupStep step);
    void authenticated();
    void admit(const Parameters& parameters, std::string_view notices);
    void open_console();
    void console_input();
    // SHOW SESSIONS' line of this session: added once logged in, then its state when it changes.
    void list_session(const Identity& who, std::string_view target, std::string_view state);
    void publish_state();
    void login_failed();
    void write_fatal(const std::string& sqlstate, const std::string& message);

    // ---- upstream (upstream_attach.cpp) ----
    void attach_upstream();
    void on_server_input();
    void on_login_input();
    void upstream_ready();
    void upstream_failed(const protocol::ErrorFields& error, const std::string& reason);
    bool server_output_released() const;

    // ---- transaction pooling (pool_attach.cpp) ----
    void request_server();
    // A server connection is the session's: its startup parameters are applied
    // (answers not relayed), then the client's waiting messages go to it.
    void server_attached();
    void on_replay_input();
    // At the end of a transaction (or a statement or batch outside one), the
    // server connection goes back to the pool.
    void maybe_release();
    bool server_reusable() const;
    void release_server(bool reusable);
    void note_pin();

    // ---- relay (relay.cpp): one framing loop for both directions ----
    void relay(Side from);
    // How much of a message of this type is held before it streams.
    size_t buffer_limit(Side from, char type) const;
    // A client message within the limits; otherwise a FATAL and a drain.
    bool admissible(char type, size_t frame_size);
    void after_session_event();
    void note_batch(char frontend_type);
    bool paused_here() const;

    // ---- FunctionCall (function_call.cpp) ----
    // The function a FunctionCall's OID names: nullopt while pgmoat finds out (the
    // client's input waits), "" when it cannot know.
    std::optional<std::string> function_for_call(uint32_t oid);
    void on_lookup_input();

    // ---- ending ----
    void close(std::string reason);
    void start_drain(std::string reason, size_t bytes_to_drain);
    bool quiet() const;
    void maybe_close_idle_for_shutdown();
    void send_cancel(const config::Target* target, protocol::BackendKeyData key);

    // AuditSink for the Session: tickets, durability holds.
    bool accepting() const override;
    void submit(audit::Record&& record) override;
    audit::Record event(audit::Event e) const;

    ConnectionContext context_;
    Phase phase_ = Phase::startup;
    std::optional<ClientStartup> startup_;
    std::optional<Session> session_;
    std::optional<AdminConsole> console_;
    std::shared_ptr<SessionDirectory::Entry> listing_;
    std::string_view listed_state_, listed_kind_;
    // PAUSE: the client's next statement waits in its buffer until RESUME.
    bool held_ = false;
    std::shared_ptr<audit::SessionInfo> pre_login_info_;
    std::deque<Action> actions_;
    Outbox out_;  // output of the Session and pgmoat's own messages
    // Output for a side that waits until the message streaming to it is through.
    std::string held_for_client_;
    std::string held_for_server_;
    std::string server_login_out_;  // pgmoat's own login messages to the server
    std::vector<Hold> holds_;
    Direction client_;
    Direction server_;
    std::string close_reason_;
    uint32_t max_message_bytes_ = 0;

    bool client_tls_pending_ = false;
    bool draining_for_shutdown_ = false;
    Clock::time_point startup_deadline_;
    // The client's last message, or the answer that left the session waiting for
    // its next one: idle time counts from the later.
    Clock::time_point last_activity_;
    size_t drain_left_ = 0;
    Clock::time_point drain_deadline_;

    // Upstream.
    const config::Target* target_ = nullptr;
    Upstream upstream_ = Upstream::none;
    Clock::time_point connect_deadline_;
    std::optional<UpstreamLogin> login_;
    protocol::BackendKeyData cancel_key_{};
    bool registered_cancel_ = false;
    protocol::BackendKeyData upstream_key_{};
    bool cancel_in_flight_ = false;
    bool close_after_cancel_ = false;
    std::optional<CancelTarget> cancel_target_;  // a CancelRequest this connection forwards
    metrics::Gauge* session_gauge_ = nullptr;
    metrics::Gauge* upstream_gauge_ = nullptr;
    // Transaction pooling.
    enum class Lease : uint8_t { none, waiting, held };
    bool pooled_ = false;
    Lease lease_ = Lease::none;
    uint64_t opening_server_id_ = 0;
    std::shared_ptr<ServerConnection> server_conn_;
    bool replaying_ = false;  // pgmoat's SETs on the server: their answers are not relayed
    std::string replay_error_;
    bool server_lost_ = false;  // the server connection failed: never back to the pool
    std::string pin_reason_;
    // ParameterStatus values the client was told at login without a server; the
    // server's own values replace any that differ once it is attached.
    Parameters told_parameters_;

    // A FunctionCall's OID being looked up in the target's catalog, on the session's
    // own server connection while nothing else runs on it.
    struct Lookup {
        uint32_t oid = 0;
        bool done = false;
        std::string name{};  // "schema"."name"; empty if not found
    };
    std::optional<Lookup> lookup_;
    bool client_waits_ = false;  // the client's next message waits (for idle, or a look-up)
    // An extended-protocol batch is open: messages since the last Sync await theirs.
    bool batch_open_ = false;

    // Audit tickets: submitted by this connection, and durable so far.
    uint64_t audit_submitted_ = 0;
    uint64_t audit_durable_ = 0;
    bool audit_failed_ = false;
};

}  // namespace pgmoat::session
