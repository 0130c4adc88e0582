// F23 (issue 13): the baseline without a shape lock against injections that
// carry no literal, and the ORM structure it must let through.
#include "fixture.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;

TEST_CASE("F23: an appended set operation reading a table without a parameter is rejected") {
    CHECK(rule_for("SELECT id, email FROM users WHERE id = id - id UNION SELECT id, password_hash FROM users") ==
          "set_operation");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 UNION ALL SELECT id FROM users") == "set_operation");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 EXCEPT SELECT id FROM orders") == "set_operation");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 UNION SELECT oid::int FROM pg_type") == "set_operation");
    // Each arm selected by its own parameter, arms of constants, recursive CTEs: allowed.
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 UNION SELECT id FROM users WHERE role = $2") == "allow");
    CHECK(rule_for("SELECT $1::int UNION ALL SELECT $2::int") == "allow");
    CHECK(rule_for("WITH RECURSIVE tree AS (SELECT id FROM comments WHERE post_id = $1 UNION ALL SELECT c.id FROM "
                   "comments c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree") == "allow");
}

TEST_CASE("F23: a sub-select's value converted where an error would quote it is rejected") {
    CHECK(rule_for("SELECT id FROM users WHERE id = CAST((SELECT max(password_hash) FROM users) AS int)") ==
          "subquery_conversion");
    CHECK(rule_for("SELECT id FROM users ORDER BY (SELECT max(password_hash) FROM users)::int") ==
          "subquery_conversion");
    CHECK(rule_for("SELECT id FROM users LIMIT (SELECT max(password_hash) FROM users)::int") == "subquery_conversion");
    CHECK(rule_for("SELECT id FROM users WHERE id = length(current_setting((SELECT max(email) FROM users)))") ==
          "subquery_conversion");
    CHECK(rule_for("SELECT id FROM users WHERE id = int4in(textout((SELECT max(email) FROM users)))") ==
          "subquery_conversion");
    // To a string type, through functions that keep values out of errors, or reading nothing: allowed.
    CHECK(rule_for("SELECT (SELECT max(email) FROM users)::text") == "allow");
    CHECK(rule_for("SELECT lower((SELECT max(email) FROM users WHERE id = $1))") == "allow");
    CHECK(rule_for("SELECT (SELECT $1::text)::int") == "allow");
}

TEST_CASE("F23: writes true for every row through the row's own columns stay rejected") {
    for (const char* where : {"id = id", "id >= id", "NOT (id <> id)", "coalesce(id, id) = id", "id = abs(id)",
                              "id IS NOT NULL OR id = $2", "id IN (id)", "id = (SELECT id)", "id = $2 OR id = id"}) {
        INFO(where);
        const std::string rule = rule_for(std::string("UPDATE users SET name = $1 WHERE ") + where);
        CHECK((rule == "require_where" || rule == "tautology"));
        const std::string del = rule_for(std::string("DELETE FROM users WHERE ") + where);
        CHECK((del == "require_where" || del == "tautology"));
    }
}

TEST_CASE("F23: literals that are structure pass; values, probes and sleeps do not") {
    CHECK(rule_for("SELECT id FROM users WHERE (id = $1 AND 1=1) LIMIT $2 OFFSET $3") == "allow");
    CHECK(rule_for("UPDATE users SET name = $1 WHERE (id = $2 AND 1=1)") == "allow");
    CHECK(rule_for("SELECT count(*) FROM orders WHERE 1=1") == "allow");
    CHECK(rule_for("SELECT id FROM users WHERE name ILIKE ('%' || $1 || '%')") == "allow");
    CHECK(rule_for("SELECT COUNT(1) AS cnt FROM orders WHERE customer_id = $1") == "allow");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 LIMIT 1") == "allow");
    CHECK(rule_for("SELECT string_agg(email, ','), to_char(created_at, 'YYYY-MM'), round(total, 2) FROM orders") ==
          "allow");
    CHECK(rule_for("SELECT t.oid, typarray FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid "
                   "WHERE typname = 'hstore'") == "allow");
    CHECK(rule_for("SELECT id FROM users WHERE email = 'a@b.example'") == "parameters");
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'open'") == "parameters");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 AND 1=2") == "tautology");
    CHECK(rule_for("SELECT id FROM users WHERE id = $1 OR 1=1") == "tautology");
    CHECK(rule_for("DELETE FROM users WHERE 1=1") == "tautology");
    CHECK(rule_for("SELECT id FROM users WHERE name LIKE '%'") == "parameters");
    CHECK(rule_for("SELECT pg_sleep(5)") == "function");
}
