// The facts the analyzer reports about a SQL text: what each statement is and
// what it would read, write, call and carry, in PostgreSQL's own words. Plain
// data, cheap to share between threads once built (the cache hands out
// shared_ptr<const Analysis>).
//
// Offsets are byte offsets into the whole analyzed text (not the statement);
// PostgreSQL's ErrorResponse Position counts characters from 1, see
// character_position().
#pragma once

#include "pgmoat/sql/statement_kind.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::sql {

// ---- relations ---------------------------------------------------------------

// What a statement does to a relation. A relation named several times carries
// the union. Writes hidden in reads count (data-modifying CTEs, SELECT INTO,
// CREATE TABLE AS, EXPLAIN of a write).
enum class Access : uint8_t {
    read = 1 << 0,      // rows or columns are read (FROM, sub-selects, columns in WHERE/RETURNING)
    insert = 1 << 1,    // INSERT, COPY FROM, MERGE ... INSERT, the new table of SELECT INTO / CREATE
                        // TABLE AS
    update = 1 << 2,    // UPDATE, ON CONFLICT DO UPDATE, MERGE ... UPDATE
    delete_ = 1 << 3,   // DELETE, MERGE ... DELETE
    truncate = 1 << 4,  // TRUNCATE
    ddl = 1 << 5,       // the relation is created, altered, dropped, granted on, commented,
                        // vacuumed, analyzed, clustered, reindexed, refreshed or referenced by DDL
    lock = 1 << 6,      // LOCK TABLE, SELECT ... FOR UPDATE/SHARE: blocks other sessions
};

struct AccessSet {
    uint8_t bits = 0;

    bool has(Access a) const { return (bits & static_cast<uint8_t>(a)) != 0; }
    bool empty() const { return bits == 0; }
    bool writes() const;  // insert, update, delete, truncate
    void add(Access a) { bits |= static_cast<uint8_t>(a); }
    void add(AccessSet other) { bits |= other.bits; }
    friend bool operator==(AccessSet, AccessSet) = default;
};
std::string_view name(Access access);     // "read", "insert", ..., "lock"
std::string access_names(AccessSet set);  // "read,update"; "" for none

struct Relation {
    std::string catalog;  // database part of a three-part name (rare); empty when not written
    std::string schema;   // as written; empty when unqualified (resolved by search_path later)
    std::string name;     // folded as PostgreSQL folds it: unquoted lower-cased, quoted exact
    AccessSet access;
    int32_t offset = -1;  // where it is first named; -1 when the tree does not say (DROP)

    // "schema.name" or "name" (with the catalog when written), unquoted.
    std::string qualified_name() const;
    // In pg_catalog, information_schema or pg_toast, or an unqualified pg_*
    // name (pg_catalog is searched before every schema of search_path).
    bool system_catalog() const;
};

// ---- columns -----------------------------------------------------------------

enum class ColumnOrigin : uint8_t {
    relation,   // certainly a column of `relation` (qualified, or the only table in scope)
    derived,    // a column of a sub-select, CTE, function or VALUES in FROM, or an output
                // alias: its sources are reported where that sub-select reads them
    uncertain,  // the parse tree cannot tell which relation owns it: see candidates
};

struct Column {
    std::string name;          // empty when all_columns
    bool all_columns = false;  // `*` or `t.*`: every column of the relation
    bool written = false;      // an INSERT/MERGE column list, an UPDATE SET target, COPY FROM's list
    ColumnOrigin origin = ColumnOrigin::uncertain;
    int32_t relation = -1;  // index into Statement::relations when origin == relation
    // origin == uncertain: the relations that may own it (this query level's, then
    // enclosing ones' for correlated references; in name order within a level).
    // Empty means "any relation of the statement" (more than 16 candidates or 64
    // FROM items in scope, or a qualifier that names nothing known, e.g. a
    // composite column's field).
    std::vector<uint32_t> candidates;
    int32_t offset = -1;
};

// ---- functions ---------------------------------------------------------------

// What a function call's argument is, as written.
enum class ArgumentKind : uint8_t {
    literal,    // a constant, possibly cast: 'x', 5, 'x'::text, CAST('x' AS text)
    parameter,  // a bind parameter, possibly cast: $1, $1::int
    column,     // a column reference: c, t.c
    other,      // any other expression: a call, an operator, a sub-select, ...
};

struct Argument {
    ArgumentKind kind = ArgumentKind::other;
    std::string name;       // named notation (name => value), as written; empty when positional
    int32_t literal = -1;   // kind literal: index into Statement::literals
    int32_t parameter = 0;  // kind parameter: n of $n
    int32_t offset = -1;    // where the argument's expression starts
};

struct FunctionCall {
    std::string catalog;  // rare three-part name
    std::string schema;   // as written; "pg_catalog" for SQL-syntax forms (see sql_syntax)
    std::string name;
    // The parser made this call from SQL syntax rather than a call the app wrote
    // by name: EXTRACT, SUBSTRING(... FROM ...), OVERLAY, POSITION, TRIM, AT TIME ZONE, ...
    bool sql_syntax = false;
    // Written as a field selection, which may be a call: PostgreSQL reads `x.f` as
    // f(x) when x has no field or column f ("functional notation":
    // `(10::float8).pg_sleep`, `($1::int).pg_terminate_backend`, `$1.f`,
    // `g.pg_sleep FROM generate_series(1, 2) g`, and `t.f` for a table t without a
    // column f). The analyzer knows neither column lists nor types, so every
    // field selection is reported as one of these, whether or not it is a call:
    // the last name of a qualified column reference (`t.col`, `s.t.col`; also
    // reported in Statement::columns) and each field name of `(expr).f.g`,
    // `$1.f`, `arr[1].f`. Never `t.*` or `(expr).*`. name is the field name as
    // PostgreSQL folds it; schema and catalog are empty. A policy that denies a
    // function by name denies these too; one that allows only listed functions
    // must ignore them or allow every column name.
    bool attribute_notation = false;
    // Where the call's name is: the function name, or the field name for
    // attribute notation (the start of the expression when the text there does
    // not spell it plainly, e.g. U&"..." names).
    int32_t offset = -1;
    // Called as a FROM item: FROM f(...), JOIN LATERAL f(...), ROWS FROM (f(...)).
    bool row_source = false;
    // The call's arguments in order (none for attribute notation, whose
    // argument is the expression before the dot).
    std::vector<Argument> arguments;
    // nextval, setval and currval with a constant first argument: the sequence
    // it names (index into Statement::relations). nextval and setval write it.
    int32_t relation = -1;

    std::string qualified_name() const;
};

// ---- literals ----------------------------------------------------------------

enum class LiteralKind : uint8_t { string, integer, float_, bit_string, boolean, null };

// Where a literal's value ends up: the position of the literal, or of the cast
// applied to it (`'x'::text` is where the cast is), judged by what takes the
// value there. A function call, a type modifier and a comparison operator take
// it whatever the clause (function_argument, type_modifier, comparison); a
// select list takes the context of where its values go (select_list only for
// values sent to the client); ORDER BY and GROUP BY only for the key itself;
// elsewhere the clause decides. So `= (SELECT 'x')` is a comparison, `LIMIT
// (SELECT 5)` a limit, `INSERT ... SELECT 'x'` values, `'1'::regclass::text` in
// VALUES values and `ORDER BY CASE WHEN x = 'a' ...` a comparison.
enum class LiteralContext : uint8_t {
    // Operand of a comparison (=, <>, <, LIKE, IN, BETWEEN, IS DISTINCT FROM,
    // @>, ~, a simple CASE's WHEN value, ...) anywhere but in a select list
    // whose values go to the client.
    comparison,
    predicate,   // any other place in WHERE/HAVING/JOIN ON (`WHERE true`, `a + 1 > b`)
    values,      // VALUES (INSERT or standalone), MERGE ... INSERT VALUES, INSERT ... SELECT's
                 // select list, EXECUTE's arguments
    update_set,  // UPDATE SET, ON CONFLICT DO UPDATE SET, MERGE ... UPDATE SET
    limit,       // LIMIT / OFFSET / FETCH FIRST
    order_by,    // the sort key itself: ORDER BY 1 (not a literal inside a key expression)
    group_by,    // the group key itself: GROUP BY 1
    // A select list whose values go to the client: the statement's own (also
    // inside EXPLAIN, PREPARE, DECLARE, COPY (...) TO and CREATE TABLE AS), its
    // set operations' and RETURNING's, and an EXISTS sub-select's (discarded).
    // A sub-select's select list takes the context of where its value goes; a
    // derived table's (FROM (SELECT ...)) and a WITH query's are other.
    select_list,
    function_argument,  // direct argument of a function call (also through casts)
    // A cast value used as a typed constant: compared, directly or through + and
    // - arithmetic (`x > now() - '7 days'::interval`, `oid = 'users'::regclass`).
    // A cast whose value goes anywhere else takes that place's context.
    type_cast,
    type_modifier,  // varchar(255), numeric(10,2)
    set_value,      // value of SET / SET LOCAL / ALTER SYSTEM SET / ALTER ROLE ... SET
    ddl,            // anywhere in a DDL statement outside its query
    utility,        // options and arguments of utility statements (COPY, EXPLAIN, NOTIFY, FETCH, DO ...)
    // Structure rather than a value, judged by position (README "Literals that
    // are structure"): a format string, separator, precision, field or option
    // of a well-known function (`to_char(t, 'YYYY-MM')`, `string_agg(x, ',')`,
    // `date_trunc('day', t)`, `round(x, 2)`, `count(1)`, a key of
    // `json_build_object('k', v)`, the fallback of `coalesce(json_agg(...),
    // '[]')`) and the key of `->`, `->>`, `#>`, `#>>` (`data->>'status'`).
    function_option,
    // An operand of a condition that holds the same for every row and is ANDed
    // at the top level of its WHERE/HAVING/ON (an ORM's `AND 1=1`): it selects
    // no row by value and lets none through that the rest would not.
    constant_condition,
    // A string of LIKE wildcards only ('%', '_') concatenated with a bind
    // parameter: `name ILIKE ('%' || $1 || '%')`.
    pattern_wildcard,
    // Compared, or passed to a function, in a statement that reads system
    // catalogs and nothing else (a driver's `typname = 'hstore'`, `attnum > 0`,
    // `relkind IN ('i', 'I')`): whatever it is, it can only select catalog rows.
    catalog_lookup,
    other,  // derived tables' and WITH queries' select lists, expressions inside ORDER BY /
            // GROUP BY keys, window frames, DISTINCT ON, RETURNING inside WITH, ...
};

// The clause a literal sits in, whatever its innermost role.
enum class Clause : uint8_t {
    select_list,
    from,
    where,
    having,
    join_on,
    group_by,
    order_by,
    window,
    limit,
    values,
    update_set,
    returning,
    on_conflict,
    set_value,
    ddl,
    utility,
    other,
};

struct Literal {
    LiteralKind kind = LiteralKind::string;
    LiteralContext context = LiteralContext::other;
    Clause clause = Clause::other;
    // Written as a bare word that the grammar turns into a constant, not as a
    // quoted string or number: `SET search_path TO public`, `EXTRACT(year FROM d)`,
    // `ISOLATION LEVEL SERIALIZABLE`. TRUE/FALSE/NULL are told by their kind.
    bool bare_word = false;
    int32_t offset = -1;  // first byte; for a negative number, the '-' sign
    int32_t length = 0;   // bytes in the text, including prefixes, quotes, continuations, UESCAPE
    // A comparison operand's other side when that is a plain column, as written
    // ("email" for `email = 'a'`, "u.email" for `'a' = u.email`): what a hint
    // such as "WHERE email = $1" needs. Empty otherwise.
    std::string compared_to;
    // The type the literal's value is cast to, whatever its context, for
    // `'7 days'::interval`, `CAST('1' AS bigint)` and typed literals (`DATE
    // '2024-01-01'`, `INTERVAL '1' DAY`): the outermost of the casts applied
    // directly to it, the type its value ends up as (`'1'::regclass::text` is
    // "text"). SQL-standard spellings are the grammar's internal names:
    // int/integer "int4", smallint "int2", bigint "int8", real "float4", double
    // precision/float "float8", boolean "bool", decimal "numeric", character
    // varying "varchar", char/character "bpchar", timestamp with time zone
    // "timestamptz", time with time zone "timetz", bit varying "varbit". Other
    // names are as written, folded as PostgreSQL folds identifiers (`'x'::text`
    // "text", `'x'::"char"` "char"), with a schema only when written
    // (`'1'::pg_catalog.int4` "pg_catalog.int4"), without type modifiers
    // (varchar(20) is "varchar", INTERVAL '1' DAY "interval"), with "[]" per
    // array dimension (`'{1}'::int[]` "int4[]"; each literal of
    // `ARRAY['a']::text[]` too). Empty when the literal is not cast.
    std::string cast_type;
    // The value as PostgreSQL reads it: quotes, escapes, doubled quotes, U& and
    // dollar quoting undone (`E'it\'s'` is "it's"); numbers and bit strings as
    // the parser keeps them ("-7", "3.14", "b1010", "x1F"); "true"/"false".
    // Empty for NULL and for literals the parse tree does not hold as constants
    // (DO and function bodies, COPY file names, passwords: context utility/ddl).
    std::string value;

    std::string_view text(std::string_view sql) const;
};

// ---- structure ---------------------------------------------------------------

// A boolean sub-expression in WHERE/HAVING/JOIN ON that is the same for every
// row: the shape of a tautology injection (or its probe, `AND 1=2`). Either
// constant-only, referencing no column, parameter or table (`1=1`, `'a'='a'`,
// `true`, `'{"a":1}'::jsonb @> '{"a":1}'`, `EXISTS (SELECT 1)`), or a comparison
// of an expression with itself: the same parse tree on both sides, wherever
// written (`id = id`, `t.a = t.a`, `$1 = $1`, `lower(x) = lower(x)`, `x >= x`,
// `x <= x`, `x LIKE x`, `x IS NOT DISTINCT FROM x`, `NOT (x <> x)`) and the
// always-false probes (`x <> x`, `x < x`, `x > x`, `x NOT LIKE x`, `x IS
// DISTINCT FROM x`). `a.id = b.id`, `x = $1` and `t1.x = t2.x` are not. The
// outermost constant part is reported once: `x = x AND 1 = 1` is one.
struct Tautology {
    int32_t offset = -1;  // start of the sub-expression
    Clause clause = Clause::where;
    // A term ANDed at the top level of the condition with other terms (not
    // under OR, NOT, CASE, a call, ...): it cannot let a row through that the
    // other terms would not.
    bool conjunct = false;
    bool whole = false;  // the entire condition
    // Written as two equal constants compared with = (`1=1`, `'a'='a'`): it
    // holds for every row and reads nothing (an ORM's `AND 1=1`), as opposed
    // to a probe (`1=2`), a bare TRUE, a comparison of an expression with
    // itself (`id = id`) or a constant that reads something
    // (`length(version()) > 1`).
    bool literal_true = false;
};

enum class DynamicCodeKind : uint8_t {
    do_block,       // DO '...': procedural code the analyzer cannot see into
    function_body,  // CREATE FUNCTION/PROCEDURE body (string or BEGIN ATOMIC)
    prepare,        // PREPARE name AS ...: runs later through EXECUTE
    execute,        // EXECUTE name: runs a statement prepared earlier, not in this text
    rule_action,    // CREATE RULE ... DO ...: runs later on every matching statement
};

struct DynamicCode {
    DynamicCodeKind kind = DynamicCodeKind::do_block;
    std::string language;  // do_block/function_body: "plpgsql", "sql", "c", ... (lower case)
    std::string name;      // prepare/execute: the prepared statement's name
    int32_t offset = -1;
};

enum class CopyDirection : uint8_t { from, to };  // FROM: into the table
enum class CopyEndpoint : uint8_t { stdin_, stdout_, file, program };

struct CopyFacts {
    CopyDirection direction = CopyDirection::to;
    CopyEndpoint endpoint = CopyEndpoint::stdout_;
    bool query = false;  // COPY (query) TO ...
};

struct SetOperations {
    uint16_t union_ = 0;
    uint16_t intersect = 0;
    uint16_t except = 0;
    bool any() const { return union_ + intersect + except > 0; }
};

// One arm (a SELECT or VALUES, not a nested set operation) of a UNION,
// INTERSECT or EXCEPT anywhere in the statement: what an appended `UNION
// SELECT ... FROM users` looks like next to an arm the app wrote.
struct SetOperationArm {
    int32_t offset = -1;      // the arm's first location
    bool parameters = false;  // a bind parameter is written in it (or in what it nests)
    // It reads a relation, a system catalog or a WITH query of the statement
    // (directly, in a sub-select, a join, ...).
    bool reads_relation = false;
    // The recursive arm of a WITH RECURSIVE query: it reads the query it is part of.
    bool recursive = false;
};

// A conversion a sub-select's value goes through on its way: a cast, or a call
// it is an argument of (directly or inside an expression of the argument).
struct Conversion {
    bool cast = false;
    std::string name;  // the cast's type (as Literal::cast_type) or the function's name
    // PostgreSQL's error for a value it cannot convert may quote the value:
    // every cast but to a string type (`'x'::int` is "invalid input syntax for
    // type integer: "x""), and every call not known to keep its arguments out
    // of its errors (date_trunc's "unit "x" not recognized", current_setting,
    // to_number, int4in, ...). Known safe: aggregates, coalesce, greatest,
    // least, JSON and array builders, string functions that accept any text.
    bool may_quote_value = false;
};

// A scalar or ARRAY sub-select whose value is converted: the secret-leaking
// shape `CAST((SELECT password FROM users LIMIT 1) AS int)`, where the error
// shows the value. Conversions innermost first, up to the end of the
// expression (not past a sub-select that holds it).
struct ConvertedQuery {
    int32_t offset = -1;  // the sub-select
    // It reads a relation that is not a system catalog (WITH queries count as
    // relations: what they read is not followed).
    bool reads_relation = false;
    std::vector<Conversion> conversions;
};

enum class CommentStyle : uint8_t { line, block };  // -- ... / /* ... */

struct Comment {
    CommentStyle style = CommentStyle::line;
    int32_t offset = -1;
    int32_t length = 0;         // whole comment with its delimiters
    std::string text;           // exact text, delimiters included
    bool sqlcommenter = false;  // /*key='value',...*/ as ORMs add (google sqlcommenter)
    bool marginalia = false;    // /*key:value,...*/ as Rails' marginalia and its kin add
    // The text holds what the cut-off rest of a statement leaves: a quote, a
    // bracket, an operator character (= < > | :), ';', '$', or a clause keyword
    // (AND, OR, WHERE, FROM, LIMIT, ...): `--' AND pw = '`, `-- LIMIT 10`; not
    // `-- the user`.
    bool sql_like = false;
    bool after_literal = false;  // the token just before it is a string or number literal
    bool at_end = false;         // no SQL token follows it in its statement
};

// Where a data-modifying statement or row lock sits.
enum class WritePlace : uint8_t {
    statement,  // the statement itself
    inner,      // the statement inside EXPLAIN, PREPARE, DECLARE, COPY (...) TO, CREATE TABLE AS
    with,       // the statement of a WITH query (a data-modifying CTE), at any depth
    nested,     // anywhere else: sub-selects (row locks), rule actions, function bodies
};

// Rows that a statement inserts, updates, deletes, merges or locks (SELECT ...
// FOR UPDATE/SHARE), wherever in the text it is written: `WITH d AS (DELETE
// FROM users RETURNING *) SELECT ...` is a SELECT that deletes, `COPY (DELETE
// ... RETURNING *) TO STDOUT` a COPY that deletes. Written in text order; a
// MERGE is reported once as merge and once per WHEN action (update, delete,
// insert, with merge_action set), so that a check of updates and deletes also
// sees MERGE's. A row lock is reported per relation it locks.
struct Write {
    StatementKind kind = StatementKind::other;  // insert, update, delete_, merge; select: row lock
    WritePlace place = WritePlace::statement;
    bool row_lock = false;      // FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE
    bool merge_action = false;  // a WHEN ... THEN UPDATE/DELETE/INSERT of a MERGE
    // The relation written or locked (index into Statement::relations); -1 when
    // the target is not a relation the analyzer can name (a CTE, a view's ...).
    int32_t relation = -1;
    // Written with WHERE (WHERE CURRENT OF included); a MERGE action: with WHEN
    // ... AND; a row lock: its query has a WHERE.
    bool has_where = false;
    // The rows are selected by values (README "require_where"): the condition
    // (WHERE; MERGE's ON with the action's WHEN condition; a row lock's WHERE and
    // JOIN ON) has a term, ANDed at the top level or in every branch of an OR,
    // that compares the target's columns with an expression using none of them
    // (a parameter, a literal, functions of them, now(), a sub-select that is
    // itself restricted) or with the columns of a relation so restricted; or it
    // is WHERE CURRENT OF; a row lock under a LIMIT is restricted too. Negations
    // (<>, NOT, NOT IN, IS DISTINCT FROM, NOT EXISTS), IS [NOT] NULL, bare boolean
    // columns, comparisons of the target's columns with themselves (`id > -id`),
    // uncorrelated EXISTS and sub-selects reading unrestricted relations (`id IN
    // (SELECT id FROM users)`) restrict nothing. A MERGE: every UPDATE and DELETE
    // action restricts. Always false for INSERT.
    bool restricts = false;
    // The statement's first keyword (INSERT/UPDATE/DELETE/MERGE, or WITH when it
    // has one; the WITH query's name when the text there is not plain); a MERGE
    // action: its WHEN; a row lock: the relation's name in FROM.
    int32_t offset = -1;
};

// A relation a statement writes through a call whose argument names it but is
// not a constant (`nextval($1)`, `s.nextval`): which relation is not known.
struct UnknownRelation {
    AccessSet access;
    int32_t offset = -1;  // the call
};

// ---- statements --------------------------------------------------------------

struct Statement {
    StatementKind kind = StatementKind::other;
    // The statement inside EXPLAIN, PREPARE, DECLARE CURSOR, CREATE TABLE AS /
    // MATERIALIZED VIEW and COPY (query); none otherwise. Its relations, columns,
    // functions and literals are part of this statement's.
    StatementKind inner_kind = StatementKind::none;
    // DDL, GRANT, COMMENT, ...: PostgreSQL's ObjectType in lower case without
    // OBJECT_ ("table", "matview", "function", "schema", ...); empty otherwise.
    std::string object_type;

    int32_t offset = 0;  // statement text, without surrounding white space and ';'
    int32_t length = 0;

    std::vector<Relation> relations;
    std::vector<Column> columns;
    std::vector<FunctionCall> functions;  // every call, in every clause, each occurrence
    std::vector<Literal> literals;        // every constant written in the statement
    std::vector<Tautology> tautologies;
    std::vector<DynamicCode> dynamic_code;
    // Parse-tree node types this analyzer does not know. Non-empty means facts may
    // be missing: a policy should deny.
    std::vector<std::string> unknown_nodes;
    int32_t param_count = 0;  // highest $n used

    // SET, RESET, SHOW, ALTER SYSTEM, ALTER ROLE/DATABASE ... SET: the parameter,
    // lower-cased as PostgreSQL matches it ("search_path", "role",
    // "session_authorization", "timezone", "client_encoding" for SET NAMES,
    // "transaction" for SET TRANSACTION, "all" for RESET ALL / SHOW ALL).
    std::string parameter;
    bool set_local = false;    // SET LOCAL
    bool set_default = false;  // SET ... TO DEFAULT
    // The name the statement acts on where it has one: LISTEN/NOTIFY/UNLISTEN
    // channel, PREPARE/EXECUTE/DEALLOCATE statement, cursor, savepoint, extension,
    // LOAD file, DISCARD target ("all", "plans", "sequences", "temp").
    std::string name;

    std::optional<CopyFacts> copy;
    bool explain_analyze = false;  // EXPLAIN ANALYZE: the inner statement runs
    // UPDATE/DELETE (incl. WHERE CURRENT OF). The statement's own WHERE only:
    // every write, wherever it is written, is in writes.
    bool has_where = false;
    bool has_limit = false;                           // the statement's outermost query has LIMIT/FETCH FIRST (not ALL)
    SetOperations set_operations;                     // anywhere in the statement
    std::vector<SetOperationArm> set_operation_arms;  // in text order
    std::vector<ConvertedQuery> converted_queries;    // in text order
    bool data_modifying_cte = false;                  // WITH x AS (INSERT/UPDATE/DELETE/MERGE ...)
    std::vector<Write> writes;                        // every data-modifying statement and row lock
    std::vector<UnknownRelation> unknown_relations;
    bool select_into = false;       // SELECT ... INTO new_table (reported as create_table_as)
    bool cursor_with_hold = false;  // DECLARE ... WITH HOLD: the cursor outlives its transaction
    bool temporary = false;         // creates a temporary relation: it outlives the transaction
    // Changes how later text is lexed: SET/RESET of standard_conforming_strings or
    // client_encoding, RESET ALL, DISCARD ALL, set_config(), ALTER SYSTEM of them.
    // The session must not analyze text sent after it until the server has
    // answered (ParameterStatus), or it would analyze with stale settings.
    bool changes_parse_settings = false;

    // Comments from the text before or inside this statement: a range of
    // Analysis::comments (comments after the last statement belong to it).
    uint32_t first_comment = 0;
    uint32_t comment_count = 0;

    // Structure of the statement, ignoring literal values and $n numbers:
    // `email = 'a'` and `email = $1` share it; `= 'a' OR 'x'='x'` does not. Runs
    // of equal items in IN lists, ARRAY[...] and VALUES rows count once, so a
    // client-side-bound IN list of any length keeps the fingerprint. Layout,
    // comments and keyword case do not count; identifiers (folded), aliases,
    // operators, casts and clauses do. Stable across runs and builds; a new
    // libpg_query major version (a new parse-tree shape) may change it.
    uint64_t fingerprint = 0;
    // The statement with comments removed and every string, number and bit-string
    // literal replaced by $n, numbered after the statement's own highest $n. Safe
    // to log: it never holds the values the app sent.
    std::string normalized;

    bool is_write() const;  // any relation written, or a write kind
};

// ---- the whole text ----------------------------------------------------------

enum class AnalysisStatus : uint8_t {
    ok,
    unparseable,       // libpg_query rejected it: error, error_position
    too_large,         // over AnalyzerOptions::max_statement_bytes
    too_deep,          // nesting or operator chains over AnalyzerOptions::max_depth
    session_settings,  // standard_conforming_strings off or client_encoding not UTF8
};
std::string_view name(AnalysisStatus status);  // "ok", "unparseable", "too_large", ...

struct Analysis {
    AnalysisStatus status = AnalysisStatus::ok;
    std::string error;           // parser message or the reason; empty when ok
    int32_t error_position = 0;  // 1-based character position, as PostgreSQL reports it; 0: none
    // status unparseable: the SQLSTATE PostgreSQL answers for the same error.
    // Mostly syntax_error "42601", but the grammar raises a few of its own:
    // `ALTER INDEX i ALTER COLUMN 0 ...` 22023, `E'\u12'` 22025, a FOREIGN KEY
    // marked NOT VALID in ALTER CONSTRAINT 0A000, ... Empty otherwise.
    std::string error_sqlstate;

    std::vector<Statement> statements;  // one per statement; empty text or ";" gives none
    std::vector<Comment> comments;      // all comments in text order
    uint64_t fingerprint = 0;           // of the whole text: its statements in order
    // The server would read this text differently under other settings: a
    // backslash in a '...' string (standard_conforming_strings off makes it an
    // escape) or a byte over 0x7F (another client_encoding converts it, and may
    // swallow the ASCII byte after it). Text without either reads the same under
    // every setting PostgreSQL allows; text with one can be judged only when the
    // server's settings are known to be standard_conforming_strings on and
    // client_encoding UTF8.
    bool depends_on_settings = false;

    bool ok() const { return status == AnalysisStatus::ok; }
    // Normalized statements joined with "; ".
    std::string normalized() const;
    // Rough memory held (for the cache's byte bound).
    size_t approximate_bytes() const;
};

// ---- names and helpers -------------------------------------------------------

std::string_view name(LiteralKind kind);         // "string", "integer", "float", "bit_string", "boolean", "null"
std::string_view name(LiteralContext context);   // "comparison", "predicate", ..., "other"
std::string_view name(Clause clause);            // "select_list", "from", "where", ...
std::string_view name(ColumnOrigin origin);      // "relation", "derived", "uncertain"
std::string_view name(DynamicCodeKind kind);     // "do_block", "function_body", ...
std::string_view name(CopyDirection direction);  // "from", "to"
std::string_view name(CopyEndpoint endpoint);    // "stdin", "stdout", "file", "program"
std::string_view name(ArgumentKind kind);        // "literal", "parameter", "column", "other"
std::string_view name(WritePlace place);         // "statement", "inner", "with", "nested"

// 16 lower-case hex digits.
std::string fingerprint_hex(uint64_t fingerprint);
// The 1-based character (code point) position of a byte offset in UTF-8 text,
// as PostgreSQL's ErrorResponse Position field counts.
int32_t character_position(std::string_view sql, int32_t byte_offset);

}  // namespace pgmoat::sql
