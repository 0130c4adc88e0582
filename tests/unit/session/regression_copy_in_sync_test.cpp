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

#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
std::string copy_in_response() {
    std::string out;
    MessageWriter(out).begin(backend::CopyInResponse).byte(0).int16(1).int16(0).end();
    return out;
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
