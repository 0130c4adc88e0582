// Regression for finding F13 (SECURITY.md): a policy's max_rows counted DataRow
// messages only, so COPY ... TO STDOUT exported a whole table past the cap.
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
// readonly-analyst: reads only, COPY TO STDOUT for exports, max_rows = 10000.
Session analyst_session(MemoryAudit& audit) {
    return make_session(&audit, "analyst-jane");
}

std::string copy_out_response() {
    std::string out;
    MessageWriter(out).begin(backend::CopyOutResponse).byte(0).int16(1).int16(0).end();
    return out;
}

std::string copy_data(std::string_view row) {
    return msg(backend::CopyData, row);
}
}  // namespace

TEST_CASE("COPY TO STDOUT stops at max_rows like a SELECT, and the server is asked to cancel") {
    MemoryAudit audit;
    Session s = analyst_session(audit);
    REQUIRE(s.policy().max_rows == 10000);
    Outbox sent = feed(s, query("COPY orders TO STDOUT"), true);
    REQUIRE(sent.to_server.find("COPY orders") != std::string::npos);

    std::string rows;
    for (int i = 0; i < 10005; ++i) rows += copy_data(std::to_string(i) + "\n");
    Outbox back = feed(s, copy_out_response() + rows, false);
    CHECK(back.cancel_upstream);
    size_t relayed = 0;
    for (const auto& [type, body] : messages(back.to_client)) relayed += type == 'd';
    CHECK(relayed == 10000);

    // The cancel lands: the client gets pgmoat's error, not the rest of the COPY.
    Outbox end = feed(s, server_error("57014", "canceling statement due to user request") + rfq('I'), false);
    auto got = messages(end.to_client);
    REQUIRE(got.size() == 2);
    auto fields = read_error_fields(got[0].second);
    CHECK(find_field(*fields, 'C') == "54000");
    CHECK(*audit.records.back().sqlstate == "54000");
}

TEST_CASE("a COPY that ends before the cancel lands still ends with the cap's error and no CopyDone") {
    MemoryAudit audit;
    Session s = analyst_session(audit);
    feed(s, query("COPY orders TO STDOUT"), true);
    std::string rows;
    for (int i = 0; i < 10001; ++i) rows += copy_data("r\n");
    Outbox back =
        feed(s, copy_out_response() + rows + msg(backend::CopyDone) + complete("COPY 10001") + rfq('I'), false);
    auto got = messages(back.to_client);
    size_t copy_done = 0, errors = 0;
    for (const auto& [type, body] : got) {
        copy_done += type == 'c';
        errors += type == 'E';
    }
    CHECK(copy_done == 0);
    CHECK(errors == 1);
    CHECK(got.back().first == 'Z');
}

TEST_CASE("a COPY under the cap is relayed whole") {
    MemoryAudit audit;
    Session s = analyst_session(audit);
    feed(s, query("COPY orders TO STDOUT"), true);
    std::string answer = copy_out_response() + copy_data("1\n") + copy_data("2\n") + msg(backend::CopyDone) +
                         complete("COPY 2") + rfq('I');
    Outbox back = feed(s, answer, false);
    CHECK(back.to_client == answer);
    CHECK_FALSE(back.cancel_upstream);
    CHECK(*audit.records.back().rows == 2);
}
