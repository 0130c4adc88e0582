// [holds]: which statements wait for approval, and the table as a DBA writes it.
#include "pgmoat/policy/holds.h"
#include "fixture.h"
#include "pgmoat/common/config_error.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;

namespace {
constexpr const char* kHolds = R"([policy]
extends = "baseline"
[applies_to]
apps = ["agent-*"]
[holds]
statements = ["drop", "truncate", "alter_table", "dcl"]
unrestricted_writes = true
timeout = "5m"
notice = false
)";

// The rule that holds sql, or "none".
std::string held_by(const Policy& p, const std::string& sql) {
    auto a = sql::analyze(sql);
    REQUIRE(a.ok());
    auto h = hold_reason(p, a);
    return h ? std::string(name(h->rule)) : "none";
}
}  // namespace

TEST_CASE("[holds] is read with its timeout and notice; the baseline holds nothing") {
    auto set = with_policy(kHolds);
    const auto& p = test_policy(set);
    CHECK(p.holds.enabled());
    CHECK(p.holds.timeout == std::chrono::minutes(5));
    CHECK_FALSE(p.holds.notice);
    CHECK(p.holds.kinds_source.line == 6);
    CHECK_FALSE(baseline().holds.enabled());
    CHECK(held_by(baseline(), "DROP TABLE orders") == "none");
}

TEST_CASE("statements of held kinds and categories are held, wherever they are in the text") {
    auto set = with_policy(kHolds);
    const auto& p = test_policy(set);
    for (const char* sql : {"DROP TABLE orders", "TRUNCATE orders", "ALTER TABLE orders DROP COLUMN note",
                            "GRANT ALL ON orders TO public", "REVOKE SELECT ON orders FROM app",
                            "SELECT 1; DROP TABLE orders", "DROP ROLE bob"}) {
        CAPTURE(sql);
        CHECK(held_by(p, sql) == "hold_statements");
    }
    auto a = sql::analyze("SELECT 1; TRUNCATE orders");
    CHECK(hold_reason(p, a)->statement == 1);
    CHECK(hold_reason(p, a)->why == "truncate statements are held for approval by policy \"test\"");
}

TEST_CASE("UPDATE, DELETE and MERGE that do not select rows by value are held, narrow ones are not") {
    auto set = with_policy(kHolds);
    const auto& p = test_policy(set);
    for (const char* sql :
         {"DELETE FROM orders", "UPDATE orders SET note = $1", "DELETE FROM orders WHERE id IS NOT NULL",
          "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
          "DELETE FROM orders WHERE id IN (SELECT id FROM orders)"}) {
        CAPTURE(sql);
        CHECK(held_by(p, sql) == "hold_unrestricted_writes");
    }
    for (const char* sql :
         {"DELETE FROM orders WHERE id = $1", "UPDATE orders SET note = $1 WHERE id = $2",
          "INSERT INTO orders (id) VALUES ($1)", "SELECT * FROM orders", "SELECT * FROM orders FOR UPDATE"}) {
        CAPTURE(sql);
        CHECK(held_by(p, sql) == "none");
    }
}

TEST_CASE("a monitor-mode policy never makes anyone wait") {
    auto set = with_policy(std::string(kHolds) + "\n" + "");
    auto monitor = test_policy(set);
    monitor.mode = Mode::monitor;
    CHECK(held_by(monitor, "DROP TABLE orders") == "none");
}

TEST_CASE("[holds] mistakes are named with their line") {
    auto fails = [](const std::string& holds) {
        try {
            with_policy("[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n[holds]\n" + holds);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("loaded");
    };
    CHECK(fails("timeout = \"0\"\n").find("a hold needs a timeout greater than 0") != std::string::npos);
    CHECK(fails("statements = [\"dorp\"]\n").find("\"dorp\" is neither a statement kind") != std::string::npos);
    CHECK(fails("statments = [\"drop\"]\n").find("statments") != std::string::npos);
    CHECK(fails("timeout = \"5 minutes\"\n").find("test.toml:6") != std::string::npos);
}
