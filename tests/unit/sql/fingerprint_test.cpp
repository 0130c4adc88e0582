// Fingerprints and normalized text: values change, structure does not.
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

using namespace pgmoat::sql;

namespace {
uint64_t fp(const char* sql) {
    Analysis a = analyze(sql);
    REQUIRE(a.ok());
    REQUIRE(a.statements.size() == 1);
    return a.statements[0].fingerprint;
}
}  // namespace

TEST_CASE("the fingerprint ignores literal values but not an injected OR") {
    uint64_t literal = fp("SELECT * FROM users WHERE email = 'a'");
    uint64_t param = fp("SELECT * FROM users WHERE email = $1");
    uint64_t injected = fp("SELECT * FROM users WHERE email = 'a' OR 'x'='x'");
    CHECK(literal == param);
    CHECK(literal != injected);
}

TEST_CASE("the fingerprint ignores layout, comments, keyword case and $n numbering") {
    uint64_t a = fp("SELECT id FROM t WHERE a = $1 AND b = $2");
    CHECK(a == fp("select id\n  from T\n where A = $7 /* x */ and b = $1 -- y"));
    CHECK(a == fp("SELECT id FROM t WHERE a = 'x' AND b = 42"));
}

TEST_CASE("the fingerprint sees every structural change") {
    uint64_t base = fp("SELECT id FROM t WHERE a = $1");
    CHECK(base != fp("SELECT id FROM t WHERE a = $1 LIMIT 1"));
    CHECK(base != fp("SELECT id FROM t WHERE a <> $1"));
    CHECK(base != fp("SELECT id FROM u WHERE a = $1"));
    CHECK(base != fp("SELECT name FROM t WHERE a = $1"));
    CHECK(base != fp("SELECT id FROM t WHERE b = $1"));
    CHECK(base != fp("SELECT id FROM t WHERE a = $1::text"));
    CHECK(base != fp("SELECT id FROM t WHERE a = lower($1)"));
    CHECK(base != fp("SELECT id FROM t WHERE a = $1 UNION SELECT 1"));
    CHECK(base != fp("SELECT id FROM t AS x WHERE a = $1"));
    CHECK(base != fp("SELECT id FROM \"T\" WHERE a = $1"));
}

TEST_CASE("whole-text fingerprints cover every statement in order") {
    Analysis one = analyze("SELECT 1; SELECT 2");
    Analysis two = analyze("SELECT 3; SELECT 4");
    Analysis swapped = analyze("SELECT 1; DELETE FROM t");
    REQUIRE(one.ok());
    CHECK(one.fingerprint == two.fingerprint);
    CHECK(one.fingerprint != swapped.fingerprint);
    CHECK(one.fingerprint != analyze("SELECT 1").fingerprint);
    CHECK(fingerprint_hex(0x1234) == "0000000000001234");
}

TEST_CASE("fingerprints are stable across runs and builds") {
    // Policy files store fingerprints: these values must not change with a
    // rebuild or a refactoring. If they do, every approved statement in every
    // policy is invalidated (a libpg_query upgrade may legitimately do that).
    CHECK(fingerprint_hex(fp("SELECT * FROM users WHERE email = $1")) == "3acda76adcfc64a1");
    CHECK(fingerprint_hex(fp("INSERT INTO t (a, b) VALUES ('x', 1) ON CONFLICT (a) DO UPDATE "
                             "SET b = excluded.b RETURNING id")) == "9fa7e935790522c8");
}

TEST_CASE("normalized text never holds a value the app sent") {
    const char* sql =
        "SELECT * FROM users WHERE email = 'alice@example.com' AND pin = 1234 "
        "AND note = $$secret$$ AND k = E'\\x41' /* token=abc */ -- password=hunter2";
    Analysis a = analyze(sql);
    REQUIRE(a.ok());
    const std::string& n = a.statements[0].normalized;
    CHECK(n == "SELECT * FROM users WHERE email = $1 AND pin = $2 AND note = $3 AND k = $4");
    for (const char* secret : {"alice", "1234", "secret", "41", "abc", "hunter2"})
        CHECK(n.find(secret) == std::string::npos);
}

TEST_CASE("a compared literal names the column it is compared with, for hints") {
    Analysis a = analyze(
        "SELECT * FROM users u WHERE email = 'a' AND 'b' = u.name AND id IN (1, 2) "
        "AND lower(x) = 'c' AND age > 1 + 2 AND d = e");
    REQUIRE(a.ok());
    const auto& l = a.statements[0].literals;
    REQUIRE(l.size() == 7);
    CHECK(l[0].compared_to == "email");
    CHECK(l[1].compared_to == "u.name");
    CHECK(l[2].compared_to == "id");
    CHECK(l[3].compared_to == "id");
    CHECK(l[4].compared_to == "");  // the other side is a call, not a column
    CHECK(l[5].compared_to == "");  // operands of +, not of the comparison
    CHECK(l[6].compared_to == "");
}

TEST_CASE("normalized numbering continues after the statement's own parameters") {
    Analysis a = analyze("UPDATE t SET a = 'x' WHERE id = $2; SELECT 5");
    REQUIRE(a.statements.size() == 2);
    CHECK(a.statements[0].normalized == "UPDATE t SET a = $3 WHERE id = $2");
    CHECK(a.statements[1].normalized == "SELECT $1");
    CHECK(a.normalized() == "UPDATE t SET a = $3 WHERE id = $2; SELECT $1");
}
