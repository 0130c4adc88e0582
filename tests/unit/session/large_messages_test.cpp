// Messages of every size PostgreSQL accepts, through the connection engine: Binds
// relayed as they arrive, statement texts held up to max_statement_size and
// rejected past it as exactly as any rejection, server messages of any size, and
// the limits that end a session with an error the client gets to read.
#include "connection_test_util.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {

std::string bind_message(std::string_view portal, std::string_view statement, const std::vector<std::string>& values,
                         int16_t format = 0) {
    std::string out;
    MessageWriter w(out);
    w.begin(frontend::Bind).cstring(portal).cstring(statement).int16(1).int16(format);
    w.int16(static_cast<int16_t>(values.size()));
    for (const auto& v : values) w.int32(static_cast<int32_t>(v.size())).bytes(v);
    w.int16(0).end();
    return out;
}

std::string notice(std::string_view message) {
    ErrorFields e;
    e.severity = "NOTICE";
    e.sqlstate = "00000";
    e.message = std::string(message);
    std::string out;
    write_notice_response(out, e);
    return out;
}

std::string statement_too_large_config(std::string_view limit) {
    return fmt::format("[analyzer]\nmax_statement_size = \"{}\"", limit);
}

// Every message type in a byte string, in order.
std::string types(std::string_view bytes) {
    std::string out;
    for (const auto& [type, body] : messages_in(bytes)) out.push_back(type);
    return out;
}

}  // namespace

TEST_CASE("a 1 MB Bind streams to the server as it arrives, and its portal runs the prepared statement") {
    LoggedIn s;
    s->from_client(parse("big", "SELECT $1::text") + sync_message());
    s->from_server(msg(backend::ParseComplete) + rfq('I'));
    s->new_server_bytes();
    s->new_client_bytes();
    std::string b = bind_message("", "big", {std::string(1 << 20, 'v')});
    s->from_client(b.substr(0, 400 * 1024));
    // Relayed before the message is complete: pgmoat holds a head, not the Bind.
    CHECK(s->new_server_bytes() == b.substr(0, 400 * 1024));
    s->from_client(b.substr(400 * 1024), 7777);
    CHECK(s->new_server_bytes() == b.substr(400 * 1024));
    s->from_client(execute() + sync_message());
    s->from_server(msg(backend::BindComplete) + data_row("v") + complete("SELECT 1") + rfq('I'));
    CHECK(types(s->new_client_bytes()) == "2DCZ");
    const audit::Record* ran = nullptr;
    for (const auto& r : s->audit.records)
        if (r.event == audit::Event::statement && r.sqlstate == "00000") ran = &r;
    REQUIRE(ran);
    REQUIRE(ran->statement);
    CHECK(ran->statement->text == "SELECT $1::text");
}

TEST_CASE("audited values of a streamed Bind are cut at 1 kB each, and the values after a large one are kept") {
    LoggedIn s({}, "capped");  // its policy audits parameters
    s->from_client(parse("p", "SELECT $1::text, $2::int") + sync_message());
    s->from_server(msg(backend::ParseComplete) + rfq('I'));
    std::string big(600 * 1024, 'j');
    s->from_client(bind_message("", "p", {big, "42"}) + execute() + sync_message(), 65536);
    s->from_server(msg(backend::BindComplete) + complete("SELECT 1") + rfq('I'));
    const audit::Record* ran = nullptr;
    for (const auto& r : s->audit.records)
        if (r.event == audit::Event::statement && r.sqlstate == "00000") ran = &r;
    REQUIRE(ran);
    REQUIRE(ran->parameters);
    REQUIRE(ran->parameters->size() == 2);
    CHECK((*ran->parameters)[0] == std::string(1024, 'j') + "… (614400 bytes)");
    CHECK((*ran->parameters)[1] == "42");
}

TEST_CASE("streamed messages split at every byte boundary cross unchanged, their audited values the same") {
    DriverOptions o;
    o.stream_threshold = 32;  // everything longer streams
    LoggedIn s(o, "capped");
    s->from_client(parse("p", "SELECT $1::text, $2::text") + sync_message());
    s->from_server(msg(backend::ParseComplete) + rfq('I'));
    std::string b = bind_message("", "p", {std::string(200, 'a'), "tail"});
    std::string answer = msg(backend::BindComplete) + data_row(std::string(150, 'r')) + complete("SELECT 1") + rfq('I');
    for (size_t cut = 1; cut < b.size(); ++cut) {
        s->new_server_bytes();
        s->new_client_bytes();
        s->audit.records.clear();
        s->from_client(b.substr(0, cut));
        s->from_client(b.substr(cut) + execute() + sync_message());
        CHECK(s->new_server_bytes() == b + execute() + sync_message());
        size_t back = cut % answer.size();
        s->from_server(answer.substr(0, back));
        s->from_server(answer.substr(back));
        CHECK(s->new_client_bytes() == answer);
        const audit::Record* ran = nullptr;
        for (const auto& r : s->audit.records)
            if (r.event == audit::Event::statement) ran = &r;
        REQUIRE(ran);
        REQUIRE(ran->parameters);
        CHECK(*ran->parameters == BindValues{std::string(200, 'a'), "tail"});
    }
}

TEST_CASE("audited binary values are hex, cut at 1 kB of the value") {
    BindValueReader reader;
    std::string body = bind_message("", "", {std::string(2000, '\x01'), "\xff"}, 1).substr(5);
    for (char c : body) reader.feed(std::string_view(&c, 1));  // a byte at a time
    REQUIRE(reader.ok());
    REQUIRE(reader.complete());
    auto values = reader.take();
    REQUIRE(values.size() == 2);
    std::string hex_kept;
    for (int i = 0; i < 1024; ++i) hex_kept += "01";
    CHECK(values[0] == "\\x" + hex_kept + "… (2000 bytes)");
    CHECK(values[1] == "\\xff");
}

TEST_CASE("a Parse whose text is over max_statement_size but can be held is rejected with 54000, exactly") {
    LoggedIn s(with_config(statement_too_large_config("64kB")));
    std::string text = "SELECT $1::text /*" + std::string(100 * 1024, 'x') + "*/";
    s->from_client(parse("s1", text) + bind("s1") + execute() + sync_message());
    // The server gets a decoy under the same name; the rest of the batch is
    // skipped up to Sync, as the server itself would.
    auto sent = messages_in(s->new_server_bytes());
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].first == frontend::Parse);
    CHECK(sent[0].second.find("pgmoat_rejected_statement") != std::string::npos);
    CHECK(sent[0].second.find("xxxx") == std::string::npos);
    CHECK(sent[1].first == frontend::Sync);
    s->from_server(server_error("42601", "syntax error at or near \"pgmoat_rejected_statement\"") + rfq('I'));
    std::string got = s->new_client_bytes();
    CHECK(sqlstate(got) == "54000");
    CHECK(types(got) == "EZ");
}

TEST_CASE("a Parse too long to hold streams nowhere: 54000, a decoy, and the session goes on") {
    LoggedIn s(with_config(statement_too_large_config("64kB")));
    std::string text = "SELECT $1::text /*" + std::string(2 << 20, 'x') + "*/";
    std::string p = parse("s2", text);
    s->from_client(p.substr(0, 300 * 1024));
    auto sent = messages_in(s->new_server_bytes());
    REQUIRE(sent.size() == 1);  // the decoy, at once
    CHECK(sent[0].second.rfind("s2", 0) == 0);
    CHECK(sent[0].second.find("pgmoat_rejected_statement") != std::string::npos);
    s->from_client(p.substr(300 * 1024), 100000);
    CHECK(s->new_server_bytes().empty());  // nothing of the text reaches the server
    s->from_client(bind("s2") + execute() + sync_message());
    CHECK(types(s->new_server_bytes()) == "S");
    s->from_server(server_error("42601", "syntax error at or near \"pgmoat_rejected_statement\"") + rfq('I'));
    std::string got = s->new_client_bytes();
    CHECK(sqlstate(got) == "54000");
    CHECK(message_of(got).find("statement too large") != std::string::npos);
    CHECK(types(got) == "EZ");
    // Still usable.
    s->from_client(query("SELECT 1"));
    CHECK(s->new_server_bytes() == query("SELECT 1"));
    s->from_server(complete("SELECT 1") + rfq('I'));
    CHECK(types(s->new_client_bytes()) == "CZ");
    bool recorded = false;
    for (const auto& r : s->audit.records)
        recorded |= r.event == audit::Event::statement && r.rule == "too_large" && r.sqlstate == "54000";
    CHECK(recorded);
}

TEST_CASE("a simple Query too long to hold is rejected in a transaction, which fails as on the server") {
    LoggedIn s(with_config(statement_too_large_config("64kB")));
    s->from_client(query("BEGIN"));
    s->from_server(complete("BEGIN") + rfq('T'));
    s->new_client_bytes();
    s->new_server_bytes();
    std::string q = query("SELECT 1 /*" + std::string(1 << 20, 'y') + "*/");
    s->from_client(q, 50000);
    auto sent = messages_in(s->new_server_bytes());
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].first == frontend::Query);
    CHECK(sent[0].second.find("pgmoat_rejected_statement") == 0);
    s->from_server(server_error("42601", "syntax error at or near \"pgmoat_rejected_statement\"") + rfq('E'));
    std::string got = s->new_client_bytes();
    CHECK(sqlstate(got) == "54000");
    CHECK(messages_in(got).back() == std::pair<char, std::string>{backend::ReadyForQuery, "E"});
}

TEST_CASE("in monitor mode a statement too long to hold is forwarded as it arrives and recorded as would_reject") {
    LoggedIn s(with_config(statement_too_large_config("64kB")), "watched");
    std::string q = query("SELECT 1 /*" + std::string(1 << 20, 'z') + "*/");
    s->from_client(q, 100000);
    CHECK(s->new_server_bytes() == q);
    s->from_server(complete("SELECT 1") + rfq('I'));
    bool would = false;
    for (const auto& r : s->audit.records)
        would |=
            r.event == audit::Event::statement && r.decision == audit::Decision::would_reject && r.rule == "too_large";
    CHECK(would);
}

TEST_CASE("a message over max_message_size: its FATAL, then what the client still sends is read until it has passed") {
    LoggedIn s(with_config("max_message_size = \"64kB\""));
    std::string q = query(std::string(1 << 20, 'q'));
    s->from_client(q.substr(0, 100 * 1024));
    CHECK(sqlstate(s->client_got) == "08P01");
    CHECK(severity(s->client_got) == "FATAL");
    CHECK(message_of(s->client_got).find("exceeds the maximum of 65536 bytes") != std::string::npos);
    CHECK(s->drained());
    CHECK_FALSE(s->closed());
    CHECK(s->engine().wants_read(Side::client));
    CHECK(s->new_server_bytes().empty());
    s->from_client(q.substr(100 * 1024, 500 * 1024));
    CHECK_FALSE(s->closed());
    s->from_client(q.substr(600 * 1024));
    CHECK(s->closed());
    CHECK(s->engine().close_reason().find("exceeds the maximum") != std::string::npos);
}

TEST_CASE("a client that stops sending an oversized message is closed after the drain timeout") {
    LoggedIn s(with_config("max_message_size = \"64kB\""));
    s->from_client(query(std::string(1 << 20, 'q')).substr(0, 5));
    REQUIRE(s->drained());
    s->advance(std::chrono::seconds(9));
    CHECK_FALSE(s->closed());
    s->advance(std::chrono::seconds(2));
    CHECK(s->closed());
}

TEST_CASE("a Describe over PostgreSQL's 10000-byte limit for it gets 08P01") {
    LoggedIn s;
    std::string d;
    MessageWriter(d).begin(frontend::Describe).byte('S').cstring(std::string(20000, 'n')).end();
    s->from_client(d);
    CHECK(sqlstate(s->client_got) == "08P01");
    CHECK(message_of(s->client_got).find("PostgreSQL's limit of 10000 bytes") != std::string::npos);
    CHECK(s->new_server_bytes().empty());
}

TEST_CASE(
    "a 300 kB NOTICE and a 300 kB ERROR from the server cross whole, in pieces, and the error ends the statement") {
    LoggedIn s;
    s->from_client(query("SELECT 1"));  // the server's answer is scripted
    s->new_server_bytes();
    std::string big_notice = notice(std::string(300 * 1024, 'n'));
    ErrorFields e;
    e.sqlstate = "P0001";
    e.message = std::string(300 * 1024, 'e');
    std::string big_error;
    write_error_response(big_error, e);
    std::string answer = big_notice + big_error + rfq('I');
    s->from_server(answer, 4096);
    CHECK(s->new_client_bytes() == answer);
    bool recorded = false;
    for (const auto& r : s->audit.records) recorded |= r.event == audit::Event::statement && r.sqlstate == "P0001";
    CHECK(recorded);
    s->from_client(query("SELECT 1"));
    CHECK(s->new_server_bytes() == query("SELECT 1"));
}

TEST_CASE("a 50 MB DataRow crosses to the client in pieces, never held whole") {
    LoggedIn s;
    s->from_client(query("SELECT big FROM blobs"));
    std::string row = data_row(std::string(50 << 20, 'b'));
    size_t seen = 0;
    for (size_t at = 0; at < row.size(); at += 1 << 20) {
        s->from_server(std::string_view(row).substr(at, 1 << 20));
        seen += s->new_client_bytes().size();
        CHECK(seen >= std::min(row.size(), at + (1 << 20)) - 256 * 1024);  // at most a head behind
    }
    s->from_server(complete("SELECT 1") + rfq('I'));
    CHECK(types(s->new_client_bytes()) == "CZ");
}

TEST_CASE("a 5 MB CopyData row streams to the server during COPY FROM STDIN") {
    LoggedIn s;
    s->from_client(query("COPY items FROM STDIN"));
    s->from_server(msg(backend::CopyInResponse, std::string("\0\0\0", 3)));
    s->new_server_bytes();
    std::string row = msg(frontend::CopyData, std::string(5 << 20, 'c'));
    s->from_client(row, 1 << 20);
    CHECK(s->new_server_bytes() == row);
    s->from_client(msg(frontend::CopyDone));
    s->from_server(complete("COPY 1") + rfq('I'));
    CHECK(types(s->new_client_bytes()) == "GCZ");
}

TEST_CASE("pgmoat's own message for the server waits until a Bind streaming to it is through") {
    LoggedIn s({}, "capped");  // max_rows 3
    s->auto_cancel = true;
    s->from_client(query("BEGIN"));
    s->from_server(complete("BEGIN") + rfq('T'));
    s->from_client(parse("p", "SELECT $1::text") + sync_message());
    s->from_server(msg(backend::ParseComplete) + rfq('T'));
    s->from_client(query("SELECT n FROM items"));
    s->new_server_bytes();
    std::string b = bind_message("", "p", {std::string(1 << 20, 'v')});
    s->from_client(b.substr(0, 300 * 1024));
    // The capped statement finished before the cancel landed: pgmoat fails the
    // transaction with a silent decoy, which must not land inside the Bind.
    std::string rows;
    for (int i = 0; i < 5; ++i) rows += data_row("r");
    s->from_server(rows + complete("SELECT 5") + rfq('T'));
    s->from_client(b.substr(300 * 1024));
    std::string sent = s->new_server_bytes();
    REQUIRE(sent.size() > b.size());
    CHECK(sent.substr(0, b.size()) == b);
    auto after = messages_in(std::string_view(sent).substr(b.size()));
    REQUIRE(after.size() == 1);
    CHECK(after[0].second.find("pgmoat_rejected_statement") == 0);
}

TEST_CASE("a server setting too long to hold makes statements refused until it is known again") {
    LoggedIn s;
    std::string status;
    write_parameter_status(status, "client_encoding", std::string(300 * 1024, 'u'));
    s->from_client(query("SELECT 1"));
    s->from_server(status + complete("SELECT 1") + rfq('I'), 65536);
    // Text that reads differently under other settings (a backslash in a string).
    s->from_client(query("SELECT 'a\\b'"));
    auto sent = messages_in(s->new_server_bytes());
    REQUIRE(sent.size() == 2);  // SELECT 1, then a decoy for the second
    CHECK(sent[1].second.find("pgmoat_rejected_statement") == 0);
}
