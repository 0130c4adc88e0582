// Every SQL text of the repository against the analyzer's golden record in
// tests/data/sql/golden/: fingerprints, normalized text and every fact the
// policy reads must stay exactly as recorded. An intended change is recorded
// by running this test with PGMOAT_UPDATE_GOLDEN=1 and reviewing the diff.
#include "golden.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace pgmoat::sql::testing;

namespace {

std::string golden_path(const GoldenSet& set) {
    return std::string(PGMOAT_TEST_DATA) + "/sql/golden/" + set.name + ".txt";
}

// The first line that differs, with its neighbourhood, for the failure message.
std::string first_difference(const std::string& expected, const std::string& actual) {
    std::istringstream e(expected), a(actual);
    std::string el, al, last_input;
    for (int line = 1;; ++line) {
        bool more_e = static_cast<bool>(std::getline(e, el));
        bool more_a = static_cast<bool>(std::getline(a, al));
        if (!more_e && !more_a) return "";
        if (more_e && el.rfind("== ", 0) == 0) last_input = el;
        if (!more_e || !more_a || el != al)
            return "line " + std::to_string(line) + " (input " + last_input +
                   ")\n  golden: " + (more_e ? el : "<end>") + "\n  now:    " + (more_a ? al : "<end>");
    }
}

}  // namespace

TEST_CASE("the analyzer's facts over every SQL corpus match the golden record") {
    const char* update = std::getenv("PGMOAT_UPDATE_GOLDEN");
    for (const GoldenSet& set : golden_sets()) {
        CAPTURE(set.name);
        CHECK(set.inputs.size() > 0);
        std::string actual = golden_text(set);
        if (update != nullptr && std::string(update) == "1") {
            std::ofstream(golden_path(set), std::ios::binary) << actual;
            MESSAGE("wrote " << golden_path(set));
            continue;
        }
        std::ifstream in(golden_path(set), std::ios::binary);
        REQUIRE_MESSAGE(in.good(), golden_path(set) << " is missing: run with PGMOAT_UPDATE_GOLDEN=1");
        std::ostringstream expected;
        expected << in.rdbuf();
        // Not CHECK(a == b): doctest would print both texts, megabytes of them.
        bool same = expected.str() == actual;
        CHECK_MESSAGE(same, first_difference(expected.str(), actual));
        MESSAGE(set.name << ": " << set.inputs.size() << " texts");
    }
}

TEST_CASE("the golden comparison sees a changed fact") {
    GoldenSet set{"probe", {{"probe", "SELECT a FROM t WHERE b = 'x'", {}}}};
    std::string text = golden_text(set);
    CHECK(text.find("fingerprint=") != std::string::npos);
    CHECK(text.find("literal[0] string comparison where") != std::string::npos);
    CHECK(text.find("relation[0] ||t read") != std::string::npos);
    CHECK(first_difference(text, text + "x\n") != "");
    CHECK(first_difference(text, text) == "");
}
