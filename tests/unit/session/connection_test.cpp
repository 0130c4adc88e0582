// The connection engine without sockets: logins and messages split at every byte
// boundary, streaming, size caps, the upstream attach, durability, cancel ordering
// and every way a connection ends.
#include "connection_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;
using namespace std::chrono_literals;

// ---- logins ----

TEST_CASE("a login with its StartupMessage split at every byte boundary gets the same welcome") {
    std::string startup = startup_message("orders", "dev", {{"application_name", "split"}});
    for (size_t cut = 1; cut < startup.size(); ++cut) {
        Fresh f;
        EngineDriver& d = f.d;
        d.from_client(startup.substr(0, cut));
        CHECK(d.client_got.empty());
        d.from_client(startup.substr(cut));
        REQUIRE(d.scram());
        CHECK(d.count(Kind::connect_upstream) == 1);
        // pgmoat's own login reached the server whole, the client's settings forwarded.
        std::string login = d.new_server_bytes();
        auto sent = decode_startup_packet(login);
        REQUIRE(sent.status == DecodeStatus::frame);
        auto m = std::get<StartupMessage>(read_startup_packet(sent.frame.body));
        CHECK(*m.find("user") == "pgmoat");
        CHECK(*m.find("database") == "app");
        CHECK(*m.find("application_name") == "split");
        // The server's answer, itself cut at every tenth byte.
        d.from_server(server_welcome(), 10);
        auto welcome = messages_in(d.new_client_bytes());
        REQUIRE(welcome.size() >= 4);
        CHECK(welcome.front().first == backend::Authentication);
        CHECK(welcome[welcome.size() - 2].first == backend::BackendKeyData);
        CHECK(welcome.back() == std::pair<char, std::string>{backend::ReadyForQuery, "I"});
        REQUIRE(d.engine().session());
    }
}

TEST_CASE("a client sending its whole login one byte at a time is logged in") {
    Fresh f;
    EngineDriver& d = f.d;
    d.from_client(startup_message("orders", "dev"), 1);
    REQUIRE(d.scram());
    d.from_server(server_welcome(), 1);
    CHECK(messages_in(d.client_got).back().first == backend::ReadyForQuery);
}

TEST_CASE("a wrong password is refused with 28P01, counted and audited") {
    Fresh f;
    EngineDriver& d = f.d;
    d.from_client(startup_message("orders", "dev"));
    CHECK_FALSE(d.scram("not the password"));
    CHECK(sqlstate(d.client_got) == "28P01");
    CHECK(d.closed());
    CHECK(d.count(Kind::connect_upstream) == 0);
    CHECK(f.services.metrics.login_failures.labels({"password"}).value() == 1);
    REQUIRE(!d.audit.records.empty());
    CHECK(d.audit.records.back().event == audit::Event::auth_failed);
}

TEST_CASE("over max_client_connections the client gets 53300") {
    DriverOptions o;
    o.over_connection_limit = true;
    Fresh f(o);
    EngineDriver& d = f.d;
    d.from_client(startup_message("orders", "dev"));
    CHECK(sqlstate(d.client_got) == "53300");
    CHECK(d.closed());
    CHECK(f.services.metrics.refused_for_limits.labels({}).value() == 1);
}

TEST_CASE("the startup timeout closes a client that is too slow, and counts it") {
    Fresh f;
    EngineDriver& d = f.d;
    d.from_client(startup_message("orders", "dev").substr(0, 5));
    d.advance(9s);
    CHECK_FALSE(d.closed());
    d.advance(2s);
    CHECK(d.closed());
    CHECK(d.engine().close_reason() == "startup timeout");
    CHECK(f.services.metrics.login_failures.labels({"timeout"}).value() == 1);
    CHECK(disconnect_reason(d.audit) == "startup timeout");
}

TEST_CASE("the startup timeout also covers pgmoat's own login upstream") {
    Fresh f(with_config("startup_timeout = \"2s\""));  // shorter than connect_timeout
    EngineDriver& d = f.d;
    REQUIRE(d.authenticate());
    d.advance(3s);  // the server never answers
    CHECK(d.closed());
    CHECK(d.engine().close_reason() == "startup timeout");
}

TEST_CASE("SSLRequest: 'S', a handshake, then the login over TLS with channel binding") {
    Fresh f(with_tls());
    EngineDriver& d = f.d;
    std::string ssl;
    write_ssl_request(ssl);
    d.from_client(ssl);
    CHECK(d.new_client_bytes() == "S");
    CHECK(d.count(Kind::start_client_tls) == 1);
    REQUIRE(d.authenticate());  // SCRAM-SHA-256-PLUS with the certificate's binding
    d.from_server(server_welcome());
    CHECK(d.engine().session()->identity().tls);
}

TEST_CASE("bytes sent after SSLRequest before the handshake are refused") {
    Fresh f(with_tls());
    EngineDriver& d = f.d;
    std::string ssl;
    write_ssl_request(ssl);
    d.from_client(ssl + startup_message("orders", "dev"));
    CHECK(d.count(Kind::start_client_tls) == 0);
    // 'S', then the refusal in the clear, as PostgreSQL does.
    REQUIRE(d.client_got.substr(0, 1) == "S");
    CHECK(message_of(d.client_got.substr(1)) == "received unencrypted data after SSL request");
    CHECK(d.closed());
}

TEST_CASE("a failed client TLS handshake closes the connection") {
    Fresh f(with_tls());
    EngineDriver& d = f.d;
    std::string ssl;
    write_ssl_request(ssl);
    d.engine().feed(Side::client, ssl);
    std::string out;
    d.engine().take_output(Side::client, out);
    CHECK(out == "S");
    REQUIRE(d.engine().next_action()->kind == Kind::start_client_tls);
    CHECK_FALSE(d.engine().wants_read(Side::client));  // no reads during the handshake
    d.engine().on_client_tls(false, "wrong version number");
    d.pump();
    CHECK(d.closed());
    CHECK(d.engine().close_reason() == "TLS handshake failed: wrong version number");
}

TEST_CASE("a server shutting down refuses logins with 57P03") {
    Fresh f;
    EngineDriver& d = f.d;
    d.engine().on_drain();
    d.from_client(startup_message("orders", "dev"));
    d.scram();
    CHECK(sqlstate(d.client_got) == "57P03");
    CHECK(d.closed());
}

// ---- pgmoat's login upstream ----

TEST_CASE("a target that cannot be reached gets 08006 naming it") {
    Fresh f;
    EngineDriver& d = f.d;
    d.auto_connect = false;
    REQUIRE(d.authenticate());
    CHECK_FALSE(d.engine().wants_read(Side::server));
    d.engine().on_upstream_failed("Connection refused");
    d.pump();
    CHECK(sqlstate(d.client_got) == "08006");
    CHECK(message_of(d.client_got) == "pgmoat: cannot connect to target \"dev\": Connection refused");
    CHECK(d.closed());
    CHECK(f.services.metrics.upstream_connect_errors.labels({"dev"}).value() == 1);
    CHECK(f.services.metrics.login_failures.labels({"upstream"}).value() == 1);
}

TEST_CASE("a target that does not answer within connect_timeout gets 08006 timed out") {
    Fresh f;
    EngineDriver& d = f.d;
    REQUIRE(d.authenticate());
    d.advance(4s);
    CHECK_FALSE(d.closed());
    d.advance(2s);
    CHECK(message_of(d.client_got) == "pgmoat: cannot connect to target \"dev\": timed out");
    CHECK(d.closed());
}

TEST_CASE("a server refusing pgmoat's login is reported as a connection failure") {
    Fresh f;
    EngineDriver& d = f.d;
    REQUIRE(d.authenticate());
    d.from_server(server_error("28P01", "password authentication failed for user \"pgmoat\""));
    CHECK(sqlstate(d.client_got) == "08006");
    CHECK(message_of(d.client_got).find("refused the connection") != std::string::npos);
    CHECK(d.closed());
}

TEST_CASE("a server that closes during pgmoat's login is reported as a connection failure") {
    Fresh f;
    EngineDriver& d = f.d;
    REQUIRE(d.authenticate());
    d.engine().on_read_failed(Side::server, true, "End of file");
    d.pump();
    CHECK(sqlstate(d.client_got) == "08006");
    CHECK(d.closed());
}

TEST_CASE("TLS upstream: SSLRequest first, a handshake on 'S', channel binding from the certificate") {
    Fresh f;
    EngineDriver& d = f.d;
    REQUIRE(d.authenticate("orders", "tls"));
    std::string ssl;
    write_ssl_request(ssl);
    CHECK(d.new_server_bytes() == ssl);
    d.from_server("S");
    CHECK(d.count(Kind::start_server_tls) == 1);
    std::string login = d.new_server_bytes();
    REQUIRE(decode_startup_packet(login).status == DecodeStatus::frame);
    d.from_server(server_welcome());
    CHECK(messages_in(d.client_got).back().first == backend::ReadyForQuery);
}

TEST_CASE("TLS upstream: a server that answers 'N', or sends bytes after 'S', is refused") {
    for (std::string answer : {"N", "Sjunk"}) {
        Fresh f;
        EngineDriver& d = f.d;
        REQUIRE(d.authenticate("orders", "tls"));
        d.from_server(answer);
        CHECK(d.count(Kind::start_server_tls) == 0);
        CHECK(sqlstate(d.client_got) == "08006");
        CHECK(d.closed());
    }
}

TEST_CASE("first_statement: a remembered welcome admits the client without a server") {
    EngineServices services;
    DriverOptions o = remembered_welcome(services);
    EngineDriver d(services, o);
    d.auto_connect = false;
    d.start();
    REQUIRE(d.login());
    CHECK(d.count(Kind::connect_upstream) == 0);
    d.new_client_bytes();
    // The first statement attaches a server; the statement waits for its login.
    std::string q = query("SELECT 1");
    d.from_client(q);
    CHECK(d.count(Kind::connect_upstream) == 1);
    CHECK(d.server_got.empty());
    CHECK_FALSE(d.engine().wants_read(Side::server));
    d.engine().on_upstream_connected();
    d.pump();
    std::string login_bytes = d.new_server_bytes();
    auto login = decode_startup_packet(login_bytes);
    REQUIRE(login.status == DecodeStatus::frame);
    CHECK(login.frame.size == d.server_got.size());  // not the query yet
    std::string welcome;
    write_authentication(welcome, auth_request::Ok);
    write_parameter_status(welcome, "TimeZone", "Europe/Paris");  // differs from what the client was told
    write_parameter_status(welcome, "standard_conforming_strings", "on");
    write_backend_key_data(welcome, 1, 2);
    write_ready_for_query(welcome, 'I');
    d.from_server(welcome);
    CHECK(d.new_server_bytes() == q);
    auto told = messages_in(d.new_client_bytes());
    REQUIRE(told.size() == 1);
    CHECK(told[0].first == backend::ParameterStatus);
    CHECK(told[0].second.find("Europe/Paris") != std::string::npos);
    d.from_server(complete("SELECT 1") + rfq('I'));
    CHECK(messages_in(d.new_client_bytes()).back().first == backend::ReadyForQuery);
}

TEST_CASE("first_statement: a session that ends before its first statement never connects") {
    EngineServices services;
    DriverOptions o = remembered_welcome(services);
    EngineDriver d(services, o);
    d.start();
    REQUIRE(d.login());
    d.from_client(terminate());
    CHECK(d.closed());
    CHECK(d.count(Kind::connect_upstream) == 0);
    CHECK(d.server_got.empty());
}

// ---- the relay, byte by byte ----

TEST_CASE("a Query and its answer split at every byte boundary cross whole and unchanged") {
    LoggedIn s;
    std::string q = query("SELECT 1");
    std::string answer =
        msg(backend::RowDescription, std::string("\0\0", 2)) + data_row("1") + complete("SELECT 1") + rfq('I');
    for (size_t cut = 1; cut < q.size(); ++cut) {
        s->from_client(q.substr(0, cut));
        CHECK(s->new_server_bytes().empty());
        s->from_client(q.substr(cut));
        CHECK(s->new_server_bytes() == q);
        size_t back_cut = cut % answer.size();
        s->from_server(answer.substr(0, back_cut));
        s->from_server(answer.substr(back_cut));
        CHECK(s->new_client_bytes() == answer);
        CHECK(s->engine().session()->idle());
    }
}

TEST_CASE("a pipelined batch fed one byte at a time reaches the server in order") {
    LoggedIn s;
    std::string batch = query("SELECT 1") + query("SELECT 2") + query("SELECT 3");
    s->from_client(batch, 1);
    CHECK(s->new_server_bytes() == batch);
}

TEST_CASE("a DataRow larger than the read buffer streams to the client as it arrives") {
    LoggedIn s;
    s->from_client(query("SELECT big"));
    std::string big = data_row(std::string(600 * 1024, 'x'));
    s->from_server(big.substr(0, 300 * 1024));
    // Relayed before the message is complete: nothing holds 600 kB.
    CHECK(s->new_client_bytes().size() >= 290 * 1024);
    s->from_server(big.substr(300 * 1024));
    s->from_server(complete("SELECT 1") + rfq('I'));
    std::string rest = s->new_client_bytes();
    CHECK(rest.size() == big.size() - 300 * 1024 + complete("SELECT 1").size() + rfq('I').size());
    CHECK(s->engine().session()->idle());
}

TEST_CASE("a message over max_message_size gets 08P01 on its length alone") {
    DriverOptions o;
    o.config = engine_config("max_message_size = \"64kB\"");
    LoggedIn s(o);
    std::string header = "Q";
    uint32_t len = 64 * 1024 + 5;
    for (int shift : {24, 16, 8, 0}) header.push_back(static_cast<char>((len >> shift) & 0xff));
    s->from_client(header);
    CHECK(sqlstate(s->client_got) == "08P01");
    CHECK(message_of(s->client_got).find("exceeds the maximum") != std::string::npos);
}

// ---- what waits for what ----

TEST_CASE("with fsync per record, a result waits until its audit record is durable") {
    DriverOptions o;
    LoggedIn s(o);
    s->audit.holds = true;
    s->from_client(query("SELECT 1"));
    s->from_server(data_row("1") + complete("SELECT 1") + rfq('I'));
    CHECK(s->new_client_bytes().empty());
    CHECK(s->engine().wants_read(Side::server));
    REQUIRE(s->audit.tickets.size() == 1);
    s->engine().on_durable(s->audit.tickets.back(), true);
    s->pump();
    auto got = messages_in(s->new_client_bytes());
    REQUIRE(got.size() == 3);
    CHECK(got.back().first == backend::ReadyForQuery);
}

TEST_CASE("with fsync per record, a record that cannot be written withholds its result and ends the session") {
    LoggedIn s;
    s->audit.holds = true;
    s->from_client(query("SELECT 1"));
    s->from_server(data_row("1") + complete("SELECT 1") + rfq('I'));
    s->engine().on_durable(s->audit.tickets.back(), false);
    s->pump();
    std::string got = s->new_client_bytes();
    CHECK(sqlstate(got) == "58030");
    CHECK(got.find(data_row("1")) == std::string::npos);
    CHECK(s->closed());
}

TEST_CASE("held results back up: past 1 MB the server is not read") {
    LoggedIn s;
    s->audit.holds = true;
    s->from_client(query("SELECT 1"));
    s->from_server(complete("SELECT 1"));  // a record: what follows waits for it
    for (int i = 0; i < 20 && s->engine().wants_read(Side::server); ++i)
        s->from_server(data_row(std::string(100000, 'r')));
    CHECK_FALSE(s->engine().wants_read(Side::server));
    s->engine().on_durable(s->audit.tickets.back(), true);
    s->pump();
    CHECK(s->engine().wants_read(Side::server));
}

TEST_CASE("a max_rows cancel lands before the next request reaches the server") {
    LoggedIn s({}, "capped");
    s->auto_cancel = false;
    s->from_client(query("SELECT 1"));
    s->new_server_bytes();
    std::string rows;
    for (int i = 0; i < 5; ++i) rows += data_row("r");
    s->from_server(rows);
    REQUIRE(s->count(Kind::send_cancel) == 1);
    CHECK(s->actions.back().bytes == cancel_request(4242, 99));  // the server's own key
    // The app moves on; its next request waits for the cancel.
    s->from_client(query("SELECT 2"));
    CHECK(s->new_server_bytes().empty());
    s->engine().on_cancel_sent();
    s->pump();
    CHECK(s->new_server_bytes() == query("SELECT 2"));
}

// ---- every way a connection ends ----

TEST_CASE("close reasons: the client goes away") {
    LoggedIn s;
    s->engine().on_read_failed(Side::client, true, "End of file");
    s->pump();
    CHECK(s->closed());
    CHECK(s->engine().close_reason() == "client closed the connection");
    CHECK(disconnect_reason(s->audit) == "client closed the connection");
}

TEST_CASE("close reasons: a client read or write error") {
    {
        LoggedIn s;
        s->engine().on_read_failed(Side::client, false, "Connection reset by peer");
        s->pump();
        CHECK(s->engine().close_reason() == "client read: Connection reset by peer");
    }
    {
        LoggedIn s;
        s->engine().on_write_failed(Side::client, "Broken pipe");
        s->pump();
        CHECK(s->engine().close_reason() == "client write: Broken pipe");
    }
}

TEST_CASE("close reasons: the server goes away, and the client is told") {
    LoggedIn s;
    s->engine().on_read_failed(Side::server, true, "End of file");
    s->pump();
    CHECK(severity(s->client_got) == "FATAL");
    CHECK(sqlstate(s->client_got) == "08006");
    CHECK(message_of(s->client_got) == "pgmoat: lost the connection to target \"dev\"");
    CHECK(s->engine().close_reason() == "server closed the connection");
}

TEST_CASE("close reasons: a server write error") {
    LoggedIn s;
    s->engine().on_write_failed(Side::server, "Broken pipe");
    s->pump();
    CHECK(s->engine().close_reason() == "server write: Broken pipe");
}

TEST_CASE("close reasons: Terminate is passed on, then the session ends") {
    LoggedIn s;
    s->from_client(terminate());
    CHECK(s->new_server_bytes() == terminate());
    CHECK(s->closed());
    CHECK(s->engine().close_reason() == "client sent Terminate");
}

TEST_CASE("close reasons: a protocol violation gets 08P01") {
    LoggedIn s;
    s->from_client(msg('y', "whatever"));
    CHECK(sqlstate(s->client_got) == "08P01");
    CHECK(message_of(s->client_got) == "invalid frontend message type 121");
    CHECK(s->closed());
    CHECK(s->new_server_bytes().empty());
}

TEST_CASE("close reasons: an invalid length gets 08P01") {
    LoggedIn s;
    s->from_client(std::string("Q\0\0\0\x02", 5));
    CHECK(message_of(s->client_got).find("invalid message length") != std::string::npos);
    CHECK(s->closed());
}

TEST_CASE("close reasons: a server message pgmoat does not understand gets 08P01") {
    LoggedIn s;
    s->from_client(query("SELECT 1"));
    s->from_server(msg('!', "?"));
    CHECK(sqlstate(s->client_got) == "08P01");
    CHECK(s->closed());
}

TEST_CASE("close reasons: the idle timeout, never while a statement runs") {
    DriverOptions o;
    o.config = engine_config("idle_timeout = \"2s\"");
    LoggedIn s(o);
    s->from_client(query("SELECT pg_sleep(10)"));
    s->advance(3s);
    CHECK_FALSE(s->closed());
    // Idle counts from the answer, when the session starts waiting for the client.
    s->from_server(complete("SELECT 1") + rfq('I'));
    s->advance(1s);
    CHECK_FALSE(s->closed());
    s->advance(2s);
    CHECK(s->closed());
    CHECK(sqlstate(s->client_got) == "57P05");
    CHECK(s->engine().close_reason() == "idle timeout");
}

TEST_CASE("close reasons: shutdown closes an idle session at once, a busy one when it is done") {
    {
        LoggedIn s;
        s->engine().on_drain();
        s->pump();
        CHECK(sqlstate(s->client_got) == "57P01");
        CHECK(s->engine().close_reason() == "server shutting down");
    }
    {
        LoggedIn s;
        s->from_client(query("SELECT 1"));
        s->engine().on_drain();
        s->pump();
        CHECK_FALSE(s->closed());
        s->from_server(data_row("1") + complete("SELECT 1") + rfq('I'));
        CHECK(s->closed());
        auto got = messages_in(s->client_got);
        // The result first, then the goodbye.
        REQUIRE(got.size() >= 4);
        CHECK(got[got.size() - 2].first == backend::ReadyForQuery);
        CHECK(sqlstate(s->client_got) == "57P01");
    }
}

TEST_CASE("close reasons: shutdown waits for results held for the audit log, then says goodbye after them") {
    LoggedIn s;
    s->audit.holds = true;
    s->from_client(query("SELECT 1"));
    s->from_server(data_row("1") + complete("SELECT 1") + rfq('I'));
    s->engine().on_drain();
    s->pump();
    CHECK_FALSE(s->closed());
    s->engine().on_durable(s->audit.tickets.back(), true);
    s->pump();
    CHECK(s->closed());
    auto got = messages_in(s->new_client_bytes());
    REQUIRE(got.size() == 4);
    CHECK(got[2].first == backend::ReadyForQuery);
    CHECK(sqlstate(s->client_got) == "57P01");
}

TEST_CASE("close reasons: after the goodbye nothing the client sends reaches the server") {
    DriverOptions o = with_config("idle_timeout = \"1s\"");
    LoggedIn s(o);
    s->advance(2s);
    REQUIRE(s->closed());
    s->from_client(query("DELETE FROM orders WHERE id = $1"));
    CHECK(s->new_server_bytes().empty());
}

TEST_CASE("close reasons: the shutdown deadline") {
    LoggedIn s;
    s->from_client(query("SELECT pg_sleep(100)"));
    s->engine().on_terminate();
    s->pump();
    CHECK(s->closed());
    CHECK(s->engine().close_reason() == "shutdown deadline passed");
}

TEST_CASE("close reasons: a CancelRequest is forwarded with the server's key, and closed once sent") {
    EngineServices services;
    EngineDriver victim(services);
    victim.start();
    REQUIRE(victim.login());
    auto key = messages_in(victim.client_got);
    std::string key_body;
    for (const auto& [type, body] : key)
        if (type == backend::BackendKeyData) key_body = body;
    auto k = read_backend_key_data(key_body);
    REQUIRE(k);

    EngineDriver canceller(services);
    canceller.auto_cancel = false;
    canceller.start();
    canceller.from_client(cancel_request(k->process_id, k->secret_key));
    REQUIRE(canceller.count(Kind::send_cancel) == 1);
    CHECK(canceller.actions.back().bytes == cancel_request(4242, 99));  // the server's own key
    CHECK_FALSE(canceller.closed());                                    // not before the server has it
    canceller.engine().on_cancel_sent();
    canceller.pump();
    CHECK(canceller.closed());
    CHECK(canceller.client_got.empty());
    CHECK(canceller.engine().close_reason() == "cancel request");
}

TEST_CASE("close reasons: a CancelRequest with an unknown key is dropped") {
    Fresh f;
    EngineDriver& d = f.d;
    d.from_client(cancel_request(12345, 678));
    CHECK(d.count(Kind::send_cancel) == 0);
    CHECK(d.closed());
    CHECK(d.client_got.empty());
}

TEST_CASE("close reasons: a CancelRequest for a peer's session goes to that peer as it came") {
    Fresh f(with_config("peer_id = 1\n[peers.1]\nhost = \"a.example\"\n[peers.2]\nhost = \"b.example\"\nport = 7000"));
    f.services.cancels.set_peer_id(1);
    EngineDriver& d = f.d;
    d.auto_cancel = false;
    int32_t peer_two = (2 << 23) | 12345;
    d.from_client(cancel_request(peer_two, 77));
    REQUIRE(d.count(Kind::send_cancel) == 1);
    CHECK(d.actions.back().target->host == "b.example");
    CHECK(d.actions.back().target->port == 7000);
    CHECK(d.actions.back().bytes == cancel_request(peer_two, 77));
    CHECK_FALSE(d.closed());
    d.engine().on_cancel_sent();
    d.pump();
    CHECK(d.closed());

    Fresh g(with_config("peer_id = 1\n[peers.1]\nhost = \"a.example\""));
    g.services.cancels.set_peer_id(1);
    g.d.from_client(cancel_request((3 << 23) | 1, 1));  // no such peer
    CHECK(g.d.count(Kind::send_cancel) == 0);
    CHECK(g.d.closed());
}

TEST_CASE("a closed connection writes its disconnect record once, with the bytes sent") {
    LoggedIn s;
    s->from_client(query("SELECT 1"));
    s->from_server(data_row("1") + complete("SELECT 1") + rfq('I'));
    s->from_client(terminate());
    s->engine().on_read_failed(Side::client, true, "End of file");
    s->pump();
    size_t disconnects = 0;
    for (const auto& r : s->audit.records) {
        if (r.event != audit::Event::disconnect) continue;
        ++disconnects;
        CHECK(r.bytes_sent.value_or(0) > 0);
    }
    CHECK(disconnects == 1);
    CHECK(s->count(Kind::close) == 1);
}
