// The relay's framing: one loop for both directions cuts the bytes that arrive into
// messages for the Session, and streams messages too large to buffer through as
// they arrive; after each message, what the Session asked for (a cancel, a close, a
// server) and what its output must wait for (the audit log).
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/session/connection.h"

#include <fmt/format.h>

namespace pgmoat::session {

namespace {
// The protocol's own ceiling for any message (PostgreSQL's PQ_LARGE_MESSAGE_LIMIT).
constexpr uint32_t kProtocolMaxBody = (1u << 30) - 1;
// DataRow and CopyData larger than this are relayed as they arrive, not buffered.
constexpr size_t kStreamThreshold = 256 * 1024;
}  // namespace

void Connection::relay(Side from) {
    Direction& d = direction(from);
    bool from_client = from == Side::client;
    auto& in = d.in;
    size_t client_before = out_.to_client.size();
    bool was_busy = !session_->idle();
    while (!in.empty() && phase_ == Phase::relay) {
        std::string& relay_to = from_client ? out_.to_server : out_.to_client;
        if (d.stream.left > 0) {
            size_t take = std::min(d.stream.left, in.size());
            if (d.stream.relay) relay_to.append(in.data().substr(0, take));
            in.consume(take);
            d.stream.left -= take;
            continue;
        }
        auto r = protocol::decode_message(in.data(), kProtocolMaxBody);
        bool streamable = r.type == (from_client ? protocol::frontend::CopyData : protocol::backend::CopyData) ||
                          (!from_client && r.type == protocol::backend::DataRow);
        if (r.status == protocol::DecodeStatus::need_more && r.frame_size > max_message_bytes_ && !streamable) {
            r.status = protocol::DecodeStatus::error;
            r.error = fmt::format("message of {} bytes exceeds the maximum of {} bytes", r.frame_size - 1,
                                  max_message_bytes_);
        }
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal("08P01", from_client ? r.error : "pgmoat: invalid message from server: " + r.error);
            return close("protocol violation: " + r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) {
            if (r.frame_size <= kStreamThreshold) return;  // buffer it whole
            d.stream.relay = from_client ? session_->on_frontend_stream(r.type, out_)
                                         : session_->on_backend_stream(r.type, r.frame_size, out_);
            d.stream.left = r.frame_size;
            after_session_event();
            continue;
        }
        if (from_client) session_->on_frontend(r.frame, out_);
        else session_->on_backend(r.frame, out_);
        in.consume(r.frame.size);
        after_session_event();
    }
    if (from_client || closed()) return;
    // With fsync per record, no result reaches the client before its record is on
    // disk: what this read produced waits for the records submitted so far.
    if (audit_durable_ < audit_submitted_ && (holds_.empty() || holds_.back().ticket != audit_submitted_)) {
        holds_.push_back({client_before, audit_submitted_});
    }
    if (was_busy && session_->idle()) last_activity_ = now();
    maybe_close_idle_for_shutdown();
}

void Connection::after_session_event() {
    if (out_.cancel_upstream) {
        out_.cancel_upstream = false;
        if (!cancel_in_flight_) send_cancel(target_, upstream_key_);
    }
    if (out_.close) {
        out_.close = false;
        return close(out_.close_reason);
    }
    if (upstream_ == Upstream::none && !out_.to_server.empty()) attach_upstream();
}

}  // namespace pgmoat::session
