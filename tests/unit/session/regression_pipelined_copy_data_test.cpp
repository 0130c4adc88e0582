// Regression for finding F6 (SECURITY.md): a client may send its COPY data right
// behind `COPY ... FROM STDIN` without waiting for CopyInResponse; PostgreSQL
// reads it as the COPY's data. pgmoat judged the CopyData by whether the server
// had already answered (copy_in_), so it dropped the data and the CopyDone, and the
// server waited for data forever (and the client for the result).
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

Outbox feed(Session& s, const std::string& bytes) {
    Outbox out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        REQUIRE(r.status == DecodeStatus::frame);
        s.on_frontend(r.frame, out);
        rest.remove_prefix(r.frame.size);
    }
    return out;
}

std::string msg(char type, std::string_view body = {}) {
    std::string out;
    MessageWriter(out).begin(type).bytes(body).end();
    return out;
}

}  // namespace

TEST_CASE("COPY data pipelined behind COPY FROM STDIN reaches the server") {
    static auto set = std::make_shared<const policy::PolicySet>(
        policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies"));
    Identity id;
    id.app = "orders-api";
    id.target = "dev";
    StatementServices services;
    services.policies = set;
    Session s(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
    std::string copy;
    write_query(copy, "COPY notes (body) FROM STDIN");
    std::string data = msg(frontend::CopyData, "pipelined\n") + msg(frontend::CopyDone);
    Outbox out = feed(s, copy + data);
    CHECK(out.to_server == copy + data);
}
