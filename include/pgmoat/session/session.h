// A logged-in client session, relaying between the app and its target: frames in,
// bytes to send out. It keeps the protocol state pgmoat needs to stay exact
// (transaction status, COPY, the batch up to Sync, server settings) and is where
// every statement is judged before it is forwarded. No I/O.
#pragma once

#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/identity.h"

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

struct Verdict {
    bool allow = true;
    protocol::ErrorFields error;  // when !allow: what the client is told
};

class Session {
public:
    Session(Identity identity, const std::vector<std::pair<std::string, std::string>>& server_parameters);

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

private:
    // The statement path: analyze, decide, audit, count. Forwarding or rejecting is
    // the caller's job.
    Verdict judge(std::string_view sql, Origin origin);

    void forward(const protocol::Frame& frame, Outbox& out) { out.to_server.append(frame.bytes()); }
    // Replaces a rejected message with one the server is sure to refuse (a syntax
    // error), so that the server itself fails the transaction or the batch up to
    // Sync exactly as for any other error; its error is then swapped for ours.
    void send_decoy(Origin origin, std::string_view statement_name, const protocol::ErrorFields& error, Outbox& out);
    bool is_decoy_error(std::string_view body) const;
    void protocol_violation(Outbox& out, const std::string& message);
    void on_parameter_status(std::string_view body);

    Identity identity_;
    ServerSettings settings_;
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
