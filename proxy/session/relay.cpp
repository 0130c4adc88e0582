// The relay's framing: one loop for both directions cuts the bytes that arrive into
// messages for the Session, and streams messages too large to hold through as they
// arrive, judged on their first bytes; after each message, what the Session asked
// for (a cancel, a close, a server) and what its output must wait for.
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/session/connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace pgmoat::session {

namespace {
// The most a server message may hold (PostgreSQL's own allocations stop at 1 GB).
constexpr uint32_t kProtocolMaxBody = (1u << 30) - 1;
// PostgreSQL's limit for the frontend messages small by nature (PQ_SMALL_MESSAGE_LIMIT,
// counting the length word): Describe, Close, Execute, Flush, Sync, CopyDone,
// CopyFail, Terminate.
constexpr size_t kSmallMessageLimit = 10000;
// Beyond its text a Parse holds a name and up to 65535 parameter type OIDs.
constexpr size_t kParseOverhead = 64 * 1024 + 4 * 65535 + 8;

// The OID a FunctionCall's body starts with (0 if it is too short).
uint32_t function_oid(std::string_view body) {
    if (body.size() < 4) return 0;
    uint32_t oid = 0;
    for (int i = 0; i < 4; ++i) oid = (oid << 8) | static_cast<unsigned char>(body[i]);
    return oid;
}

// Frontend messages PostgreSQL takes up to 1 GB of (PQ_LARGE_MESSAGE_LIMIT).
bool large_frontend(char type) {
    using namespace protocol::frontend;
    return type == Query || type == Parse || type == Bind || type == FunctionCall || type == CopyData;
}
}  // namespace

size_t Connection::buffer_limit(Side from, char type) const {
    size_t threshold = context_.stream_threshold;
    if (from == Side::server) return threshold;
    // Statement text is analyzed whole: held up to [analyzer] max_statement_size.
    if (type == protocol::frontend::Query || type == protocol::frontend::Parse) {
        return std::max<size_t>(threshold, context_.config->analyzer.max_statement_bytes + kParseOverhead);
    }
    return large_frontend(type) ? threshold : kSmallMessageLimit + 1;
}

void Connection::relay(Side from) {
    if (from == Side::client && pooled_ && lease_ != Lease::held) {
        // Transaction pooling: the client's next request needs a server connection
        // (a Terminate does not).
        auto& in = client_.in;
        if (in.size() >= 5 && in.data()[0] == protocol::frontend::Terminate) return close("client sent Terminate");
        if (!in.empty() && lease_ == Lease::none) request_server();
        return;
    }
    if (from == Side::server && lookup_ && !lookup_->done) on_lookup_input();
    Direction& d = direction(from);
    bool from_client = from == Side::client;
    auto& in = d.in;
    size_t client_before = out_.to_client.size();
    bool was_busy = !session_->idle();
    bool was_holding = session_->holds_client();
    // Output toward the side that sent this must not land inside a message still
    // crossing to it from the other side: it waits until that message is through.
    std::string& answers = from_client ? out_.to_client : out_.to_server;
    size_t answers_before = answers.size();
    bool hold_answers = direction(from_client ? Side::server : Side::client).stream.left > 0;
    std::string& relay_to = from_client ? out_.to_server : out_.to_client;
    std::string& held_for_relay = from_client ? held_for_server_ : held_for_client_;

    while (!in.empty() && phase_ == Phase::relay) {
        if (d.stream.left > 0) {
            size_t take = std::min(d.stream.left, in.size());
            auto chunk = in.data().substr(0, take);
            size_t skip = std::min(d.stream.skip, take);
            if (d.stream.relay) relay_to.append(chunk.substr(skip));
            d.stream.skip -= skip;
            size_t head = std::min(d.stream.head_left, take);
            if (from_client && take > head) session_->on_frontend_stream_data(chunk.substr(head));
            d.stream.head_left -= head;
            in.consume(take);
            d.stream.left -= take;
            if (d.stream.left == 0) {
                if (from_client) session_->on_frontend_stream_end();
                relay_to += held_for_relay;
                held_for_relay.clear();
                after_session_event();
            }
            continue;
        }
        // The client's next message waits while the Session holds it (a statement
        // under max_rows_affected is being counted); its bytes stay buffered.
        if (from_client && session_->holds_client()) break;
        if (from_client && paused_here()) {
            held_ = true;  // on_resume() goes on from here
            break;
        }
        // The client's limits are checked here, on the length alone; the server's
        // messages cross at any size.
        auto r = protocol::decode_message(in.data(), from_client ? UINT32_MAX : kProtocolMaxBody);
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal(sqlstate::protocol_violation,
                        from_client ? r.error : "pgmoat: invalid message from server: " + r.error);
            return close("protocol violation: " + r.error);
        }
        if (r.frame_size == 0) {
            d.wanted = 5;
            return;
        }
        if (from_client && !admissible(r.type, r.frame_size)) return;
        if (from_client && pooled_ && r.type == protocol::frontend::Terminate &&
            r.status == protocol::DecodeStatus::frame) {
            // The server connection is the pool's: it stays open.
            in.consume(r.frame.size);
            return close("client sent Terminate");
        }
        if (r.status == protocol::DecodeStatus::need_more) {
            if (r.frame_size <= buffer_limit(from, r.type)) {
                d.wanted = r.frame_size;  // held whole
                return;
            }
            size_t head = std::min(r.frame_size, std::max<size_t>(context_.stream_threshold, 6));
            if (in.size() < head) {
                d.wanted = head;
                return;
            }
            auto head_body = in.data().substr(5, head - 5);
            if (from_client && r.type == protocol::frontend::FunctionCall) {
                auto function = function_for_call(function_oid(head_body));
                if (!function) return;  // the client waits until pgmoat knows
                d.stream.relay = session_->on_function_call(nullptr, head_body, *function, out_);
            } else {
                d.stream.relay = from_client ? session_->on_frontend_stream(r.type, head_body, r.frame_size, out_)
                                             : session_->on_backend_stream(r.type, head_body, r.frame_size, out_);
            }
            if (from_client) note_batch(r.type);
            d.stream.left = r.frame_size;
            d.stream.head_left = head;
            d.stream.skip = std::exchange(out_.stream_head_written, false) ? head : 0;
            d.wanted = 0;
            after_session_event();
            continue;
        }
        d.wanted = 0;
        if (from_client && r.type == protocol::frontend::FunctionCall) {
            auto function = function_for_call(function_oid(r.frame.body));
            if (!function) return;  // the client waits until pgmoat knows
            session_->on_function_call(&r.frame, r.frame.body, *function, out_);
        } else if (from_client) {
            session_->on_frontend(r.frame, out_);
        } else {
            session_->on_backend(r.frame, out_);
        }
        if (from_client) note_batch(r.type);
        in.consume(r.frame.size);
        after_session_event();
    }
    if (hold_answers && answers.size() > answers_before) {
        (from_client ? held_for_client_ : held_for_server_) += answers.substr(answers_before);
        answers.resize(answers_before);
    }
    if (from_client || closed()) return;
    maybe_release();
    if (closed() || !session_) return;
    // With fsync per record, no result reaches the client before its record is on
    // disk: what this read produced waits for the records submitted so far.
    if (audit_durable_ < audit_submitted_ && (holds_.empty() || holds_.back().ticket != audit_submitted_)) {
        holds_.push_back({client_before, audit_submitted_});
    }
    if (was_busy && session_->idle()) last_activity_ = now();
    maybe_close_idle_for_shutdown();
    // A FunctionCall waiting for the server to be free, or for its look-up.
    if (client_waits_ && (!lookup_ || lookup_->done) && session_->idle()) {
        client_waits_ = false;
        relay(Side::client);
    } else if (was_holding && !session_->holds_client() && phase_ == Phase::relay) {
        relay(Side::client);
    }
}

// PAUSE holds a session's next statement where nothing of its own is pending: no
// request awaits the server, no transaction block or extended-protocol batch is
// open (those finish first, so a pause never holds a transaction's locks).
bool Connection::paused_here() const {
    return context_.pauses && context_.pauses->paused(target_->name) && session_->idle() &&
           session_->transaction_status() == 'I' && !batch_open_;
}

bool Connection::admissible(char type, size_t frame_size) {
    size_t length = frame_size - 1;  // the length word, as PostgreSQL counts
    std::string error;
    if (length > max_message_bytes_) {
        error = fmt::format("message of {} bytes exceeds the maximum of {} bytes", length, max_message_bytes_);
    } else if (!large_frontend(type) && length > kSmallMessageLimit) {
        error = fmt::format("message of type '{}' of {} bytes exceeds PostgreSQL's limit of {} bytes for it",
                            type >= 32 && type < 127 ? type : '?', length, kSmallMessageLimit);
    } else {
        return true;
    }
    // The client is probably still sending it: what it sends is read and dropped
    // until the message has passed, so that it reads this error instead of a reset.
    write_fatal(sqlstate::protocol_violation, error);
    size_t buffered = std::min(client_.in.size(), frame_size);
    size_t coming = frame_size - buffered;
    client_.in.consume(client_.in.size());
    start_drain("protocol violation: " + error, coming);
    return false;
}

void Connection::note_batch(char type) {
    using namespace protocol::frontend;
    if (type == Parse || type == Bind || type == Describe || type == Execute || type == Close)
        batch_open_ = true;
    else if (type == Sync || type == Query)
        batch_open_ = false;
}

void Connection::after_session_event() {
    if (out_.cancel_upstream) {
        out_.cancel_upstream = false;
        if (!cancel_in_flight_) send_cancel(target_, upstream_key_);
    }
    if (!out_.pin_reason.empty()) note_pin();
    if (out_.close) {
        out_.close = false;
        return close(out_.close_reason);
    }
    if (!pooled_ && upstream_ == Upstream::none && !out_.to_server.empty()) attach_upstream();
}

}  // namespace pgmoat::session
