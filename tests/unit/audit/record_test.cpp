#include "pgmoat/audit/record.h"
#include "pgmoat/audit/json.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat::audit;
using namespace std::chrono;

namespace {

std::string encode(std::string_view s) {
    std::string out;
    json::append_string(out, s);
    return out;
}

std::string fields_of(const Record& r, uint64_t seq = 7) {
    std::string out;
    append_record_fields(out, r, seq);
    return out + "}";
}

Clock::time_point at(int64_t micros) {
    return Clock::time_point(duration_cast<Clock::duration>(microseconds(micros)));
}

}  // namespace

TEST_CASE("strings are escaped so that a record stays one valid JSON line") {
    CHECK(encode("plain text") == "\"plain text\"");
    CHECK(encode("say \"hi\" \\ bye") == R"("say \"hi\" \\ bye")");
    CHECK(encode("a\nb\rc\td\be\ff") == R"("a\nb\rc\td\be\ff")");
    CHECK(encode(std::string("nul\0x", 5)) == R"("nul\u0000x")");
    CHECK(encode("\x01\x1f\x7f") == R"("\u0001\u001f\u007f")");
    // Terminal escape sequences cannot reach a terminal that cats the log.
    CHECK(encode("\x1b[31mred") == R"("\u001b[31mred")");
    CHECK(encode("\xc2\x9b"
                 "2J") == R"("\u009b2J")");  // C1 control CSI
    CHECK(encode("a\xe2\x80\xa8"
                 "b\xe2\x80\xa9") == R"("a\u2028b\u2029")");
    // Valid UTF-8 is kept as is.
    CHECK(encode("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST_CASE("each byte of invalid UTF-8 becomes U+FFFD, deterministically") {
    CHECK(encode("a\xff"
                 "b") == R"("a\ufffdb")");
    CHECK(encode("\x80\xbf") == R"("\ufffd\ufffd")");                      // stray continuation bytes
    CHECK(encode("\xe2\x82") == R"("\ufffd\ufffd")");                      // truncated sequence at the end
    CHECK(encode("\xe2\x82x") == R"("\ufffd\ufffdx")");                    // truncated in the middle
    CHECK(encode("\xc0\xaf") == R"("\ufffd\ufffd")");                      // overlong '/'
    CHECK(encode("\xe0\x80\xaf") == R"("\ufffd\ufffd\ufffd")");            // overlong, 3 bytes
    CHECK(encode("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");            // UTF-16 surrogate
    CHECK(encode("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
    CHECK(encode("\xf4\x8f\xbf\xbf") == "\"\xf4\x8f\xbf\xbf\"");           // U+10FFFF itself is fine
    // Whatever goes in, the result parses back as one JSON string.
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    std::string e = encode(all + all);
    CHECK(e.find('\n') == std::string::npos);
    auto v = json::parse(e);
    REQUIRE(v);
    CHECK(v->is_string());
}

TEST_CASE("times are RFC 3339 UTC with microseconds") {
    std::string out;
    json::append_time(out, at(1'795'514'400'123'456));  // 2026-11-24T10:00:00.123456Z
    CHECK(out == "2026-11-24T10:00:00.123456Z");
    out.clear();
    json::append_time(out, at(0));
    CHECK(out == "1970-01-01T00:00:00.000000Z");
    out.clear();
    json::append_time(out, at(951'782'400'000'001));  // leap day
    CHECK(out == "2000-02-29T00:00:00.000001Z");
}

TEST_CASE("a statement record has every field in the documented order") {
    auto session = std::make_shared<SessionInfo>();
    session->id = 42;
    session->app = "orders-api";
    session->upstream_user = "pgmoat";
    session->target = "prod";
    session->database = "shop";
    session->application_name = "psql";
    session->client_addr = "10.0.0.7";
    session->client_port = 51234;
    auto st = std::make_shared<StatementInfo>();
    st->kind = "update";
    st->text = "UPDATE orders SET state = $1 WHERE id = $2";
    st->fingerprint = 0x00ab'cdef'0123'4567ull;
    st->relations = {{"public.orders", "read,update"}};
    Record r;
    r.time = at(1'795'514'400'123'456);
    r.session = session;
    r.statement = st;
    r.decision = Decision::allow;
    r.rule = "write_allow";
    r.policy_file = "/etc/pgmoat/policies/orders.toml";
    r.policy_line = 12;
    r.policy_version = "0123456789ab";
    r.sqlstate = "00000";
    r.rows = 1;
    r.duration_us = 830;
    r.bytes_sent = 64;
    r.raw_statement = "UPDATE orders SET state = 'paid' WHERE id = 7";
    r.parameters = std::vector<std::optional<std::string>>{"paid", std::nullopt};
    CHECK(fields_of(r) ==
          R"({"time":"2026-11-24T10:00:00.123456Z","seq":7,"event":"statement","session":42,"app":"orders-api",)"
          R"("upstream_user":"pgmoat","target":"prod","database":"shop","application_name":"psql",)"
          R"("client_addr":"10.0.0.7","client_port":51234,"statement_kind":"update",)"
          R"("statement":"UPDATE orders SET state = $1 WHERE id = $2","fingerprint":"00abcdef01234567",)"
          R"("relations":[{"name":"public.orders","access":"read,update"}],"decision":"allow","rule":"write_allow",)"
          R"("policy_file":"/etc/pgmoat/policies/orders.toml","policy_line":12,"policy_version":"0123456789ab",)"
          R"("sqlstate":"00000","rows":1,"duration_us":830,"bytes_sent":64,)"
          R"("raw_statement":"UPDATE orders SET state = 'paid' WHERE id = 7","parameters":["paid",null]})");
}

TEST_CASE("absent fields are omitted, not null") {
    Record r;
    r.event = Event::pgmoat_start;
    r.time = at(0);
    CHECK(fields_of(r, 1) == R"({"time":"1970-01-01T00:00:00.000000Z","seq":1,"event":"pgmoat_start"})");

    auto session = std::make_shared<SessionInfo>();
    session->id = 3;
    session->client_addr = "::1";
    r.event = Event::auth_failed;
    r.session = session;
    r.reason = "password authentication failed";
    CHECK(fields_of(r, 2) == R"({"time":"1970-01-01T00:00:00.000000Z","seq":2,"event":"auth_failed","session":3,)"
                             R"("client_addr":"::1","reason":"password authentication failed"})");

    // A statement that touches no relation says so with [].
    Record s;
    s.time = at(0);
    auto st = std::make_shared<StatementInfo>();
    st->kind = "select";
    st->text = "SELECT $1";
    s.statement = st;
    s.decision = Decision::would_reject;
    CHECK(fields_of(s, 3) ==
          R"({"time":"1970-01-01T00:00:00.000000Z","seq":3,"event":"statement",)"
          R"("statement_kind":"select","statement":"SELECT $1","relations":[],"decision":"would_reject"})");
}

TEST_CASE("hostile values in any field keep the record one parseable line") {
    auto session = std::make_shared<SessionInfo>();
    session->id = 1;
    session->application_name = "x\"}\n{\"event\":\"forged\"";
    auto st = std::make_shared<StatementInfo>();
    st->text = "SELECT '\xff\n'";
    st->relations = {{"we\"ird\n", "read"}};
    Record r;
    r.session = session;
    r.statement = st;
    r.parameters = std::vector<std::optional<std::string>>{std::string("\0\x1b", 2)};
    std::string line = fields_of(r);
    CHECK(line.find('\n') == std::string::npos);
    auto v = json::parse(line);
    REQUIRE(v);
    CHECK(v->find("event")->text == "statement");
    CHECK(v->find("application_name")->text == "x\"}\n{\"event\":\"forged\"");
    CHECK(v->find("statement")->text == "SELECT '\xef\xbf\xbd\n'");
    CHECK(v->find("relations")->items.at(0).find("name")->text == "we\"ird\n");
    CHECK(v->find("parameters")->items.at(0).text == std::string("\0\x1b", 2));
}

TEST_CASE("every event has its documented name") {
    CHECK(name(Event::statement) == "statement");
    CHECK(name(Event::connection_accepted) == "connection_accepted");
    CHECK(name(Event::auth_succeeded) == "auth_succeeded");
    CHECK(name(Event::auth_failed) == "auth_failed");
    CHECK(name(Event::target_denied) == "target_denied");
    CHECK(name(Event::disconnect) == "disconnect");
    CHECK(name(Event::policy_reload) == "policy_reload");
    CHECK(name(Event::pgmoat_start) == "pgmoat_start");
    CHECK(name(Event::pgmoat_stop) == "pgmoat_stop");
    CHECK(name(Event::log_opened) == "log_opened");
    CHECK(name(Event::audit_error) == "audit_error");
    CHECK(name(Decision::would_reject) == "would_reject");
}

TEST_CASE("the JSON reader accepts what the encoder writes and rejects malformed text") {
    auto v = json::parse(R"( {"a":[1,-2.5e3,true,false,null,{"b":"\u00e9\ud83d\ude00"}],"n":18446744073709551615} )");
    REQUIRE(v);
    CHECK(v->find("a")->items.size() == 6);
    CHECK(v->find("a")->items[0].integer() == 1);
    CHECK_FALSE(v->find("a")->items[1].integer());
    CHECK(v->find("a")->items[5].find("b")->text == "\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_FALSE(v->find("n")->integer());  // out of int64 range
    for (const char* bad :
         {"", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "01", "1.", "\"\x01\"", "\"\\ud800\"", "\"\\x\"", "{} {}",
          "\"\xff\"", "nul", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}) {
        CAPTURE(bad);
        CHECK_FALSE(json::parse(bad));
    }
}
