// The rule vocabulary: one name per rule, and README's rule table listing exactly
// these rules in the order pgmoat checks them.
#include "pgmoat/policy/rule.h"

#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

using namespace pgmoat::policy;

TEST_CASE("every rule has its own name") {
    std::set<std::string_view> seen;
    CHECK(name(Rule::none).empty());
    for (size_t i = 1; i < rule_names.size(); ++i) {
        CHECK_MESSAGE(!rule_names[i].empty(), "rule ", i, " has no name");
        CHECK_MESSAGE(seen.insert(rule_names[i]).second, "two rules are named ", rule_names[i]);
    }
    CHECK(name(Rule::parameters) == "parameters");
    CHECK(name(Rule::unknown_portal) == "unknown_portal");
}

TEST_CASE("README's rule table lists the rules in the order they are checked") {
    std::ifstream in(std::string(PGMOAT_SOURCE_DIR) + "/README.md");
    REQUIRE(in);
    std::string line;
    bool in_section = false;
    std::vector<std::string> listed;
    while (std::getline(in, line)) {
        if (line.rfind("### ", 0) == 0) {
            if (in_section) break;
            in_section = line == "### The rules, in the order they are checked";
            continue;
        }
        if (!in_section || line.rfind("| `", 0) != 0) continue;
        // The first cell names one rule or several (`too_large`, `too_deep`).
        std::string cell = line.substr(1, line.find('|', 1) - 1);
        for (size_t open = cell.find('`'); open != std::string::npos; open = cell.find('`', open)) {
            size_t close = cell.find('`', open + 1);
            REQUIRE(close != std::string::npos);
            listed.push_back(cell.substr(open + 1, close - open - 1));
            open = close + 1;
        }
    }
    std::vector<std::string> expected;
    for (size_t i = 1; i < rule_names.size(); ++i) expected.emplace_back(rule_names[i]);
    CHECK(listed == expected);
}
