#include "pgmoat/session/admin_console.h"
#include "pgmoat/protocol/message_reader.h"

#include "session_test_util.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
struct FakeState : AdminState {
    std::vector<TargetRow> target_rows{{"prod", "db.internal", "shop", 5432, "up", false, 2}};
    std::vector<std::pair<uint64_t, std::string>> kills;
    std::string reload_error;
    std::vector<uint64_t> killed;
    int reloads = 0;
    Approvals table;
    std::vector<std::pair<uint64_t, bool>> decided;  // (approval, approved) told to sessions
    Approvals* approvals() override { return &table; }
    void approval_decided(const PendingApproval& entry, bool approved, std::string_view, std::string_view) override {
        decided.emplace_back(entry.id, approved);
    }

    std::vector<SessionRow> sessions() const override {
        return {{7, "orders-api", "prod", "web", "10.0.0.5", 51000, "idle in transaction", "select",
                 "2026-12-04T06:00:00Z"},
                {8, "orders-api", "prod", "web", "10.0.0.6", 51001, "idle", "", "2026-12-04T06:00:01Z"}};
    }
    std::vector<TargetRow> targets() const override { return target_rows; }
    std::vector<PolicyRow> policies() const override {
        return {{"baseline", "enforce", "policies/baseline.toml", 0, true}};
    }
    std::string policy_version() const override { return "abc123def456"; }
    std::vector<RejectionRow> rejections() const override {
        return {{"2026-12-04T06:01:00Z", 7, "orders-api", "prod", "parameters", "42501",
                 "SELECT id FROM users WHERE email = $1"}};
    }
    std::vector<CounterRow> counters() const override {
        return {{"pgmoat_statements_total", "app=\"x\"", "12"},
                {"pgmoat_statements_total", "app=\"x\",target=\"prod\",kind=\"select\",decision=\"allow\"", "12"},
                {"pgmoat_statements_total", "app=\"x\",target=\"prod\",kind=\"insert\",decision=\"allow\"", "3"},
                {"pgmoat_statements_total", "app=\"x\",target=\"prod\",kind=\"select\",decision=\"reject\"", "2"},
                {"pgmoat_statements_total", "app=\"y\",target=\"dev\",kind=\"select\",decision=\"would_reject\"", "1"},
                {"pgmoat_rejections_total", "app=\"x\",target=\"prod\",rule=\"parameters\"", "2"}};
    }
    std::string reload() override {
        ++reloads;
        return reload_error;
    }
    bool set_paused(std::string_view target, bool paused) override {
        for (auto& t : target_rows) {
            if (t.name == target) {
                t.paused = paused;
                return true;
            }
        }
        return false;
    }
    std::vector<policy::Grant> granted;
    std::vector<std::string> revoked;
    GrantChange add_grant(policy::Grant g, std::chrono::seconds length) override {
        if (g.app != "agent" && g.app != "orders-api") return {"42704", "no app named \"" + g.app + "\"", {}, {}, {}};
        g.id = "g0000000" + std::to_string(granted.size());
        g.expires = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)) + length;
        granted.push_back(g);
        return {{}, {}, {}, g, {}};
    }
    GrantChange remove_grant(std::string_view id) override {
        for (const auto& g : granted) {
            if (g.id == id) {
                revoked.emplace_back(id);
                return {{}, {}, {}, g, {}};
            }
        }
        return {"42704", "no grant " + std::string(id), {}, {}, {}};
    }
    bool kill(uint64_t session, std::string_view by) override {
        if (session != 7) return false;
        killed.push_back(session);
        kills.emplace_back(session, by);
        return true;
    }
};

struct Answer {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::string tag;
    std::string error_code, error_message, error_detail, error_hint, notice;
    bool ready = false;
};

Answer ask(AdminConsole& console, std::string_view command) {
    std::string out;
    CHECK(console.on_frontend(decode_message(query(command), 1 << 20).frame, out));
    Answer a;
    for (const auto& [type, body] : messages(out)) {
        MessageReader r(body);
        if (type == 'T') {
            int n = r.int16();
            for (int i = 0; i < n; ++i) {
                a.columns.emplace_back(r.cstring());
                for (int k = 0; k < 6; ++k) (k == 1 || k == 3 || k == 5) ? (void)r.int16() : (void)r.int32();
            }
        } else if (type == 'D') {
            int n = r.int16();
            std::vector<std::string> row;
            for (int i = 0; i < n; ++i) {
                int32_t len = r.int32();
                row.push_back(len < 0 ? "NULL" : std::string(r.bytes(static_cast<size_t>(len))));
            }
            a.rows.push_back(row);
        } else if (type == 'C') {
            a.tag = r.cstring();
        } else if (type == 'E') {
            auto f = *read_error_fields(body);
            a.error_code = find_field(f, 'C');
            a.error_message = find_field(f, 'M');
            a.error_detail = find_field(f, 'D');
            a.error_hint = find_field(f, 'H');
        } else if (type == 'N') {
            a.notice = find_field(*read_error_fields(body), 'M');
        } else if (type == 'Z') {
            a.ready = true;
        }
    }
    return a;
}
}  // namespace

TEST_CASE("SHOW commands answer as query results that psql prints, and each is audited") {
    FakeState state;
    MemoryAudit audit;
    auto who = std::make_shared<audit::SessionInfo>();
    who->app = "dba-alice";
    AdminConsole console(state, &audit, who);

    auto sessions = ask(console, "show sessions;");
    CHECK(sessions.columns.front() == "session");
    REQUIRE(sessions.rows.size() == 2);
    CHECK(sessions.rows[0][1] == "orders-api");
    CHECK(sessions.rows[0][6] == "idle in transaction");
    CHECK(sessions.tag == "SHOW 2");
    CHECK(sessions.ready);

    auto targets = ask(console, "SHOW TARGETS");
    CHECK(targets.columns ==
          std::vector<std::string>{"target", "host", "port", "database", "health", "paused", "sessions"});
    CHECK(targets.rows[0] == std::vector<std::string>{"prod", "db.internal", "5432", "shop", "up", "no", "2"});
    CHECK(ask(console, "SHOW POLICIES").rows[0].back() == "abc123def456");
    CHECK(ask(console, "SHOW REJECTIONS").rows[0][4] == "parameters");
    CHECK(ask(console, "SHOW COUNTERS").rows[0][2] == "12");
    CHECK(ask(console, "SHOW VERSION").rows[0][0].rfind("pgmoat ", 0) == 0);
    CHECK(ask(console, "SHOW HELP").rows.size() >= 10);

    auto stats = ask(console, "SHOW STATS");
    CHECK(stats.columns == std::vector<std::string>{"app", "target", "statements_allowed", "statements_rejected",
                                                    "monitor_would_reject"});
    REQUIRE(stats.rows.size() == 3);  // ("x", ""): the series without target labels
    CHECK(stats.rows[1] == std::vector<std::string>{"x", "prod", "15", "2", "0"});
    CHECK(stats.rows[2] == std::vector<std::string>{"y", "dev", "1", "0", "1"});

    REQUIRE(audit.records.size() == 8);
    const auto& r = audit.records.front();
    CHECK(r.event == audit::Event::admin_command);
    CHECK(*r.statement->text == "show sessions");
    CHECK(*r.sqlstate == "00000");
    CHECK(r.session->app == "dba-alice");
}

TEST_CASE("actions: RELOAD, PAUSE and RESUME a target, KILL a session; failures name what is wrong") {
    FakeState state;
    MemoryAudit audit;
    auto who = std::make_shared<audit::SessionInfo>();
    who->app = "ops-bob";
    AdminConsole console(state, &audit, who);

    CHECK(ask(console, "RELOAD").tag == "RELOAD");
    CHECK(state.reloads == 1);
    state.reload_error = "policies/x.toml:3:1: unknown key \"mod\"";
    auto failed = ask(console, "reload");
    CHECK(failed.error_code == "F0000");
    CHECK(failed.error_message.find("policies/x.toml:3:1") != std::string::npos);
    CHECK(failed.ready);

    CHECK(ask(console, "PAUSE prod").tag == "PAUSE");
    CHECK(state.target_rows[0].paused);
    CHECK(ask(console, "RESUME prod").tag == "RESUME");
    CHECK_FALSE(state.target_rows[0].paused);
    CHECK(ask(console, "PAUSE nope").error_code == "42704");

    auto killed = ask(console, "KILL 7");
    CHECK(killed.tag == "KILL");
    CHECK(state.killed == std::vector<uint64_t>{7});
    CHECK(state.kills.front().second == "ops-bob");  // the victim's error names the admin
    CHECK(ask(console, "KILL 8").error_code == "42704");
    CHECK(ask(console, "KILL 7; DROP TABLE x").error_code == "42601");
    CHECK(ask(console, "KILL x").error_code == "22P02");

    // Anything else is not SQL to run: the console runs none.
    auto sql = ask(console, "SELECT * FROM users");
    CHECK(sql.error_code == "42601");
    CHECK(sql.error_message.find("not an admin console command") != std::string::npos);
    CHECK(*audit.records.back().decision == audit::Decision::reject);
    CHECK(*audit.records.back().sqlstate == "42601");
}

TEST_CASE("the extended protocol gets one error per batch and ReadyForQuery at Sync") {
    FakeState state;
    AdminConsole console(state, nullptr, std::make_shared<audit::SessionInfo>());
    std::string out;
    for (const auto& m : {parse("", "SHOW SESSIONS"), bind(""), execute(), sync_message()})
        CHECK(console.on_frontend(decode_message(m, 1 << 20).frame, out));
    auto got = messages(out);
    REQUIRE(got.size() == 2);
    CHECK(got[0].first == 'E');
    CHECK(got[1].first == 'Z');
    std::string bye;
    CHECK_FALSE(console.on_frontend(decode_message(msg('X'), 1 << 20).frame, bye));
}

TEST_CASE("rejections are kept for SHOW REJECTIONS, newest first, normalized, bounded") {
    RejectionLog log(3);
    Identity id;
    id.app = "orders-api";
    id.target = "dev";
    StatementServices services;
    services.policies = shipped_policies();
    services.rejections = &log;
    services.session_id = 41;
    Session s(id, {}, services);
    for (int i = 0; i < 4; ++i)
        feed(s, query("SELECT id FROM users WHERE email = 'a" + std::to_string(i) + "@b.c'"), true);
    auto rows = log.recent();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].session == 41);
    CHECK(rows[0].app == "orders-api");
    CHECK(rows[0].rule == "parameters");
    CHECK(rows[0].sqlstate == "42501");
    CHECK(rows[0].statement == "SELECT id FROM users WHERE email = $1");  // never the value
    CHECK(rows[0].time.size() == 27);
}

TEST_CASE(
    "SHOW HELP lists every command of the table; what is not a command is told so, SQL and transactions plainly") {
    FakeState state;
    MemoryAudit audit;
    AdminConsole console(state, &audit, std::make_shared<audit::SessionInfo>());
    auto help = ask(console, "SHOW HELP");
    std::vector<std::string> listed;
    for (const auto& r : help.rows) listed.push_back(r[0]);
    for (const char* c :
         {"SHOW HELP", "SHOW SESSIONS", "SHOW TARGETS", "SHOW POLICIES", "SHOW REJECTIONS", "SHOW STATS",
          "SHOW COUNTERS", "SHOW VERSION", "RELOAD", "PAUSE <target>", "RESUME <target>", "KILL <session>",
          "SHOW APPROVALS", "APPROVE <approval>", "DENY <approval> [reason…]", "REVOKE <grant>"})
        CHECK(std::find(listed.begin(), listed.end(), c) != listed.end());
    // Every listed command runs (those with an argument get one), none is a stub.
    for (const auto& c : listed) {
        std::string line = c.starts_with("GRANT ") ? "GRANT drop TO agent ON prod FOR 30m REASON 'help lists it'" : c;
        if (c == "REVOKE <grant>") line = "REVOKE g00000000";
        if (auto at = line.find(" <"); at != std::string::npos) {
            std::string arg = line[at + 2] == 't' ? " prod" : " 7";
            if (line[at + 2] == 'a') {  // an approval: one that is pending
                PendingApproval p;
                p.app = "agent";
                arg = " " + std::to_string(state.table.hold(p));
            }
            line = line.substr(0, at) + arg;
        }
        auto a = ask(console, line);
        CHECK_MESSAGE(a.error_code.empty(), line);
        CHECK(!a.tag.empty());
    }

    CHECK(state.decided.size() == 2);

    // psql's \dt sends a catalog query.
    auto dt = ask(console, "SELECT n.nspname as \"Schema\" FROM pg_catalog.pg_class c");
    CHECK(dt.error_code == "42601");
    CHECK(dt.error_detail.find("not SQL") != std::string::npos);
    CHECK(dt.error_hint == "SHOW HELP lists the commands");
    auto begin = ask(console, "BEGIN");
    CHECK(begin.error_code == "0A000");
    CHECK(begin.error_message == "pgmoat: the admin console has no transactions");
    CHECK(begin.error_hint.find("autocommit") != std::string::npos);
    CHECK(ask(console, "SHOW").error_code == "42601");
    CHECK(ask(console, "SHOW SESSIONS extra").error_code == "42601");
    CHECK(ask(console, "PAUSE").error_code == "42601");
    auto empty = ask(console, "  ;  ");
    CHECK(empty.error_code.empty());
    CHECK(empty.ready);
    // Commands are case-insensitive, arguments are not changed.
    CHECK(ask(console, "pause PROD").error_code == "42704");
}

TEST_CASE("PAUSE says which sessions finish their transaction or statement first") {
    FakeState state;
    AdminConsole console(state, nullptr, std::make_shared<audit::SessionInfo>());
    auto paused = ask(console, "PAUSE prod");
    CHECK(paused.tag == "PAUSE");
    CHECK(paused.notice ==
          "pgmoat: 1 session of target \"prod\" is inside a transaction or statement and pauses when it ends");
    auto reloaded = ask(console, "RELOAD");
    CHECK(reloaded.notice == "pgmoat: configuration reloaded, policies version abc123def456");
}

TEST_CASE("while the audit log cannot be written (block), no admin command runs: 58030") {
    FakeState state;
    MemoryAudit audit;
    audit.ok = false;
    AdminConsole console(state, &audit, std::make_shared<audit::SessionInfo>());
    auto killed = ask(console, "KILL 7");
    CHECK(killed.error_code == "58030");
    CHECK(killed.ready);
    CHECK(state.killed.empty());
    CHECK(ask(console, "RELOAD").error_code == "58030");
    CHECK(state.reloads == 0);
    CHECK(audit.records.empty());
    audit.ok = true;
    CHECK(ask(console, "KILL 7").tag == "KILL");
}

TEST_CASE("GRANT and REVOKE: the console's pgmoat grant and revoke, granted by the admin identity, never to itself") {
    FakeState state;
    MemoryAudit audit;
    auto who = std::make_shared<audit::SessionInfo>();
    who->app = "dba-alice";
    AdminConsole console(state, &audit, who);

    auto a = ask(console, "grant DROP to agent on prod for 30m reason 'migration 42: drop the  old table';");
    CHECK(a.error_code.empty());
    REQUIRE(state.granted.size() == 1);
    const auto g = state.granted[0];
    CHECK(g.app == "agent");
    CHECK(g.allow == "drop");
    CHECK(g.target == "prod");
    CHECK(g.granted_by == "dba-alice");
    CHECK(g.reason == "migration 42: drop the  old table");  // spacing kept
    CHECK(a.columns.front() == "grant");
    REQUIRE(a.rows.size() == 1);
    CHECK(a.rows[0][0] == g.id);
    CHECK(a.notice.find("grant " + g.id) != std::string::npos);
    CHECK(audit.records.back().statement->text.value_or("").find("grant DROP to agent") == 0);
    CHECK(audit.records.back().sqlstate == "00000");

    // Clauses in any order, quoted names and '' inside the reason.
    CHECK(ask(console, "GRANT require_where ON \"*\" REASON 'Bob''s fix' FOR 2h TO orders-api").error_code.empty());
    CHECK(state.granted.back().target == "*");
    CHECK(state.granted.back().reason == "Bob's fix");
    CHECK(state.granted.back().allow == "require_where");

    // Never to oneself.
    auto self = ask(console, "GRANT drop TO dba-alice ON prod FOR 30m REASON 'me'");
    CHECK(self.error_code == "42501");
    CHECK(self.error_message.find("cannot grant to itself") != std::string::npos);
    CHECK(audit.records.back().sqlstate == "42501");
    CHECK(state.granted.size() == 2);

    // Strict parsing with errors that say what is wrong.
    struct Bad {
        const char* line;
        const char* code;
        const char* says;
    } bad[] = {
        {"GRANT", "42601", "needs what it allows"},
        {"GRANT drop TO agent ON prod FOR 30m", "42601", "needs REASON"},
        {"GRANT drop TO agent ON prod REASON 'x'", "42601", "needs FOR"},
        {"GRANT drop ON prod FOR 30m REASON 'x'", "42601", "needs TO"},
        {"GRANT drop TO agent FOR 30m REASON 'x'", "42601", "needs ON"},
        {"GRANT drop TO agent TO orders-api ON prod FOR 30m REASON 'x'", "42601", "TO twice"},
        {"GRANT drop TO agent ON prod FOR 30m REASON x", "42601", "REASON takes a non-empty 'string'"},
        {"GRANT drop TO agent ON prod FOR 30m REASON ''", "42601", "REASON takes a non-empty 'string'"},
        {"GRANT drop TO agent ON prod FOR 30m REASON 'x", "42601", "unterminated string"},
        {"GRANT drop TO agent ON prod FOR 8d REASON 'x'", "42601", "FOR \"8d\""},
        {"GRANT drop TO agent ON prod FOR soon REASON 'x'", "42601", "FOR \"soon\""},
        {"GRANT drop TO agent ON prod FOR 30m REASON 'x'; DROP TABLE t", "42601", "text follows the ';'"},
        {"GRANT drop TO agent ON prod FOR 30m REASON 'x' WITH GRANT OPTION", "42601", "unexpected \"WITH\""},
        {"GRANT SELECT ON users TO bob", "42601", "needs FOR"},
        {"GRANT 'drop' TO agent ON prod FOR 30m REASON 'x'", "42601", "a name, not a 'string'"},
        {"GRANT drop TO 'agent' ON prod FOR 30m REASON 'x'", "42601", "take names"},
        {"GRANT read_only TO agent ON prod FOR 30m REASON 'x'", "22023", "second lock"},
        {"GRANT everything TO agent ON prod FOR 30m REASON 'x'", "22023", "neither a statement kind"},
        {"GRANT drop TO nobody ON prod FOR 30m REASON 'x'", "42704", "no app named \"nobody\""},
    };
    for (const auto& b : bad) {
        auto r = ask(console, b.line);
        CHECK_MESSAGE(r.error_code == b.code, b.line);
        CHECK_MESSAGE(r.error_message.find(b.says) != std::string::npos, b.line, " said: ", r.error_message);
        CHECK(r.ready);
    }
    CHECK(ask(console, "GRANT drop").error_hint.find("GRANT <kind or rule> TO <app>") != std::string::npos);
    CHECK(state.granted.size() == 2);

    auto r = ask(console, "REVOKE " + g.id);
    CHECK(r.error_code.empty());
    CHECK(r.tag == "REVOKE");
    CHECK(r.notice.find("revoked") != std::string::npos);
    CHECK(state.revoked == std::vector<std::string>{g.id});
    CHECK(ask(console, "REVOKE gffffffff").error_code == "42704");
    CHECK(ask(console, "REVOKE").error_code == "42601");
}
