// JSON string escapes at their edges: every simple escape, \u in both cases of
// hex, surrogate pairs, and each way an escape can be wrong.
#include "pgmoat/common/json_escape.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace std::string_literals;

namespace {
struct Read {
    size_t taken;
    std::string out;
};
Read read(std::string_view text, size_t at = 0) {
    std::string out = "<";  // what was there before is kept
    size_t n = read_json_escape(text, at, out);
    return {n, out};
}
}  // namespace

TEST_CASE("the simple escapes take two bytes each") {
    for (const auto& escape : {std::pair{R"(\")", "\""},
                               {R"(\\)", "\\"},
                               {R"(\/)", "/"},
                               {R"(\b)", "\b"},
                               {R"(\f)", "\f"},
                               {R"(\n)", "\n"},
                               {R"(\r)", "\r"},
                               {R"(\t)", "\t"}}) {
        CAPTURE(escape.first);
        auto r = read(std::string(escape.first) + "rest");
        CHECK(r.taken == 2);
        CHECK(r.out == "<"s + escape.second);
    }
    CHECK(read(R"(ab\nc)", 2).taken == 2);  // read where it starts, not at 0
}

TEST_CASE("\\u: one, two and three UTF-8 bytes, either case of hex, and U+0000") {
    CHECK(read(R"(\u0041)").out == "<A");
    CHECK(read(R"(\u0041)").taken == 6);
    CHECK(read(R"(\u00e9)").out == "<\xc3\xa9");
    CHECK(read(R"(\u00C9)").out == "<\xc3\x89");
    CHECK(read(R"(\u20AC)").out == "<\xe2\x82\xac");
    CHECK(read(R"(\uFFFF)").out == "<\xef\xbf\xbf");
    CHECK(read(R"(\u0000)").out == "<\0"s);
}

TEST_CASE("a surrogate pair is one code point of four bytes") {
    auto r = read(R"(\ud83d\ude00!)");
    CHECK(r.taken == 12);
    CHECK(r.out == "<\xf0\x9f\x98\x80");
    CHECK(read(R"(\uD800\uDC00)").out == "<\xf0\x90\x80\x80");  // U+10000, the first
    CHECK(read(R"(\uDBFF\uDFFF)").out == "<\xf4\x8f\xbf\xbf");  // U+10FFFF, the last
}

TEST_CASE("no valid escape: nothing taken, nothing written") {
    for (std::string_view bad : {
             R"(\x41)",          // unknown letter
             R"(\U0041)",        // \U is not \u
             R"(\u12g4)",        // not hex
             R"(\u12)",          // cut off
             "\\",               // text ends after the backslash
             R"(\ud83d)",        // high surrogate at the end
             R"(\ud83dxx)",      // high surrogate, then no escape
             R"(\ud83d\u0041)",  // high surrogate, then no low one
             R"(\ud83d\ud83d)",  // two high surrogates
             R"(\ud83d\n)",      // high surrogate, then another escape
             R"(\ud83d\ude0)",   // the low one cut off
             R"(\ude00)",        // low surrogate alone
             R"(\ude00\ud83d)",  // a pair reversed
             R"(x\n)",           // no backslash where it is read
         }) {
        CAPTURE(bad);
        auto r = read(bad);
        CHECK(r.taken == 0);
        CHECK(r.out == "<");
    }
}
