// Regression for finding F4 (SECURITY.md): PostgreSQL calls a function of one
// argument written as a field of that argument -- `(arg).fn` is `fn(arg)` -- also
// for arguments that are not composite: `SELECT (10::float8).pg_sleep`,
// `SELECT ($1::int).pg_terminate_backend`, `SELECT ('...'::text).ts_stat` (which
// runs the SQL text it is given, e.g. a set_config() that turns
// standard_conforming_strings off); and so is `alias.fn` when alias names a FROM
// item of a scalar type (`SELECT g.pg_terminate_backend FROM generate_series($1, $2)
// g`). The analyzer read these as field selections and column references only,
// so the function deny list never saw them and the baseline allowed them; it now
// reports every field selection as a possible call (FunctionCall::attribute_notation).
#include "fixture.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using pgmoat::policy::testing::baseline;

TEST_CASE("denied functions called in attribute notation are rejected by the baseline") {
    for (std::string sql :
         {"SELECT (10::float8).pg_sleep", "SELECT ($1::float8).pg_sleep", "SELECT ($1::int).pg_terminate_backend",
          "SELECT ('SELECT set_config(''standard_conforming_strings'', ''off'', false)::tsvector'::text).ts_stat",
          "SELECT ('postgresql.conf'::text).pg_read_file",
          "SELECT (v.name).pg_stat_file FROM victims v WHERE v.id = $1",
          "SELECT id FROM victims WHERE id = $1 AND name <> ($2::float8).pg_sleep::text",
          "COPY (SELECT ($1::float8).pg_sleep) TO STDOUT",
          // The alias of a scalar FROM item works the same way, without parentheses.
          "SELECT f.pg_sleep FROM unnest($1::float8[]) f",
          "SELECT g.pg_terminate_backend FROM generate_series($1::int, $2::int) g",
          "SELECT x.ts_stat FROM CAST($1 AS text) x"}) {
        CAPTURE(sql);
        auto a = sql::analyze(sql);
        REQUIRE(a.ok());
        for (auto protocol : {policy::Protocol::simple_query, policy::Protocol::extended}) {
            auto d = policy::decide(baseline(), a, sql, protocol);
            CHECK_FALSE(d.allow);
            CHECK(name(d.rule) == "function");
        }
    }
}
