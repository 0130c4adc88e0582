#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
std::string function_call() {
    std::string out;
    MessageWriter(out).begin(frontend::FunctionCall).int32(1).int16(0).int16(0).int16(0).end();
    return out;
}
}  // namespace

TEST_CASE("an allowed query is forwarded byte for byte and counted until ReadyForQuery") {
    Session s = make_session();
    std::string q;
    write_query(q, "SELECT 1");
    Outbox out = feed(s, q, true);
    CHECK(out.to_server == q);
    CHECK(out.to_client.empty());
    CHECK_FALSE(s.idle());
    Outbox back = feed(s, rfq('T'), false);
    CHECK(back.to_client == rfq('T'));
    CHECK(s.idle());
    CHECK(s.transaction_status() == 'T');
}

TEST_CASE("a refused FunctionCall reaches the server only as a decoy, and the client sees pgmoat's error") {
    Session s = make_session();
    Outbox out = feed(s, function_call(), true);
    auto sent = messages(out.to_server);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].first == 'Q');  // the decoy query, not the FunctionCall
    CHECK(sent[0].second.find("pgmoat_rejected_statement") == 0);

    Outbox back = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    auto got = messages(back.to_client);
    REQUIRE(got.size() == 2);
    auto fields = read_error_fields(got[0].second);
    REQUIRE(fields);
    CHECK(find_field(*fields, 'C') == "42501");
    // Fed to the Session alone, nobody looked the function up: unknown, refused.
    CHECK(find_field(*fields, 'M') ==
          "pgmoat: the function of this FunctionCall message (OID 1) could not be identified");
    CHECK(got[1].first == 'Z');
}

TEST_CASE("a real syntax error from the server is not mistaken for a decoy") {
    Session s = make_session();
    feed(s, function_call(), true);
    // The server's answer to something else in the same batch: relayed unchanged.
    std::string other = syntax_error("SELEC");
    Outbox back = feed(s, other, false);
    CHECK(back.to_client == other);
}

TEST_CASE("a decoy the server skipped is forgotten at ReadyForQuery") {
    Session s = make_session();
    feed(s, function_call(), true);
    feed(s, rfq('E'), false);  // e.g. the server failed earlier in the batch
    std::string q;
    write_query(q, "SELECT 1");
    feed(s, q, true);
    // A later decoy-looking error belongs to no decoy any more: relayed as is.
    std::string later = syntax_error("pgmoat_rejected_statement");
    CHECK(feed(s, later, false).to_client == later);
}

TEST_CASE("CopyData is relayed only while the server is in COPY FROM STDIN") {
    Session s = make_session();
    std::string data;
    MessageWriter(data).begin(frontend::CopyData).bytes("1\n").end();
    CHECK(feed(s, data, true).to_server.empty());
    std::string copy_in;
    MessageWriter(copy_in).begin(backend::CopyInResponse).byte(0).int16(0).end();
    feed(s, copy_in, false);
    CHECK(feed(s, data, true).to_server == data);
    std::string done;
    MessageWriter(done).begin(frontend::CopyDone).end();
    CHECK(feed(s, done, true).to_server == done);
    CHECK(feed(s, data, true).to_server.empty());
}

TEST_CASE("ParameterStatus changes of standard_conforming_strings and client_encoding are tracked") {
    Session s = make_session();
    CHECK(s.server_settings().standard_conforming_strings);
    std::string ps;
    write_parameter_status(ps, "standard_conforming_strings", "off");
    write_parameter_status(ps, "client_encoding", "LATIN1");
    Outbox out = feed(s, ps, false);
    CHECK(out.to_client == ps);  // relayed to the client as well
    CHECK_FALSE(s.server_settings().standard_conforming_strings);
    CHECK(s.server_settings().client_encoding == "LATIN1");
}

TEST_CASE("protocol violations close the session with a FATAL 08P01") {
    Session s = make_session();
    Outbox out;
    std::string bad;
    MessageWriter(bad).begin('y').end();
    out = feed(s, bad, true);
    CHECK(out.close);
    auto got = messages(out.to_client);
    REQUIRE(got.size() == 1);
    auto fields = read_error_fields(got[0].second);
    CHECK(find_field(*fields, 'S') == "FATAL");
    CHECK(find_field(*fields, 'C') == "08P01");

    Session s2 = make_session();
    std::string bk;
    write_backend_key_data(bk, 1, 2);
    CHECK(feed(s2, bk, false).close);  // a server that restarts its startup mid-session
}

namespace {
std::string parse_bind_execute(std::string_view name, std::string_view sql) {
    std::string out;
    write_parse(out, name, sql);
    MessageWriter(out).begin(frontend::Bind).cstring("").cstring(name).int16(0).int16(0).int16(0).end();
    MessageWriter(out).begin(frontend::Execute).cstring("").int32(0).end();
    MessageWriter(out).begin(frontend::Sync).end();
    return out;
}
}  // namespace

TEST_CASE("an allowed statement is recorded once, when the server has answered it") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    feed(s, query("SELECT id FROM users WHERE id = $1"), true);
    CHECK(audit.records.empty());  // not before it ran
    feed(s, data_row("1") + data_row("2") + complete("SELECT 2") + rfq('I'), false);
    REQUIRE(audit.records.size() == 1);
    const auto& r = audit.records[0];
    CHECK(r.event == audit::Event::statement);
    CHECK(*r.decision == audit::Decision::allow);
    CHECK(*r.sqlstate == "00000");
    CHECK(*r.rows == 2);
    CHECK(*r.statement->kind == "select");
    CHECK(*r.statement->text == "SELECT id FROM users WHERE id = $1");
    CHECK(r.statement->relations.size() == 1);
    CHECK(*r.bytes_sent > 0);
}

TEST_CASE("a rejected statement is recorded at once and only a decoy reaches the server") {
    MemoryAudit audit;
    Identity id;
    id.app = "orders-api";
    id.target = "dev";
    StatementServices services;
    services.policies = shipped_policies();
    services.audit = &audit;
    Session s(id, {}, services);
    // The shipped baseline enforces: a literal in WHERE is rejected.
    Outbox out = feed(s, query("SELECT id FROM users WHERE email = 'a@b.c'"), true);
    CHECK(out.to_server.find("a@b.c") == std::string::npos);
    CHECK(out.to_server.find("pgmoat_rejected_statement") != std::string::npos);
    REQUIRE(audit.records.size() == 1);
    CHECK(*audit.records[0].decision == audit::Decision::reject);
    CHECK(*audit.records[0].rule == "parameters");
    CHECK(*audit.records[0].sqlstate == "42501");
    // The log never holds the value: the text is normalized.
    CHECK(audit.records[0].statement->text->find("a@b.c") == std::string::npos);
}

TEST_CASE("a prepared statement executed three times gives three records") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    std::string once = parse_bind_execute("s1", "SELECT $1::int");
    feed(s, once, true);
    std::string bind_execute;
    MessageWriter(bind_execute).begin(frontend::Bind).cstring("").cstring("s1").int16(0).int16(0).int16(0).end();
    MessageWriter(bind_execute).begin(frontend::Execute).cstring("").int32(0).end();
    MessageWriter(bind_execute).begin(frontend::Sync).end();
    feed(s, bind_execute + bind_execute, true);
    std::string answer;
    MessageWriter(answer).begin(backend::BindComplete).end();
    answer += data_row("7") + complete("SELECT 1") + rfq('I');
    std::string first;
    MessageWriter(first).begin(backend::ParseComplete).end();
    feed(s, first + answer + answer + answer, false);
    REQUIRE(audit.records.size() == 3);
    for (const auto& r : audit.records) {
        CHECK(*r.rows == 1);
        CHECK(r.statement == audit.records[0].statement);  // the analysis is shared, not redone
    }
}

TEST_CASE("when the audit log cannot be written, statements are refused with 58030 before they run") {
    MemoryAudit audit;
    audit.ok = false;
    Session s = make_session(&audit);
    Outbox out = feed(s, query("SELECT 1"), true);
    CHECK(out.to_server.find("SELECT 1") == std::string::npos);
    Outbox back = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    auto got = messages(back.to_client);
    REQUIRE(got.size() == 2);
    CHECK(find_field(*read_error_fields(got[0].second), 'C') == "58030");
}
