// max_rows_affected: what pgmoat sends the server around a capped UPDATE/DELETE/
// MERGE, and what the client sees, under the cap and over it, in and outside a
// transaction, with the simple and the extended protocol.
#include "session_test_util.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using namespace pgmoat::session::testing;

namespace {
std::shared_ptr<const policy::PolicySet> capped_policies() {
    static auto set = [] {
        auto dir = std::filesystem::temp_directory_path() / "pgmoat-affected-rows-test";
        std::filesystem::create_directories(dir);
        std::filesystem::copy_file(std::string(PGMOAT_TEST_DATA) + "/../../policies/baseline.toml",
                                   dir / "baseline.toml", std::filesystem::copy_options::overwrite_existing);
        std::ofstream(dir / "capped.toml")
            << "[policy]\nextends = \"baseline\"\npriority = 10\n"
               "[applies_to]\napps = [\"capped-app\"]\n"
               "[signatures]\nstacked_statements = false\n"
               "[statements]\nallow = [\"query\", \"dml\", \"transaction\", \"explain\", "
               "\"prepare\", \"execute\", \"set\"]\n"
               "[limits]\nmax_rows_affected = 10\n";
        return std::make_shared<const policy::PolicySet>(policy::load_policy_dir(dir.string()));
    }();
    return set;
}

Session capped_session(AuditSink* audit = nullptr) {
    Identity id;
    id.app = "capped-app";
    id.target = "dev";
    StatementServices services;
    services.policies = capped_policies();
    services.audit = audit;
    return Session(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
}

std::string types(const std::string& bytes) {
    std::string out;
    for (const auto& [type, body] : messages(bytes)) out += type;
    return out;
}

std::vector<std::string> queries(const std::string& bytes) {
    std::vector<std::string> out;
    for (const auto& [type, body] : messages(bytes))
        if (type == 'Q') out.emplace_back(body.c_str());
    return out;
}

// A field of the first ErrorResponse in the bytes ('C' SQLSTATE, 'M' message).
std::string error_field(const std::string& bytes, char field) {
    for (const auto& [type, body] : messages(bytes)) {
        if (type != 'E') continue;
        auto fields = read_error_fields(body);
        return std::string(find_field(*fields, field));
    }
    return {};
}

std::string error_code(const std::string& bytes) {
    return error_field(bytes, 'C');
}
std::string error_message(const std::string& bytes) {
    return error_field(bytes, 'M');
}

const std::string kUpdate = "UPDATE orders SET status = $1 WHERE id > $2";
}  // namespace

TEST_CASE("outside a transaction a capped Query runs in pgmoat's own, committed under the cap") {
    Session s = capped_session();
    Outbox sent = feed(s, query(kUpdate), true);
    // BEGIN first, alone: the Query must not run in autocommit if BEGIN fails.
    CHECK(queries(sent.to_server) == std::vector<std::string>{"BEGIN"});
    CHECK(s.holds_client());
    Outbox after_begin = feed(s, complete("BEGIN") + rfq('T'), false);
    CHECK(after_begin.to_client.empty());
    CHECK(queries(after_begin.to_server) == std::vector<std::string>{kUpdate});
    Outbox done = feed(s, complete("UPDATE 10") + rfq('T'), false);
    CHECK(done.to_client.empty());  // the CommandComplete waits for COMMIT
    CHECK(queries(done.to_server) == std::vector<std::string>{"COMMIT"});
    Outbox committed = feed(s, complete("COMMIT") + rfq('I'), false);
    CHECK(committed.to_client == complete("UPDATE 10") + rfq('I'));
    CHECK_FALSE(s.holds_client());
    CHECK(s.idle());
}

TEST_CASE("outside a transaction a Query over the cap is rolled back and the client gets 54000, ReadyForQuery I") {
    MemoryAudit audit;
    Session s = capped_session(&audit);
    feed(s, query(kUpdate), true);
    feed(s, complete("BEGIN") + rfq('T'), false);
    Outbox over = feed(s, complete("UPDATE 11") + rfq('T'), false);
    CHECK(error_code(over.to_client) == "54000");
    CHECK(error_message(over.to_client) ==
          "pgmoat: UPDATE changed 11 rows, more than max_rows_affected = 10 of policy \"capped\"; it is rolled back");
    CHECK(types(over.to_client) == "E");
    CHECK(queries(over.to_server) == std::vector<std::string>{"ROLLBACK"});
    CHECK(s.holds_client());
    Outbox rolled = feed(s, complete("ROLLBACK") + rfq('I'), false);
    CHECK(rolled.to_client == rfq('I'));
    CHECK_FALSE(s.holds_client());
    REQUIRE(audit.records.size() == 1);
    CHECK(audit.records[0].sqlstate == "54000");
}

TEST_CASE("a failed COMMIT is the Query's error, as PostgreSQL reports a failed autocommit") {
    Session s = capped_session();
    feed(s, query(kUpdate), true);
    feed(s, complete("BEGIN") + rfq('T'), false);
    feed(s, complete("UPDATE 2") + rfq('T'), false);
    Outbox failed = feed(s, server_error("23503", "deferred constraint") + rfq('I'), false);
    CHECK(types(failed.to_client) == "EZ");
    CHECK(error_code(failed.to_client) == "23503");
}

TEST_CASE("the server's own error in a wrapped Query is relayed and the transaction rolled back") {
    Session s = capped_session();
    feed(s, query(kUpdate), true);
    feed(s, complete("BEGIN") + rfq('T'), false);
    Outbox err = feed(s, server_error("22P02", "invalid input") + rfq('E'), false);
    CHECK(error_code(err.to_client) == "22P02");
    CHECK(queries(err.to_server) == std::vector<std::string>{"ROLLBACK"});
    Outbox rolled = feed(s, complete("ROLLBACK") + rfq('I'), false);
    CHECK(rolled.to_client == rfq('I'));
}

TEST_CASE("inside a transaction a statement over the cap fails the transaction with a silent decoy") {
    Session s = capped_session();
    feed(s, query("BEGIN"), true);
    feed(s, complete("BEGIN") + rfq('T'), false);
    Outbox sent = feed(s, query(kUpdate), true);
    CHECK(queries(sent.to_server) == std::vector<std::string>{kUpdate});  // no BEGIN of pgmoat's
    CHECK(s.holds_client());
    Outbox over = feed(s, complete("UPDATE 50") + rfq('T'), false);
    CHECK(error_code(over.to_client) == "54000");
    CHECK(queries(over.to_server) == std::vector<std::string>{"pgmoat_rejected_statement"});
    Outbox decoy = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('E'), false);
    CHECK(decoy.to_client == rfq('E'));
    CHECK(s.transaction_status() == 'E');
    CHECK_FALSE(s.holds_client());
}

TEST_CASE("inside a transaction a statement under the cap is relayed as the server sent it") {
    Session s = capped_session();
    feed(s, query("BEGIN"), true);
    feed(s, complete("BEGIN") + rfq('T'), false);
    feed(s, query(kUpdate), true);
    Outbox ok = feed(s, complete("UPDATE 3") + rfq('T'), false);
    CHECK(ok.to_client == complete("UPDATE 3") + rfq('T'));
    CHECK(ok.to_server.empty());
    CHECK_FALSE(s.holds_client());
}

TEST_CASE("a capped Query waits for the answers to what was pipelined before it") {
    Session s = capped_session();
    Outbox first = feed(s, query("BEGIN"), true);
    Outbox capped = feed(s, query(kUpdate), true);
    CHECK(capped.to_server.empty());
    CHECK(s.holds_client());
    Outbox began = feed(s, complete("BEGIN") + rfq('T'), false);
    CHECK(began.to_client == complete("BEGIN") + rfq('T'));
    CHECK(queries(began.to_server) == std::vector<std::string>{kUpdate});  // in the client's transaction
}

TEST_CASE("a capped Execute waits behind a Flush; over the cap a decoy fails the batch") {
    Session s = capped_session();
    Outbox sent = feed(s, parse("", kUpdate) + testing::bind("", std::vector<std::string>{"x", "1"}) + execute(), true);
    CHECK(types(sent.to_server) == "PBEH");
    CHECK(s.holds_client());
    Outbox over = feed(s, msg(backend::ParseComplete) + msg(backend::BindComplete) + complete("UPDATE 11"), false);
    CHECK(types(over.to_client) == "12");
    CHECK(types(over.to_server) == "P");  // the decoy
    CHECK_FALSE(s.holds_client());
    // What the client sent after the Execute is skipped up to Sync, as the server does.
    Outbox rest = feed(s, parse("", "SELECT 1") + sync_message(), true);
    CHECK(types(rest.to_server) == "S");
    Outbox end = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
    CHECK(error_code(end.to_client) == "54000");
    CHECK(types(end.to_client) == "EZ");
}

TEST_CASE("a capped Execute under the cap is relayed and the client goes on") {
    Session s = capped_session();
    feed(s, parse("", kUpdate) + testing::bind("", std::vector<std::string>{"x", "1"}) + execute(), true);
    Outbox ok = feed(s, msg(backend::ParseComplete) + msg(backend::BindComplete) + complete("UPDATE 10"), false);
    CHECK(types(ok.to_client) == "12C");
    CHECK(ok.to_server.empty());
    CHECK_FALSE(s.holds_client());
    Outbox synced = feed(s, sync_message(), true);
    CHECK(types(synced.to_server) == "S");
}

TEST_CASE("writes whose rows the cap cannot count are refused before they run") {
    Session s = capped_session();
    for (std::string sql : {"WITH d AS (DELETE FROM orders WHERE id = $1 RETURNING id) SELECT id FROM d",
                            "EXPLAIN ANALYZE UPDATE orders SET status = $1 WHERE id = $2",
                            "UPDATE orders SET status = $1 WHERE id = $2; COMMIT"}) {
        CAPTURE(sql);
        Outbox out = feed(s, query(sql), true);
        CHECK(queries(out.to_server) == std::vector<std::string>{"pgmoat_rejected_statement"});
        Outbox answer = feed(s, syntax_error("pgmoat_rejected_statement") + rfq('I'), false);
        CHECK(error_code(answer.to_client) == "42501");
        CHECK(error_message(answer.to_client).find("max_rows_affected") != std::string::npos);
    }
}

TEST_CASE("reads and inserts are not held") {
    Session s = capped_session();
    Outbox out = feed(s, query("SELECT id FROM orders WHERE id = $1"), true);
    CHECK_FALSE(s.holds_client());
    Outbox ins = feed(s,
                      parse("", "INSERT INTO orders (status) VALUES ($1)") +
                          testing::bind("", std::vector<std::string>{"x"}) + execute(),
                      true);
    CHECK(types(ins.to_server) == "PBE");
    CHECK_FALSE(s.holds_client());
}

TEST_CASE("a capped Query inside an unfinished extended-protocol batch is refused, failing the batch") {
    Session s = capped_session();
    feed(
        s,
        parse("", "SELECT id FROM orders WHERE id = $1") + testing::bind("", std::vector<std::string>{"1"}) + execute(),
        true);
    Outbox refused = feed(s, query(kUpdate), true);
    CHECK(queries(refused.to_server) == std::vector<std::string>{"pgmoat_rejected_statement"});
    CHECK_FALSE(s.holds_client());
    Outbox answer = feed(s,
                         msg(backend::ParseComplete) + msg(backend::BindComplete) + complete("SELECT 0") +
                             syntax_error("pgmoat_rejected_statement") + rfq('I'),
                         false);
    CHECK(types(answer.to_client) == "12CEZ");
    CHECK(error_message(answer.to_client).find("unfinished extended-protocol batch") != std::string::npos);
}
