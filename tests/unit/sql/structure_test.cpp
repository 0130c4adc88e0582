// The shape facts of issue 13: set operation arms, converted sub-selects,
// `1=1` tautologies ANDed at the top, and the literal contexts that are
// structure rather than values.
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

// Each literal's context, in text order.
std::vector<std::string> contexts(const std::string& sql) {
    std::vector<std::string> out;
    for (const Literal& l : one(sql).literals) out.emplace_back(name(l.context));
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("set operation arms: what each reads, with or without a parameter, recursive or not") {
    Statement st = one("SELECT id, email FROM users WHERE id = $1 UNION SELECT id, password FROM users");
    REQUIRE(st.set_operation_arms.size() == 2);
    CHECK(st.set_operation_arms[0].reads_relation);
    CHECK(st.set_operation_arms[0].parameters);
    CHECK(st.set_operation_arms[1].reads_relation);
    CHECK_FALSE(st.set_operation_arms[1].parameters);
    CHECK(st.set_operation_arms[1].offset > st.set_operation_arms[0].offset);

    // A parameter in a sub-select of the arm counts; catalogs are relations too.
    st =
        one("SELECT a FROM t WHERE x = $1 UNION SELECT a FROM u WHERE b IN (SELECT b FROM v WHERE c = $2) "
            "UNION SELECT typname FROM pg_type");
    REQUIRE(st.set_operation_arms.size() == 3);
    CHECK(st.set_operation_arms[1].parameters);
    CHECK(st.set_operation_arms[2].reads_relation);
    CHECK_FALSE(st.set_operation_arms[2].parameters);

    // Arms without a relation, and the recursive arm of WITH RECURSIVE.
    st = one("SELECT $1 UNION ALL SELECT $2");
    REQUIRE(st.set_operation_arms.size() == 2);
    CHECK_FALSE(st.set_operation_arms[0].reads_relation);
    st =
        one("WITH RECURSIVE tree AS (SELECT id FROM comments WHERE post_id = $1 UNION ALL "
            "SELECT c.id FROM comments c JOIN tree t ON c.parent_id = t.id) SELECT * FROM tree");
    REQUIRE(st.set_operation_arms.size() == 2);
    CHECK_FALSE(st.set_operation_arms[0].recursive);
    CHECK(st.set_operation_arms[1].recursive);
    CHECK(one("SELECT a FROM t").set_operation_arms.empty());
}

TEST_CASE("converted sub-selects: the casts and calls a sub-select's value goes through") {
    Statement st = one("SELECT id FROM users WHERE id = CAST((SELECT max(password) FROM users) AS int)");
    REQUIRE(st.converted_queries.size() == 1);
    CHECK(st.converted_queries[0].reads_relation);
    REQUIRE(st.converted_queries[0].conversions.size() == 1);
    CHECK(st.converted_queries[0].conversions[0].cast);
    CHECK(st.converted_queries[0].conversions[0].name == "int4");
    CHECK(st.converted_queries[0].conversions[0].may_quote_value);

    // Innermost first, up to the end of the expression.
    st = one("SELECT CAST(lower((SELECT max(email) FROM users)) AS numeric)");
    REQUIRE(st.converted_queries.size() == 1);
    const auto& c = st.converted_queries[0].conversions;
    REQUIRE(c.size() == 2);
    CHECK(c[0].name == "lower");
    CHECK_FALSE(c[0].may_quote_value);
    CHECK(c[1].name == "numeric");
    CHECK(c[1].may_quote_value);

    CHECK_FALSE(one("SELECT (SELECT max(email) FROM users)::text").converted_queries[0].conversions[0].may_quote_value);
    CHECK(one("SELECT date_part((SELECT max(email) FROM users), now())")
              .converted_queries[0]
              .conversions[0]
              .may_quote_value);
    CHECK(one("SELECT int4in(textout((SELECT max(email) FROM users)))").converted_queries.size() == 1);
    // A sub-select reading no relation, one not converted, and conversions inside the sub-select.
    CHECK_FALSE(one("SELECT (SELECT 1)::int").converted_queries[0].reads_relation);
    CHECK(one("SELECT id FROM users WHERE id = (SELECT max(id) FROM users)").converted_queries.empty());
    CHECK(one("SELECT id FROM users WHERE id = (SELECT max(id)::int FROM users)").converted_queries.empty());
}

TEST_CASE("tautologies: `1=1` ANDed at the top is told from probes and self-comparisons") {
    Statement st = one("SELECT a FROM t WHERE (id = $1 AND 1=1)");
    REQUIRE(st.tautologies.size() == 1);
    CHECK(st.tautologies[0].literal_true);
    CHECK(st.tautologies[0].conjunct);
    st = one("SELECT a FROM t WHERE 1=1");
    REQUIRE(st.tautologies.size() == 1);
    CHECK(st.tautologies[0].literal_true);
    CHECK(st.tautologies[0].whole);
    CHECK_FALSE(one("SELECT a FROM t WHERE id = $1 AND 1=2").tautologies[0].literal_true);
    CHECK_FALSE(one("SELECT a FROM t WHERE id = $1 AND id = id").tautologies[0].literal_true);
    CHECK_FALSE(one("SELECT a FROM t WHERE id = $1 OR 1=1").tautologies[0].conjunct);
    CHECK_FALSE(one("SELECT a FROM t WHERE NOT (1=1) AND id = $1").tautologies[0].literal_true);
    // An aggregate in HAVING changes with the group: not a constant.
    CHECK(one("SELECT a FROM t GROUP BY a HAVING count(*) > 5").tautologies.empty());
}

TEST_CASE("literals that are structure get their own contexts") {
    CHECK(contexts("SELECT id FROM t WHERE id = $1 AND 1=1") == V{"constant_condition", "constant_condition"});
    CHECK(contexts("SELECT id FROM t WHERE id = $1 OR 1=1") == V{"comparison", "comparison"});
    CHECK(contexts("SELECT id FROM t WHERE name ILIKE ('%' || $1 || '%')") ==
          V{"pattern_wildcard", "pattern_wildcard"});
    CHECK(contexts("SELECT id FROM t WHERE name ILIKE ('%' || 'x' || '%')") ==
          V{"predicate", "predicate", "predicate"});
    CHECK(contexts("SELECT id FROM t WHERE name LIKE '%'") == V{"comparison"});
    CHECK(contexts("SELECT count(1), string_agg(e, ','), to_char(d, 'YYYY'), round(x, 2) FROM t") ==
          V{"function_option", "function_option", "function_option", "function_option"});
    CHECK(contexts("SELECT id FROM t WHERE date_trunc('day', d) = $1") == V{"function_option"});
    CHECK(contexts("SELECT id FROM t WHERE settings->>'theme' = $1") == V{"function_option"});
    CHECK(contexts("SELECT id FROM t WHERE lower(name) = lower('X')") == V{"function_argument"});
    CHECK(contexts("SELECT json_build_object('k', 5)") == V{"function_option", "function_argument"});
    CHECK(contexts(
              "SELECT t.oid FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid WHERE typname = 'hstore'") ==
          V{"catalog_lookup"});
    // Not when anything but catalogs is read, nor with a set operation.
    CHECK(contexts("SELECT t.oid FROM pg_type t, users u WHERE typname = 'hstore'") == V{"comparison"});
    CHECK(contexts("SELECT oid FROM pg_type WHERE typname = 'x' UNION SELECT oid FROM pg_type") == V{"comparison"});
}
