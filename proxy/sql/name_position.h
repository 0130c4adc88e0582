// Where names the parse tree does not locate sit in the text: the field name of
// `t.col` and `(expr).field` (reported as possible calls in attribute notation)
// and the statement inside a WITH query. A forward scan over tokens that steps
// over comments and literals by the lexer's extents; every answer is checked
// against the name it should find, so a surprise gives "not found", never a
// wrong position.
#pragma once

#include "lexer.h"

#include <cstdint>
#include <string_view>

namespace pgmoat::sql::detail {

class NamePositions {
  public:
    NamePositions(std::string_view sql, const LexResult& lex) : sql_(sql), lex_(lex) {}

    // The last name of the dotted name starting at `at` with `dots` dots
    // (`t.col`, `s.t.col`), if it is `name` as PostgreSQL folds it; else -1.
    int32_t last_of_dotted(int32_t at, uint8_t dots, std::string_view name) const;

    // Field selections after an expression that starts at `from`: finds the
    // next `.name` (name as folded) that is not inside a bracket opened after
    // from. With `enclosed` the expression is in parentheses of its own,
    // `(expr).name`, so the name must follow a bracket that closes before from's
    // level. `from` advances past the name found, for the next field. -1 when
    // not found within a bounded window.
    int32_t next_field(int32_t& from, int32_t& depth, int32_t& min_depth, bool enclosed, std::string_view name) const;

    // The first token of a WITH query's statement, the CTE named at `at`:
    // after `name [(columns)] AS [NOT MATERIALIZED | MATERIALIZED] (`. -1 when
    // the text there is not that shape.
    int32_t cte_body(int32_t at) const;

  private:
    size_t skip_space(size_t p) const;                              // white space and comments
    size_t extent_at(size_t p) const;                               // end of a literal or comment starting at p, or p
    size_t word_end(size_t p) const;                                // end of an identifier or keyword at p, or p
    bool names(size_t p, size_t end, std::string_view name) const;  // word [p, end) folds to name
    bool keyword(size_t p, size_t end, std::string_view lower) const;

    std::string_view sql_;
    const LexResult& lex_;
};

}  // namespace pgmoat::sql::detail
