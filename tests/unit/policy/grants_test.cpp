// Grants: the file both ways, who a grant applies to and until when, what it
// widens, and what it never lifts.
#include "pgmoat/policy/grants.h"
#include "fixture.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/utc_time.h"
#include "pgmoat/policy/holds.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;
using namespace std::chrono;

namespace {
Grant make(std::string_view allow, std::string target = "prod") {
    Grant g;
    g.id = "g0000beef";
    g.app = "support-agent";
    REQUIRE_FALSE(g.set_allow(allow));
    g.target = std::move(target);
    g.reason = "INC-7: \"clean\" up\nnow";
    g.granted_by = "alice";
    g.granted_at = *parse_utc("2026-12-04T10:00:00Z");
    g.expires = *parse_utc("2026-12-04T10:30:00Z");
    return g;
}

std::string parse_error(const std::string& text) {
    try {
        parse_grants(text, "grants.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "parsed";
}
}  // namespace

TEST_CASE("the grants file is written and read back the same, quotes and line breaks included") {
    std::vector<Grant> grants{make("truncate"), make("require_where", "*")};
    grants[1].id = "g0000cafe";
    auto back = parse_grants(grants_text(grants), "grants.toml");
    REQUIRE(back.size() == 2);
    CHECK(back[0].reason == grants[0].reason);
    CHECK(back[0].expires == grants[0].expires);
    CHECK(back[1].target == "*");
    CHECK(back[1].id == "g0000cafe");
    // What each allows is read once, as the rule or the kinds it names.
    CHECK(back[0].rule == Rule::none);
    CHECK(back[0].kinds.test(static_cast<size_t>(sql::StatementKind::truncate)));
    CHECK(back[0].kinds.count() == 1);
    CHECK(back[1].rule == Rule::require_where);
    CHECK(back[1].kinds.none());
    CHECK(parse_grants("", "grants.toml").empty());
}

TEST_CASE("saved atomically: the file is whole, and no temporary is left behind") {
    auto dir = std::filesystem::temp_directory_path() / "pgmoat-grants-test";
    std::filesystem::create_directories(dir);
    auto path = (dir / "grants.toml").string();
    save_grants(path, {make("drop")});
    auto second = make("truncate");
    second.id = "g0000cafe";
    save_grants(path, {make("drop"), second});
    CHECK(load_grants(path).size() == 2);
    size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
    CHECK(files == 1);
    std::filesystem::remove_all(dir);
    CHECK(load_grants(path).empty());  // no file: no grants
}

TEST_CASE("a grant applies to its app on its target until it expires, not at the expiry") {
    auto g = make("drop");
    auto at = *parse_utc("2026-12-04T10:10:00Z");
    CHECK(g.applies("support-agent", "prod", at));
    CHECK_FALSE(g.applies("support-agent", "staging", at));
    CHECK_FALSE(g.applies("other-agent", "prod", at));
    CHECK(g.applies("support-agent", "prod", g.expires - seconds(1)));
    CHECK_FALSE(g.applies("support-agent", "prod", g.expires));
    auto everywhere = make("drop", "*");
    CHECK(everywhere.applies("support-agent", "staging", at));
}

TEST_CASE("mistakes in the grants file are named with file and line") {
    CHECK(parse_error("[[grant]]\nid = \"g1\"\napp = \"a\"\nallow = \"drop\"\ntarget = \"t\"\nreason = \"r\"\n"
                      "granted_at = \"2026-12-04T10:00:00Z\"\nexpires = \"tomorrow\"\n")
              .find("grants.toml:8") != std::string::npos);
    auto unknown = parse_error(
        "[[grant]]\nid = \"g1\"\napp = \"a\"\nallow = \"dorp\"\ntarget = \"t\"\nreason = \"r\"\n"
        "granted_at = \"2026-12-04T10:00:00Z\"\nexpires = \"2026-12-04T11:00:00Z\"\n");
    CHECK(unknown.find("grants.toml:4") != std::string::npos);
    CHECK(unknown.find("\"dorp\" is neither a statement kind") != std::string::npos);
    CHECK(unknown.find("(require_where, hold_statements, ") != std::string::npos);  // the rules it can lift
    CHECK(parse_error("[[grant]]\nid = \"g1\"\n").find("a grant needs app") != std::string::npos);
    auto one = grants_text({make("drop")});
    CHECK(parse_error(one + one.substr(one.find("[[grant]]"))).find("in the file twice") != std::string::npos);
}

TEST_CASE("nothing lifts the second lock, and unknown names are refused") {
    CHECK(grant_refusal("read_only")->find("second lock") != std::string::npos);
    CHECK(grant_refusal("everything"));
    CHECK_FALSE(grant_refusal("drop"));
    CHECK_FALSE(grant_refusal("ddl"));
    CHECK_FALSE(grant_refusal("require_where"));
    CHECK_FALSE(grant_refusal("hold_statements"));
}

TEST_CASE("a kind grant lets that kind through the baseline, and nothing else") {
    const Policy& base = baseline();
    CHECK(rule_for("TRUNCATE orders", base) != "allow");
    auto widened = widen(base, {make("truncate")});
    CHECK(rule_for("TRUNCATE orders", widened) == "allow");
    CHECK(rule_for("DROP TABLE orders", widened) != "allow");
    // Injection signatures still apply.
    CHECK(rule_for("SELECT * FROM users WHERE id = $1 OR 1=1", widened) == "tautology");
    auto drop = widen(base, {make("drop")});
    CHECK(rule_for("DROP TABLE orders", drop) == "allow");
}

TEST_CASE("a rule grant turns that rule off") {
    const Policy& base = baseline();
    CHECK(rule_for("DELETE FROM orders", base) == "require_where");
    CHECK(rule_for("DELETE FROM orders", widen(base, {make("require_where")})) == "allow");
    auto set = with_policy(
        "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n"
        "[statements]\nallow = [\"query\", \"dml\", \"drop\"]\n[relations]\nddl = { allow = [\"*\"] }\n"
        "[holds]\nstatements = [\"drop\"]\n");
    const auto& held = test_policy(set);
    auto a = sql::analyze("DROP TABLE orders");
    CHECK(hold_reason(held, a));
    CHECK_FALSE(hold_reason(widen(held, {make("hold_statements")}), a));
    CHECK_FALSE(hold_reason(widen(held, {make("drop")}), a));
}

TEST_CASE("the grant named for a statement is the one that matches its rule or kind") {
    std::vector<Grant> grants{make("require_where"), make("truncate")};
    grants[1].id = "g0000cafe";
    CHECK(grant_for(grants, Rule::statement_kind, sql::StatementKind::truncate)->id == "g0000cafe");
    CHECK(grant_for(grants, Rule::require_where, sql::StatementKind::delete_)->id == "g0000beef");
    CHECK(grant_for({}, Rule::require_where, sql::StatementKind::delete_) == nullptr);
}

TEST_CASE("[holds] kind_grants_lift = false: a kind grant allows the kind but its hold stays") {
    Policy held = baseline();
    held.holds.kinds = kinds_named("drop") | kinds_named("truncate");
    CHECK(held.holds.kind_grants_lift);
    CHECK_FALSE(widen(held, {make("drop")}).holds.kinds.test(static_cast<size_t>(sql::StatementKind::drop)));
    held.holds.kind_grants_lift = false;
    auto widened = widen(held, {make("drop")});
    CHECK(rule_for("DROP TABLE orders", widened) == "allow");
    CHECK(widened.holds.kinds.test(static_cast<size_t>(sql::StatementKind::drop)));
    CHECK(widened.holds.kinds.test(static_cast<size_t>(sql::StatementKind::truncate)));
    // The rule itself still lifts every hold.
    CHECK(widen(held, {make("hold_statements")}).holds.kinds.none());
}
