// The admin console in the connection engine: who opens it (an admin identity
// asking for database "pgmoat") and who is refused, the session listing SHOW
// SESSIONS reads, PAUSE holding a statement at its boundary until RESUME, and KILL.
#include "connection_test_util.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {

// The console's view: the driver's real session directory, nothing else.
struct DirectoryState : AdminState {
    explicit DirectoryState(SessionDirectory& d) : directory(d) {}
    SessionDirectory& directory;
    std::vector<SessionRow> sessions() const override { return directory.list(); }
    std::vector<TargetRow> targets() const override { return {}; }
    std::vector<PolicyRow> policies() const override { return {}; }
    std::string policy_version() const override { return "000000000000"; }
    std::vector<RejectionRow> rejections() const override { return {}; }
    std::vector<CounterRow> counters() const override { return {}; }
    std::string reload() override { return {}; }
    bool set_paused(std::string_view, bool) override { return true; }
    bool kill(uint64_t, std::string_view) override { return true; }
};

struct Console {
    EngineServices services;
    DirectoryState state{services.directory};
    std::unique_ptr<EngineDriver> d;
    explicit Console(bool available = true) {
        DriverOptions o;
        if (available) o.admin = &state;
        d = std::make_unique<EngineDriver>(services, std::move(o));
        d->start();
    }
};

const SessionRow* listed(const std::vector<SessionRow>& rows, uint64_t id) {
    for (const auto& r : rows)
        if (r.id == id) return &r;
    return nullptr;
}

}  // namespace

TEST_CASE("an admin identity asking for database pgmoat gets the console: no server, SHOW answered, audited") {
    Console c;
    EngineDriver& d = *c.d;
    REQUIRE(d.authenticate("ops", "pgmoat"));
    auto welcome = messages_in(d.client_got);
    d.new_client_bytes();
    REQUIRE(!welcome.empty());
    CHECK(welcome.back() == std::pair<char, std::string>{backend::ReadyForQuery, "I"});
    CHECK(d.count(Kind::connect_upstream) == 0);
    auto rows = c.services.directory.list();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].app == "ops");
    CHECK(rows[0].target == "pgmoat");
    CHECK(rows[0].state == "admin console");
    CHECK(rows[0].client_addr == "192.0.2.7");

    // A command split at every byte boundary is answered once, whole.
    std::string q = query("SHOW SESSIONS");
    for (size_t cut = 1; cut < q.size(); ++cut) {
        d.from_client(q.substr(0, cut));
        CHECK(d.new_client_bytes().empty());
        d.from_client(q.substr(cut));
        auto answer = messages_in(d.new_client_bytes());
        REQUIRE(answer.size() == 4);  // RowDescription, DataRow, CommandComplete, ReadyForQuery
        CHECK(answer[0].first == backend::RowDescription);
        CHECK(answer[1].second.find("admin console") != std::string::npos);
        CHECK(answer[3].first == backend::ReadyForQuery);
    }
    CHECK(d.server_got.empty());
    size_t commands = 0;
    for (const auto& r : d.audit.records) {
        if (r.event != audit::Event::admin_command) continue;
        ++commands;
        CHECK(*r.session->app == "ops");
        CHECK(*r.session->target == "pgmoat");
    }
    CHECK(commands == q.size() - 1);

    d.from_client(terminate());
    CHECK(d.closed());
    CHECK(disconnect_reason(d.audit) == "client closed the connection");
}

TEST_CASE("an app that is not an admin is refused the console with 28000 after its password, and audited") {
    Console c;
    EngineDriver& d = *c.d;
    REQUIRE(d.authenticate("orders", "pgmoat"));
    std::string got = d.client_got;
    CHECK(sqlstate(got) == "28000");
    CHECK(severity(got) == "FATAL");
    CHECK(message_of(got) == "pgmoat: app \"orders\" may not open the admin console");
    CHECK(error_field(got, 'H') ==
          "an operator makes an identity an admin with admin = true under [apps.orders] in "
          "pgmoat.toml");
    CHECK(d.closed());
    CHECK(d.count(Kind::connect_upstream) == 0);
    REQUIRE(!d.audit.records.empty());
    CHECK(d.audit.records.back().event == audit::Event::target_denied);
    CHECK(*d.audit.records.back().reason == "admin console refused: not an admin identity");
    CHECK(c.services.directory.list().empty());

    // A wrong password learns nothing about the console.
    Console wrong;
    CHECK_FALSE(wrong.d->authenticate("ops", "pgmoat", "not-the-password"));
    CHECK(sqlstate(wrong.d->client_got) == "28P01");
}

TEST_CASE("where no console runs, an admin gets 0A000; a message over 1 MB on the console is a protocol violation") {
    Console none(false);
    REQUIRE(none.d->authenticate("ops", "pgmoat"));
    CHECK(sqlstate(none.d->client_got) == "0A000");
    CHECK(none.d->closed());

    Console c;
    REQUIRE(c.d->authenticate("ops", "pgmoat"));
    c.d->new_client_bytes();
    c.d->from_client(query(std::string(1 << 20, 'x')));
    std::string got = c.d->new_client_bytes();
    CHECK(sqlstate(got) == "08P01");
    CHECK(c.d->closed());
}

TEST_CASE("a session is listed with its state and statement kind as they change, and unlisted when it ends") {
    EngineServices services;
    {
        EngineDriver d(services);
        d.start();
        REQUIRE(d.login("orders", "dev"));
        auto row = [&] { return *listed(services.directory.list(), 7); };
        CHECK(row().app == "orders");
        CHECK(row().target == "dev");
        CHECK(row().client_port == 40000);
        CHECK(row().state == "idle");
        CHECK(row().statement_kind.empty());
        d.from_client(query("BEGIN"));
        CHECK(row().state == "active");
        CHECK(row().statement_kind == "begin");
        d.from_server(complete("BEGIN") + rfq('T'));
        CHECK(row().state == "idle in transaction");
        d.from_client(query("SELECT 1"));
        CHECK(row().statement_kind == "select");
        d.from_server(msg(backend::ErrorResponse, std::string("SERROR\0C22012\0Mx\0\0", 18)) + rfq('E'));
        CHECK(row().state == "idle in transaction (aborted)");
    }
    CHECK(services.directory.list().empty());
}

TEST_CASE("PAUSE holds the next statement at its boundary; a transaction finishes first; RESUME lets it go") {
    LoggedIn s;
    auto state = [&] { return listed(s.services.directory.list(), 7)->state; };
    // Inside a transaction when the pause comes: it goes on until it ends.
    s->from_client(query("BEGIN"));
    s->from_server(complete("BEGIN") + rfq('T'));
    s->new_server_bytes();
    s.services.pauses.set("dev", true);
    s.services.pauses.set("prod", true);
    s->from_client(query("SELECT 1"));
    CHECK(s->new_server_bytes() == query("SELECT 1"));
    s->from_server(complete("SELECT 0") + rfq('T'));
    s->from_client(query("COMMIT"));
    CHECK(s->new_server_bytes() == query("COMMIT"));
    s->from_server(complete("COMMIT") + rfq('I'));
    s->new_client_bytes();

    // The next one waits, split or whole, and so does what is pipelined behind it.
    std::string held = query("SELECT 2") + query("SELECT 3");
    s->from_client(held.substr(0, 3));
    s->from_client(held.substr(3));
    CHECK(s->new_server_bytes().empty());
    CHECK(state() == "paused");
    CHECK_FALSE(s->engine().wants_read(Side::client));
    // Another target's RESUME, or a resume while still paused, changes nothing.
    s.services.pauses.set("prod", false);
    s->engine().on_resume();
    s->pump();
    CHECK(s->new_server_bytes().empty());
    s.services.pauses.set("dev", false);
    s->engine().on_resume();
    s->pump();
    CHECK(s->new_server_bytes() == query("SELECT 2") + query("SELECT 3"));
    CHECK(state() == "active");
    CHECK(s->engine().wants_read(Side::client));
}

TEST_CASE("a paused session is not idle: no idle timeout; at shutdown it closes before its statement ran") {
    LoggedIn s(with_config("idle_timeout = \"1s\""));
    s.services.pauses.set("dev", true);
    s->from_client(query("SELECT 1"));
    CHECK(s->new_server_bytes().empty());
    s->advance(std::chrono::seconds(5));
    CHECK_FALSE(s->closed());
    s->engine().on_drain();
    s->pump();
    CHECK(sqlstate(s->new_client_bytes()) == "57P01");
    CHECK(s->closed());
    CHECK(s->new_server_bytes().empty());
}

TEST_CASE("KILL: FATAL 57P01 naming the admin, the server's running statement cancelled, the session closed") {
    SUBCASE("a statement running") {
        LoggedIn s;
        s->from_client(query("SELECT 1"));
        s->new_server_bytes();
        s->engine().on_kill("ops");
        s->pump();
        std::string got = s->new_client_bytes();
        CHECK(sqlstate(got) == "57P01");
        CHECK(severity(got) == "FATAL");
        CHECK(message_of(got) == "terminating connection due to administrator command");
        CHECK(error_field(got, 'D') == "pgmoat: session 7 was ended by admin \"ops\" on the admin console.");
        REQUIRE(s->count(Kind::send_cancel) == 1);
        // The cancel goes out before the close.
        size_t cancel_at = 0, close_at = 0;
        for (size_t i = 0; i < s->actions.size(); ++i) {
            if (s->actions[i].kind == Kind::send_cancel) cancel_at = i;
            if (s->actions[i].kind == Kind::close) close_at = i;
        }
        CHECK(cancel_at < close_at);
        CHECK(s->closed());
        CHECK(disconnect_reason(s->audit) == "killed by admin \"ops\"");
    }
    SUBCASE("idle: nothing to cancel") {
        LoggedIn s;
        s->engine().on_kill("ops");
        s->pump();
        CHECK(sqlstate(s->new_client_bytes()) == "57P01");
        CHECK(s->count(Kind::send_cancel) == 0);
        CHECK(s->closed());
    }
    SUBCASE("held by PAUSE") {
        LoggedIn s;
        s.services.pauses.set("dev", true);
        s->from_client(query("SELECT 1"));
        s->engine().on_kill("ops");
        s->pump();
        CHECK(sqlstate(s->new_client_bytes()) == "57P01");
        CHECK(s->new_server_bytes().empty());
        CHECK(s->closed());
    }
}
