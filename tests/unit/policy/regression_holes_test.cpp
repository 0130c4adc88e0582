// Regressions for findings F15-F21 (SECURITY.md, issue 12): the holes a red
// team walked between the baseline's rules with the app's credentials. Each
// case is written from the mechanism that closes it, with the forms an app
// legitimately sends beside the attacks.
#include "fixture.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;

namespace {

// The baseline with one column closed by a site policy, as the red team had it.
const Policy& site() {
    static PolicySet set = with_policy(R"(
[policy]
name = "test"
extends = "baseline"
[applies_to]
apps = ["x"]
[columns]
deny = ["users.password_hash"]
)");
    return test_policy(set);
}

std::string rule(const std::string& sql) {
    return rule_for(sql, site());
}

}  // namespace

TEST_CASE("F15: an exemption never covers a value that reaches the query") {
    // A reg*/interval cast is a code constant only where its value stays typed.
    CHECK(rule("SELECT id FROM users WHERE created_at > now() - '7 days'::interval") == "allow");
    CHECK(rule("SELECT oid FROM pg_type WHERE oid = 'int4'::regtype") == "allow");
    CHECK(rule("SELECT id FROM users WHERE id = 'pg_class'::regclass::oid::int8") == "parameters");
    CHECK(rule("SELECT id FROM users WHERE role = ('1 day'::interval)::text") == "parameters");
    CHECK(rule("SELECT id FROM users WHERE id = extract(day FROM '5 days'::interval)") == "parameters");
    CHECK(rule("SELECT id FROM users WHERE id = '5 days'::interval / '1 day'::interval") == "parameters");
    CHECK(rule("UPDATE users SET role = 'pg_class'::regclass WHERE id = $1") == "parameters");
    // An all-digit reg* string is an OID: a number chosen by whoever wrote it.
    CHECK(rule("SELECT id FROM users WHERE id = '2'::regclass") == "parameters");
    CHECK(rule("SELECT id FROM users WHERE id = 2::regclass") == "parameters");
    // TRUE/FALSE are exempt as booleans, not as the numbers they cast to.
    CHECK(rule("SELECT id FROM users WHERE active = true AND id = $1") == "allow");
    CHECK(rule("SELECT id FROM users WHERE id = true::int") == "parameters");
    CHECK(rule("UPDATE users SET role = true::text WHERE id = $1") == "parameters");
    // A sub-select's select list takes the context of where its value goes.
    CHECK(rule("SELECT id FROM users WHERE role = (SELECT 'admin')") == "parameters");
    CHECK(rule("SELECT id FROM users WHERE id IN (SELECT 1)") == "parameters");
    CHECK(rule("SELECT id FROM users LIMIT (SELECT 5)") == "allow");  // LIMIT constants are structure
    CHECK(rule("SELECT id FROM users LIMIT (SELECT count(*) FROM users WHERE role = 'admin')") == "parameters");
    CHECK(rule("UPDATE users SET role = (SELECT 'admin') WHERE id = $1") == "parameters");
    CHECK(rule("INSERT INTO users (email, role) SELECT $1, 'admin'") == "parameters");
    CHECK(rule("SELECT x FROM (SELECT 'a' AS x) s WHERE x = $1") == "parameters");
    CHECK(rule("WITH v AS (SELECT 'admin' AS r) UPDATE users SET role = v.r FROM v WHERE users.id = $1") ==
          "parameters");
    CHECK(rule("SELECT 1, 'label' AS kind FROM users WHERE EXISTS (SELECT 1 FROM orders WHERE user_id = $1)") ==
          "allow");
    // ORDER BY / GROUP BY: only the key itself.
    CHECK(rule("SELECT id FROM users ORDER BY 1") == "allow");
    CHECK(rule("SELECT id FROM users ORDER BY CASE WHEN password_hash LIKE 'a%' THEN 1 ELSE 2 END") == "column");
    CHECK(rule("SELECT id FROM users ORDER BY CASE WHEN email LIKE 'a%' THEN 1 ELSE 2 END") == "parameters");
    CHECK(rule("SELECT id FROM users ORDER BY CASE substr(email, $1, $2) WHEN 'a' THEN 0 ELSE 1 END") == "parameters");
    CHECK(rule("SELECT role, count(*) FROM users GROUP BY role, (email > 'm')") == "parameters");
    // The UNION a string template's exempt literal invites carries no value either.
    CHECK(rule("SELECT 'x' AS label, name FROM products UNION SELECT 'y', password_hash FROM users") == "column");
}

TEST_CASE("F15: comment truncation is seen after any token, ORM tags pass") {
    CHECK(rule("SELECT id FROM users WHERE email = $1 UNION SELECT id FROM users --' AND tenant = $2") ==
          "comment_truncation");
    CHECK(rule("SELECT name FROM products ORDER BY name -- LIMIT 10") == "comment_truncation");
    CHECK(rule("SELECT id FROM users WHERE id = $1 -- AND org_id = 5") == "comment_truncation");
    CHECK(rule("SELECT id FROM users WHERE id = $1 -- the user") == "allow");
    CHECK(rule("SELECT id FROM users WHERE id = $1 /*application:Shop,controller:users,action:show*/") == "allow");
    CHECK(rule("SELECT id FROM users WHERE id = $1 LIMIT 1 /*controller='users',action='show'*/") ==
          "allow");  // LIMIT 1 is structure; the tag is not a truncation
}

TEST_CASE("F16: set_config passes only with a constant name of an allowed parameter") {
    CHECK(rule("SELECT set_config('TimeZone', $1, false)") == "allow");
    CHECK(rule("SELECT set_config('default_transaction_read_only', $1, false)") == "allow");  // as SET
    CHECK(rule("SELECT pg_catalog.set_config('application_name'::text, $1, true)") == "allow");
    for (std::string sql :
         {"SELECT set_config($1, $2, false)", "SELECT set_config(name, $1, false) FROM pg_settings WHERE name = $2",
          "SELECT set_config(lower($1), $2, false)", "SELECT set_config('search' || '_path', $1, false)",
          "SELECT set_config(lower('TimeZone'), $1, false)",
          "SELECT set_config('search_path', $1, false), set_config('TimeZone', $2, false)",
          "SELECT set_config('standard_conforming_strings', $1, false)",
          "SELECT set_config(E'client\\_encoding', $1, false)", "SELECT set_config('TimeZone'::varchar(3), $1, false)",
          "SELECT set_config('synchronous_commit', $1, false)",
          "SELECT set_config(name, $1, false) FROM (SELECT 'TimeZone' AS name) s"}) {
        INFO(sql);
        CHECK(rule(sql) == "function");
    }
}

TEST_CASE("F17: a denied column is a fact in every form that reads or writes it") {
    for (std::string sql : {
             "SELECT u FROM users u",
             "SELECT users FROM users",
             "SELECT row_to_json(u) FROM users u WHERE u.id = $1",
             "SELECT to_jsonb(u) FROM users u",
             "SELECT u::text FROM users u",
             "SELECT array_agg(u) FROM users u",
             "SELECT (u).password_hash FROM users u",
             "SELECT (u).* FROM users u",
             "SELECT u.to_json FROM users u",
             "SELECT u.concat FROM users u",
             "SELECT id FROM users u WHERE u IS NULL",
             "SELECT ROW(u.*) FROM users u",
             "SELECT pg_notify($1, u::text) FROM users u",
             "UPDATE users SET email = $1 WHERE id = $2 RETURNING users",
             "SELECT x FROM users AS u(a, b, c, d, x)",
             "SELECT password_hash FROM users AS u(password_hash)",  // a false positive, said so
             "COPY users TO STDOUT",
             "COPY users FROM STDIN",
             "INSERT INTO users VALUES ($1, $2, $3)",
             "INSERT INTO users SELECT * FROM users",
             "SELECT users.id FROM users NATURAL JOIN orders",
             "SELECT u.id FROM users u JOIN (SELECT $1 AS password_hash) g USING (password_hash)",
             "TABLE users",
             "SELECT * FROM (SELECT * FROM users) s",
             "WITH c AS (SELECT u FROM users u) SELECT * FROM c",
         }) {
        INFO(sql);
        CHECK(rule(sql) == "column");
    }
    // What an app reads and writes by name still passes.
    CHECK(rule("SELECT (u).email FROM users u WHERE u.id = $1") == "allow");
    CHECK(rule("SELECT u.email, u.id FROM users u WHERE u.id = $1") == "allow");
    CHECK(rule("COPY users (id, email) TO STDOUT") == "allow");
    CHECK(rule("INSERT INTO users (email) VALUES ($1)") == "allow");
}

TEST_CASE("F18: every write must select its rows by value, wherever it is written") {
    for (std::string sql : {
             "DELETE FROM users WHERE id IS NOT NULL",
             "DELETE FROM users WHERE $1",
             "DELETE FROM users WHERE id > -id",
             "DELETE FROM users WHERE id IN (SELECT id FROM users)",
             "DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders)",
             "DELETE FROM users WHERE id <> $1",
             "UPDATE users SET role = $1 WHERE active",
             "UPDATE orders o SET status = $1 FROM users u WHERE o.user_id = u.id",
             "COPY (DELETE FROM users RETURNING id) TO STDOUT",
             "WITH a AS (WITH b AS (DELETE FROM users RETURNING id) SELECT * FROM b) SELECT * FROM a",
             "WITH d AS (UPDATE users SET role = $1 WHERE id IS NOT NULL RETURNING id) SELECT count(*) FROM d",
             "MERGE INTO users u USING orders o ON u.id = o.user_id WHEN MATCHED THEN DELETE",
             "MERGE INTO carts c USING carts s ON c.user_id = s.user_id WHEN MATCHED THEN UPDATE SET quantity = $1",
         }) {
        INFO(sql);
        CHECK(rule(sql) == "require_where");
    }
    // A tautology is reported as what it is.
    CHECK(rule("DELETE FROM users WHERE id = $1 OR 1=1") == "tautology");
    // Where EXPLAIN and PREPARE are allowed, the statement inside them is judged too.
    auto inner = with_policy(R"(
[policy]
name = "test"
extends = "baseline"
[applies_to]
apps = ["x"]
[statements]
allow = ["dml", "query", "explain", "prepare"]
)");
    const Policy& p = test_policy(inner);
    CHECK(rule_for("EXPLAIN ANALYZE DELETE FROM users WHERE id IS NOT NULL", p) == "require_where");
    CHECK(rule_for("PREPARE wipe AS UPDATE users SET role = $1 WHERE $2", p) == "require_where");
    CHECK(rule_for("EXPLAIN ANALYZE DELETE FROM users WHERE id = $1", p) == "allow");
    for (std::string sql : {
             "DELETE FROM users WHERE id = $1",
             "DELETE FROM sessions WHERE expires_at < now()",
             "DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE user_id = $1)",
             "DELETE FROM users WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = users.id AND o.id = $1)",
             "UPDATE orders o SET status = $1 FROM users u WHERE o.user_id = u.id AND u.email = $2",
             "MERGE INTO users u USING (SELECT $1::bigint AS id) s ON u.id = s.id WHEN MATCHED THEN DELETE",
             "COPY (DELETE FROM sessions WHERE user_id = $1 RETURNING id) TO STDOUT",
             "INSERT INTO users (email) VALUES ($1)",
         }) {
        INFO(sql);
        CHECK(rule(sql) == "allow");
    }
}

TEST_CASE("F19: settings may be lowered, never raised; row locks select rows; session advisory locks") {
    CHECK(rule("SET statement_timeout = 0") == "setting_limit");
    CHECK(rule("SET LOCAL statement_timeout = '1h'") == "setting_limit");
    CHECK(rule("SET idle_in_transaction_session_timeout = 0") == "setting_limit");
    CHECK(rule("SET lock_timeout = '1d'") == "setting_limit");
    CHECK(rule("SET work_mem = '4GB'") == "setting_limit");
    CHECK(rule("SET work_mem = 'lots'") == "setting_limit");
    CHECK(rule("SELECT set_config('statement_timeout', '0', false)") == "setting_limit");
    CHECK(rule("SELECT set_config('statement_timeout', $1, false)") == "setting_limit");
    CHECK(rule("SET statement_timeout = '5s'") == "allow");
    CHECK(rule("SET LOCAL lock_timeout = 1000") == "allow");
    CHECK(rule("SET work_mem = '16MB'") == "allow");
    CHECK(rule("SET statement_timeout TO DEFAULT") == "allow");
    CHECK(rule("RESET statement_timeout") == "allow");
    // A policy without limits bounds nothing.
    auto set = with_policy(R"(
[policy]
name = "test"
extends = "baseline"
[applies_to]
apps = ["x"]
[limits]
statement_timeout = "0"
)");
    CHECK(rule_for("SET statement_timeout = 0", test_policy(set)) == "allow");
    // An ALTER ... SET of a bounded setting, where DDL is allowed.
    auto ddl = with_policy(R"(
[policy]
name = "test"
extends = "baseline"
[applies_to]
apps = ["x"]
[statements]
allow = ["alter_role", "alter_database", "select"]
set_parameters = ["*"]
)");
    CHECK(rule_for("ALTER ROLE CURRENT_USER SET statement_timeout = 0", test_policy(ddl)) == "setting_limit");
    CHECK(rule_for("ALTER DATABASE app SET work_mem = '8GB'", test_policy(ddl)) == "setting_limit");
    CHECK(rule_for("ALTER ROLE CURRENT_USER SET statement_timeout = '10s'", test_policy(ddl)) == "allow");

    CHECK(rule("SELECT * FROM jobs FOR UPDATE") == "require_where");
    CHECK(rule("SELECT j.id FROM jobs j JOIN queues q ON q.id = j.queue_id WHERE q.name = $1 FOR UPDATE OF q") ==
          "allow");
    CHECK(rule("SELECT id FROM jobs WHERE id IN (SELECT id FROM jobs FOR UPDATE)") == "require_where");
    CHECK(rule("SELECT * FROM jobs WHERE state = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED") == "allow");
    CHECK(rule("SELECT pg_advisory_lock($1)") == "function");
    CHECK(rule("SELECT pg_try_advisory_lock_shared($1)") == "function");
    CHECK(rule("SELECT pg_advisory_xact_lock($1)") == "allow");
    CHECK(rule_for("SELECT pg_advisory_lock($1)", *shipped().select({"migrator", "dev", "", ""})) == "allow");
}

TEST_CASE("F20: sequences are written by nextval and setval") {
    auto readonly = shipped().select({"analyst-eve", "prod", "", ""});
    REQUIRE(readonly->name == "readonly-analyst");
    CHECK(rule_for("SELECT nextval('orders_id_seq')", *readonly) == "relation");
    CHECK(rule_for("SELECT nextval('public.orders_id_seq'::regclass)", *readonly) == "relation");
    CHECK(rule_for("SELECT nextval($1)", *readonly) == "relation");
    CHECK(rule_for("SELECT s.nextval FROM CAST($1 AS regclass) s", *readonly) == "relation");
    CHECK(rule_for("SELECT currval('orders_id_seq')", *readonly) == "allow");
    CHECK(rule("SELECT setval('orders_id_seq', $1)") == "function");
    CHECK(rule("SELECT nextval('orders_id_seq')") == "allow");
    // A policy that writes only some relations cannot allow a sequence it cannot name.
    auto some = with_policy(R"(
[policy]
name = "test"
extends = "baseline"
[applies_to]
apps = ["x"]
[relations]
write = { allow = ["public.orders*"] }
)");
    CHECK(rule_for("SELECT nextval('orders_id_seq')", test_policy(some)) == "allow");
    CHECK(rule_for("SELECT nextval('users_id_seq')", test_policy(some)) == "relation");
    CHECK(rule_for("SELECT nextval($1)", test_policy(some)) == "relation");
}

TEST_CASE("F21: the functions behind closed system views read those views") {
    for (std::string sql :
         {"SELECT * FROM pg_lock_status()", "SELECT * FROM pg_catalog.pg_locks", "SELECT pg_stat_get_numscans($1::oid)",
          "SELECT * FROM pg_hba_file_rules()", "SELECT * FROM pg_show_all_file_settings()", "SELECT * FROM pg_config()",
          "SELECT * FROM pg_get_backend_memory_contexts()", "SELECT pg_stat_get_backend_pid($1)",
          "SELECT (x).pg_stat_get_db_numbackends FROM t", "SELECT * FROM pg_stat_get_wal()"}) {
        INFO(sql);
        CHECK(rule(sql) == "catalog");
    }
    // Open views stay open through their functions.
    CHECK(rule("SELECT name, setting FROM pg_show_all_settings() WHERE name = $1") == "allow");
    CHECK(rule("SELECT name FROM pg_cursor()") == "allow");
}
