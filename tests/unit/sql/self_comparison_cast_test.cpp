// Two facts derived from the tree's shape: a comparison of an expression with
// itself is a tautology (or its always-false probe), and a cast literal names
// the type it is cast to.
#include "analyze_one.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgmoat::sql;

namespace {

Statement one(const std::string& sql) {
    return analyze_one(sql);
}

// The text of each reported tautology, up to the end of the statement.
std::vector<std::string> tautologies(const std::string& sql) {
    std::vector<std::string> out;
    for (const Tautology& t : one(sql).tautologies)
        out.push_back(t.offset >= 0 ? sql.substr(static_cast<size_t>(t.offset)) : "?");
    return out;
}

std::vector<std::string> casts(const std::string& sql) {
    std::vector<std::string> out;
    for (const Literal& l : one(sql).literals)
        if (!l.cast_type.empty()) out.push_back(l.cast_type);
    return out;
}

}  // namespace

TEST_CASE("a column, parameter or call compared with itself is a tautology") {
    const char* always_true[] = {
        "id = id",
        "u.id = u.id",
        "$1 = $1",
        "lower(name) = lower(name)",
        "id >= id",
        "id <= id",
        "name IS NOT DISTINCT FROM name",
        "name LIKE name",
        "name ILIKE name",
        "NOT (id <> id)",
        "id + 1 = id + 1",
        "\"id\" = ID",
        "lower( name ) = LOWER(/* x */ name)",
    };
    for (const char* cond : always_true) {
        const std::string sql = std::string("SELECT * FROM users u WHERE name = $2 OR ") + cond;
        INFO(sql);
        CHECK(tautologies(sql) == std::vector<std::string>{cond});
    }
}

TEST_CASE("a comparison of an expression with itself that is always false is reported as a probe") {
    for (const char* cond : {"id <> id", "id != id", "id < id", "id > id", "name NOT LIKE name", "name NOT ILIKE name",
                             "id IS DISTINCT FROM id"}) {
        const std::string sql = std::string("SELECT * FROM users WHERE id = $1 AND ") + cond;
        INFO(sql);
        CHECK(tautologies(sql) == std::vector<std::string>{cond});
    }
}

TEST_CASE("comparing two different expressions is not a tautology") {
    for (const char* cond : {
             "a.id = b.id",
             "a.x = $1",
             "t1.x = t2.x",
             "$1 = $2",
             "\"ID\" = id",
             "lower(x) = upper(x)",
             "x + 1 = x + 2",
             "x = ANY (x)",
             "x IN (x)",
             "x BETWEEN x AND x",
             "x - x = 0",
         }) {
        const std::string sql = std::string("SELECT * FROM a JOIN b ON a.id = b.id, t1, t2 WHERE ") + cond;
        INFO(sql);
        CHECK(tautologies(sql).empty());
    }
}

TEST_CASE("a self-comparison counts only in WHERE, HAVING and JOIN ON, with its clause") {
    CHECK(one("SELECT id = id FROM t ORDER BY x = x").tautologies.empty());
    CHECK(one("UPDATE t SET a = a, f = (b = b) WHERE id = $1").tautologies.empty());

    Statement having = one("SELECT dept FROM emp GROUP BY dept HAVING dept = dept");
    REQUIRE(having.tautologies.size() == 1);
    CHECK(having.tautologies[0].clause == Clause::having);

    Statement on = one("SELECT * FROM a JOIN b ON a.id = a.id");
    REQUIRE(on.tautologies.size() == 1);
    CHECK(on.tautologies[0].clause == Clause::join_on);

    Statement del = one("DELETE FROM sessions WHERE user_id = user_id");
    REQUIRE(del.tautologies.size() == 1);
    CHECK(del.tautologies[0].clause == Clause::where);
}

TEST_CASE("a constant condition made of self-comparisons is reported once, as a whole") {
    CHECK(tautologies("SELECT * FROM t WHERE id = id AND name = name") ==
          std::vector<std::string>{"id = id AND name = name"});
    CHECK(tautologies("SELECT * FROM t WHERE x = $1 OR (id = id AND 1 = 1)") ==
          std::vector<std::string>{"id = id AND 1 = 1)"});
    CHECK(tautologies("SELECT * FROM t WHERE NOT id <> id") == std::vector<std::string>{"NOT id <> id"});
}

TEST_CASE("large equal sides are compared whole, not by a prefix") {
    std::string side, other;
    for (int i = 0; i < 200; ++i) {
        side += (i ? " + c" : "c") + std::to_string(i);
        other += (i ? " + c" : "c") + std::to_string(i == 199 ? 1000 : i);
    }
    CHECK(tautologies("SELECT * FROM t WHERE " + side + " = " + side).size() == 1);
    CHECK(tautologies("SELECT * FROM t WHERE " + side + " = " + other).empty());
    // A column named like the field the comparison skips is still a name.
    CHECK(tautologies("SELECT * FROM t WHERE location = \"location\"").size() == 1);
    CHECK(tautologies("SELECT * FROM t WHERE location = locations").empty());
}

TEST_CASE("self-comparisons and casts leave fingerprints and normalized text as they were") {
    // Recorded before either fact existed: policies store fingerprints.
    Statement a = one("SELECT * FROM t WHERE id = id");
    CHECK(fingerprint_hex(a.fingerprint) == "85dc04cdb8168128");
    CHECK(a.normalized == "SELECT * FROM t WHERE id = id");
    Statement b =
        one("SELECT * FROM t WHERE $1 = $1 OR lower(x) = lower(x) OR x >= x OR NOT (x <> x) OR x "
            "LIKE x");
    CHECK(fingerprint_hex(b.fingerprint) == "938b345e94a55202");
    Statement c =
        one("SELECT 1::int, 'x'::text, DATE '2024-01-01', INTERVAL '1' day, CAST('1' AS double "
            "precision), 'a'::pg_catalog.int4, 'b'::varchar(10)[]");
    CHECK(fingerprint_hex(c.fingerprint) == "1b7cc59e8db9ae06");
    CHECK(c.normalized ==
          "SELECT $1::int, $2::text, DATE $3, INTERVAL $4 day, CAST($5 AS double precision), "
          "$6::pg_catalog.int4, $7::varchar($8)[]");
}

TEST_CASE("a cast literal names its target type as PostgreSQL does") {
    CHECK(casts("SELECT * FROM t WHERE created > now() - '7 days'::interval") == std::vector<std::string>{"interval"});
    CHECK(casts("SELECT 1::int, 2::integer, 3::smallint, 4::bigint, 5::real, 6::double precision, "
                "7::float, 8::decimal, 9::numeric(10, 2)") ==
          std::vector<std::string>{"int4", "int4", "int2", "int8", "float4", "float8", "float8", "numeric", "numeric"});
    CHECK(casts("SELECT 'a'::varchar(20), 'b'::character varying, 'c'::char(3), 'd'::character, "
                "'e'::text, 'f'::\"char\"") ==
          std::vector<std::string>{"varchar", "varchar", "bpchar", "bpchar", "text", "char"});
    CHECK(casts("SELECT 't'::boolean, 't'::bool, 'x'::timestamp with time zone, "
                "'y'::timestamptz, 'z'::timestamp(3), 'users'::regclass") ==
          std::vector<std::string>{"bool", "bool", "timestamptz", "timestamptz", "timestamp", "regclass"});
}

TEST_CASE("CAST(... AS ...) and typed literals carry their type too") {
    CHECK(casts("SELECT CAST('1' AS bigint), CAST('2' AS INTEGER)") == std::vector<std::string>{"int8", "int4"});
    CHECK(casts("SELECT DATE '2024-01-01', INTERVAL '1 day', INTERVAL '1' DAY, TIME '12:00', "
                "TIMESTAMP '2024-01-01 00:00'") ==
          std::vector<std::string>{"date", "interval", "interval", "time", "timestamp"});
}

TEST_CASE("a cast type keeps a schema only when the statement writes one") {
    CHECK(
        casts("SELECT '1'::pg_catalog.int4, '2'::PG_CATALOG.int8, '3'::\"pg_catalog\".text, "
              "'4'::app.money_t, '5'::\"App\".\"Money\"") ==
        std::vector<std::string>{"pg_catalog.int4", "pg_catalog.int8", "pg_catalog.text", "app.money_t", "App.Money"});
}

TEST_CASE("array casts, nested casts and non-cast literals") {
    CHECK(casts("SELECT '{1}'::int[], '{{1}}'::bigint[][], ARRAY['a', 'b']::text[]") ==
          std::vector<std::string>{"int4[]", "int8[][]", "text[]", "text[]"});
    // The outermost cast is the type the value ends up as.
    CHECK(casts("SELECT '1'::text::int, CAST(CAST('2' AS varchar) AS bigint)") ==
          std::vector<std::string>{"int4", "int8"});
    Statement st = one("SELECT 'a', lower('b'), 'c'::varchar(5) FROM t WHERE x = 'd'");
    REQUIRE(st.literals.size() == 5);
    for (const Literal& l : st.literals) {
        INFO(l.value);
        CHECK(l.cast_type == (l.value == "c" ? "varchar" : ""));
    }
}

TEST_CASE("a cast literal is a typed constant only where its value stays typed") {
    // The context and cast of the literal whose value is `value`.
    auto of = [](const std::string& sql, const std::string& value) {
        for (const Literal& l : one(sql).literals)
            if (l.value == value) return std::string(name(l.context)) + " " + l.cast_type;
        return std::string("no literal ") + value;
    };
    // Compared, directly or through + and -: a typed constant.
    CHECK(of("SELECT x FROM t WHERE created_at > now() - '7 days'::interval", "7 days") == "type_cast interval");
    CHECK(of("SELECT x FROM t WHERE oid = 'users'::regclass", "users") == "type_cast regclass");
    CHECK(of("SELECT x FROM t WHERE x IN ('a'::regtype, 'b'::regtype)", "b") == "type_cast regtype");
    // Turned back into a plain value by an outer cast: the type it ends up as.
    CHECK(of("SELECT x FROM t WHERE id = '12345'::regclass::oid::int8", "12345") == "type_cast int8");
    CHECK(of("SELECT x FROM t WHERE name = ('5 days'::interval)::text", "5 days") == "type_cast text");
    // ... by a call, other arithmetic, or a place that stores it: that place.
    CHECK(of("SELECT x FROM t WHERE n = extract(day FROM '5 days'::interval)", "5 days") ==
          "function_argument interval");
    CHECK(of("SELECT x FROM t WHERE n = '5 days'::interval / '1 day'::interval", "5 days") == "predicate interval");
    CHECK(of("UPDATE users SET role = 'pg_class'::regclass WHERE id = $1", "pg_class") == "update_set regclass");
    CHECK(of("INSERT INTO t (a) VALUES ('1 day'::interval)", "1 day") == "values interval");
    // In the select list the client reads, a select_list value whatever its type.
    CHECK(of("SELECT '2024-01-01'::date", "2024-01-01") == "select_list date");
}
