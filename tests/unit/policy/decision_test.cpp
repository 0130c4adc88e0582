#include "fixture.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;

TEST_CASE("parameters: literals in value positions are rejected, bind parameters pass") {
    CHECK(rule_for("SELECT * FROM users WHERE email = $1") == "allow");
    CHECK(rule_for("SELECT * FROM users WHERE email = 'a@example.com'") == "parameters");
    CHECK(rule_for("INSERT INTO t (a, b) VALUES ($1, 'x')") == "parameters");
    CHECK(rule_for("UPDATE t SET a = 5 WHERE id = $1") == "parameters");
    CHECK(rule_for("SELECT * FROM t WHERE id = $1 LIMIT 10") == "allow");  // a page size is structure
    CHECK(rule_for("SELECT lower('ABC') FROM t WHERE id = $1") == "parameters");
    // Exempt by default: NULL, booleans, casts, type modifiers, select-list constants.
    CHECK(rule_for("SELECT * FROM t WHERE deleted_at IS NULL AND active = true AND id = $1") == "allow");
    CHECK(rule_for("SELECT * FROM t WHERE created_at > now() - '7 days'::interval") == "allow");
    CHECK(rule_for("SELECT $1::varchar(255)") == "allow");
    CHECK(rule_for("SELECT 1") == "allow");
    CHECK(rule_for("SET statement_timeout = 5000") == "allow");
}

TEST_CASE("a rejection carries what a developer needs to fix the code") {
    std::string sql = "SELECT id FROM users WHERE email = 'a@example.com'";
    auto d = judge(baseline(), sql);
    REQUIRE_FALSE(d.allow);
    CHECK(d.sqlstate == "42501");
    CHECK(d.message.rfind("pgmoat: ", 0) == 0);
    CHECK(d.message.find("string literal compared in WHERE") != std::string::npos);
    CHECK(d.detail.find("rule \"parameters\" of policy \"baseline\"") != std::string::npos);
    CHECK(d.detail.find("baseline.toml:") != std::string::npos);
    CHECK(d.hint.find("WHERE email = $1") != std::string::npos);
    CHECK(d.position == 36);  // the opening quote, 1-based as psql's caret expects
    CHECK(d.source.line > 0);
}

TEST_CASE("positions count characters, not bytes") {
    std::string sql = "SELECT 'ü' AS x FROM t WHERE name = 'é'";
    auto d = judge(baseline(), sql);
    REQUIRE_FALSE(d.allow);
    CHECK(d.position == 37);  // 38 if 'ü' were counted as its two bytes
}

TEST_CASE("injection signatures") {
    CHECK(rule_for("SELECT * FROM users WHERE email = '' OR '1'='1'") == "tautology");
    CHECK(rule_for("SELECT * FROM users WHERE id = $1 OR 1=1") == "tautology");
    CHECK(rule_for("SELECT * FROM users WHERE true") == "tautology");
    CHECK(rule_for("SELECT * FROM users WHERE name = 'admin'--'") == "comment_truncation");
    CHECK(rule_for("SELECT 1; DROP TABLE users") == "stacked_statements");
    // ORM comments are not injection.
    CHECK(rule_for("SELECT * FROM users WHERE id = $1 /*controller='users',action='show'*/") == "allow");
    CHECK(rule_for("/* app:orders */ SELECT * FROM users WHERE id = $1") == "allow");
    // A single statement through Parse is never "stacked".
    CHECK(judge(baseline(), "SELECT $1", Protocol::extended).allow);
}

TEST_CASE("statement kinds, SET parameters, COPY endpoints and WHERE") {
    CHECK(rule_for("DROP TABLE users") == "statement_kind");
    CHECK(rule_for("CREATE TABLE x (a int)") == "statement_kind");
    CHECK(rule_for("TRUNCATE users") == "statement_kind");
    CHECK(rule_for("DO $$BEGIN PERFORM 1; END$$") == "statement_kind");
    CHECK(rule_for("PREPARE p AS SELECT 1") == "statement_kind");
    CHECK(rule_for("EXECUTE p") == "statement_kind");
    CHECK(rule_for("ALTER SYSTEM SET work_mem = '1GB'") == "statement_kind");
    CHECK(rule_for("LOAD 'plpgsql'") == "statement_kind");
    CHECK(rule_for("CREATE EXTENSION dblink") == "statement_kind");
    CHECK(rule_for("EXPLAIN ANALYZE DELETE FROM t WHERE id = $1") == "statement_kind");
    CHECK(rule_for("BEGIN") == "allow");
    CHECK(rule_for("SAVEPOINT s1") == "allow");
    CHECK(rule_for("SET search_path = evil, public") == "set_parameter");
    CHECK(rule_for("SET ROLE postgres") == "set_parameter");
    CHECK(rule_for("SET SESSION AUTHORIZATION postgres") == "set_parameter");
    CHECK(rule_for("SET standard_conforming_strings = off") == "set_parameter");
    CHECK(rule_for("SET TIME ZONE 'UTC'") == "allow");
    CHECK(rule_for("COPY t FROM STDIN") == "allow");
    CHECK(rule_for("COPY t TO '/tmp/x'") == "copy");
    CHECK(rule_for("COPY t FROM PROGRAM 'id'") == "copy");
    CHECK(rule_for("DELETE FROM t") == "require_where");
    CHECK(rule_for("UPDATE t SET a = $1") == "require_where");
    CHECK(rule_for("DELETE FROM t WHERE id = $1") == "allow");
}

TEST_CASE("relations: system catalogs are closed except driver look-ups") {
    CHECK(rule_for("SELECT rolpassword FROM pg_authid WHERE rolname = $1") == "catalog");
    CHECK(rule_for("SELECT * FROM pg_catalog.pg_shadow") == "catalog");
    CHECK(rule_for("SELECT query FROM pg_stat_activity") == "catalog");
    CHECK(rule_for("SELECT typname FROM pg_catalog.pg_type WHERE oid = $1") == "allow");
    CHECK(rule_for("SELECT typname FROM pg_type WHERE oid = $1") == "allow");
    CHECK(rule_for("SELECT * FROM users WHERE id IN (SELECT usesysid FROM pg_user)") == "catalog");
}

TEST_CASE("relations, columns and functions from a policy's lists") {
    auto set = with_policy(R"(
[policy]
extends = "baseline"
[applies_to]
apps = ["t"]
[relations]
read = { allow = ["public.*"], deny = ["public.secrets"] }
write = { allow = ["public.orders"] }
[columns]
deny = ["users.password_hash"]
)");
    const Policy& p = *set.select({"t", "dev", "", ""});
    CHECK(rule_for("SELECT * FROM secrets WHERE id = $1", p) == "relation");
    CHECK(rule_for("SELECT * FROM billing.invoices WHERE id = $1", p) == "relation");
    CHECK(rule_for("INSERT INTO orders (a) VALUES ($1)", p) == "allow");
    CHECK(rule_for("INSERT INTO users (a) VALUES ($1)", p) == "relation");
    CHECK(rule_for("SELECT password_hash FROM users WHERE id = $1", p) == "column");
    CHECK(rule_for("SELECT u.password_hash FROM users u JOIN orders o ON o.user_id = u.id WHERE o.id = $1", p) ==
          "column");
    CHECK(rule_for("SELECT * FROM users WHERE id = $1", p) == "column");
    CHECK(rule_for("SELECT email FROM users WHERE id = $1", p) == "allow");
    // Wherever a denied function hides, it is found.
    CHECK(rule_for("SELECT * FROM orders WHERE id = $1 ORDER BY pg_sleep($2)", p) == "function");
    CHECK(rule_for("SELECT (SELECT pg_catalog.pg_sleep($1))", p) == "function");
    CHECK(rule_for("INSERT INTO orders (a) VALUES (query_to_xml($1, true, true, ''))", p) == "function");
}

TEST_CASE("approvals: exact text, fingerprint with literals, and approved structures") {
    std::string approved_fp =
        sql::fingerprint_hex(sql::analyze("SELECT id FROM orders WHERE status = 'x'").statements[0].fingerprint);
    auto set2 = with_policy(std::string(R"(
[policy]
extends = "baseline"
[applies_to]
apps = ["t"]
[[parameters.approved]]
text = "SELECT count(*) FROM orders WHERE status = 'open'"
[[parameters.approved]]
fingerprint = ")") + approved_fp +
                            R"("
literals = ["'shipped'"]
)");
    const Policy& p = *set2.select({"t", "dev", "", ""});
    CHECK(rule_for("SELECT count(*) FROM orders WHERE status = 'open'", p) == "allow");
    CHECK(rule_for("SELECT count(*) FROM orders WHERE status = 'closed'", p) == "parameters");
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'shipped'", p) == "allow");
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'lost'", p) == "parameters");
    // Approval never opens what other rules close.
    CHECK(rule_for("SELECT count(*) FROM orders WHERE status = 'open'; DROP TABLE orders", p) == "stacked_statements");

    auto set3 = with_policy(std::string(R"(
[policy]
extends = "baseline"
[applies_to]
apps = ["t"]
[parameters]
mode = "approved_structures"
[[parameters.approved]]
fingerprint = ")") + approved_fp +
                            "\"\n");
    const Policy& s = *set3.select({"t", "dev", "", ""});
    // Client-side binding: any value in the approved structure passes ...
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'lost'", s) == "allow");
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'it''s fine'", s) == "allow");
    // ... an injected condition or UNION changes the structure.
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'x' OR status <> 'x'", s) == "approved_structures");
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'x' UNION SELECT id FROM users", s) == "approved_structures");
    auto d = judge(s, "SELECT id FROM users WHERE status = 'x'");
    CHECK(d.hint.find("fingerprint = \"") != std::string::npos);
}

TEST_CASE("monitor mode allows but records what would be rejected") {
    auto set = with_policy(R"(
[policy]
extends = "baseline"
mode = "monitor"
[applies_to]
apps = ["t"]
)");
    const Policy& p = *set.select({"t", "dev", "", ""});
    auto d = judge(p, "DROP TABLE users");
    CHECK(d.allow);
    CHECK(d.would_reject);
    CHECK(name(d.rule) == "statement_kind");
}

TEST_CASE("text that does not parse is rejected with the parser's message and position") {
    auto d = judge(baseline(), "SELECT * FORM users");
    CHECK_FALSE(d.allow);
    CHECK(name(d.rule) == "unparseable");
    CHECK(d.sqlstate == "42601");
    CHECK(d.message == "pgmoat: syntax error at or near \"FORM\"");
    CHECK(d.position == 10);
}
