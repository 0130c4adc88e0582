#include "pgmoat/common/sql_quote.h"

#include <doctest/doctest.h>

using pgmoat::quote_identifier;
using pgmoat::quote_literal;

TEST_CASE("quote_identifier doubles double quotes and always quotes") {
    CHECK(quote_identifier("users") == "\"users\"");
    CHECK(quote_identifier("My\"Table") == "\"My\"\"Table\"");
    CHECK(quote_identifier("") == "\"\"");
    CHECK(quote_identifier("it's") == "\"it's\"");
}

TEST_CASE("quote_literal doubles single quotes and leaves the rest") {
    CHECK(quote_literal("it's") == "'it''s'");
    CHECK(quote_literal("") == "''");
    CHECK(quote_literal("''") == "''''''");
    CHECK(quote_literal("a\\b \"c\"") == "'a\\b \"c\"'");
}
