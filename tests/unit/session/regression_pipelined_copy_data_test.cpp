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

#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

TEST_CASE("COPY data pipelined behind COPY FROM STDIN reaches the server") {
    Session s = make_session();
    std::string copy = query("COPY notes (body) FROM STDIN");
    std::string data = msg(frontend::CopyData, "pipelined\n") + msg(frontend::CopyDone);
    Outbox out = feed(s, copy + data, true);
    CHECK(out.to_server == copy + data);
}
