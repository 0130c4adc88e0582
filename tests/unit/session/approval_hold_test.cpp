// Approval holds: the pending approvals table (ids, decisions, who may decide,
// the race of a decision with a timeout or the session's end), and the session's
// side: a held statement is not forwarded, the client's next messages wait, and
// the decision lets it go on or fails it exactly as a rejection does.
#include "pgmoat/session/approval_webhook.h"
#include "pgmoat/session/approvals.h"
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
PendingApproval entry(std::string app, uint64_t session = 7) {
    PendingApproval p;
    p.app = std::move(app);
    p.session = session;
    p.target = "prod";
    p.statement = "DROP TABLE orders";
    p.rule = "hold_statements";
    return p;
}

using Status = Approvals::Decided::Status;

std::shared_ptr<const policy::PolicySet> hold_policies() {
    static auto set = [] {
        auto dir = std::filesystem::temp_directory_path() / "pgmoat-approval-hold-test";
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(std::string(PGMOAT_TEST_DATA) + "/../../policies/baseline.toml",
                                   dir / "baseline.toml", std::filesystem::copy_options::overwrite_existing);
        std::ofstream(dir / "holds.toml") << "[policy]\nextends = \"baseline\"\npriority = 10\n"
                                             "[applies_to]\napps = [\"held-app\"]\n"
                                             "[statements]\nallow = [\"query\", \"dml\", \"transaction\", \"drop\"]\n"
                                             "require_where = []\n"
                                             "[relations]\nddl = { allow = [\"*\"] }\n"
                                             "[holds]\nstatements = [\"drop\"]\nunrestricted_writes = true\n"
                                             "timeout = \"90s\"\n";
        return std::make_shared<const policy::PolicySet>(policy::load_policy_dir(dir.string()));
    }();
    return set;
}

struct Held {
    MemoryAudit audit;
    Approvals approvals;
    Session session;
    Held() : session(make()) {}
    Session make() {
        Identity id;
        id.app = "held-app";
        id.target = "prod";
        id.kind = "agent";
        StatementServices services;
        services.policies = hold_policies();
        services.audit = &audit;
        services.approvals = &approvals;
        services.session_id = 42;
        return Session(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
    }
    std::vector<std::string> steps() const {
        std::vector<std::string> out;
        for (const auto& r : audit.records)
            if (r.event == audit::Event::approval) out.push_back(*r.approval_step);
        return out;
    }
};

std::string types(const std::string& bytes) {
    std::string out;
    for (const auto& [type, body] : messages(bytes)) out += type;
    return out;
}

// A field of the first ErrorResponse or NoticeResponse in the bytes.
std::string error_field(const std::string& bytes, char field) {
    for (const auto& [type, body] : messages(bytes)) {
        if (type != 'E' && type != 'N') continue;
        return std::string(find_field(*read_error_fields(body), field));
    }
    return {};
}
}  // namespace

TEST_CASE("approvals get ids of their own, and are listed until they end") {
    Approvals a;
    uint64_t first = a.hold(entry("agent-1"));
    uint64_t second = a.hold(entry("agent-2"));
    CHECK(first > 0);
    CHECK(second != first);
    REQUIRE(a.pending().size() == 2);
    CHECK(a.pending()[0].id == first);
    CHECK(a.withdraw(first, ApprovalOutcome::abandoned));
    REQUIRE(a.pending().size() == 1);
    CHECK(a.pending()[0].id == second);
    // Ids are never reused.
    CHECK(a.hold(entry("agent-1")) > second);
}

TEST_CASE("a decision takes the approval once; later ones are told how it ended") {
    Approvals a;
    uint64_t id = a.hold(entry("agent-1"));
    auto d = a.decide(id, "ops-alice", false);
    CHECK(d.status == Status::ok);
    CHECK(d.entry.app == "agent-1");
    CHECK(d.entry.session == 7);
    auto again = a.decide(id, "ops-carol", true);
    CHECK(again.status == Status::already_decided);
    CHECK(again.earlier == ApprovalOutcome::denied);
    // The session's timeout lost the race: the decision is on its way to it.
    CHECK_FALSE(a.withdraw(id, ApprovalOutcome::timed_out));
    CHECK(a.decide(id + 100, "ops-alice", true).status == Status::not_found);
    CHECK(a.pending().empty());
}

TEST_CASE("nobody decides the approval of their own statement; it stays pending") {
    Approvals a;
    uint64_t id = a.hold(entry("dba-bob"));
    CHECK(a.decide(id, "dba-bob", true).status == Status::own_statement);
    CHECK(a.decide(id, "dba-bob", false).status == Status::own_statement);
    REQUIRE(a.pending().size() == 1);
    CHECK(a.decide(id, "ops-alice", true).status == Status::ok);
}

TEST_CASE("a timed-out or abandoned approval can no longer be approved") {
    Approvals a;
    uint64_t timed = a.hold(entry("agent-1"));
    uint64_t gone = a.hold(entry("agent-1"));
    CHECK(a.withdraw(timed, ApprovalOutcome::timed_out));
    CHECK(a.withdraw(gone, ApprovalOutcome::abandoned));
    CHECK_FALSE(a.withdraw(gone, ApprovalOutcome::abandoned));
    CHECK(a.decide(timed, "ops-alice", true).earlier == ApprovalOutcome::timed_out);
    CHECK(a.decide(gone, "ops-alice", true).earlier == ApprovalOutcome::abandoned);
}

TEST_CASE("the pending gauge and the outcome counters follow the table") {
    metrics::Registry registry;
    Approvals a(&registry);
    uint64_t one = a.hold(entry("agent-1"));
    a.hold(entry("agent-1"));
    CHECK(registry.render().find("pgmoat_approvals_pending 2") != std::string::npos);
    a.decide(one, "ops-alice", true);
    auto text = registry.render();
    CHECK(text.find("pgmoat_approvals_pending 1") != std::string::npos);
    CHECK(text.find("pgmoat_approvals_total{outcome=\"approved\"} 1") != std::string::npos);
}

TEST_CASE("a held Query is not forwarded; the client is told, and its next message waits") {
    Held h;
    auto out = feed(h.session, query("DROP TABLE orders"), true);
    CHECK(out.to_server.empty());
    CHECK(types(out.to_client) == "N");
    CHECK(error_field(out.to_client, 'M').find("statement held for approval 1") != std::string::npos);
    CHECK(h.session.holds_client());
    CHECK(h.session.held_approval() == 1);
    auto pending = h.approvals.pending();
    REQUIRE(pending.size() == 1);
    const auto& p = pending[0];
    CHECK(p.app == "held-app");
    CHECK(p.kind == "agent");
    CHECK(p.target == "prod");
    CHECK(p.session == 42);
    CHECK(p.statement == "DROP TABLE orders");
    CHECK(p.rule == "hold_statements");
    CHECK(h.session.hold_deadline() > std::chrono::steady_clock::now() + std::chrono::seconds(80));
    CHECK(h.steps() == std::vector<std::string>{"held"});
}

TEST_CASE("an approved Query goes to the server as sent, and its record names the approval") {
    Held h;
    feed(h.session, query("DROP TABLE orders"), true);
    h.approvals.decide(1, "ops-alice", true);
    Outbox out;
    h.session.approval_decided(true, "ops-alice", "", out);
    CHECK(out.to_server == query("DROP TABLE orders"));
    CHECK_FALSE(h.session.holds_client());
    feed(h.session, complete("DROP TABLE") + rfq('I'), false);
    CHECK(h.steps() == std::vector<std::string>{"held", "approved"});
    const auto& ran = h.audit.records.back();
    CHECK(ran.event == audit::Event::statement);
    CHECK(ran.approval == 1u);
    CHECK(ran.sqlstate == "00000");
}

TEST_CASE("a denied Query inside a transaction fails it as a rejection does") {
    Held h;
    feed(h.session, query("BEGIN"), true);
    feed(h.session, complete("BEGIN") + rfq('T'), false);
    feed(h.session, query("DELETE FROM orders"), true);
    REQUIRE(h.session.held_approval() == 1);
    CHECK(h.approvals.pending()[0].rule == "hold_unrestricted_writes");
    Outbox out;
    h.session.approval_decided(false, "ops-alice", "not now", out);
    // A decoy the server refuses fails the transaction on the server too.
    CHECK(out.to_server == query("pgmoat_rejected_statement"));
    auto answer = feed(h.session, syntax_error("pgmoat_rejected_statement") + rfq('E'), false);
    CHECK(error_field(answer.to_client, 'C') == "42501");
    CHECK(error_field(answer.to_client, 'M') == "pgmoat: \"ops-alice\" denied this statement (approval 1): not now");
    CHECK(types(answer.to_client) == "EZ");
    CHECK(h.session.transaction_status() == 'E');
    CHECK(h.steps() == std::vector<std::string>{"held", "denied"});
}

TEST_CASE("a held Parse holds its batch; denied, the batch fails up to Sync") {
    Held h;
    auto out = feed(h.session, parse("", "DROP TABLE orders"), true);
    CHECK(out.to_server.empty());
    CHECK(h.session.holds_client());
    Outbox decided;
    h.session.approval_decided(false, "ops-alice", "", decided);
    CHECK(types(decided.to_server) == "P");
    // The rest of the batch is skipped up to Sync, as the server skips it.
    auto rest = feed(h.session, bind("") + execute() + sync_message(), true);
    CHECK(types(rest.to_server) == "S");
    auto answer = feed(h.session, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    CHECK(error_field(answer.to_client, 'C') == "42501");
    CHECK(types(answer.to_client) == "EZ");
}

TEST_CASE("an approved Parse goes on, and the batch behind it follows") {
    Held h;
    feed(h.session, parse("", "DROP TABLE orders"), true);
    Outbox decided;
    h.session.approval_decided(true, "ops-alice", "", decided);
    CHECK(decided.to_server == parse("", "DROP TABLE orders"));
    auto rest = feed(h.session, bind("") + execute() + sync_message(), true);
    CHECK(types(rest.to_server) == "BES");
}

TEST_CASE("a hold that times out is refused with 57014 naming the approval") {
    Held h;
    feed(h.session, query("DROP TABLE orders"), true);
    CHECK(h.approvals.withdraw(1, ApprovalOutcome::timed_out));
    Outbox out;
    h.session.hold_timed_out(out);
    CHECK(out.to_server == query("pgmoat_rejected_statement"));
    auto answer = feed(h.session, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    CHECK(error_field(answer.to_client, 'C') == "57014");
    CHECK(error_field(answer.to_client, 'M') ==
          "pgmoat: nobody approved this statement within 1 min 30 s (approval 1); it did not run");
    CHECK(h.steps() == std::vector<std::string>{"held", "timed_out"});
}

TEST_CASE("statements the hold does not name pass without waiting") {
    Held h;
    for (const char* sql : {"SELECT 1", "DELETE FROM orders WHERE id = $1", "UPDATE orders SET a = $1 WHERE id = $2"}) {
        CAPTURE(sql);
        auto out = feed(h.session, query(sql), true);
        CHECK(out.to_server == query(sql));
        CHECK_FALSE(h.session.holds_client());
        feed(h.session, complete("X 0") + rfq('I'), false);
    }
    CHECK(h.approvals.pending().empty());
}

TEST_CASE("without an approvals table a held statement is refused, never run") {
    MemoryAudit audit;
    Identity id;
    id.app = "held-app";
    id.target = "prod";
    StatementServices services;
    services.policies = hold_policies();
    services.audit = &audit;
    Session s(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
    auto out = feed(s, query("DROP TABLE orders"), true);
    CHECK(out.to_server == query("pgmoat_rejected_statement"));
    CHECK_FALSE(s.holds_client());
}

TEST_CASE("the approvals table tells its listener of every hold and every end, with who decided and why") {
    Approvals table;
    std::vector<ApprovalEvent> events;
    table.set_listener([&](const ApprovalEvent& e) { events.push_back(e); });
    auto a = table.hold(entry("agent-1"));
    auto b = table.hold(entry("agent-2"));
    auto c = table.hold(entry("agent-3"));
    REQUIRE(events.size() == 3);
    CHECK(events[0].entry.id == a);
    CHECK_FALSE(events[0].outcome);
    CHECK(events[1].entry.app == "agent-2");
    // Refused decisions tell nothing: the statement still waits.
    CHECK(table.decide(a, "agent-1", true).status == Status::own_statement);
    CHECK(table.decide(999, "ops", true).status == Status::not_found);
    CHECK(events.size() == 3);
    CHECK(table.decide(a, "ops-alice", false, "not during the freeze").status == Status::ok);
    REQUIRE(events.size() == 4);
    CHECK(events[3].entry.id == a);
    CHECK(events[3].outcome == ApprovalOutcome::denied);
    CHECK(events[3].by == "ops-alice");
    CHECK(events[3].reason == "not during the freeze");
    CHECK(table.decide(a, "ops-bob", true).status == Status::already_decided);
    CHECK(table.decide(b, "ops-bob", true).status == Status::ok);
    CHECK(events.back().outcome == ApprovalOutcome::approved);
    CHECK(table.withdraw(c, ApprovalOutcome::timed_out));
    CHECK(events.back().outcome == ApprovalOutcome::timed_out);
    CHECK(events.back().entry.statement == "DROP TABLE orders");
    // A withdrawal that lost the race to a decision tells nothing more.
    CHECK_FALSE(table.withdraw(b, ApprovalOutcome::abandoned));
    CHECK(events.size() == 6);
}

TEST_CASE("the webhook body: who, what, where, why, the deadline and how to decide; then the outcome") {
    using namespace std::chrono;
    auto p = entry("agent-1", 42);
    p.id = 17;
    p.kind = "agent";
    p.policy = "agent";
    p.why = "DROP statements are held for approval by policy \"agent\"";
    p.statement = "DROP TABLE \"orders\"\n-- a \"quote\"";
    p.held_at = "2026-12-04T16:00:00.000000Z";
    auto steady_now = steady_clock::time_point(hours(1000));
    p.deadline = steady_now + seconds(300);
    auto utc_now = sys_days(year(2026) / 12 / 4) + hours(16);
    auto body = approval_webhook_body(ApprovalEvent{p, std::nullopt, {}, {}}, utc_now, steady_now);
    CHECK(body ==
          "{\"event\":\"approval_pending\",\"approval\":17,\"app\":\"agent-1\",\"kind\":\"agent\",\"target\":\"prod\","
          "\"session\":42,\"rule\":\"hold_statements\",\"policy\":\"agent\","
          "\"statement\":\"DROP TABLE \\\"orders\\\"\\n-- a \\\"quote\\\"\","
          "\"why\":\"DROP statements are held for approval by policy \\\"agent\\\"\","
          "\"held_at\":\"2026-12-04T16:00:00.000000Z\",\"deadline\":\"2026-12-04T16:05:00.000000Z\","
          "\"seconds_left\":300,\"approve\":\"pgmoat approve 17\",\"deny\":\"pgmoat deny 17 --reason TEXT\","
          "\"console\":\"APPROVE 17 / DENY 17 [reason] on the admin console (database pgmoat)\"}\n");
    // Past its deadline (the timeout has not fired yet): none left, never negative.
    auto late = approval_webhook_body(ApprovalEvent{p, std::nullopt, {}, {}}, utc_now, steady_now + seconds(400));
    CHECK(late.find("\"seconds_left\":0,") != std::string::npos);
    CHECK(late.find("\"deadline\":\"2026-12-04T16:00:00.000000Z\"") != std::string::npos);

    auto denied = approval_webhook_body(ApprovalEvent{p, ApprovalOutcome::denied, "ops-alice", "use a migration"},
                                        utc_now, steady_now);
    CHECK(
        denied.starts_with("{\"event\":\"approval_ended\",\"approval\":17,\"outcome\":\"denied\",\"by\":\"ops-alice\","
                           "\"reason\":\"use a migration\",\"app\":\"agent-1\""));
    CHECK(denied.find("seconds_left") == std::string::npos);
    CHECK(denied.find("pgmoat approve") == std::string::npos);
    auto timed_out = approval_webhook_body(ApprovalEvent{p, ApprovalOutcome::timed_out, {}, {}}, utc_now, steady_now);
    CHECK(timed_out.find("\"outcome\":\"timed_out\",\"app\"") != std::string::npos);
    CHECK(timed_out.find("\"by\"") == std::string::npos);
}
