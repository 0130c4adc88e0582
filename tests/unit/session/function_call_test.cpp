// FunctionCall through the connection engine: the OID looked up on the session's
// own server connection while it is idle, the call judged as the statement that
// would make it, forwarded under monitor, cached per target, refused when unknown.
#include "connection_test_util.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {

constexpr uint32_t kLoOpen = 952;

std::string function_call(uint32_t oid, const std::vector<std::string>& args) {
    std::string out;
    MessageWriter w(out);
    w.begin(frontend::FunctionCall).int32(static_cast<int32_t>(oid)).int16(0).int16(static_cast<int16_t>(args.size()));
    for (const auto& a : args) w.int32(static_cast<int32_t>(a.size())).bytes(a);
    w.int16(0).end();
    return out;
}

// The server's answer to pgmoat's catalog look-up.
std::string lookup_answer(std::string_view schema, std::string_view name) {
    std::string out = msg(backend::RowDescription, std::string("\0\0", 2));
    MessageWriter(out)
        .begin(backend::DataRow)
        .int16(2)
        .int32(static_cast<int32_t>(schema.size()))
        .bytes(schema)
        .int32(static_cast<int32_t>(name.size()))
        .bytes(name)
        .end();
    return out + complete("SELECT 1") + rfq('I');
}

std::string function_result(std::string_view value) {
    std::string out;
    MessageWriter(out)
        .begin(backend::FunctionCallResponse)
        .int32(static_cast<int32_t>(value.size()))
        .bytes(value)
        .end();
    return out;
}

bool is_lookup(std::string_view sent, uint32_t oid) {
    auto m = messages_in(sent);
    return m.size() == 1 && m[0].first == frontend::Query &&
           m[0].second.find("FROM pg_catalog.pg_proc") != std::string::npos &&
           m[0].second.find(fmt::format("WHERE p.oid = {}", oid)) != std::string::npos;
}

const audit::Record* last_statement(const MemoryAuditPort& audit) {
    const audit::Record* found = nullptr;
    for (const auto& r : audit.records)
        if (r.event == audit::Event::statement) found = &r;
    return found;
}

}  // namespace

TEST_CASE("a FunctionCall the policy allows: looked up on the idle server connection, forwarded, audited by name") {
    LoggedIn s({}, "largeobjects");
    std::string call = function_call(kLoOpen, {std::string("\0\0\x40\x01", 4), std::string("\0\x06\0\0", 4)});
    // Pipelined behind a query: the look-up waits until the server has answered it.
    s->from_client(query("SELECT 1") + call);
    CHECK(s->new_server_bytes() == query("SELECT 1"));
    CHECK_FALSE(s->engine().wants_read(Side::client));
    s->from_server(complete("SELECT 1") + rfq('I'));
    CHECK(is_lookup(s->new_server_bytes(), kLoOpen));
    std::string before = s->new_client_bytes();
    CHECK(messages_in(before).back().first == backend::ReadyForQuery);  // the query's answer, nothing of ours
    s->from_server(lookup_answer("pg_catalog", "lo_open"), 3);
    CHECK(s->new_client_bytes().empty());  // the look-up's answer is pgmoat's own
    CHECK(s->new_server_bytes() == call);
    s->from_server(function_result(std::string("\0\0\0\0", 4)) + rfq('I'));
    CHECK(s->new_client_bytes() == function_result(std::string("\0\0\0\0", 4)) + rfq('I'));
    const auto* r = last_statement(s->audit);
    REQUIRE(r);
    REQUIRE(r->statement);
    CHECK(r->statement->kind == "function_call");
    CHECK(r->statement->text.value_or("").find("lo_open") != std::string::npos);
    CHECK(r->sqlstate == "00000");
    // Cached for the target: the next call of the same OID goes straight on, and
    // another OID is looked up in turn.
    s->from_client(call);
    CHECK(s->new_server_bytes() == call);
    s->from_server(function_result(std::string("\0\0\0\0", 4)) + rfq('I'));
    s->from_client(function_call(953, {}));
    CHECK(is_lookup(s->new_server_bytes(), 953));
    s->from_server(lookup_answer("pg_catalog", "lo_close"));
    CHECK(s->new_server_bytes() == function_call(953, {}));
}

TEST_CASE("a FunctionCall of a denied function is refused as the SQL call would be, with a decoy") {
    LoggedIn s;  // the baseline denies lo_*
    s->from_client(function_call(kLoOpen, {}));
    CHECK(is_lookup(s->new_server_bytes(), kLoOpen));
    s->from_server(lookup_answer("pg_catalog", "lo_open"));
    auto sent = messages_in(s->new_server_bytes());
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].second.find("pgmoat_rejected_statement") == 0);
    s->from_server(server_error("42601", "syntax error at or near \"pgmoat_rejected_statement\"") + rfq('I'));
    std::string got = s->new_client_bytes();
    CHECK(sqlstate(got) == "42501");
    CHECK(message_of(got).find("lo_open") != std::string::npos);
    const auto* r = last_statement(s->audit);
    REQUIRE(r);
    CHECK(r->rule == "function");
}

TEST_CASE("a FunctionCall whose OID the catalog does not know is refused under enforce, forwarded under monitor") {
    {
        LoggedIn s;
        s->from_client(function_call(1, {}));
        CHECK(is_lookup(s->new_server_bytes(), 1));
        s->from_server(msg(backend::RowDescription, std::string("\0\0", 2)) + complete("SELECT 0") + rfq('I'));
        CHECK(messages_in(s->new_server_bytes())[0].second.find("pgmoat_rejected_statement") == 0);
        s->from_server(server_error("42601", "syntax error at or near \"pgmoat_rejected_statement\"") + rfq('I'));
        CHECK(message_of(s->new_client_bytes()).find("(OID 1) could not be identified") != std::string::npos);
    }
    {
        LoggedIn s({}, "watched");
        std::string call = function_call(1, {});
        s->from_client(call);
        CHECK(is_lookup(s->new_server_bytes(), 1));
        s->from_server(msg(backend::RowDescription, std::string("\0\0", 2)) + complete("SELECT 0") + rfq('I'));
        CHECK(s->new_server_bytes() == call);
        s->from_server(server_error("42883", "function with OID 1 does not exist") + rfq('I'));
        CHECK(sqlstate(s->new_client_bytes()) == "42883");
        const auto* r = last_statement(s->audit);
        REQUIRE(r);
        CHECK(r->decision == audit::Decision::would_reject);
    }
}

TEST_CASE("a FunctionCall inside an open extended-protocol batch cannot be looked up: refused under enforce") {
    LoggedIn s({}, "largeobjects");
    s->from_client(parse("", "SELECT 1") + bind("") + function_call(kLoOpen, {}) + execute() + sync_message());
    // Nothing is looked up mid-batch. The decoy is a Query: an error in a
    // FunctionCall does not skip the batch to Sync, in PostgreSQL either.
    std::string sent = s->new_server_bytes();
    CHECK(sent.find("pg_proc") == std::string::npos);
    auto m = messages_in(sent);
    REQUIRE(m.size() == 5);
    CHECK(m[2].first == frontend::Query);
    CHECK(m[2].second.find("pgmoat_rejected_statement") == 0);
    CHECK(m[4].first == frontend::Sync);
}

TEST_CASE("a FunctionCall during COPY FROM STDIN does not wait for a server that waits for the client") {
    LoggedIn s({}, "largeobjects");
    s->from_client(query("COPY items FROM STDIN"));
    s->from_server(msg(backend::CopyInResponse, std::string("\0\0\0", 3)));
    s->new_server_bytes();
    s->from_client(function_call(kLoOpen, {}));
    std::string sent = s->new_server_bytes();
    CHECK(sent.find("pg_proc") == std::string::npos);
    CHECK(sent.find("pgmoat_rejected_statement") != std::string::npos);  // refused at once, unknown
    CHECK(s->engine().wants_read(Side::client));
}

TEST_CASE("a FunctionCall too large to hold (lo_write of 2 MB) is judged on its head and streams through") {
    DriverOptions o;
    LoggedIn s(o, "largeobjects");
    constexpr uint32_t kLoWrite = 955;
    std::string call = function_call(kLoWrite, {std::string("\0\0\0\0", 4), std::string(2 << 20, 'w')});
    s->from_client(call.substr(0, 300 * 1024));
    CHECK(is_lookup(s->new_server_bytes(), kLoWrite));
    s->from_server(lookup_answer("pg_catalog", "lowrite"));
    CHECK(s->new_server_bytes() == call.substr(0, 300 * 1024));
    s->from_client(call.substr(300 * 1024), 1 << 18);
    CHECK(s->new_server_bytes() == call.substr(300 * 1024));
    s->from_server(function_result(std::string("\0\x20\0\0", 4)) + rfq('I'));
    CHECK(messages_in(s->new_client_bytes()).back().first == backend::ReadyForQuery);
}
