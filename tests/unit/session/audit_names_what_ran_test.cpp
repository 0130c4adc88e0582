// Regression for finding F12 (SECURITY.md): the audit record must name the text the
// server executed. A DEALLOCATE pipelined with a Parse of the same name in one
// write, and an Execute of a DECLAREd cursor's portal, were recorded with the old
// text or with no statement at all.
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
constexpr std::string_view kOld = "SELECT name FROM victims WHERE id = $1";
constexpr std::string_view kNew = "SELECT secret FROM secrets WHERE id = $1";

const audit::Record& last_statement(const MemoryAudit& audit) {
    REQUIRE_FALSE(audit.records.empty());
    const auto& r = audit.records.back();
    REQUIRE(r.event == audit::Event::statement);
    return r;
}

std::string text_of(const audit::Record& r) {
    REQUIRE(r.statement);
    return r.statement->text.value_or("");
}

Session prepared_old(MemoryAudit& audit) {
    Session s = make_session(&audit);
    feed(s, parse("s1", kOld) + sync_message(), true);
    feed(s, msg(backend::ParseComplete) + rfq('I'), false);
    return s;
}

std::string client_error_code(const Outbox& back) {
    for (const auto& [type, body] : messages(back.to_client)) {
        if (type != 'E') continue;
        auto fields = read_error_fields(body);
        REQUIRE(fields);
        return std::string(find_field(*fields, 'C'));
    }
    return "";
}
}  // namespace

TEST_CASE("a DEALLOCATE pipelined with a Parse of the same name is audited as the new text") {
    MemoryAudit audit;
    Session s = prepared_old(audit);
    // One write: the server drops s1, then prepares the new text under it.
    feed(s, query("DEALLOCATE s1") + parse("s1", kNew) + bind("s1", "1") + execute() + sync_message(), true);
    feed(s,
         complete("DEALLOCATE") + rfq('I') + msg(backend::ParseComplete) + msg(backend::BindComplete) +
             data_row("the-secret") + complete("SELECT 1") + rfq('I'),
         false);
    CHECK(text_of(last_statement(audit)) == kNew);
    // And a later execution of s1 too.
    feed(s, bind("s1", "1") + execute() + sync_message(), true);
    feed(s, msg(backend::BindComplete) + data_row("the-secret") + complete("SELECT 1") + rfq('I'), false);
    CHECK(text_of(last_statement(audit)) == kNew);
}

TEST_CASE("a Parse of a name in use that the server refuses leaves the old text, even pipelined across Syncs") {
    MemoryAudit audit;
    Session s = prepared_old(audit);
    feed(s, parse("s1", kNew) + sync_message() + bind("s1", "1") + execute() + sync_message(), true);
    feed(s,
         server_error("42P05", "prepared statement \"s1\" already exists") + rfq('I') + msg(backend::BindComplete) +
             data_row("alice") + complete("SELECT 1") + rfq('I'),
         false);
    CHECK(text_of(last_statement(audit)) == kOld);
}

TEST_CASE("a Close of a statement counts once the server confirms it") {
    MemoryAudit audit;
    Session s = prepared_old(audit);
    std::string close;
    MessageWriter(close).begin(frontend::Close).byte('S').cstring("s1").end();
    feed(s, close + parse("s1", kNew) + bind("s1", "1") + execute() + sync_message(), true);
    feed(s,
         msg(backend::CloseComplete) + msg(backend::ParseComplete) + msg(backend::BindComplete) + data_row("x") +
             complete("SELECT 1") + rfq('I'),
         false);
    CHECK(text_of(last_statement(audit)) == kNew);
}

TEST_CASE("DISCARD PLANS keeps prepared statements; DISCARD ALL drops them") {
    MemoryAudit audit;
    Session s = prepared_old(audit);
    feed(s, query("DISCARD PLANS"), true);
    feed(s, complete("DISCARD PLANS") + rfq('I'), false);
    feed(s, bind("s1", "1") + execute() + sync_message(), true);
    feed(s, msg(backend::BindComplete) + data_row("alice") + complete("SELECT 1") + rfq('I'), false);
    CHECK(text_of(last_statement(audit)) == kOld);
}

TEST_CASE("an Execute of a DECLAREd cursor's portal is audited as the cursor's statement") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    std::string declare = "DECLARE c CURSOR FOR SELECT secret FROM secrets";
    feed(s, query("BEGIN") + query(declare) + execute("c") + sync_message(), true);
    feed(s,
         complete("BEGIN") + rfq('T') + complete("DECLARE CURSOR") + rfq('T') + data_row("the-secret") +
             complete("SELECT 1") + rfq('T'),
         false);
    const auto& r = last_statement(audit);
    CHECK(text_of(r) == declare);
    CHECK(*r.statement->kind == "declare_cursor");
    REQUIRE(r.statement->relations.size() == 1);
    CHECK(r.statement->relations[0].name == "secrets");
    CHECK(*r.rows == 1);
}

TEST_CASE("an Execute of a portal nothing pgmoat saw created is refused with 34000") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    Outbox out = feed(s, execute("<unnamed portal 1>") + sync_message(), true);
    CHECK(out.to_server.find("pgmoat_rejected_statement") != std::string::npos);
    CHECK(out.to_server.find("<unnamed portal 1>") == std::string::npos);
    Outbox back = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    CHECK(client_error_code(back) == "34000");
    CHECK(*audit.records.back().rule == "unknown_portal");
}

TEST_CASE("a cursor ends with its transaction unless declared WITH HOLD") {
    MemoryAudit audit;
    Session s = make_session(&audit);
    feed(s,
         query("BEGIN") + query("DECLARE plain CURSOR FOR SELECT id FROM victims") +
             query("DECLARE held CURSOR WITH HOLD FOR SELECT name FROM victims") + query("COMMIT"),
         true);
    feed(s,
         complete("BEGIN") + rfq('T') + complete("DECLARE CURSOR") + rfq('T') + complete("DECLARE CURSOR") + rfq('T') +
             complete("COMMIT") + rfq('I'),
         false);
    Outbox held = feed(s, execute("held") + sync_message(), true);
    CHECK(held.to_server.find("pgmoat_rejected_statement") == std::string::npos);
    feed(s, data_row("alice") + complete("SELECT 1") + rfq('I'), false);
    CHECK(text_of(last_statement(audit)).find("WITH HOLD") != std::string::npos);

    Outbox plain = feed(s, execute("plain") + sync_message(), true);
    CHECK(plain.to_server.find("pgmoat_rejected_statement") != std::string::npos);
}

TEST_CASE("the unnamed statement parsed again with other texts is audited as each text it ran") {
    // With the analysis cache, the same text comes back as the same analysis: the
    // session reuses what it built for the audit the last time, and must never
    // carry it over to another text, another statement of a Query or another kind.
    MemoryAudit audit;
    sql::AnalysisCache cache(1 << 20);
    Session s = make_session(&audit, "orders-api", &cache);
    auto run = [&](std::string_view sql) {
        feed(s, parse("", sql) + bind("", "1") + execute() + sync_message(), true);
        feed(s,
             msg(backend::ParseComplete) + msg(backend::BindComplete) + data_row("x") + complete("SELECT 1") + rfq('I'),
             false);
        return text_of(last_statement(audit));
    };
    CHECK(run(kOld) == kOld);
    CHECK(run(kOld) == kOld);
    CHECK(run(kNew) == kNew);
    CHECK(run(kOld) == kOld);
    CHECK(audit.records.back().statement->relations.size() == 1);
    CHECK(audit.records.back().statement->relations[0].name == "victims");
    // A Query in between: its own record, then the unnamed statement's again.
    feed(s, query("SELECT now()"), true);
    feed(s, data_row("today") + complete("SELECT 1") + rfq('I'), false);
    CHECK(text_of(last_statement(audit)) == "SELECT now()");
    CHECK(run(kOld) == kOld);
}
