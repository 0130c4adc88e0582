// A logged-in client session, relaying between the app and its target: frames in,
// bytes to send out. It keeps the protocol state pgmoat needs to stay exact
// (transaction status, COPY, the batch up to Sync, server settings) and is where
// every statement is judged before it is forwarded. No I/O.
#pragma once

#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/identity.h"
#include "pgmoat/sql/analysis_cache.h"
#include "pgmoat/sql/analyzer.h"

#include <memory>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
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
};

// The server settings that change how statement text must be read.
struct ServerSettings {
    bool standard_conforming_strings = true;
    std::string client_encoding = "UTF8";
};

// Which protocol a statement arrived by.
enum class Origin { simple_query, parse, function_call };

// What judging a statement needs, shared by all sessions. Every session keeps the
// policy set it started with; a reload affects new sessions.
struct StatementServices {
    std::shared_ptr<const policy::PolicySet> policies;
    sql::AnalysisCache* analyses = nullptr;  // null: analyze every time
    sql::AnalyzerOptions analyzer;           // limits; the session fills in its settings
};

class Session {
public:
    Session(Identity identity, const std::vector<std::pair<std::string, std::string>>& server_parameters,
            StatementServices services);

    // A complete frontend message.
    void on_frontend(const protocol::Frame& frame, Outbox& out);
    // A complete backend message.
    void on_backend(const protocol::Frame& frame, Outbox& out);

    // Messages too large to buffer whole (CopyData, DataRow) are relayed as they
    // arrive. These say whether such a message of this type may be relayed; the
    // caller then copies its bytes itself.
    bool on_frontend_stream(char type, Outbox& out);
    bool on_backend_stream(char type, Outbox& out);

    char transaction_status() const { return transaction_status_; }
    // No request is waiting for the server's answer: safe to close at shutdown.
    bool idle() const { return syncs_sent_ == syncs_done_ && !copy_in_ && !copy_out_; }
    const ServerSettings& server_settings() const { return settings_; }
    const Identity& identity() const { return identity_; }
    const policy::Policy& policy() const { return *policy_; }

private:
    // The statement path: analyze, decide, audit, count, then forward the message
    // or reject it in its place.
    void on_statement(const protocol::Frame& frame, std::string_view sql, std::string_view statement_name,
                      Origin origin, Outbox& out);
    std::shared_ptr<const sql::Analysis> analyze(std::string_view sql);
    void reject(const policy::Decision& d, Origin origin, std::string_view statement_name, Outbox& out);

    void forward(const protocol::Frame& frame, Outbox& out) { out.to_server.append(frame.bytes()); }
    // Replaces a rejected message with one the server is sure to refuse (a syntax
    // error), so that the server itself fails the transaction or the batch up to
    // Sync exactly as for any other error; its error is then swapped for ours.
    void send_decoy(Origin origin, std::string_view statement_name, const protocol::ErrorFields& error, Outbox& out);
    bool is_decoy_error(std::string_view body) const;
    void protocol_violation(Outbox& out, const std::string& message);
    void on_parameter_status(std::string_view body);

    Identity identity_;
    StatementServices services_;
    std::shared_ptr<const policy::Policy> policy_;
    ServerSettings settings_;
    // A forwarded statement may change how text is lexed (SET
    // standard_conforming_strings, client_encoding): until the server has answered
    // the request it is in, statements cannot be analyzed safely.
    uint64_t settings_settle_at_ = 0;
    char transaction_status_ = 'I';
    bool copy_in_ = false;   // the server accepts CopyData from the client
    bool copy_out_ = false;  // the server is sending CopyData
    // After a rejection in the extended protocol the server skips to Sync; so does
    // pgmoat, and nothing in between is forwarded.
    bool skip_until_sync_ = false;
    // Requests the server answers with ReadyForQuery (Query, Sync, FunctionCall).
    uint64_t syncs_sent_ = 0;
    uint64_t syncs_done_ = 0;

    struct Decoy {
        uint64_t batch;  // answered before the ReadyForQuery numbered batch + 1
        std::string error_response;
    };
    std::deque<Decoy> decoys_;
};

}  // namespace pgmoat::session
