// Regression for finding F1 (SECURITY.md): PostgreSQL ignores Sync (and Flush)
// while it is in COPY FROM STDIN, but pgmoat counted such a Sync as a request the
// server would answer with ReadyForQuery. From then on every result was matched
// to the request before it: row caps stopped applying, audit records described
// the wrong statements, and pgmoat's errors for rejected statements were not
// swapped in. libpq sends exactly this with an extended-protocol COPY
// (PQexecParams("COPY ... FROM STDIN")), and any client can.
//
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {

Outbox feed(Session& s, const std::string& bytes, bool from_client) {
    Outbox out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        REQUIRE(r.status == DecodeStatus::frame);
        if (from_client) s.on_frontend(r.frame, out);
        else s.on_backend(r.frame, out);
        rest.remove_prefix(r.frame.size);
    }
    return out;
}

std::string msg(char type, std::string_view body = {}) {
    std::string out;
    MessageWriter(out).begin(type).bytes(body).end();
    return out;
}

std::string query(std::string_view sql) {
    std::string out;
    write_query(out, sql);
    return out;
}

std::string rfq(char status) {
    std::string out;
    write_ready_for_query(out, status);
    return out;
}

std::string complete(std::string_view tag) {
    std::string out;
    MessageWriter(out).begin(backend::CommandComplete).cstring(tag).end();
    return out;
}

std::string copy_in_response() {
    std::string out;
    MessageWriter(out).begin(backend::CopyInResponse).byte(0).int16(1).int16(0).end();
    return out;
}

std::string syntax_error(std::string_view near) {
    ErrorFields e;
    e.sqlstate = "42601";
    e.message = std::string("syntax error at or near \"") + std::string(near) + "\"";
    std::string out;
    write_error_response(out, e);
    return out;
}

Session make_session() {
    static auto set = std::make_shared<const policy::PolicySet>(
        policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies"));
    Identity id;
    id.app = "orders-api";
    id.target = "dev";
    StatementServices services;
    services.policies = set;
    return Session(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
}

}  // namespace

TEST_CASE("a Sync sent during COPY FROM STDIN, which the server ignores, keeps requests and answers in step") {
    Session s = make_session();
    feed(s, query("COPY notes (body) FROM STDIN"), true);
    feed(s, copy_in_response(), false);
    // The client's data with a Sync in the middle: PostgreSQL ignores that Sync.
    Outbox sent = feed(s, msg(frontend::CopyData, "row\n") + msg(frontend::Sync) + msg(frontend::CopyDone), true);
    feed(s, complete("COPY 1") + rfq('I'), false);
    CHECK(s.idle());  // nothing is waiting for an answer

    // A rejected statement next: its decoy's error must become pgmoat's error.
    Outbox out = feed(s, query("SELECT pg_sleep(1)"), true);
    Outbox back = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    auto r = decode_message(back.to_client, 1 << 20);
    REQUIRE(r.status == DecodeStatus::frame);
    auto fields = read_error_fields(r.frame.body);
    REQUIRE(fields);
    CHECK(std::string(find_field(*fields, 'M')).rfind("pgmoat:", 0) == 0);
    CHECK(s.idle());
}
