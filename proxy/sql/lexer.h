// A single pass over the SQL text that mirrors PostgreSQL's lexer (scan.l) far
// enough to find what the parse tree does not carry: comments, the exact extent
// of every literal token, and an upper bound on parse-tree depth, computed
// before libpg_query is called so deep input never reaches its recursive code.
#pragma once

#include "pgmoat/sql/analysis.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace pgmoat::sql::detail {

struct LexLiteral {
    int32_t offset = 0;
    int32_t length = 0;
    LiteralKind kind = LiteralKind::string;  // TRUE/FALSE/NULL keywords come as boolean/null
};

struct LexComment {
    int32_t offset = 0;
    int32_t length = 0;
    CommentStyle style = CommentStyle::line;
    bool after_literal = false;
    bool at_end = false;
};

// One bracket level of the depth estimate (kept here so that the stack of them
// is reused between calls). Within a bracket, "elements" are separated by ','
// and ';'; within an element, "runs" by AND/OR (lower precedence than every
// operator, and flattened by the grammar, so an operator chain cannot span them).
struct DepthFrame {
    uint32_t ops = 0;         // operators in the current run
    uint32_t run_child = 0;   // deepest bracket closed in the current run
    uint32_t run_max = 0;     // deepest completed run of the current element
    uint32_t bool_extra = 0;  // levels for the BoolExpr when the element has AND/OR
    uint32_t max = 0;         // deepest completed element

    uint32_t current_run() const { return ops + run_child; }
    void end_run() {
        run_max = run_max > current_run() ? run_max : current_run();
        ops = 0;
        run_child = 0;
    }
    void end_element() {
        end_run();
        uint32_t element = run_max + bool_extra;
        max = max > element ? max : element;
        run_max = 0;
        bool_extra = 0;
    }
};

struct LexResult {
    std::vector<LexLiteral> literals;  // in text order
    std::vector<LexComment> comments;  // in text order
    std::vector<DepthFrame> frames;    // working stack
    // A '...' (or N'...', U&'...') string holds a backslash: with
    // standard_conforming_strings off the server would read it as an escape, and
    // the string could end elsewhere. E'...' strings escape under either setting.
    bool backslash_in_standard_string = false;
    // Upper bound on parse-tree depth in "levels": one per bracket and per operator
    // or operator keyword in an unbroken chain. Only meaningful when !too_deep.
    uint32_t depth = 0;
    bool too_deep = false;
    int32_t too_deep_offset = -1;  // where the bound was first exceeded

    void clear() {
        literals.clear();
        comments.clear();
        depth = 0;
        too_deep = false;
        too_deep_offset = -1;
        backslash_in_standard_string = false;
    }
};

// Byte offset of the first NUL or invalid UTF-8 sequence, or -1 when the text is
// valid (PostgreSQL rejects both before parsing).
int32_t find_invalid_encoding(std::string_view sql);

// Scans sql (assumed valid UTF-8, standard_conforming_strings on). Stops early
// with too_deep once the depth bound passes max_depth.
void lex(std::string_view sql, uint32_t max_depth, LexResult& out);

// Length of the bare word (identifier, keyword or quoted identifier) at offset.
int32_t word_length(std::string_view sql, int32_t offset);

// Whether a block comment is sqlcommenter key='value' pairs: /*k='v',k2='v2'*/.
bool is_sqlcommenter(std::string_view comment);
// Whether a block comment is marginalia key:value pairs: /*application:Shop,action:show*/.
bool is_marginalia(std::string_view comment);
// Whether a comment's text holds SQL: see Comment::sql_like.
bool looks_like_sql(std::string_view comment);

}  // namespace pgmoat::sql::detail
