// ASCII case folding: A-Z only, every other byte as it is.
#include "pgmoat/common/ascii.h"

#include <doctest/doctest.h>

using namespace pgmoat;

TEST_CASE("ascii folding changes A-Z only, never a UTF-8 byte") {
    CHECK(ascii::lower("Search_PATH") == "search_path");
    CHECK(ascii::lower("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9");  // Été: bytes >= 0x80 stay
    CHECK(ascii::to_upper('z') == 'Z');
    CHECK(ascii::to_upper('\xE9') == '\xE9');
    CHECK(ascii::to_lower('@') == '@');
    CHECK(ascii::to_lower('[') == '[');
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool upper = c >= 'A' && c <= 'Z';
        CHECK(ascii::to_lower(ch) == (upper ? static_cast<char>(c + 32) : ch));
    }
}

TEST_CASE("ascii case-insensitive comparison") {
    CHECK(ascii::iequals("Application_Name", "application_name"));
    CHECK(ascii::iequals("", ""));
    CHECK_FALSE(ascii::iequals("utf8", "utf-8"));
    CHECK_FALSE(ascii::iequals("on", "one"));
    CHECK_FALSE(ascii::iequals("\xC3\x89", "\xC3\xA9"));  // É and é differ: not folded
    static_assert(ascii::iequals("UTF8", "utf8"));
}
