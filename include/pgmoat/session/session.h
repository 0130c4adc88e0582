// A logged-in client session, relaying between the app and its target: frames in,
// bytes to send out. It keeps the protocol state pgmoat needs to stay exact
// (transaction status, COPY, the batch up to Sync, server settings, prepared
// statements and portals) and is where every statement is judged before it is
// forwarded (statement_path.cpp). No I/O.
#pragma once

#include "pgmoat/audit/record.h"
#include "pgmoat/common/log_sampler.h"
#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/holds.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/protocol/bind_values.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/approvals.h"
#include "pgmoat/session/audit_sink.h"
#include "pgmoat/session/freezes.h"
#include "pgmoat/session/grant_table.h"
#include "pgmoat/session/identity.h"
#include "pgmoat/session/rate_limiter.h"
#include "pgmoat/session/rejection_log.h"
#include "pgmoat/session/server_connection.h"
#include "pgmoat/session/server_objects.h"
#include "pgmoat/session/statement_metrics.h"
#include "pgmoat/sql/analysis_cache.h"
#include "pgmoat/sql/analyzer.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pgmoat::session {

// What one call produced: bytes for each side, and whether the session is over
// (send what is queued, then close both connections).
struct Outbox {
    std::string to_server;
    std::string to_client;
    bool close = false;
    std::string close_reason;  // for pgmoat's log
    // A statement went over its policy's max_rows: ask the server to cancel it
    // (a CancelRequest on a new connection, as clients do).
    bool cancel_upstream = false;
    // Transaction pooling: a statement sent left state on the server connection
    // that outlives its transaction; the session keeps this server connection.
    std::string pin_reason;     // "set", "listen", ... (metrics)
    std::string pin_statement;  // "SET work_mem" (pgmoat's log)
    // A message streaming from the client: the Session wrote its header and head
    // itself, changed (a Bind renamed for this server connection); the relay sends
    // only the bytes after the head.
    bool stream_head_written = false;
};

// The server settings that change how statement text must be read.
struct ServerSettings {
    bool standard_conforming_strings = true;
    std::string client_encoding = "UTF8";
};

// Which protocol a statement arrived by.
enum class Origin { simple_query, parse, function_call };

// What judging and recording statements needs, shared by all sessions. A session
// keeps the policy set it started with; a reload affects new sessions.
struct StatementServices {
    std::shared_ptr<const policy::PolicySet> policies;
    sql::AnalysisCache* analyses = nullptr;  // null: analyze every time
    sql::AnalyzerOptions analyzer;           // limits; the session fills in its settings
    AuditSink* audit = nullptr;              // null: no audit records
    StatementMetrics* metrics = nullptr;     // null: not counted
    RateLimiter* rate_limiter = nullptr;     // null: no rate limits
    RejectionLog* rejections = nullptr;      // null: the admin console shows none
    const TargetFreezes* freezes = nullptr;  // null: no target is ever frozen
    Approvals* approvals = nullptr;          // null: nothing is held (a held statement is refused)
    const GrantTable* grants = nullptr;      // null: no grants
    uint64_t session_id = 0;
    std::string upstream_user;
    std::string database;
    // The target pools server connections per transaction: statements that leave
    // session state pin the session, or are refused when reject_session_state.
    bool transaction_pooling = false;
    bool reject_session_state = false;
};

class Session {
  public:
    Session(Identity identity, const std::vector<std::pair<std::string, std::string>>& server_parameters,
            StatementServices services);

    // A complete frontend message.
    void on_frontend(const protocol::Frame& frame, Outbox& out);
    // A complete backend message.
    void on_backend(const protocol::Frame& frame, Outbox& out);

    // Messages too large to hold whole are relayed as they arrive, judged on their
    // first bytes: `head` is the start of the body (after type and length), `size`
    // the whole message's. These say whether to relay the message; the caller then
    // copies its bytes itself. A frontend message's bytes after the head come
    // through on_frontend_stream_data, then on_frontend_stream_end.
    bool on_frontend_stream(char type, std::string_view head, size_t size, Outbox& out);
    void on_frontend_stream_data(std::string_view bytes);
    void on_frontend_stream_end();
    bool on_backend_stream(char type, std::string_view head, size_t size, Outbox& out);

    // A FunctionCall (the fast-path interface libpq's large-object API uses), with
    // the function its OID names as pgmoat looked it up ("schema"."name"; empty:
    // unknown). It is judged as the statement that would make the call. frame: the
    // whole message, or null when it is too large to hold (head: the start of its
    // body); returns whether it goes to the server.
    bool on_function_call(const protocol::Frame* frame, std::string_view head, std::string_view function, Outbox& out);

    // A server setting learned outside the relayed stream (a server attached late).
    void on_server_parameter(std::string_view name, std::string_view value);

    // Transaction pooling: the server connection the session now runs on (null:
    // none). Its prepared statements are followed under per-server names; the
    // client's are prepared there again when it uses them.
    void attach_server(ServerConnection* server) {
        server_ = server;
        if (server) backend_pid_ = server->key.process_id;
    }
    // The server backend's process id, named in audit records.
    void set_backend_pid(int32_t pid) { backend_pid_ = pid; }
    // Transaction pooling: the settings applied on every server connection the
    // session lands on (apply_parameters): its startup parameters, then the plain
    // SETs it ran outside a transaction block, once their transaction committed.
    const Parameters& settings() const { return settings_wanted_; }

    // The client's next message waits: a statement under [limits]
    // max_rows_affected runs, and what pgmoat sends after it depends on how many
    // rows it changes (affected_rows_cap.cpp), or a statement waits for approval
    // (approval_hold.cpp). The caller stops reading the client.
    bool holds_client() const;

    // ---- approval holds (approval_hold.cpp) ----
    // The approval the session's next statement waits for; 0: none.
    uint64_t held_approval() const { return held_ ? held_->id : 0; }
    // When the hold times out; time_point::max() when nothing is held.
    std::chrono::steady_clock::time_point hold_deadline() const;
    // A person approved or denied it (the entry is already out of the table): the
    // statement goes on, or is refused as a rejection is.
    void approval_decided(bool approved, std::string_view by, std::string_view reason, Outbox& out);
    // The hold's time ran out (the caller took it out of the table first).
    void hold_timed_out(Outbox& out);
    // The session ends while its statement waits (client gone, KILL, shutdown):
    // the caller took it out of the table; this records the step.
    void hold_abandoned(std::string_view why);

    char transaction_status() const { return transaction_status_; }
    // A COPY FROM STDIN is running or about to: the server waits for the client.
    bool copying_in() const { return copy_in_ || copy_in_expected_; }
    // No request is waiting for the server's answer: safe to close at shutdown.
    bool idle() const { return syncs_sent_ == syncs_done_ && !copy_in_ && !copy_out_; }
    const ServerSettings& server_settings() const { return settings_; }
    const Identity& identity() const { return identity_; }
    const policy::Policy& policy() const { return *policy_; }
    const std::shared_ptr<const audit::SessionInfo>& audit_info() const { return audit_info_; }
    uint64_t bytes_to_client() const { return bytes_to_client_; }
    // The kind of the last statement judged ("select", "insert", …); empty before the first.
    std::string_view last_statement_kind() const { return last_statement_kind_; }

  private:
    using Clock = std::chrono::steady_clock;

    // How max_rows_affected applies to an execution: its tag counts (a statement
    // of a capped Query), or it is an Execute whose answer pgmoat awaits (Flush)
    // before the client's next message goes on.
    enum class AffectedCap : uint8_t { none, counted, execute };

    // One statement the server will run and answer: the unit of an audit record,
    // of row caps and of latency metrics.
    struct Execution {
        // For an Execute: the portal, and what it runs once the server has
        // confirmed everything before it (resolved when the execution completes).
        std::string portal{};
        bool resolved = true;
        StatementPtr statement{};
        // The portal whose rows these are, across pages: the Execute's portal, or
        // the cursor a FETCH reads. Empty: a result of its own.
        std::string result_portal{};
        uint64_t batch = 0;  // answered before ReadyForQuery number batch + 1
        Clock::time_point started;
        bool answered = false;  // the server's first message for it has arrived
        uint64_t rows = 0;      // DataRows relayed
        uint64_t bytes = 0;
        bool capped = false;      // over max_rows: rows dropped, cancel sent
        BindValues parameters{};  // only when the policy audits them
        AffectedCap affected_cap = AffectedCap::none;
    };

    // ---- the statement path (statement_path.cpp) ----
    // frame: null for a statement too large to hold, judged by `given` (the caller
    // relays it if this returns true, i.e. it was not rejected).
    bool on_statement(const protocol::Frame* frame, std::string_view sql, std::string_view statement_name,
                      Origin origin, Outbox& out, std::shared_ptr<const sql::Analysis> given = nullptr);
    void on_execute(const protocol::Frame& frame, std::string_view portal, Outbox& out);
    // A Query forwarded: its executions, one per statement.
    void query_sent(std::string_view sql, const std::shared_ptr<const sql::Analysis>& analysis,
                    const policy::Decision& decision, Clock::time_point started, bool count_affected);

    // A write on a frozen target (freeze_refusal.cpp); facts null: unknown, a write.
    std::optional<policy::Decision> freeze_refusal(const sql::Analysis& a) const;
    std::optional<policy::Decision> freeze_refusal(const sql::Statement* facts) const;
    // An agent's or person's statement the target's production mode refuses
    // (production_refusal.cpp); sql: the text the analysis' offsets are in (empty
    // at an Execute: what could turn the second lock off was judged at its Parse).
    std::optional<policy::Decision> production_refusal(const sql::Analysis& a, std::string_view sql) const;
    std::optional<policy::Decision> production_refusal(const sql::Statement* facts, std::string_view sql) const;

    // ---- grants (session_grants.cpp) ----
    // The grants applying to this session now, and the policy they make; called
    // before each statement is judged (the next one after an expiry is judged
    // without it).
    void refresh_grants();
    bool granted(policy::Rule rule) const;
    // The grant that let an allowed statement through (set in grant_): decided
    // again under the policy without grants when any apply.
    void attribute_grant(const sql::Analysis& a, std::string_view sql, Origin origin);
    int no_ddl_statement(const sql::Analysis& a) const;
    // An Execute of a statement prepared under a grant that has since ended.
    std::optional<policy::Decision> expired_grant_refusal(const Statement* statement) const;

    // A decided statement: counted, then rejected (false) or passed on.
    bool admit(const protocol::Frame* frame, std::string_view sql, std::string_view statement_name, Origin origin,
               std::shared_ptr<const sql::Analysis> analysis, policy::Decision decision, Clock::time_point started,
               Outbox& out);
    // After every rule allowed it: into the execution queue and to the server.
    void pass(const protocol::Frame* frame, std::string_view sql, std::string_view statement_name, Origin origin,
              Outbox& out, std::shared_ptr<const sql::Analysis> analysis, policy::Decision decision,
              Clock::time_point started);
    // A statement the policy's [holds] (or a freeze that holds, `reason`) keeps
    // until a person decides; true: held.
    bool hold(const protocol::Frame& frame, std::string_view sql, std::string_view statement_name, Origin origin,
              const std::shared_ptr<const sql::Analysis>& analysis, const policy::Decision& decision,
              Clock::time_point started, std::optional<policy::HoldReason> reason, Outbox& out);
    // [holds] rows_over (row_estimate_hold.cpp): true when the statement waits for
    // the server's row estimate (estimate_), or is held because it cannot have one.
    bool estimate_rows(const protocol::Frame& frame, std::string_view sql, std::string_view statement_name,
                       Origin origin, const std::shared_ptr<const sql::Analysis>& analysis,
                       const policy::Decision& decision, Clock::time_point started, Outbox& out);
    bool on_estimate_answer(const protocol::Frame& frame, Outbox& out);
    // step: held, or an ApprovalOutcome's name.
    void record_approval_step(std::string_view step, std::string_view approver, std::string_view reason);

    // ---- max_rows_affected (affected_rows_cap.cpp) ----
    // A statement whose changed rows the policy caps (or may: unknown, EXECUTE).
    bool caps_affected_rows(const Statement* statement) const;
    bool caps_affected_rows(const sql::Analysis& a) const;
    // A statement whose changed rows cannot be counted where the cap needs them.
    std::optional<policy::Decision> affected_rows_refusal(const sql::Analysis& a) const;
    policy::Decision affected_rows_rejection() const;  // rule, source, SQLSTATE; the caller says why
    void run_capped_query(const protocol::Frame& frame, std::shared_ptr<const sql::Analysis> analysis,
                          policy::Decision decision, Clock::time_point started, Outbox& out);
    void send_capped_query(Outbox& out);
    void send_own_query(std::string_view sql, Outbox& out);
    // Each returns true when it has dealt with the message.
    bool on_affected_rows(const protocol::Frame& frame, Outbox& out);
    bool on_own_answer(const protocol::Frame& frame, Outbox& out);
    // The ReadyForQuery that ends one of pgmoat's own requests: the request is done
    // and the batch answered; its status, or nullopt when it is malformed (and the
    // protocol violation is sent).
    std::optional<char> own_request_answered(const protocol::Frame& frame, Outbox& out);
    bool on_capped_query_ready(char status, Outbox& out);
    std::shared_ptr<const sql::Analysis> analyze(std::string_view sql);
    // kind: the audit record's statement kind when not the analysis' (a FunctionCall).
    StatementPtr make_statement(std::string_view sql, std::shared_ptr<const sql::Analysis> a, policy::Decision d,
                                size_t index, std::string_view kind = {});
    // What the audit records of statement `index` of `a` say about it; the last one
    // is kept, so that the same text again builds nothing.
    std::shared_ptr<const audit::StatementInfo> audit_statement(const std::shared_ptr<const sql::Analysis>& a,
                                                                size_t index, std::string_view kind);
    // A refusal that does not depend on the text: rate limit, audit log down.
    std::optional<policy::Decision> runtime_refusal();
    policy::Decision unknown_portal(std::string_view portal) const;
    void reject(const policy::Decision& d, std::string_view sql, const std::shared_ptr<const sql::Analysis>& a,
                Origin origin, std::string_view statement_name, Outbox& out);
    void count(const policy::Decision& d, const sql::Analysis* a);
    void record(const Execution& e, std::string_view sqlstate, uint64_t rows);
    void record_rejection(const policy::Decision& d, std::string_view sql,
                          const std::shared_ptr<const sql::Analysis>& a, std::string_view kind = {});

    // ---- results of executions ----
    void complete_execution(std::string_view sqlstate, uint64_t rows);
    void on_data_row(Outbox& out, bool& relay);
    void fail_batch_executions();
    // A ReadyForQuery's bookkeeping: the batch is over, the server's status is known.
    void batch_answered(char status, Outbox& out);
    void write_row_cap_error(Outbox& out);

    void forward(const protocol::Frame& frame, Outbox& out) { out.to_server.append(frame.bytes()); }
    // ---- prepared statements in transaction pooling (pooled_statements.cpp) ----
    // A client's Parse, Bind, Describe and Close as the server connection knows
    // them: named statements under their per-server name, prepared first where the
    // server connection lacks them. The server's answers to what pgmoat adds are
    // not relayed (ServerObjects knows which).
    void forward_parse(const protocol::Frame& frame, std::string_view name, Outbox& out);
    void forward_bind(const protocol::Frame& frame, std::string_view statement, Outbox& out);
    // A Bind too large to hold, of a named statement: its header and head renamed
    // (out.stream_head_written); `size` is the whole message's.
    void forward_streaming_bind(const protocol::Bind& bind, std::string_view head, size_t size, Outbox& out);
    void forward_describe_or_close(const protocol::Frame& frame, char kind, std::string_view name, Outbox& out);
    // The server-side name of a client statement, prepared on the server
    // connection if it is not there; nullptr when the client has no such statement.
    const std::string* server_statement(std::string_view name, Outbox& out);
    // Session state in transaction pooling: the refusal, or the pin (in out).
    std::optional<policy::Decision> session_state_refusal(const sql::Analysis& a, Outbox& out);
    // ---- plain SETs replayed in transaction pooling (session_settings.cpp) ----
    // An execution completed (ok: without error): a plain SET is kept for its
    // batch's end, a transaction command beside one makes it pin.
    void note_setting(const Execution& e, bool ok);
    // At ReadyForQuery: the batch's SETs are the session's settings from now on
    // (committed outside a transaction block), are gone (the batch failed), or pin
    // the session (in a transaction block, whose end pgmoat does not follow).
    void settle_settings(char status, Outbox& out);
    // Replaces a rejected message with one the server is sure to refuse (a syntax
    // error), so that the server itself fails the transaction or the batch up to
    // Sync exactly as for any other error; its error is then swapped for ours.
    void send_decoy(Origin origin, std::string_view statement_name, const protocol::ErrorFields& error, Outbox& out);
    bool is_decoy_error(std::string_view body) const;
    void protocol_violation(Outbox& out, const std::string& message);
    void on_parameter_status(std::string_view body);
    void relay(const protocol::Frame& frame, Outbox& out);
    // Among the answers to pgmoat's own requests, what the server may send at any
    // time goes on to the client (a ParameterStatus also updates the session);
    // anything else is pgmoat's own and is dropped.
    void relay_asynchronous(const protocol::Frame& frame, Outbox& out);
    void on_parameter_status_head(std::string_view head);
    bool on_backend_stream_rows(char type, size_t size, Outbox& out);
    // An ErrorResponse's effect on the batch; false when pgmoat answers in its place.
    bool on_error_response(const std::vector<protocol::ErrorField>& fields, bool decoy, Outbox& out);

    Identity identity_;
    StatementServices services_;
    std::shared_ptr<const policy::Policy> policy_;
    std::shared_ptr<const audit::SessionInfo> audit_info_;
    ServerSettings settings_;
    // Whatever runs on the server (a statement, an Execute, a Bind that plans and
    // folds functions, a FETCH, a trigger) may change standard_conforming_strings
    // or client_encoding, and PostgreSQL reports that only at ReadyForQuery: the
    // settings are known again once the server has answered this many requests.
    uint64_t settings_known_at_ = 0;
    // Called before the request's own Sync or Query is counted in syncs_sent_.
    void code_may_run() { settings_known_at_ = syncs_sent_ + 1; }
    char transaction_status_ = 'I';
    bool copy_in_ = false;  // the server accepts CopyData from the client
    // A COPY FROM STDIN was sent and the client may already send its data: the
    // server reads it once it is in COPY.
    bool copy_in_expected_ = false;
    // Syncs sent while a COPY FROM STDIN is expected or running: PostgreSQL reads
    // and ignores them inside COPY (libpq sends one right after the Execute), so
    // they only count if the COPY never started.
    uint64_t tentative_syncs_ = 0;
    bool copy_out_ = false;  // the server is sending CopyData
    // After a rejection in the extended protocol the server skips to Sync; so does
    // pgmoat, and nothing in between is forwarded.
    bool skip_until_sync_ = false;
    // Extended-protocol messages went to the server since the last Sync (a batch
    // is open: a Query of pgmoat's own cannot go now); and that before the
    // message being handled.
    bool unsynced_ = false;
    bool unsynced_before_ = false;
    // Requests the server answers with ReadyForQuery (Query, Sync, FunctionCall).
    uint64_t syncs_sent_ = 0;
    uint64_t syncs_done_ = 0;
    uint64_t bytes_to_client_ = 0;
    std::string_view last_statement_kind_;  // a static name (sql::name)
    // After a statement over max_rows finished anyway: the rest of its batch is
    // withheld, and an open transaction is failed with a silent decoy.
    bool discard_until_ready_ = false;
    bool silent_decoy_ = false;

    // Prepared statements and portals as the server holds them.
    ServerObjects objects_;
    void resolve(Execution& e);
    std::deque<Execution> executions_;
    // Rejections and would-rejects are logged as a sample shared by all sessions.
    static inline log::Sampler log_sampler_{20};
    // Metric children this session has used, so a statement costs no label look-up.
    std::unordered_map<uint32_t, metrics::Counter*> counters_;
    struct LastAudit {
        std::weak_ptr<const sql::Analysis> analysis;
        size_t index = 0;
        std::string kind;
        std::shared_ptr<const audit::StatementInfo> info;
    } last_audit_;
    metrics::Histogram* analysis_seconds_ = nullptr;
    metrics::Histogram* decision_seconds_ = nullptr;
    metrics::Histogram* first_byte_seconds_ = nullptr;
    metrics::Histogram* complete_seconds_ = nullptr;

    // A Bind too large to hold, on its way to the server.
    struct StreamingBind {
        std::string portal;
        std::string statement;
        std::optional<protocol::BindValueReader> values;  // only when the policy audits them
    };
    std::optional<StreamingBind> streaming_bind_;

    // Transaction pooling.
    ServerConnection* server_ = nullptr;
    Parameters settings_wanted_;  // settings(): (name, the value as SQL after TO)
    struct PendingSettings {
        Parameters sets;  // the batch's plain SETs that completed, in order
        bool failed = false;
        bool transaction_command = false;  // BEGIN, COMMIT, SAVEPOINT, ... ran in the batch
    } pending_settings_;
    int32_t backend_pid_ = 0;
    struct ClientStatement {
        std::string server_name;
        std::string parse_rest;  // the Parse after its name: text and parameter types
    };
    std::unordered_map<std::string, ClientStatement> statements_;
    // A simple Query under max_rows_affected. Outside a transaction pgmoat wraps
    // it in one of its own (BEGIN; the Query; COMMIT, or ROLLBACK when a statement
    // went over the cap or failed), holding the Query's last CommandComplete until
    // COMMIT has succeeded, as PostgreSQL sends it after the commit. Inside a
    // transaction a statement over the cap fails the transaction (a silent decoy),
    // as any error would, which undoes it.
    struct CappedQuery {
        std::string frame;  // the Query, while it waits for the server to answer what is before it
        std::shared_ptr<const sql::Analysis> analysis;
        policy::Decision decision;
        Clock::time_point started;
        bool sent = false;
        bool own_transaction = false;
        uint64_t batch = 0;         // the Query's ReadyForQuery
        bool failed = false;        // over the cap, or the server's error
        bool closing = false;       // COMMIT or ROLLBACK sent
        std::string held_complete;  // the last CommandComplete, until COMMIT
        std::string commit_error;   // COMMIT's ErrorResponse, relayed in its place
        uint64_t approval = 0;      // the approval hold it runs under
    };
    std::optional<CappedQuery> capped_query_;
    // Requests whose answers are pgmoat's own (BEGIN, COMMIT, ROLLBACK): by batch.
    std::deque<uint64_t> own_requests_;

    // A decided statement that waits before admit() (for a person, or for its row
    // estimate): what admit() is then given. Copied only once it waits.
    struct DeferredStatement {
        std::string frame;  // the Query or Parse as the client sent it
        std::string sql;
        std::string statement_name;
        Origin origin = Origin::simple_query;
        std::shared_ptr<const sql::Analysis> analysis;
        policy::Decision decision;
        Clock::time_point started;
    };
    static DeferredStatement defer(const protocol::Frame& frame, std::string_view sql, std::string_view statement_name,
                                   Origin origin, const std::shared_ptr<const sql::Analysis>& analysis,
                                   const policy::Decision& decision, Clock::time_point started);
    // A statement waiting for approval: not forwarded, and the client's next
    // messages wait behind it (holds_client).
    struct HeldStatement {
        uint64_t id = 0;
        DeferredStatement statement;
        policy::HoldReason reason;
        std::shared_ptr<const audit::StatementInfo> info;
        Clock::time_point deadline;
    };
    std::optional<HeldStatement> held_;
    // A statement waiting for its EXPLAIN (pgmoat's own requests); the client's
    // next messages wait behind it.
    struct RowEstimate {
        DeferredStatement statement;
        int index = 0;           // the statement whose rows are estimated
        bool savepoint = false;  // inside the client's transaction: SAVEPOINT; EXPLAIN; RELEASE
        bool cleanup = false;    // ROLLBACK TO SAVEPOINT sent after a failed EXPLAIN
        std::string plan;        // the EXPLAIN's JSON
        std::string error;       // why there is no estimate
    };
    std::optional<RowEstimate> estimate_;
    policy::Decision held_refusal(const HeldStatement& h) const;
    // The approval the statement being passed ran under (its audit records name it).
    uint64_t approval_ = 0;
    // The grant that let the statement being passed through (its records name it).
    std::string grant_;
    std::shared_ptr<const policy::Policy> base_policy_;  // the policy without grants
    std::vector<policy::Grant> grants_;                  // applying now
    uint64_t grants_version_ = UINT64_MAX;
    std::chrono::system_clock::time_point grants_change_at_ = std::chrono::system_clock::time_point::max();

    struct Decoy {
        uint64_t batch;
        std::string error_response;
    };
    std::deque<Decoy> decoys_;
};

}  // namespace pgmoat::session
