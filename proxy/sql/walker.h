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
    int32_t cte_body = -1;       // resolved: that CTE's scope
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
    // kind derived: the sub-select's scope (FROM (SELECT ...)), or -1 for a
    // function; values_only: a function whose arguments use no column.
    int32_t sub_scope = -1;
    bool values_only = false;
};

// Where a column reference's value goes: to the client (a select list sent to
// it, an ORDER BY/GROUP BY key), on into the select list of a derived table or
// WITH query (as it is, not through a call or comparison), or anywhere else.
enum class ColumnUse : uint8_t { client, onward, other };

struct RawColumn {
    int32_t scope = -1;
    NameList fields;  // qualifiers then the column name (or star)
    bool written = false;
    bool order_by = false;  // may name an output column instead
    // `(u).col`: the name is selected from, not read whole (a whole-row
    // reference `u` reads every column; `(u).col` only col, reported apart).
    bool field_selected = false;
    bool field_of_whole_row = false;  // the `u.col` of `(u).col`: only when u is a FROM item
    // Where the value read goes, for the values of derived tables and WITH
    // queries (see TreeLiteral::derived_output).
    ColumnUse use = ColumnUse::other;
    int32_t position = -1;  // use onward: the select list column it goes on into
    int32_t target = -1;    // certain owner (DML target columns): RawRelation index
    int32_t location = -1;
};

// A select list column as the rows it makes are seen: its position, and its
// name (the alias, or a column reference's own; empty when PostgreSQL makes
// one up). star: a `*` or `t.*` came before it, so its position is not known.
struct RawOutput {
    int32_t scope = -1;
    int32_t position = -1;
    Str name;
    bool after_star = false;
};

// An alias column list renaming by position the columns of a derived table
// (entry) or of a WITH query (cte_body).
struct RawRename {
    int32_t entry = -1;
    int32_t cte_body = -1;
    int32_t position = -1;
    Str name;
};

struct RawCte {
    int32_t scope;
    int32_t index;
    Str name;
    int32_t body = -1;  // the scope of its statement
};

struct ScopeInfo {
    int32_t parent = -1;
    int32_t cte_index = -1;  // body of CTE #cte_index of the parent's WITH
    // The parent's FROM items are out of reach: a CTE body, or a sub-select in
    // FROM without LATERAL (outer query levels stay visible).
    bool hides_parent_entries = false;
    bool recursive = false;      // this scope's WITH is RECURSIVE
    bool lock_all = false;       // FOR UPDATE/SHARE without OF
    bool has_limit = false;      // LIMIT/FETCH FIRST with a count (not ALL or NULL)
    bool set_operation = false;  // UNION/INTERSECT/EXCEPT: its arms are child scopes
    bool arm = false;            // an arm of its parent's set operation
    bool dml = false;            // an INSERT/UPDATE/DELETE/MERGE
    bool has_parameter = false;  // a bind parameter is written directly in it
    WritePlace place = WritePlace::nested;
    int32_t first_location = -1;  // the first location walked in it
};

// The boolean structure of a condition, as far as the require_where check
// needs it (see Write::restricts): AND/OR nodes down to the atoms that can
// select rows. Anything else is not recorded, and a missing branch of an OR
// makes the OR select nothing.
enum class CondKind : uint8_t {
    and_,        // all children hold (also the root of every recorded condition)
    or_,         // one of `branches` children holds
    compare,     // a comparison that is not a negation: sides 0 and 1
    call,        // a boolean function call: side 0 holds its arguments, value_arg whether
                 // one of them uses no column
    exists,      // EXISTS (sub): the sub-select's condition holds, correlated
    in_select,   // side 0 IN / = ANY / op ALL (sub)
    current_of,  // WHERE CURRENT OF
};

// What a recorded condition is the root of.
enum class CondRole : uint8_t { none, where, inner_join, merge_on, merge_when };

struct RawCond {
    CondKind kind = CondKind::and_;
    CondRole role = CondRole::none;  // roots only
    int32_t scope = -1;
    int32_t parent = -1;
    int32_t action = -1;    // merge_when: the MERGE action's write (RawWrite index)
    int32_t sub = -1;       // exists, in_select: the sub-select's scope
    uint16_t branches = 0;  // or_: how many branches it has
    uint16_t children = 0;  // recorded children
    bool value_arg = false;
    // compare, call, in_select: what each side holds, as ranges of raw columns
    // and of scopes (sub-selects) walked inside it.
    uint32_t col_begin[2] = {0, 0}, col_end[2] = {0, 0};
    uint32_t scope_begin[2] = {0, 0}, scope_end[2] = {0, 0};
    uint32_t lit_begin[2] = {0, 0}, lit_end[2] = {0, 0};
};

// A data-modifying statement or row lock, as walked (see Write).
struct RawWrite {
    StatementKind kind = StatementKind::other;
    WritePlace place = WritePlace::nested;
    int32_t scope = -1;
    int32_t target = -1;  // RawRelation index
    int32_t entry = -1;   // the target's range entry
    int32_t merge = -1;   // a MERGE action: the MERGE's RawWrite index
    bool row_lock = false;
    bool has_where = false;
    int32_t offset = -1;
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
    bool cast_set = false;  // cast holds the outermost cast's type
    // In the select list (or RETURNING) of a derived table or WITH query: its
    // context is where that query's rows go, decided once columns are resolved.
    bool derived_output = false;
    int32_t scope = -1;
    int32_t position = -1;  // derived_output: its column in that select list
    Str value;              // as PostgreSQL reads it (see Literal::value)
};

struct RawArgument {
    ArgumentKind kind = ArgumentKind::other;
    Str name;
    int32_t literal = -1;  // the literal's location
    int32_t parameter = 0;
    int32_t location = -1;
};

struct RawFunction {
    NameList name;
    bool sql_syntax = false;
    bool attribute_notation = false;  // a field selection that may be a call
    bool row_source = false;
    int32_t location = -1;
    uint32_t arg_begin = 0, arg_end = 0;  // in RawStatement::arguments
    int32_t relation = -1;                // a sequence function's relation (RawRelation index)
};

// A cast or call that a value walked inside it goes through (see Conversion).
struct RawConversion {
    bool cast = false;
    Str function;   // a call's name
    CastType type;  // a cast's type, once its TypeName is walked
    bool type_set = false;
};

// A scalar or ARRAY sub-select walked inside conversions (see ConvertedQuery):
// its scope, and its conversions as a range of RawStatement::chain, innermost first.
struct RawConvertedQuery {
    int32_t scope = -1;
    int32_t location = -1;
    uint32_t chain_begin = 0, chain_end = 0;
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
    std::vector<RawArgument> arguments;
    std::vector<Tautology> tautologies;
    std::vector<RawCond> conds;
    std::vector<RawOutput> output_columns;
    std::vector<RawRename> renames;
    std::vector<RawWrite> writes;
    std::vector<UnknownRelation> unknown_relations;
    std::vector<RawConversion> conversions;
    std::vector<int32_t> chain;  // RawConversion indexes (see RawConvertedQuery)
    std::vector<RawConvertedQuery> converted;
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
        arguments.clear();
        tautologies.clear();
        conds.clear();
        output_columns.clear();
        renames.clear();
        writes.clear();
        unknown_relations.clear();
        conversions.clear();
        chain.clear();
        converted.clear();
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
bool walk_parse_tree(std::string_view sql, std::string_view json, uint32_t max_json_depth, Scratch& scratch,
                     Analysis& out, bool& too_deep);

// Turns the raw facts of one statement into out (relations, columns, ...).
void resolve(RawStatement& raw, Statement& out);

// Literal extents, comments and normalized text for one statement whose tree
// literals are in raw; comments is Analysis::comments.
void finish_text(std::string_view sql, const LexResult& lex, const RawStatement& raw, Statement& out);

// After finish_text: argument literals as indexes, write offsets, text order.
void link_facts(Statement& st);

// After link_facts: set operation arms and converted sub-selects from the raw
// scopes (structure.cpp), and the literals that are structure, not values.
void structure_facts(const RawStatement& raw, Statement& st);

// "int4", "pg_catalog.int4" when the schema was written, "text[]".
void cast_type(const CastType& type, std::string& out);

}  // namespace pgmoat::sql::detail
