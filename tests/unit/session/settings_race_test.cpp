// Regression for finding F11 (SECURITY.md): standard_conforming_strings and
// client_encoding could change under pgmoat. Anything the server runs (an Execute,
// a FETCH, a function in any statement, a trigger) can change them, PostgreSQL
// reports the change only at ReadyForQuery, and a change made and undone within
// one batch is never reported. Text pipelined behind such a request was judged
// with the old settings while the server read it with the new ones.
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
// With standard_conforming_strings on: one SELECT of two strings. With it off:
// the backslash escapes the quote and a DROP TABLE follows.
constexpr std::string_view kBackslashTrick = "SELECT 'x\\' AS a, ' ; DROP TABLE victims; --' AS b";
// In UTF-8: one E'' string. With client_encoding SJIS the last byte of ッ
// swallows the backslash, the quote ends the string and the DROP runs.
constexpr std::string_view kEncodingTrick = "SELECT E'\xe3\x83\x83\\' ; DROP TABLE victims; --' AS a";
constexpr std::string_view kPlain = "SELECT id FROM victims WHERE id = $1";

bool forwarded(const Outbox& out, std::string_view sql) {
    return out.to_server.find(sql) != std::string::npos;
}

// The server's answer to the decoy that stood in for a refused Parse, up to Sync.
std::string client_error_after_decoy(Session& s, const std::string& before) {
    Outbox back = feed(s, before + syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    for (const auto& [type, body] : messages(back.to_client)) {
        if (type != 'E') continue;
        auto fields = read_error_fields(body);
        REQUIRE(fields);
        CHECK(find_field(*fields, 'C') == "42501");
        return std::string(find_field(*fields, 'M'));
    }
    FAIL("no error reached the client");
    return {};
}
}  // namespace

TEST_CASE("text that reads differently under other settings is refused behind an Execute in the same batch") {
    for (auto trick : {kBackslashTrick, kEncodingTrick}) {
        CAPTURE(trick);
        MemoryAudit audit;
        Session s = make_session(&audit);
        // A statement prepared earlier (it may call anything that sets
        // standard_conforming_strings or client_encoding).
        feed(s, parse("flip", "SELECT harmless()") + sync_message(), true);
        feed(s, msg(backend::ParseComplete) + rfq('I'), false);

        Outbox out = feed(s, bind("flip") + execute() + parse("", trick) + bind("") + execute() + sync_message(), true);
        CHECK_FALSE(forwarded(out, trick));
        CHECK(out.to_server.find("pgmoat_rejected_statement") != std::string::npos);
        auto message = client_error_after_decoy(s, msg(backend::BindComplete) + data_row("") + complete("SELECT 1"));
        CHECK(message.find("may change standard_conforming_strings or client_encoding") != std::string::npos);
        REQUIRE_FALSE(audit.records.empty());
        CHECK(*audit.records.front().rule == "session_settings");

        // Once the server has answered, pgmoat knows the settings again: the same
        // text is judged (and allowed: two strings in a select list).
        Outbox later = feed(s, parse("", trick) + bind("") + execute() + sync_message(), true);
        CHECK(forwarded(later, trick));
    }
}

TEST_CASE("text that reads the same under every setting is judged at once, even behind an Execute") {
    Session s = make_session();
    Outbox out = feed(s,
                      parse("", "SELECT harmless()") + bind("") + execute() + parse("p", kPlain) + bind("p", "1") +
                          execute() + sync_message(),
                      true);
    CHECK(forwarded(out, kPlain));
    // Also a pure-ASCII string with no backslash, and E'' strings with one.
    Session s2 = make_session();
    std::string e_string = "SELECT E'it\\'s' AS a";
    Outbox out2 = feed(s2, query("SELECT harmless()") + query(e_string), true);
    CHECK(forwarded(out2, e_string));
}

TEST_CASE("a Query pipelined behind another Query waits for its ReadyForQuery before sensitive text is judged") {
    for (std::string_view first : {"SELECT harmless()", "FETCH ALL FROM c", "INSERT INTO notes (body) VALUES ($1)"}) {
        CAPTURE(first);
        Session s = make_session();
        Outbox out = feed(s, query(first) + query(kBackslashTrick), true);
        CHECK(forwarded(out, first));
        CHECK_FALSE(forwarded(out, kBackslashTrick));
    }
}

TEST_CASE("a change and its undo inside one batch leave nothing to report: still refused") {
    Session s = make_session();
    Outbox out = feed(s,
                      parse("", "SELECT flip_off()") + bind("") + execute() + parse("t", kBackslashTrick) + bind("t") +
                          execute() + parse("", "SELECT flip_on()") + bind("") + execute() + sync_message(),
                      true);
    CHECK_FALSE(forwarded(out, kBackslashTrick));
}

TEST_CASE("settings the server reports decide what may be judged") {
    Session s = make_session();
    auto status = [](std::string_view name, std::string_view value) {
        std::string body = std::string(name) + '\0' + std::string(value) + '\0';
        return msg(backend::ParameterStatus, body);
    };
    feed(s, query("SELECT harmless()"), true);
    feed(s, status("client_encoding", "SJIS") + complete("SELECT 1") + rfq('I'), false);
    CHECK(forwarded(feed(s, query(kPlain), true), kPlain));  // ASCII reads the same in SJIS
    feed(s, complete("SELECT 0") + rfq('I'), false);
    Outbox refused = feed(s, query(kEncodingTrick), true);
    CHECK_FALSE(forwarded(refused, kEncodingTrick));
    CHECK(client_error_after_decoy(s, "").find("client_encoding is SJIS") != std::string::npos);

    feed(s, query("SELECT harmless()"), true);
    feed(s,
         status("client_encoding", "UTF8") + status("standard_conforming_strings", "off") + complete("SELECT 1") +
             rfq('I'),
         false);
    Outbox off = feed(s, query(kBackslashTrick), true);
    CHECK_FALSE(forwarded(off, kBackslashTrick));
    CHECK(client_error_after_decoy(s, "").find("standard_conforming_strings is off") != std::string::npos);
    // A statement without backslashes in its strings reads the same: SET it back.
    std::string set_on = "SET standard_conforming_strings = on";
    CHECK(forwarded(feed(s, query(set_on), true), set_on));
}
