// JsonReader's token view: what the walker compares printed subtrees with.
#include "../../../proxy/sql/json_reader.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using pgmoat::sql::detail::JsonReader;

namespace {

std::vector<std::string> tokens(std::string_view json) {
    JsonReader r(json.data(), json.data() + json.size());
    std::vector<std::string> out;
    std::string_view t;
    while (r.token(t)) out.emplace_back(t);
    return out;
}

}  // namespace

TEST_CASE("tokens are strings with their quotes, scalars and brackets; separators are skipped") {
    CHECK(
        tokens(R"({"a":[1, -2.5e3,true,null],"b" : "x\"y,}"})") ==
        std::vector<std::string>{"{", "\"a\"", "[", "1", "-2.5e3", "true", "null", "]", "\"b\"", "\"x\\\"y,}\"", "}"});
    CHECK(tokens("").empty());
    CHECK(tokens(" , : \n").empty());
}

TEST_CASE("a token never reads past the end of malformed text") {
    CHECK(tokens("\"unterminated") == std::vector<std::string>{"\"unterminated"});
    CHECK(tokens("\"ends in a backslash\\") == std::vector<std::string>{"\"ends in a backslash\\"});
    CHECK(tokens("12") == std::vector<std::string>{"12"});
}
