// TOML strings pgmoat writes read back as exactly what was written, whatever the
// text holds, in the form easiest to review.
#include "pgmoat/common/toml_text.h"
#include "pgmoat/common/toml_reader.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace std::string_literals;

namespace {
std::string read_back(const std::string& written) {
    toml::table doc = parse_toml("v = " + written + "\n", "t.toml");
    return TomlTable(doc, "t.toml").string("v").value_or("(not a string)");
}
}  // namespace

TEST_CASE("every kind of text reads back exactly") {
    for (std::string s : {""s, "SELECT 1"s, "it's"s, "ends with a quote '"s, "a ''' b"s, "\"quoted\""s, "back\\slash"s,
                          "two\nlines"s, "\nleading line break"s, "trailing line break\n"s, "tab\there"s, "cr\r\nlf"s,
                          "bell\x07"s, "del\x7f"s, "nul\0byte"s, "caf\xc3\xa9 \xe2\x82\xac"s, "'''"s, "''"s}) {
        CAPTURE(s);
        CHECK(read_back(toml_string(s)) == s);
    }
}

TEST_CASE("the form: plain text in quotes, line breaks in a literal block, escapes only where needed") {
    CHECK(toml_string("SELECT count(*) FROM t WHERE v = 'open'") == "\"SELECT count(*) FROM t WHERE v = 'open'\"");
    CHECK(toml_string("SELECT 1\nFROM t") == "'''SELECT 1\nFROM t'''");
    CHECK(toml_string("say \"hi\"") == "'''say \"hi\"'''");
    // A literal block cannot hold these: escaped in a basic string.
    CHECK(toml_string("\nSELECT 1") == "\"\\nSELECT 1\"");
    CHECK(toml_string("a\x01") == "\"a\\u0001\"");
    CHECK(toml_string("a\x7f") == "\"a\\u007f\"");
}
