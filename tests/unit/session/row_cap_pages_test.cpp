// max_rows holds for a whole result, however many pages it is read in: FETCH
// from a cursor (psql's FETCH_COUNT) and Execute with a row limit (pgjdbc's fetch
// size, which GUIs use) count the rows of every page of the same cursor or portal.
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
std::string rows(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += data_row("1");
    return out;
}

size_t relayed_rows(const Outbox& out) {
    size_t n = 0;
    for (const auto& [type, body] : messages(out.to_client)) n += type == 'D';
    return n;
}

std::string execute_limited(std::string_view portal, int32_t max_rows) {
    std::string out;
    MessageWriter(out).begin(frontend::Execute).cstring(portal).int32(max_rows).end();
    return out;
}
}  // namespace

TEST_CASE("FETCH pages of one cursor share the row cap") {
    MemoryAudit audit;
    Session s = make_session(&audit, "analyst-jane");  // readonly-analyst: max_rows 10000
    feed(s, query("BEGIN") + query("DECLARE c CURSOR FOR SELECT id FROM orders"), true);
    feed(s, complete("BEGIN") + rfq('T') + complete("DECLARE CURSOR") + rfq('T'), false);

    feed(s, query("FETCH FORWARD 6000 FROM c"), true);
    Outbox first = feed(s, rows(6000) + complete("FETCH 6000") + rfq('T'), false);
    CHECK(relayed_rows(first) == 6000);
    CHECK_FALSE(first.cancel_upstream);

    feed(s, query("FETCH FORWARD 6000 FROM c"), true);
    Outbox second = feed(s, rows(6000), false);
    CHECK(relayed_rows(second) == 4000);
    CHECK(second.cancel_upstream);

    // Another cursor starts from nothing.
    feed(s, complete("FETCH 6000") + rfq('T') + rfq('E'), false);
}

TEST_CASE("Execute pages of one portal share the row cap") {
    MemoryAudit audit;
    Session s = make_session(&audit, "analyst-jane");
    std::string bind_p;
    MessageWriter(bind_p).begin(frontend::Bind).cstring("p").cstring("s").int16(0).int16(0).int16(0).end();
    feed(s, parse("s", "SELECT id FROM orders") + bind_p + execute_limited("p", 6000) + msg(frontend::Flush), true);
    Outbox first =
        feed(s, msg(backend::ParseComplete) + msg(backend::BindComplete) + rows(6000) + msg(backend::PortalSuspended),
             false);
    CHECK(relayed_rows(first) == 6000);
    CHECK_FALSE(first.cancel_upstream);

    feed(s, execute_limited("p", 6000) + sync_message(), true);
    Outbox second = feed(s, rows(6000), false);
    CHECK(relayed_rows(second) == 4000);
    CHECK(second.cancel_upstream);
}

TEST_CASE("a new Bind of a portal starts its count again") {
    MemoryAudit audit;
    Session s = make_session(&audit, "analyst-jane");
    for (int round = 0; round < 3; ++round) {
        feed(s, parse("", "SELECT id FROM orders") + bind("") + execute() + sync_message(), true);
        Outbox out = feed(
            s,
            msg(backend::ParseComplete) + msg(backend::BindComplete) + rows(6000) + complete("SELECT 6000") + rfq('I'),
            false);
        CHECK(relayed_rows(out) == 6000);
        CHECK_FALSE(out.cancel_upstream);
    }
}
