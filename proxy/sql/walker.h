// One forward pass over libpg_query's JSON: per statement it records the raw
// facts (relations, column references, scopes, literals, calls, flags) and the
// structure hash; resolve() then turns them into a Statement. Names are views
// into the JSON text (or an arena for escaped ones), so a statement is resolved
// before the JSON is freed.
#pragma once

#include "json_reader.h"
#include "lexer.h"
#include "node_tag.h"
#include "pgmoat/sql/analysis.h"

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::sql::detail {

using Str = std::string_view;

// Up to four dotted name parts as written (schema.table, table.column, ...).
struct NameList {
    Str parts[4];
    uint8_t count = 0;
    bool star = false;      // ends in A_Star
    bool overflow = false;  // more than four parts, or a part that is not a String
    void add(Str s) {
        if (count < 4) {
            parts[count++] = s;
        } else {
            overflow = true;
        }
    }
    Str last() const { return count ? parts[count - 1] : Str{}; }
};

struct RawRelation {
    Str catalog, schema, name, alias;
    AccessSet access;
    int32_t location = -1;
    int32_t scope = -1;
    bool cte_candidate = false;  // an unqualified read that may name a CTE
    bool is_cte = false;         // resolved: it named a CTE, not a relation
};

enum class EntryKind : uint8_t { relation, derived, join };

// Something in a FROM list (or a DML target) that columns can be qualified by.
struct RangeEntry {
    int32_t scope = -1;
    EntryKind kind = EntryKind::derived;
    Str name;    // alias, or the relation's name when it has none
    Str schema;  // a relation's schema when it has no alias ("s.t.c" references)
    bool has_alias = false;
    bool visible_to_children = true;  // false for an INSERT target
    bool qualified_only = false;      // ON CONFLICT's "excluded": never an unqualified match
    int32_t relation = -1;            // kind relation: RawRelation index
    uint32_t member_begin = 0;        // kind join: entries [begin, end) inside the join
    uint32_t member_end = 0;
};

struct RawColumn {
    int32_t scope = -1;
    NameList fields;  // qualifiers then the column name (or star)
    bool written = false;
    bool order_by = false;  // may name an output column instead
    int32_t target = -1;    // certain owner (DML target columns): RawRelation index
    int32_t location = -1;
};

struct RawCte {
    int32_t scope;
    int32_t index;
    Str name;
};

struct ScopeInfo {
    int32_t parent = -1;
    int32_t cte_index = -1;  // body of CTE #cte_index of the parent's WITH
    // The parent's FROM items are out of reach: a CTE body, or a sub-select in
    // FROM without LATERAL (outer query levels stay visible).
    bool hides_parent_entries = false;
    bool recursive = false;  // this scope's WITH is RECURSIVE
    bool lock_all = false;   // FOR UPDATE/SHARE without OF
};

struct ScopedName {
    int32_t scope;
    Str name;
};

// A type name as written in a cast (TypeName.names and arrayBounds).
struct CastType {
    NameList names;
    uint8_t array_dims = 0;
    bool implicit_schema = false;  // "pg_catalog" added by the grammar (INTEGER, DOUBLE PRECISION)
};

struct TreeLiteral {
    NameList compared_to;  // the column on the other side of a comparison
    CastType cast;         // context type_cast: the type the literal is cast to
    int32_t location = -1;
    LiteralKind kind = LiteralKind::string;
    LiteralContext context = LiteralContext::other;
    Clause clause = Clause::other;
    bool cast_set = false;  // cast holds the innermost cast's type
};

struct RawFunction {
    NameList name;
    bool sql_syntax = false;
    bool attribute_notation = false;  // a field selection that may be a call
    int32_t location = -1;
};

struct DefElemValue {
    Str name;
    Str arg;  // a simple argument's text (string, number, boolean); empty otherwise
    bool has_arg = false;
};

// Per-statement working state, reused across statements and analyses.
struct RawStatement {
    std::vector<RawRelation> relations;
    std::vector<RangeEntry> entries;
    std::vector<RawColumn> columns;
    std::vector<RawCte> ctes;
    std::vector<ScopeInfo> scopes;
    std::vector<ScopedName> outputs;       // select-list aliases, for ORDER BY
    std::vector<ScopedName> lock_targets;  // FOR UPDATE OF names
    std::vector<TreeLiteral> literals;
    std::vector<RawFunction> functions;
    std::vector<Tautology> tautologies;
    int32_t location = 0;
    int32_t length = 0;  // 0: to the end of the text

    void clear() {
        relations.clear();
        entries.clear();
        columns.clear();
        ctes.clear();
        scopes.clear();
        outputs.clear();
        lock_targets.clear();
        literals.clear();
        functions.clear();
        tautologies.clear();
        location = 0;
        length = 0;
    }
};

// Thread-local buffers: an analysis allocates only for what it returns.
struct Scratch {
    std::string text;  // NUL-terminated copy for libpg_query
    LexResult lex;
    RawStatement raw;
    std::deque<std::string> arena;  // unescaped names
    std::vector<DefElemValue> defelems;
    std::vector<int32_t> starts;  // each statement's stmt_location
    std::vector<int32_t> order;   // sort buffers
    std::vector<uint32_t> index;
};

// Walks the whole JSON of one parse, appending one Statement per RawStmt.
// Returns false when the JSON is not what libpg_query prints or nests deeper
// than max_json_depth (the caller then fails closed).
bool walk_parse_tree(std::string_view sql, std::string_view json, uint32_t max_json_depth,
                     Scratch& scratch, Analysis& out, bool& too_deep);

// Turns the raw facts of one statement into out (relations, columns, ...).
void resolve(RawStatement& raw, Statement& out);

// Literal extents, comments and normalized text for one statement whose tree
// literals are in raw; comments is Analysis::comments.
void finish_text(std::string_view sql, const LexResult& lex, const RawStatement& raw,
                 Statement& out);

}  // namespace pgmoat::sql::detail
