// FunctionCall messages name their function only by OID. pgmoat finds the name in
// the target's catalog with a query of its own, sent on the session's server
// connection while nothing else runs on it (the session is idle between requests,
// no extended-protocol batch is open): no other connection, login or pool is
// needed, the answer comes from the very database the call runs in, and the
// query only reads pg_proc, which every role may. Names are cached per target
// (FunctionNames). Inside an open batch, or during COPY FROM STDIN, the name
// stays unknown and the call is refused under enforce (fail closed).
#include "pgmoat/common/sql_quote.h"
#include "pgmoat/common/sqlstate.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_reader.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/session/connection.h"

#include <fmt/format.h>

namespace pgmoat::session {

std::optional<std::string> Connection::function_for_call(uint32_t oid) {
    // Inside an open batch the server is busy with the client's messages, and during
    // COPY FROM STDIN it waits for the client's data: no look-up can run.
    if (batch_open_ || session_->copying_in()) return std::string();
    if (lookup_ && lookup_->done) {
        Lookup done = std::move(*lookup_);
        lookup_.reset();
        if (done.oid == oid) return done.name;
    }
    if (context_.function_names) {
        if (auto name = context_.function_names->find(target_->name, oid)) return name;
    }
    client_waits_ = true;
    if (lookup_ || !session_->idle() || server_.stream.left > 0) return std::nullopt;  // once the server is free
    lookup_ = Lookup{oid};
    protocol::write_query(
        out_.to_server,
        fmt::format("SELECT n.nspname, p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace "
                    "n ON n.oid = p.pronamespace WHERE p.oid = {}",
                    oid));
    if (upstream_ == Upstream::none) attach_upstream();
    return std::nullopt;
}

void Connection::on_lookup_input() {
    auto& in = server_.in;
    while (lookup_ && !lookup_->done && !closed()) {
        auto r = protocol::decode_message(in.data(), 1 << 20);
        if (r.status == protocol::DecodeStatus::error) {
            write_fatal(sqlstate::protocol_violation, "pgmoat: invalid message from server: " + r.error);
            return close("protocol violation: " + r.error);
        }
        if (r.status == protocol::DecodeStatus::need_more) {
            server_.wanted = r.frame_size ? r.frame_size : 5;
            return;
        }
        switch (r.frame.type) {
            case protocol::backend::DataRow: {
                protocol::MessageReader m(r.frame.body);
                int16_t columns = m.int16();
                int32_t schema_length = m.int32();
                auto schema = schema_length > 0 ? m.bytes(static_cast<size_t>(schema_length)) : std::string_view();
                int32_t name_length = m.int32();
                auto name = name_length > 0 ? m.bytes(static_cast<size_t>(name_length)) : std::string_view();
                if (m.ok() && columns == 2 && schema_length > 0 && name_length > 0) {
                    lookup_->name = quote_identifier(schema) + "." + quote_identifier(name);
                }
                break;
            }
            case protocol::backend::ErrorResponse:
                lookup_->name.clear();
                break;
            case protocol::backend::ReadyForQuery:
                lookup_->done = true;
                if (!lookup_->name.empty() && context_.function_names) {
                    context_.function_names->remember(target_->name, lookup_->oid, lookup_->name);
                }
                break;
            case protocol::backend::NoticeResponse:
            case protocol::backend::NotificationResponse:
            case protocol::backend::ParameterStatus:
                // What the server sends on its own still goes to the client.
                session_->on_backend(r.frame, out_);
                break;
            default:
                break;  // RowDescription, CommandComplete
        }
        in.consume(r.frame.size);
    }
}

}  // namespace pgmoat::session
