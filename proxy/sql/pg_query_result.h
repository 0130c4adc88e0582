// Owns a libpg_query parse result and frees it with its own free function on
// every path, error or not.
#pragma once

#include <pg_query.h>

namespace pgmoat::sql::detail {

class ParseResult {
  public:
    // text must be NUL-terminated.
    explicit ParseResult(const char* text) : result_(pg_query_parse(text)) {}
    ~ParseResult() { pg_query_free_parse_result(result_); }
    ParseResult(const ParseResult&) = delete;
    ParseResult& operator=(const ParseResult&) = delete;

    const PgQueryError* error() const { return result_.error; }
    const char* json() const { return result_.parse_tree; }

  private:
    PgQueryParseResult result_;
};

}  // namespace pgmoat::sql::detail
