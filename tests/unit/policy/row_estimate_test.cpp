// [holds] rows_over: reading PostgreSQL 15's EXPLAIN (FORMAT JSON) for the rows a
// statement changes (plans captured from a real server in tests/data/explain),
// which statements ask, and the reason an approver reads.
#include "pgmoat/policy/row_estimate.h"
#include "fixture.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/policy/grants.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;

namespace {
constexpr const char* kRows = R"([policy]
extends = "baseline"
[applies_to]
apps = ["agent-*"]
[holds]
rows_over = 100
)";

std::string plan(const std::string& name) {
    std::ifstream in(std::string(PGMOAT_TEST_DATA) + "/explain/" + name + ".json");
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

double rows_of(const std::string& json) {
    auto r = planned_changed_rows(json);
    REQUIRE_MESSAGE(std::holds_alternative<double>(r), std::get<std::string>(r));
    return std::get<double>(r);
}

std::string unknown_of(const std::string& json) {
    auto r = planned_changed_rows(json);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}
}  // namespace

TEST_CASE("the rows under each UPDATE, DELETE and MERGE of a real plan, not the ModifyTable's own 0") {
    CHECK(rows_of(plan("delete")) == 499);
    // A writable WITH: its DELETE (an InitPlan) and the UPDATE both count.
    CHECK(rows_of(plan("with_update")) == 9 + 9);
    CHECK(rows_of(plan("merge")) == 1);
    // A partitioned table: the Append under the ModifyTable holds all partitions' rows.
    CHECK(rows_of(plan("partitioned_update")) == 4520);
}

TEST_CASE("a plan that does not say what it changes is unknown, never zero") {
    CHECK(unknown_of(plan("select")).find("changes no table") != std::string::npos);
    CHECK(unknown_of("").find("not valid JSON") != std::string::npos);
    CHECK(unknown_of("{\"Plan\": {}}").find("not a JSON array") != std::string::npos);
    CHECK(unknown_of("[]").find("changes no table") != std::string::npos);
    CHECK(unknown_of("[{\"Plan\": {\"Node Type\": \"ModifyTable\", \"Operation\": \"Delete\"}}]")
              .find("does not say which rows") != std::string::npos);
    CHECK(unknown_of("[{\"Plan\": {\"Node Type\": \"ModifyTable\", \"Operation\": \"Delete\", \"Plans\": "
                     "[{\"Node Type\": \"Seq Scan\", \"Parent Relationship\": \"Outer\", \"Plan Rows\": \"many\"}]}}]")
              .find("does not say which rows") != std::string::npos);
    CHECK(unknown_of("[{\"Query\": 1}]").find("does not say which rows") != std::string::npos);
    std::string deep = "[{\"Plan\": ";
    for (int i = 0; i < 300; ++i) deep += "{\"Node Type\": \"Result\", \"Plans\": [";
    deep += "{\"Node Type\": \"Result\"}";
    for (int i = 0; i < 300; ++i) deep += "]}";
    deep += "}]";
    CHECK(unknown_of(deep).find("does not say which rows") != std::string::npos);
}

TEST_CASE("rows_over asks about UPDATE, DELETE, MERGE and a writable WITH; at most rows_over passes") {
    auto set = with_policy(kRows);
    const auto& p = test_policy(set);
    CHECK(p.holds.enabled());
    CHECK(p.holds.rows_over == 100);
    CHECK(p.holds.rows_over_source.line == 6);
    auto index = [&](const char* sql) {
        auto a = sql::analyze(sql);
        REQUIRE(a.ok());
        return rows_over_statement(p, a);
    };
    CHECK(index("DELETE FROM orders WHERE id < 10") == 0);
    CHECK(index("UPDATE orders SET note = 'x'") == 0);
    CHECK(index("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE") == 0);
    CHECK(index("WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d") == 0);
    CHECK(index("SELECT 1; DELETE FROM orders") == 1);
    CHECK(index("SELECT * FROM orders FOR UPDATE") == -1);
    CHECK(index("INSERT INTO orders VALUES (1)") == -1);
    CHECK(index("SELECT 1") == -1);
    CHECK(rows_over_statement(baseline(), sql::analyze("DELETE FROM orders")) == -1);

    auto a = sql::analyze("DELETE FROM orders WHERE id < 500");
    CHECK_FALSE(rows_hold_reason(p, a, 0, 100.0));
    auto over = rows_hold_reason(p, a, 0, 100.4);  // the planner's figures are not whole
    REQUIRE(over);
    CHECK(over->rule == Rule::hold_rows);
    CHECK(over->source.line == 6);
    CHECK(over->why == "delete is estimated to change 100 rows, over rows_over = 100 of policy \"test\"");
    auto unknown = rows_hold_reason(p, a, 0, std::string("EXPLAIN failed: relation \"x\" does not exist"));
    REQUIRE(unknown);
    CHECK(unknown->why ==
          "delete has no row estimate to check against rows_over = 100 of policy \"test\" "
          "(EXPLAIN failed: relation \"x\" does not exist); it is held, to be safe");
}

TEST_CASE("rows_over is a positive number of rows; a grant of hold_rows lifts it") {
    auto error = [](const std::string& text) {
        try {
            with_policy("[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n" + text);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error("[holds]\nrows_over = 0\n").find("test.toml:6") != std::string::npos);
    CHECK(error("[holds]\nrows_over = 0\n").find("rows_over") != std::string::npos);
    CHECK(error("[holds]\nrows_over = \"many\"\n").find("rows_over: expected an integer") != std::string::npos);
    CHECK(grant_refusal("hold_rows") == std::nullopt);
}
