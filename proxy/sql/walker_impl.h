// The tree walker's internals, shared by its files, one per node family:
// walker.cpp (values, dispatch, the field loop), walker_expressions.cpp,
// walker_from.cpp (FROM items) and walker_statements.cpp (statement nodes).
// Recursive descent over the JSON with an explicit depth bound.
#pragma once

#include "hash.h"
#include "name_position.h"
#include "typed_fields.h"
#include "walker.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pgmoat::sql::detail {

// What takes a value at a position (see LiteralContext): the roles that win
// over the clause, and two that only qualify it. arithmetic: an operand of + or
// - whose result is compared (a cast there stays a typed constant); key: the
// ORDER BY / GROUP BY key itself.
enum class Role : uint8_t {
    none,
    comparison,
    function_argument,
    type_cast,
    type_modifier,
    arithmetic,
    key,
};
// What a ResTarget's name means where it sits.
enum class ResMode : uint8_t { output, assign, insert_column };
// A statement node's place: the statement itself, the statement inside
// EXPLAIN/PREPARE/DECLARE/CREATE TABLE AS/COPY, or anything deeper.
enum class StmtRole : uint8_t { top, inner, nested };

struct Ctx {
    int32_t scope = -1;
    int32_t target = -1;     // DML target (RawRelation) that ResTarget names columns of
    int32_t cte_index = -1;  // this statement node is the body of CTE #k of `scope`
    Clause clause = Clause::other;
    Role role = Role::none;
    ResMode res = ResMode::output;
    StmtRole stmt = StmtRole::top;
    AccessSet access{static_cast<uint8_t>(Access::read)};
    bool from_item = false;  // a relation here is a FROM item of `scope`
    bool collapse = false;   // the next list counts runs of equal items once
    bool ddl = false;
    bool capture_defelems = false;
    bool lock_ref = false;     // a RangeVar here names a FROM item (FOR UPDATE OF)
    bool hide_parent = false;  // the statement here cannot see this scope's FROM items
    bool simple_case = false;  // a CaseWhen of `CASE x WHEN v ...`: v is compared with x
    bool arm = false;          // a SelectStmt here is an arm of a set operation
    bool row_source = false;   // a FuncCall here is a FROM item
    // The statement node whose fields these are is the top statement or inside
    // EXPLAIN/PREPARE/...: the statement in its query field is inner (FieldRole::query).
    bool outer = false;
    // Where a select list here sends its values (LiteralContext): select_list
    // for the client, or the context of the sub-select's place.
    LiteralContext output = LiteralContext::select_list;
    // The recorded condition (RawCond) the boolean expression here is a term of;
    // -1: not a term of a condition.
    int32_t cond = -1;
    // A boolean expression here is the whole WHERE/HAVING/ON or ANDed at its
    // top level (see Tautology::conjunct).
    bool conjunct = false;
};

// key == "literal" with the literal's length known at compile time, so the
// comparison is a few integer compares instead of a memcmp call (the walker
// compares every JSON key it reads against its field names).
template <size_t N>
inline bool is(std::string_view s, const char (&lit)[N]) {
    return s.size() == N - 1 && __builtin_memcmp(s.data(), lit, N - 1) == 0;
}

// What a walked value contributes upward.
struct Sub {
    uint64_t hash = 0;
    int32_t first = -1;     // smallest location inside, -1 if none
    bool variable = false;  // references a column, parameter, relation or cursor
};

inline constexpr uint64_t kPlaceholder = 0x5be0cd19137e2179ULL;  // every literal and $n
inline constexpr uint64_t kArraySeed = 0x3c6ef372fe94f82bULL;
inline constexpr uint64_t kStructSeed = 0xa54ff53a5f1d36f1ULL;
// The prefix of a String node up to its value's opening quote (exclusive).
inline constexpr std::string_view kStringNode = "{\"String\":{\"sval\":";

// Accumulates a node: its fields' hashes in order, the first location, and
// whether anything below is variable.
struct Acc {
    uint64_t h;
    int32_t first = -1;
    bool variable = false;

    explicit Acc(uint64_t seed) : h(seed) {}
    void add(std::string_view key, const Sub& s) {
        h = mix(h ^ key_word(key), s.hash + 0x8ebc6af09c88c6e3ULL);
        merge(s);
    }
    // Field names come from libpg_query's fixed vocabulary: their first and last
    // eight bytes and length tell them apart, and mix() does the spreading.
    static uint64_t key_word(std::string_view k) {
        uint64_t a = 0, b = 0;
        if (k.size() >= 8) {
            std::memcpy(&a, k.data(), 8);
            std::memcpy(&b, k.data() + k.size() - 8, 8);
        } else {
            for (size_t i = 0; i < k.size(); ++i) a |= uint64_t{static_cast<unsigned char>(k[i])} << (8 * i);
        }
        return a ^ (b << 1) ^ (uint64_t{k.size()} << 56);
    }
    void merge(const Sub& s) {
        location(s.first);
        variable |= s.variable;
    }
    void location(int32_t loc) {
        if (loc >= 0 && (first < 0 || loc < first)) first = loc;
    }
    Sub done() const { return Sub{mix(h, 0x510e527fade682d1ULL), first, variable}; }
};

class Walker {
  public:
    Walker(std::string_view sql, std::string_view json, uint32_t max_depth, Scratch& scratch, Analysis& out)
        : sql_(sql),
          r_(json.data(), json.data() + json.size()),
          max_depth_(max_depth),
          s_(scratch),
          raw_(scratch.raw),
          out_(out) {}

    bool run(bool& too_deep);

  private:
    friend struct DepthGuard;
    friend struct ParentGuard;
    // [[gnu::cold]] marks what application traffic rarely holds (utility
    // statements, MERGE, COPY, unknown shapes): it keeps the hot path's code
    // compact, which matters because libpg_query competes for the same caches.

    // ---- generic (walker.cpp) -------------------------------------------------------
    // The one field loop: walks the object's fields in order, offering each key
    // to `on` first (it returns true when it walked the value itself); a field it
    // does not take is walked by its role (field()): `location` merged into acc,
    // any other value hashed into acc under its key. False when the value is not
    // an object.
    template <typename On>
    bool fields(Acc& acc, const Ctx& child, On&& on) {
        if (!r_.begin_object()) return false;
        Str key;
        while (r_.next_key(key)) {
            if (on(key)) continue;
            if (is(key, "location")) {
                location_value(acc);
            } else {
                acc.add(key, field(child, key));
            }
        }
        return true;
    }
    // The field `key` of the node being walked (parent_), in the context its
    // role gives it (FieldRole, typed_fields.h); c: the node's own context for
    // its fields.
    Sub field(const Ctx& c, Str key) {
        const FieldRole role = field_role(parent_, key);
        return role == FieldRole::generic ? value(c, key) : field_in_role(role, c, key);
    }
    Sub field_in_role(FieldRole role, const Ctx& c, Str key);
    static Ctx role_context(FieldRole role, const Ctx& c);
    Sub value(const Ctx& c, Str field = {});
    // The items of a JSON array, each walked by value(c) and hashed as array()
    // would (no run counted once), then offered to `on()`: was_string() says
    // whether the item was a String (its value in last_scalar_), last_tag_ what it was.
    template <typename On>
    Sub items(const Ctx& c, On&& on) {
        Acc acc(kArraySeed);
        r_.begin_array();
        while (r_.next_element()) {
            has_scalar_ = false;
            last_tag_ = NodeTag::unknown;
            Sub s = value(c);
            acc.merge(s);
            acc.h = combine(acc.h, s.hash);
            on();
        }
        return acc.done();
    }
    bool was_string() const { return last_tag_ == NodeTag::String && has_scalar_; }
    Sub array(const Ctx& c);
    Sub wrapped(const Ctx& c);
    // One key per wrapper; anything more (libpg_query writes none) is walked so
    // that nothing hides in it, hashed onto `s`; keep_inner: what `s` found
    // (locations, ...) is kept too. Forced inline: every wrapped node ends here.
    [[gnu::always_inline]] Sub wrapper_rest(Sub s, const Ctx& c, bool keep_inner) {
        Str extra;
        while (r_.next_key(extra)) {
            Acc acc(s.hash);
            if (keep_inner) acc.merge(s);
            acc.add(extra, value(c, extra));
            s = acc.done();
        }
        return s;
    }
    Sub node(const NodeInfo& info, const Ctx& c);
    // What node() calls for a node: every handler below takes the node's type
    // and the context it is walked in.
    using Handler = Sub (Walker::*)(const NodeInfo&, const Ctx&);
    static constexpr std::array<Handler, static_cast<size_t>(NodeTag::count)> handlers();
    Sub generic_body(const NodeInfo& info, const Ctx& c);
    // An unwrapped struct walked generically (see kTypedFields).
    [[gnu::cold]] Sub structure(const Ctx& c, NodeTag type);
    int32_t location_value(Acc& acc);            // the node's own location, merged into acc
    Str string_value(Sub& sub);                  // reads a JSON string (unescaped), hashing it
    Sub name_list(NameList& out, const Ctx& c);  // [{"String":...}, {"A_Star":{}}, ...]
    // {"List":{"items":[{"String":...}, ...]}} or a single String.
    [[gnu::cold]] Sub list_of_names(NameList& out, const Ctx& c);
    Ctx child_of(const NodeInfo& info, const Ctx& c) const;
    [[gnu::cold]] void unknown_node(std::string_view name);
    // A node type the walker does not know: reported, and walked generically
    // so that nothing below it hides.
    [[gnu::cold]] Sub unknown_body(Str key, const Ctx& c);
    Str keep(std::string_view raw, bool escaped);
    Str keep_owned(std::string text);  // a name made here, kept for the statement

    // ---- expressions (walker_expressions.cpp) ---------------------------------------
    Sub a_const(const NodeInfo& info, const Ctx& c);
    Sub param_ref(const NodeInfo& info, const Ctx& c);
    // A term of a condition that is the same for every row, walked from
    // literal `literals` on (see Tautology).
    void tautology(size_t literals, Clause clause, const Sub& term, bool conjunct, bool whole);
    // The term just walked is `1=1` (see Tautology::literal_true).
    bool literal_true(const Sub& term) const;
    void retag(size_t literal, LiteralContext context);
    Sub column_ref(const NodeInfo& info, const Ctx& c);
    Sub a_indirection(const NodeInfo& info, const Ctx& c);
    void attribute_call(Str name, int32_t location);
    Sub func_call(const NodeInfo& info, const Ctx& c);
    Sub a_expr(const NodeInfo& info, const Ctx& c);
    Sub bool_expr(const NodeInfo& info, const Ctx& c);
    Sub type_cast(const NodeInfo& info, const Ctx& c);
    Sub type_name(const NodeInfo& info, const Ctx& c);
    Sub sub_link(const NodeInfo& info, const Ctx& c);
    Sub list_node(const NodeInfo& info, const Ctx& c);
    Sub scalar_node(const NodeInfo& info, const Ctx& c);
    Sub current_of(const NodeInfo& info, const Ctx& c);
    Sub string_fast();
    Sub named_arg(const NodeInfo& info, const Ctx& c);
    Sub case_expr(const NodeInfo& info, const Ctx& c);
    Sub case_when(const NodeInfo& info, const Ctx& c);
    Sub body_with(const NodeInfo& info, const Ctx& c, std::string_view field, const Ctx& field_ctx);
    Sub function_arguments(const Ctx& c, RawFunction& f, int32_t atom);
    void sequence_call(RawFunction& f);
    void catalog_call(Str name, int32_t location);
    int32_t add_cond(const Ctx& c, CondKind kind);
    bool only_boolean_or_null(size_t begin, size_t end) const;  // raw_.literals [begin, end)
    // Walks a value as one side of a recorded condition atom.
    Sub cond_side(int32_t atom, int side, const Ctx& c, Str key);
    [[gnu::cold]] Sub index_elem(const NodeInfo& info, const Ctx& c);
    Sub res_target(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub def_elem(const NodeInfo& info, const Ctx& c);
    // WHERE/HAVING/ON: reports tautologies, and records the condition when role
    // says what it is the root of.
    Sub boolean_root(const Ctx& c, Clause clause, CondRole role = CondRole::none, int32_t action = -1);

    // ---- FROM items (walker_from.cpp) -----------------------------------------------
    Sub range_var(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub range_table_sample(const NodeInfo& info, const Ctx& c);
    Sub alias(Str& name, std::vector<Str>* column_names = nullptr);
    Sub name_strings(std::vector<Str>& out, const Ctx& c);  // [{"String":...}, ...]
    // A list of column names, hashed as array() would: each String a column of
    // `scope` (of RawRelation `target` when known): USING (a, b), COPY t (a, b).
    Sub name_columns(const Ctx& c, Str key, int32_t scope, int32_t target);
    // A target list whose columns are counted (select lists, RETURNING).
    Sub target_list(const Ctx& c, Str key);
    void all_columns_of(int32_t scope, int32_t relation, bool written, int32_t location);
    Sub range_subselect(const NodeInfo& info, const Ctx& c);
    Sub range_function(const NodeInfo& info, const Ctx& c);
    Sub join_expr(const NodeInfo& info, const Ctx& c);

    // ---- statements (walker_statements.cpp) -----------------------------------------
    Sub select_stmt(const NodeInfo& info, const Ctx& c);
    Sub insert_stmt(const NodeInfo& info, const Ctx& c);
    Sub update_or_delete(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub merge_stmt(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub copy_stmt(const NodeInfo& info, const Ctx& c);
    Sub with_clause(const NodeInfo& info, const Ctx& c);
    Sub cte(const Ctx& c, int32_t index);
    int32_t target_relation(Acc& acc, Str key, const Ctx& base, AccessSet access, bool visible,
                            int32_t* entry = nullptr);
    Sub on_conflict(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub merge_when(const NodeInfo& info, const Ctx& c);
    Sub locking_clause(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub variable_set(const NodeInfo& info, const Ctx& c);
    // DropStmt, CommentStmt, SecLabelStmt: objects named by lists of names.
    [[gnu::cold]] Sub drop_like(const NodeInfo& info, const Ctx& c);
    [[gnu::cold]] Sub utility_stmt(const NodeInfo& info, const Ctx& c);

    int32_t new_scope(const Ctx& c);
    int32_t add_write(const Ctx& c, StatementKind kind, int32_t scope, int32_t target, int32_t first);
    static WritePlace place_of(const Ctx& c);
    void finish_write(int32_t write, const Acc& acc);
    int32_t add_relation(const Ctx& c, Str catalog, Str schema, Str name, Str alias, AccessSet access, int32_t location,
                         bool from_item);
    void add_entry(int32_t scope, int32_t relation, bool visible);
    void add_derived(int32_t scope, Str alias);
    void set_kind(const Ctx& c, StatementKind kind);
    Statement& st() { return out_.statements.back(); }

    std::string_view sql_;
    JsonReader r_;
    uint32_t max_depth_;
    uint32_t depth_ = 0;
    bool too_deep_ = false;
    Scratch& s_;
    RawStatement& raw_;
    Analysis& out_;
    // What the last expression walked is, for argument facts: the kind, the
    // literal's location or parameter's number, a named argument's name.
    struct Shape {
        ArgumentKind kind = ArgumentKind::other;
        int32_t literal = -1;
        int32_t parameter = 0;
        Str name;
    };
    Shape shape_;
    Str last_scalar_;  // the last String/Integer/Float/Boolean/A_Const value walked
    bool has_scalar_ = false;
    NodeTag last_tag_ = NodeTag::unknown;  // type of the last wrapped node walked
    // The node whose fields are being read: with a field's name it keys
    // kTypedFields (an unwrapped object's type).
    NodeTag parent_ = NodeTag::unknown;
    CastType last_type_;  // the last TypeName walked
    bool has_type_ = false;
    int32_t param_max_ = 0;
    uint32_t param_refs_ = 0;           // bind parameters walked in this statement
    int32_t equal_constants_ = -1;      // where the last A_Expr walked starts, if it is `1=1`
    std::vector<int32_t> conversions_;  // RawConversion indexes the walk is inside, outermost first
    int32_t target_counter_ = 0;        // columns of the target list being walked so far
    int32_t target_position_ = -1;      // the column being walked, -1 outside target lists
    bool target_star_ = false;          // a * came before it in its target list
    uint64_t last_arm_ = 0;             // the last SELECT walked: its last UNION ALL arm's hash
    bool last_union_all_ = false;       // ... and whether it was a UNION ALL
    int32_t merge_base_ = -1;           // the MERGE whose WHEN clauses are being walked (RawWrite)
    int32_t merge_entry_ = -1;          // its target's range entry
};

struct DepthGuard {
    Walker& w;
    bool ok;
    explicit DepthGuard(Walker& walker) : w(walker), ok(++walker.depth_ <= walker.max_depth_) {
        if (!ok) {
            w.too_deep_ = true;
            w.r_.fail();
        }
    }
    ~DepthGuard() { --w.depth_; }
};

// Walker::parent_ for the node being walked, restored when it is done.
struct ParentGuard {
    Walker& w;
    NodeTag saved;
    ParentGuard(Walker& walker, NodeTag tag) : w(walker), saved(walker.parent_) { walker.parent_ = tag; }
    ~ParentGuard() { w.parent_ = saved; }
};

constexpr AccessSet access(Access a) {
    return AccessSet{static_cast<uint8_t>(a)};
}
constexpr AccessSet access(Access a, Access b) {
    return AccessSet{static_cast<uint8_t>(static_cast<uint8_t>(a) | static_cast<uint8_t>(b))};
}

inline bool is_where_like(Clause c) {
    return c == Clause::where || c == Clause::having || c == Clause::join_on;
}

// "OBJECT_MATVIEW" -> "matview"
std::string object_type_name(std::string_view enum_name);

}  // namespace pgmoat::sql::detail
