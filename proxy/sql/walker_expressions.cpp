// The tree walk's expressions: constants, parameters, column references, calls,
// operators and conditions (with their tautologies), casts and types,
// sub-selects, CASE, target entries, DefElem and IndexElem options.
#include "walker_impl.h"

#include "catalog_functions.h"
#include "pgmoat/common/ascii.h"
#include "regclass_name.h"

#include <algorithm>
#include <vector>

namespace pgmoat::sql::detail {

namespace {

bool is_comparison_operator(Str op) {
    static constexpr Str kOps[] = {"=",  "<>",  "!=",  "<",    ">",   "<=",  ">=", "~",  "~*", "!~", "!~*",
                                   "~~", "~~*", "!~~", "!~~*", "@>",  "<@",  "&&", "?",  "?|", "?&", "@@",
                                   "@?", "^@",  "<<=", ">>=",  "-|-", "@@@", "~=", "&<", "&>"};
    for (Str o : kOps)
        if (o == op) return true;
    return false;
}

bool is_comparison(Str kind, Str op) {
    if (is(kind, "AEXPR_OP") || is(kind, "AEXPR_OP_ANY") || is(kind, "AEXPR_OP_ALL")) return is_comparison_operator(op);
    return !is(kind, "AEXPR_NULLIF");
}

// A comparison side that is a value as written: a constant, a cast constant, or
// a list, row or array of them.
bool is_value_side(NodeTag t) {
    return t == NodeTag::A_Const || t == NodeTag::TypeCast || t == NodeTag::List || t == NodeTag::RowExpr ||
           t == NodeTag::A_ArrayExpr;
}

// A comparison whose result does not depend on the row when both sides are the
// same expression: reflexive ones (`x = x`, `x >= x`, `x LIKE x`, `x IS NOT
// DISTINCT FROM x`) are true, their negations (`x <> x`, `x < x`) false.
bool reflexive_comparison(Str kind, Str op) {
    if (is(kind, "AEXPR_DISTINCT") || is(kind, "AEXPR_NOT_DISTINCT")) return true;
    if (!is(kind, "AEXPR_OP") && !is(kind, "AEXPR_LIKE") && !is(kind, "AEXPR_ILIKE")) return false;
    static constexpr Str kOps[] = {"=", "<>", "!=", "<", ">", "<=", ">=", "~~", "~~*", "!~~", "!~~*"};
    for (Str o : kOps)
        if (o == op) return true;
    return false;
}

// The next token of a printed subtree without "location" members: where a node
// was written is not part of what it is.
bool next_tree_token(JsonReader& r, Str& token) {
    while (r.token(token)) {
        if (token != "\"location\"" || r.peek() != ':') return true;
        Str number;
        r.token(number);
    }
    return false;
}

// Whether two printed parse subtrees are the same expression: equal apart from
// locations (same column names, parameter numbers, constants, calls, ...).
bool same_tree(Str a, Str b) {
    JsonReader p(a.data(), a.data() + a.size()), q(b.data(), b.data() + b.size());
    Str x, y;
    while (true) {
        const bool hx = next_tree_token(p, x);
        const bool hy = next_tree_token(q, y);
        if (hx != hy) return false;
        if (!hx) return true;
        if (x != y) return false;
    }
}

// How many elements a printed JSON array has at its top level.
uint8_t json_array_size(Str a) {
    JsonReader r(a.data(), a.data() + a.size());
    unsigned n = 0;
    if (!r.begin_array()) return 0;
    while (r.next_element() && r.ok()) {
        r.skip();
        ++n;
    }
    return static_cast<uint8_t>(std::min(n, 255u));
}

// Whether the type name written at offset starts with the schema pg_catalog
// (`'1'::pg_catalog.int4`) rather than being a keyword the grammar qualified
// (`1::integer` is pg_catalog.int4 in the tree too).
bool pg_catalog_written(std::string_view sql, int32_t offset) {
    if (offset < 0 || static_cast<size_t>(offset) >= sql.size()) return false;
    std::string_view t = sql.substr(static_cast<size_t>(offset));
    if (t.substr(0, 12) == "\"pg_catalog\"") return true;
    static constexpr std::string_view kName = "pg_catalog";
    if (t.size() < kName.size()) return false;
    for (size_t i = 0; i < kName.size(); ++i) {
        if (ascii::to_lower(t[i]) != kName[i]) return false;
    }
    if (t.size() == kName.size()) return true;
    const unsigned char next = static_cast<unsigned char>(t[kName.size()]);
    return !(std::isalnum(next) || next == '_' || next == '$' || next >= 0x80);
}

LiteralContext literal_context(const Ctx& c) {
    switch (c.role) {
        case Role::type_cast:
            return LiteralContext::type_cast;
        case Role::type_modifier:
            return LiteralContext::type_modifier;
        case Role::function_argument:
            return LiteralContext::function_argument;
        default:
            break;
    }
    const bool compared = c.role == Role::comparison;
    switch (c.clause) {
        case Clause::select_list:
        case Clause::returning:
            // A comparison in a select list the client reads shows it nothing
            // the select list could not show it directly.
            if (compared && c.output != LiteralContext::select_list) return LiteralContext::comparison;
            return c.output;
        case Clause::where:
        case Clause::having:
        case Clause::join_on:
            return compared ? LiteralContext::comparison : LiteralContext::predicate;
        case Clause::order_by:
            return compared              ? LiteralContext::comparison
                   : c.role == Role::key ? LiteralContext::order_by
                                         : LiteralContext::other;
        case Clause::group_by:
            return compared              ? LiteralContext::comparison
                   : c.role == Role::key ? LiteralContext::group_by
                                         : LiteralContext::other;
        case Clause::values:
            return compared ? LiteralContext::comparison : LiteralContext::values;
        case Clause::update_set:
            return compared ? LiteralContext::comparison : LiteralContext::update_set;
        case Clause::limit:
            return compared ? LiteralContext::comparison : LiteralContext::limit;
        case Clause::set_value:
            return LiteralContext::set_value;
        case Clause::ddl:
            return LiteralContext::ddl;
        case Clause::utility:
            return LiteralContext::utility;
        default:
            return compared ? LiteralContext::comparison : LiteralContext::other;
    }
}

// A select list (or RETURNING) of a derived table or WITH query, where a value
// goes on to wherever that query's rows go.
bool derived_select_list(const Ctx& c) {
    return (c.clause == Clause::select_list || c.clause == Clause::returning) && c.output == LiteralContext::other;
}

ColumnUse column_use(const Ctx& c) {
    const bool select_list = c.clause == Clause::select_list || c.clause == Clause::returning;
    if (select_list && c.output == LiteralContext::select_list) return ColumnUse::client;
    if ((c.clause == Clause::order_by || c.clause == Clause::group_by) && c.role == Role::key) return ColumnUse::client;
    if (derived_select_list(c) && c.role == Role::none) return ColumnUse::onward;
    return ColumnUse::other;
}

// Where a sub-select's select list sends its values: the context a literal in
// the sub-select's place would have (compared for IN, = ANY, ...).
LiteralContext sub_select_output(const Ctx& c, bool compared) {
    Ctx p = c;
    if (compared) p.role = Role::comparison;
    LiteralContext out = literal_context(p);
    // Under a cast, the cast's own place decides, which is not known here.
    return out == LiteralContext::type_cast ? LiteralContext::other : out;
}

// The built-in aggregates whose value depends on the rows of the group even
// with constant arguments (count(*), count(1), sum(1)).
bool aggregate(Str name) {
    static constexpr Str kAgg[] = {
        "count",    "sum",       "avg",      "min",     "max",   "array_agg",       "string_agg",
        "json_agg", "jsonb_agg", "bool_and", "bool_or", "every", "json_object_agg", "jsonb_object_agg",
        "random"};
    for (Str a : kAgg)
        if (a == name) return true;
    return false;
}

// A comparison that selects the rows it holds for, as the require_where check
// reads it: not a negation (<>, NOT LIKE, NOT IN, IS DISTINCT FROM, ...).
bool selecting_comparison(Str kind, Str op) {
    if (is(kind, "AEXPR_OP") || is(kind, "AEXPR_OP_ANY") || is(kind, "AEXPR_OP_ALL")) {
        if (op == "<>" || op == "!=" || op == "!~" || op == "!~*" || op == "!~~" || op == "!~~*") return false;
        return is_comparison_operator(op);
    }
    if (is(kind, "AEXPR_LIKE") || is(kind, "AEXPR_ILIKE") || is(kind, "AEXPR_SIMILAR"))
        return op.empty() || op[0] != '!';
    if (is(kind, "AEXPR_IN")) return op == "=";
    return is(kind, "AEXPR_BETWEEN") || is(kind, "AEXPR_BETWEEN_SYM") || is(kind, "AEXPR_NOT_DISTINCT");
}

}  // namespace

// String/Integer/Float/Boolean/BitString: the value is kept for callers that
// read names and simple arguments (name lists, DefElem).
Sub Walker::scalar_node(const NodeInfo& info, const Ctx&) {
    Acc acc(info.hash);
    if (!r_.begin_object()) return {};
    // libpg_query omits zero values: Integer {} is 0, Boolean {} is false.
    last_scalar_ = info.tag == NodeTag::Integer ? Str("0") : info.tag == NodeTag::Boolean ? Str("false") : Str{};
    Str key;
    while (r_.next_key(key)) {
        if (r_.peek() == '"') {
            Sub s;
            last_scalar_ = string_value(s);
            acc.add(key, s);
        } else if (r_.peek() == '{' || r_.peek() == '[') {
            acc.add(key, value(Ctx{}, key));
        } else {
            last_scalar_ = r_.scalar();
            acc.add(key, Sub{hash_bytes(last_scalar_)});
        }
    }
    has_scalar_ = true;
    return acc.done();
}

Sub Walker::a_const(const NodeInfo&, const Ctx& c) {
    TreeLiteral lit;
    if (!r_.begin_object()) return {};
    Str key;
    while (r_.next_key(key)) {
        if (is(key, "location")) {
            lit.location = static_cast<int32_t>(JsonReader::to_int(r_.scalar()));
            continue;
        }
        if (is(key, "isnull")) {
            r_.skip();
            lit.kind = LiteralKind::null;
            last_scalar_ = "null";
            continue;
        }
        if (is(key, "ival")) {
            lit.kind = LiteralKind::integer;
        } else if (is(key, "fval")) {
            lit.kind = LiteralKind::float_;
        } else if (is(key, "sval")) {
            lit.kind = LiteralKind::string;
        } else if (is(key, "bsval")) {
            lit.kind = LiteralKind::bit_string;
        } else if (is(key, "boolval")) {
            lit.kind = LiteralKind::boolean;
        } else {
            r_.skip();
            continue;
        }
        // {"ival":{"ival":5}}: keep the inner value for DefElem readers.
        if (r_.peek() != '{') {
            r_.skip();
            continue;
        }
        r_.begin_object();
        last_scalar_ = lit.kind == LiteralKind::integer   ? Str("0")
                       : lit.kind == LiteralKind::boolean ? Str("false")
                                                          : Str{};
        Str inner;
        while (r_.next_key(inner)) {
            if (r_.peek() == '"') {
                Sub s;
                last_scalar_ = string_value(s);
            } else if (r_.peek() == '{' || r_.peek() == '[') {
                r_.skip();
            } else {
                last_scalar_ = r_.scalar();
            }
        }
    }
    lit.context = literal_context(c);
    lit.clause = c.clause;
    lit.scope = c.scope;
    lit.derived_output = lit.context == LiteralContext::other && derived_select_list(c);
    lit.position = target_star_ ? -1 : target_position_;
    if (lit.kind != LiteralKind::null) lit.value = last_scalar_;
    raw_.literals.push_back(lit);
    has_scalar_ = true;
    shape_ = Shape{ArgumentKind::literal, lit.location, 0, {}};
    return Sub{kPlaceholder, lit.location, false};
}

// WHERE CURRENT OF cursor: a condition atom, and the cursor's row is variable.
Sub Walker::current_of(const NodeInfo& info, const Ctx& c) {
    add_cond(c, CondKind::current_of);
    Sub s = generic_body(info, c);
    s.variable = true;
    return s;
}

Sub Walker::param_ref(const NodeInfo&, const Ctx& c) {
    ++param_refs_;
    if (c.scope >= 0) raw_.scopes[static_cast<size_t>(c.scope)].has_parameter = true;
    int32_t location = -1;
    int32_t number = 0;
    if (!r_.begin_object()) return {};
    Str key;
    while (r_.next_key(key)) {
        if (is(key, "number")) {
            number = static_cast<int32_t>(JsonReader::to_int(r_.scalar()));
            param_max_ = std::max(param_max_, number);
        } else if (is(key, "location")) {
            location = static_cast<int32_t>(JsonReader::to_int(r_.scalar()));
        } else {
            r_.skip();
        }
    }
    shape_ = Shape{ArgumentKind::parameter, -1, number, {}};
    return Sub{kPlaceholder, location, true};
}

Sub Walker::column_ref(const NodeInfo& info, const Ctx& c) {
    RawColumn col;
    col.scope = c.scope;
    col.order_by = c.clause == Clause::order_by;
    col.use = column_use(c);
    col.position = target_star_ ? -1 : target_position_;
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "fields")) {
            acc.add(key, name_list(col.fields, child));
        } else if (is(key, "location")) {
            col.location = location_value(acc);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    raw_.columns.push_back(col);
    // `t.f` is f(t) when t has no column f: a possible call (see FunctionCall).
    const NameList& n = col.fields;
    if (n.count >= 2 && !n.star) {
        int32_t at =
            NamePositions(sql_, s_.lex).last_of_dotted(col.location, static_cast<uint8_t>(n.count - 1), n.last());
        attribute_call(n.last(), at >= 0 ? at : col.location);
    }
    shape_ = Shape{ArgumentKind::column, -1, 0, {}};
    acc.variable = true;
    return acc.done();
}

void Walker::attribute_call(Str name, int32_t location) {
    RawFunction f;
    f.name.add(name);
    f.attribute_notation = true;
    f.location = location;
    raw_.functions.push_back(f);
    catalog_call(name, location);
    // x.nextval is nextval(x): a sequence written, which one is not known here.
    if (name == "nextval")
        raw_.unknown_relations.push_back(UnknownRelation{AccessSet{static_cast<uint8_t>(Access::update)}, location});
}

// (expr).f, $1.f, (SELECT ...).f, arr[1].f: each field name may be a call of
// one argument, f(expr) (see FunctionCall). Hashed as generic_body would.
Sub Walker::a_indirection(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    int32_t arg_start = -1;
    NodeTag arg_tag = NodeTag::unknown;
    std::vector<Str> fields;  // the String members of indirection, in order
    int32_t arg_column = -1;  // the RawColumn of a column reference argument
    bool first_is_string = false;
    bool any_member = false;
    if (!r_.begin_object()) return {};
    Str key;
    while (r_.next_key(key)) {
        if (is(key, "location")) {
            location_value(acc);
        } else if (is(key, "arg")) {
            // (expr).f may be f(expr): its value may be a call's argument.
            Ctx a = child;
            a.role = Role::function_argument;
            last_tag_ = NodeTag::unknown;
            Sub s = value(a, key);
            arg_tag = last_tag_;
            arg_start = s.first;
            if (arg_tag == NodeTag::ColumnRef && !raw_.columns.empty())
                arg_column = static_cast<int32_t>(raw_.columns.size() - 1);
            acc.add(key, s);
        } else if (is(key, "indirection") && r_.peek() == '[') {
            // array() inline, to see each member's type.
            DepthGuard guard(*this);
            if (!guard.ok) return {};
            Ctx m = child;
            m.collapse = false;
            acc.add(key, items(m, [&] {
                        if (!any_member) first_is_string = was_string();
                        any_member = true;
                        if (was_string()) fields.push_back(last_scalar_);
                    }));
        } else {
            acc.add(key, value(child, key));
        }
    }
    if (fields.empty()) return acc.done();
    // (u).col where u may be a FROM item's whole row: col of that item, not
    // every column (a whole-row reference `u` alone reads them all).
    if (arg_column >= 0 && first_is_string) {
        RawColumn& whole = raw_.columns[static_cast<size_t>(arg_column)];
        if (whole.fields.count == 1 && !whole.fields.star && !whole.fields.overflow) {
            whole.field_selected = true;
            RawColumn field = whole;
            field.field_selected = false;
            field.field_of_whole_row = true;
            field.fields.add(fields.front());
            raw_.columns.push_back(field);
        }
    }
    // Without parentheses of its own the expression is a parameter, a
    // sub-select's own parentheses, or a column with a subscript first.
    const bool bare = arg_tag == NodeTag::ParamRef || arg_tag == NodeTag::SubLink ||
                      (arg_tag == NodeTag::ColumnRef && !first_is_string);
    const int32_t fallback = arg_start >= 0 ? arg_start : raw_.location;
    NamePositions text(sql_, s_.lex);
    int32_t from = arg_start, depth = 0, min_depth = 0;
    for (Str field : fields) {
        int32_t at = text.next_field(from, depth, min_depth, !bare, field);
        attribute_call(field, at >= 0 ? at : fallback);
        if (at < 0) from = -1;  // lost the thread: the rest fall back too
    }
    return acc.done();
}

Sub Walker::func_call(const NodeInfo& info, const Ctx& c) {
    RawFunction f;
    bool group_dependent = false;
    f.row_source = c.row_source;
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    // A boolean call as a term of a condition: `WHERE starts_with(name, $1)`.
    const int32_t atom = add_cond(c, CondKind::call);
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "funcname")) {
            acc.add(key, name_list(f.name, child));
        } else if (is(key, "args")) {
            Ctx a = child;
            a.role = Role::function_argument;
            const uint32_t columns = static_cast<uint32_t>(raw_.columns.size());
            const uint32_t scopes = static_cast<uint32_t>(raw_.scopes.size());
            RawConversion conv;
            conv.function = f.name.overflow ? Str{} : f.name.last();
            raw_.conversions.push_back(conv);
            conversions_.push_back(static_cast<int32_t>(raw_.conversions.size() - 1));
            acc.add(key, function_arguments(a, f, atom));
            conversions_.pop_back();
            if (atom >= 0) {
                RawCond& k = raw_.conds[static_cast<size_t>(atom)];
                k.col_begin[0] = columns;
                k.col_end[0] = static_cast<uint32_t>(raw_.columns.size());
                k.scope_begin[0] = scopes;
                k.scope_end[0] = static_cast<uint32_t>(raw_.scopes.size());
            }
        } else if (is(key, "over")) {
            group_dependent = true;
            acc.add(key, field(child, key));
        } else if (is(key, "funcformat")) {
            Sub s;
            Str v = string_value(s);
            f.sql_syntax = is(v, "COERCE_SQL_SYNTAX");
            acc.add(key, s);
        } else if (is(key, "location")) {
            f.location = location_value(acc);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (f.name.last() == "set_config") st().changes_parse_settings = true;
    // count(*) > 5 in HAVING and a window's value change with the group's rows:
    // not a constant condition, whatever the arguments.
    if (group_dependent || (c.clause == Clause::having && aggregate(f.name.last()))) acc.variable = true;
    const bool catalog_schema =
        !f.name.overflow && (f.name.count == 1 || (f.name.count == 2 && f.name.parts[0] == "pg_catalog"));
    if (catalog_schema) {
        sequence_call(f);
        catalog_call(f.name.last(), f.location);
    }
    raw_.functions.push_back(f);
    return acc.done();
}

// nextval, setval and currval name the sequence in their first argument: a
// constant name is that relation (written by nextval and setval); anything
// else (a parameter, an OID, an expression) is a sequence nobody can name
// before it runs.
void Walker::sequence_call(RawFunction& f) {
    const Str name = f.name.last();
    const bool writes = name == "nextval" || name == "setval";
    if (!writes && name != "currval") return;
    const AccessSet access{static_cast<uint8_t>(writes ? Access::update : Access::read)};
    if (f.arg_end > f.arg_begin) {
        const RawArgument& a = raw_.arguments[f.arg_begin];
        if (a.kind == ArgumentKind::literal && a.name.empty()) {
            for (size_t i = raw_.literals.size(); i-- > 0;) {
                const TreeLiteral& l = raw_.literals[i];
                if (l.location != a.literal) continue;
                RegclassName n;
                if (l.kind == LiteralKind::string && parse_regclass_name(l.value, n)) {
                    f.relation = add_relation(Ctx{}, keep_owned(std::move(n.catalog)), keep_owned(std::move(n.schema)),
                                              keep_owned(std::move(n.name)), {}, access, l.location, false);
                    return;
                }
                break;
            }
        }
    }
    if (writes) raw_.unknown_relations.push_back(UnknownRelation{access, f.location});
}

// A function whose result is a system view's data reads that view.
void Walker::catalog_call(Str name, int32_t location) {
    auto views = views_read_by(name);
    const AccessSet read{static_cast<uint8_t>(Access::read)};
    for (const auto& [function, view] : views) add_relation(Ctx{}, {}, "pg_catalog", view, {}, read, location, false);
    // Statistics accessors no view uses yet: fail closed, as a catalog relation
    // of their own name that no catalog_allow lists unless a DBA writes it.
    if (views.empty() && name.substr(0, 12) == "pg_stat_get_")
        add_relation(Ctx{}, {}, "pg_catalog", name, {}, read, location, false);
}

// The arguments of a call, walked as array() would (so the structure hash is
// the same), recording what each one is.
Sub Walker::function_arguments(const Ctx& c, RawFunction& f, int32_t atom) {
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    if (r_.peek() != '[') return value(c);
    Ctx child = c;
    child.collapse = false;
    Acc acc(kArraySeed);
    // Calls inside the arguments record theirs first: keep this call's apart
    // and append them together at the end.
    std::vector<RawArgument> own;
    r_.begin_array();
    while (r_.next_element()) {
        const size_t columns = raw_.columns.size();
        const size_t scopes = raw_.scopes.size();
        const size_t literals = raw_.literals.size();
        shape_ = Shape{};
        Sub s = value(child);
        acc.merge(s);
        acc.h = combine(acc.h, s.hash);
        own.push_back(RawArgument{shape_.kind, shape_.name, shape_.literal, shape_.parameter, s.first});
        // An argument that is a value: no column, no sub-select, and not only
        // TRUE/FALSE/NULL (which select nothing by value).
        if (atom >= 0 && raw_.columns.size() == columns && raw_.scopes.size() == scopes &&
            !only_boolean_or_null(literals, raw_.literals.size()))
            raw_.conds[static_cast<size_t>(atom)].value_arg = true;
    }
    f.arg_begin = static_cast<uint32_t>(raw_.arguments.size());
    raw_.arguments.insert(raw_.arguments.end(), own.begin(), own.end());
    f.arg_end = static_cast<uint32_t>(raw_.arguments.size());
    return acc.done();
}

// name => value: the value keeps the argument's role; the name is noted.
Sub Walker::named_arg(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Shape arg;
    Str name;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "arg")) {
            Ctx a = child;
            a.role = c.role;
            shape_ = Shape{};
            acc.add(key, value(a, key));
            arg = shape_;
        } else if (is(key, "name") && r_.peek() == '"') {
            Sub s;
            name = string_value(s);
            acc.add(key, s);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    shape_ = arg;
    shape_.name = name;
    return acc.done();
}

Sub Walker::a_expr(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Str kind;
    bool comparison = false;
    bool in_list = false;
    NameList column_side;  // a plain column on one side of a comparison
    bool have_column = false;
    size_t lexpr_literals = 0, lexpr_literals_end = 0;
    // A reflexive comparison in WHERE/HAVING/ON: each side's text and value, to
    // tell `x = x` (the same for every row) from `x = y`.
    bool reflexive = false;
    bool arithmetic = false;
    bool equals = false;
    NodeTag side_tag[2] = {NodeTag::unknown, NodeTag::unknown};
    bool json_key = false;  // -> ->> #> #>>: the right side names a key or path
    bool concat = false;    // ||: '%' || $1 || '%'
    const uint32_t params = param_refs_;
    int32_t concat_literal[2] = {-1, -1};
    int32_t atom = -1;  // the recorded condition atom, when this is one
    Str side_text[2];
    Sub side[2];
    bool have_side[2] = {false, false};
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "kind")) {
            Sub s;
            kind = string_value(s);
            acc.add(key, s);
            in_list = is(kind, "AEXPR_IN");
        } else if (is(key, "name")) {
            NameList op;
            acc.add(key, name_list(op, child));
            comparison = is_comparison(kind, op.last());
            reflexive =
                is_where_like(c.clause) && op.count >= 1 && !op.overflow && reflexive_comparison(kind, op.last());
            if (op.count >= 1 && !op.overflow && selecting_comparison(kind, op.last()))
                atom = add_cond(c, CondKind::compare);
            // `x > now() - '7 days'::interval`: the interval stays a typed constant.
            arithmetic = is(kind, "AEXPR_OP") && (op.last() == "+" || op.last() == "-") &&
                         (c.role == Role::comparison || c.role == Role::arithmetic);
            if (is(kind, "AEXPR_OP") && op.count == 1 && !op.overflow) {
                const Str o = op.last();
                json_key = o == "->" || o == "->>" || o == "#>" || o == "#>>";
                equals = o == "=";
                concat = o == "||";
            }
        } else if (is(key, "lexpr") || is(key, "rexpr")) {
            Ctx o = child;
            if (comparison) o.role = Role::comparison;
            if (arithmetic) o.role = Role::arithmetic;
            if (in_list && is(key, "rexpr")) o.collapse = true;
            const size_t literals = raw_.literals.size();
            const size_t columns = raw_.columns.size();
            last_tag_ = NodeTag::unknown;
            const char* begin = reflexive ? r_.position() : nullptr;
            Sub v = atom >= 0 ? cond_side(atom, is(key, "rexpr") ? 1 : 0, o, key) : value(o, key);
            acc.add(key, v);
            if (reflexive && r_.ok()) {
                const int i = is(key, "rexpr") ? 1 : 0;
                side_text[i] = Str(begin, static_cast<size_t>(r_.position() - begin));
                side[i] = v;
                side_tag[i] = last_tag_;
                have_side[i] = true;
            }
            const bool one_constant = (last_tag_ == NodeTag::A_Const || last_tag_ == NodeTag::TypeCast) &&
                                      raw_.literals.size() == literals + 1 && v.first >= 0 && !v.variable;
            if (json_key && is(key, "rexpr") && one_constant) retag(literals, LiteralContext::function_option);
            if (concat && one_constant) concat_literal[is(key, "rexpr") ? 1 : 0] = static_cast<int32_t>(literals);
            if (!comparison) return true;
            // Pair a plain column on one side with the literals on the other.
            if (last_tag_ == NodeTag::ColumnRef && raw_.columns.size() == columns + 1) {
                column_side = raw_.columns.back().fields;
                have_column = true;
                if (is(key, "rexpr"))
                    for (size_t i = lexpr_literals; i < lexpr_literals_end; ++i)
                        raw_.literals[i].compared_to = column_side;
            } else if (!is_value_side(last_tag_)) {
                return true;  // `x > 1 + 2`: the literals are operands of +, not of >
            } else if (is(key, "lexpr")) {
                lexpr_literals = literals;
                lexpr_literals_end = raw_.literals.size();
            } else if (have_column) {
                for (size_t i = literals; i < raw_.literals.size(); ++i) raw_.literals[i].compared_to = column_side;
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    // `id = id`, `$1 = $1`, `lower(x) >= lower(x)`, `x <> x`: the same for every
    // row, so as constant as `1=1` for the tautology test (the row's values
    // cannot change it; a NULL makes it NULL, which filters like false).
    if (reflexive && have_side[0] && have_side[1] && side[0].variable && side[1].variable &&
        side[0].hash == side[1].hash && same_tree(side_text[0], side_text[1]))
        acc.variable = false;
    // `1=1`: two equal constants, as an ORM writes it.
    equal_constants_ = equals && reflexive && have_side[0] && have_side[1] && side_tag[0] == NodeTag::A_Const &&
                               side_tag[1] == NodeTag::A_Const && same_tree(side_text[0], side_text[1])
                           ? acc.first
                           : -1;
    // '%' || $1: the wildcards around a value the app binds.
    if (concat && param_refs_ > params) {
        for (int32_t i : concat_literal) {
            if (i < 0) continue;
            const TreeLiteral& l = raw_.literals[static_cast<size_t>(i)];
            if (l.kind == LiteralKind::string && !l.value.empty() && l.value.find_first_not_of("%_") == Str::npos)
                retag(static_cast<size_t>(i), LiteralContext::pattern_wildcard);
        }
    }
    return acc.done();
}

void Walker::retag(size_t literal, LiteralContext context) {
    TreeLiteral& l = raw_.literals[literal];
    l.context = context;
    l.derived_output = false;
}

bool Walker::literal_true(const Sub& term) const {
    return last_tag_ == NodeTag::A_Expr && equal_constants_ >= 0 && equal_constants_ == term.first;
}

void Walker::tautology(size_t literals, Clause clause, const Sub& term, bool conjunct, bool whole) {
    const bool is_true = literal_true(term);
    raw_.tautologies.push_back(Tautology{term.first, clause, conjunct, whole, is_true});
    if (!is_true || !(conjunct || whole)) return;
    for (size_t i = literals; i < raw_.literals.size(); ++i) {
        const LiteralContext k = raw_.literals[i].context;
        if (k == LiteralContext::comparison || k == LiteralContext::predicate)
            retag(i, LiteralContext::constant_condition);
    }
}

Sub Walker::bool_expr(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    size_t mark = raw_.tautologies.size();
    int32_t node = -1;  // AND/OR as a term of a recorded condition; NOT records nothing
    bool conjunct = false;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "boolop") && r_.peek() == '"') {
            Sub s;
            Str op = string_value(s);
            acc.add(key, s);
            if (is(op, "AND_EXPR")) node = add_cond(c, CondKind::and_);
            if (is(op, "OR_EXPR")) node = add_cond(c, CondKind::or_);
            conjunct = c.conjunct && is(op, "AND_EXPR");
        } else if (is(key, "args") && r_.peek() == '[') {
            Ctx a = child;
            a.cond = node;
            a.conjunct = conjunct;
            Acc list(kArraySeed);
            r_.begin_array();
            while (r_.next_element()) {
                if (node >= 0) ++raw_.conds[static_cast<size_t>(node)].branches;
                const size_t literals = raw_.literals.size();
                Sub s = value(a);
                list.merge(s);
                list.h = combine(list.h, s.hash);
                if (is_where_like(c.clause) && !s.variable) tautology(literals, c.clause, s, conjunct, false);
            }
            acc.add(key, list.done());
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    Sub out = acc.done();
    // Constant as a whole: whoever holds it reports it once.
    if (!out.variable) raw_.tautologies.resize(mark);
    return out;
}

Sub Walker::boolean_root(const Ctx& c, Clause clause, CondRole role, int32_t action) {
    Ctx r = c;
    r.clause = clause;
    r.role = Role::none;
    r.cond = -1;
    if (role != CondRole::none) {
        RawCond root;
        root.kind = CondKind::and_;
        root.role = role;
        root.scope = c.scope;
        root.action = action;
        r.cond = static_cast<int32_t>(raw_.conds.size());
        raw_.conds.push_back(root);
    }
    r.conjunct = true;
    size_t mark = raw_.tautologies.size();
    const size_t literals = raw_.literals.size();
    Sub s = value(r);
    if (!s.variable && r_.ok()) {
        raw_.tautologies.resize(mark);
        tautology(literals, clause, s, false, true);
    }
    return s;
}

bool Walker::only_boolean_or_null(size_t begin, size_t end) const {
    if (begin == end) return false;
    for (size_t i = begin; i < end; ++i) {
        LiteralKind k = raw_.literals[i].kind;
        if (k != LiteralKind::boolean && k != LiteralKind::null) return false;
    }
    return true;
}

int32_t Walker::add_cond(const Ctx& c, CondKind kind) {
    if (c.cond < 0) return -1;
    RawCond k;
    k.kind = kind;
    k.scope = c.scope;
    k.parent = c.cond;
    ++raw_.conds[static_cast<size_t>(c.cond)].children;
    raw_.conds.push_back(k);
    return static_cast<int32_t>(raw_.conds.size() - 1);
}

Sub Walker::cond_side(int32_t atom, int side, const Ctx& c, Str key) {
    const uint32_t columns = static_cast<uint32_t>(raw_.columns.size());
    const uint32_t scopes = static_cast<uint32_t>(raw_.scopes.size());
    const uint32_t literals = static_cast<uint32_t>(raw_.literals.size());
    Sub s = value(c, key);
    RawCond& k = raw_.conds[static_cast<size_t>(atom)];
    k.col_begin[side] = columns;
    k.col_end[side] = static_cast<uint32_t>(raw_.columns.size());
    k.scope_begin[side] = scopes;
    k.scope_end[side] = static_cast<uint32_t>(raw_.scopes.size());
    k.lit_begin[side] = literals;
    k.lit_end[side] = static_cast<uint32_t>(raw_.literals.size());
    return s;
}

Sub Walker::type_cast(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    // The literals this cast casts: those of its argument still in context
    // type_cast (a cast inside a call in the argument claims its own first).
    // The outermost cast of a chain (`'1'::regclass::text`) claims them: its
    // type is what the value ends up as, its place where the value goes.
    const bool outermost = c.role != Role::type_cast;
    const size_t first = raw_.literals.size();
    size_t end = first;
    int32_t conversion = -1;
    Shape arg;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "arg")) {
            Ctx a = child;
            a.role = Role::type_cast;
            shape_ = Shape{};
            RawConversion conv;
            conv.cast = true;
            raw_.conversions.push_back(conv);
            conversion = static_cast<int32_t>(raw_.conversions.size() - 1);
            conversions_.push_back(conversion);
            acc.add(key, value(a, key));
            conversions_.pop_back();
            arg = shape_;
            end = raw_.literals.size();
        } else if (is(key, "typeName")) {
            has_type_ = false;
            acc.add(key, value(child, key));
            if (conversion >= 0 && has_type_) {
                RawConversion& conv = raw_.conversions[static_cast<size_t>(conversion)];
                conv.type = last_type_;
                conv.type_set = true;
            }
            if (!outermost) return true;
            // Compared (directly or through + and -), the value stays a typed
            // constant; anywhere else it is a value of that place.
            const bool typed = c.role == Role::comparison || c.role == Role::arithmetic;
            const LiteralContext place = typed ? LiteralContext::type_cast : literal_context(c);
            const bool onward = place == LiteralContext::other && derived_select_list(c);
            for (size_t i = first; i < end; ++i) {
                TreeLiteral& l = raw_.literals[i];
                if (l.context != LiteralContext::type_cast || l.cast_set) continue;
                if (has_type_) l.cast = last_type_;  // else no name: cast_type stays empty
                l.cast_set = true;
                l.context = place;
                l.derived_output = onward;
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    shape_ = arg.kind == ArgumentKind::literal || arg.kind == ArgumentKind::parameter ? arg : Shape{};
    return acc.done();
}

Sub Walker::type_name(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    CastType type;
    int32_t location = -1;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "names")) {
            acc.add(key, name_list(type.names, child));
        } else if (is(key, "arrayBounds")) {
            const char* begin = r_.position();
            acc.add(key, value(child, key));
            if (r_.ok()) type.array_dims = json_array_size(Str(begin, static_cast<size_t>(r_.position() - begin)));
        } else if (is(key, "location")) {
            location = location_value(acc);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    type.implicit_schema =
        type.names.count == 2 && type.names.parts[0] == "pg_catalog" && !pg_catalog_written(sql_, location);
    last_type_ = type;
    has_type_ = true;
    // A type name is not a value: constant for the tautology test.
    acc.variable = false;
    return acc.done();
}

Sub Walker::sub_link(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool exists = false, compared = false, value_link = false;
    int32_t atom = -1;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "subLinkType") && r_.peek() == '"') {
            Sub s;
            Str type = string_value(s);
            acc.add(key, s);
            exists = is(type, "EXISTS_SUBLINK");
            value_link = is(type, "EXPR_SUBLINK") || is(type, "ARRAY_SUBLINK");
            const bool any_all = is(type, "ANY_SUBLINK") || is(type, "ALL_SUBLINK");
            compared = any_all || is(type, "ROWCOMPARE_SUBLINK");
            if (exists) atom = add_cond(c, CondKind::exists);
            if (any_all) atom = add_cond(c, CondKind::in_select);
        } else if (is(key, "testexpr")) {
            Ctx t = child;
            t.role = Role::comparison;
            acc.add(key, atom >= 0 ? cond_side(atom, 0, t, key) : value(t, key));
        } else if (is(key, "operName")) {
            NameList op;
            acc.add(key, name_list(op, child));
            // `x <> ALL (SELECT ...)` selects nothing by value: no longer an atom.
            if (atom >= 0 && (op.count < 1 || op.overflow || !selecting_comparison("AEXPR_OP", op.last())))
                raw_.conds[static_cast<size_t>(atom)].kind = CondKind::and_;
        } else if (is(key, "subselect")) {
            Ctx q = child;
            // EXISTS discards the select list; elsewhere it goes where the sub-select is.
            q.output = exists ? LiteralContext::select_list : sub_select_output(c, compared);
            if (atom >= 0) raw_.conds[static_cast<size_t>(atom)].sub = static_cast<int32_t>(raw_.scopes.size());
            // Its value converted on the way out: the conversions it is inside.
            if (value_link && !conversions_.empty()) {
                RawConvertedQuery cq;
                cq.scope = static_cast<int32_t>(raw_.scopes.size());
                cq.chain_begin = static_cast<uint32_t>(raw_.chain.size());
                raw_.chain.insert(raw_.chain.end(), conversions_.rbegin(), conversions_.rend());
                cq.chain_end = static_cast<uint32_t>(raw_.chain.size());
                raw_.converted.push_back(cq);
            }
            // Conversions inside the sub-select convert its own values, not this one.
            std::vector<int32_t> outer;
            outer.swap(conversions_);
            acc.add(key, value(q, key));
            outer.swap(conversions_);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

// CASE x WHEN v ...: each v is compared with x.
Sub Walker::case_expr(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool operand = false;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "arg")) {
            acc.add(key, field(child, key));
            operand = true;
        } else if (is(key, "args")) {
            Ctx w = child;
            w.simple_case = operand;
            acc.add(key, value(w, key));
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

Sub Walker::case_when(const NodeInfo& info, const Ctx& c) {
    Ctx e = child_of(info, c);
    if (c.simple_case) e.role = Role::comparison;
    return body_with(info, c, "expr", e);
}

// A node walked as generic_body() would, except that one field gets its own context.
Sub Walker::body_with(const NodeInfo& info, const Ctx& c, std::string_view field, const Ctx& field_ctx) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool ok = fields(acc, child, [&](Str key) {
        if (key != field) return false;
        acc.add(key, value(field_ctx, key));
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

Sub Walker::list_node(const NodeInfo& info, const Ctx& c) {
    Acc acc(info.hash);
    Ctx items = c;  // transparent: the literal role passes through
    items.from_item = false;
    items.cte_index = -1;
    if (!fields(acc, items, [](Str) { return false; })) return {};
    return acc.done();
}

Sub Walker::res_target(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Str name;
    Str own;  // a column reference's name, which the output column takes
    bool star = false;
    int32_t location = -1;
    const bool output = c.res == ResMode::output && (c.clause == Clause::select_list || c.clause == Clause::returning);
    const int32_t saved = target_position_;
    if (output) target_position_ = target_counter_++;
    const int32_t position = target_position_;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "name")) {
            Sub s;
            name = string_value(s);
            acc.add(key, s);
        } else if (is(key, "location")) {
            location = location_value(acc);
        } else if (is(key, "val")) {
            last_tag_ = NodeTag::unknown;
            const size_t columns = raw_.columns.size();
            acc.add(key, value(child, key));
            if (last_tag_ == NodeTag::ColumnRef && raw_.columns.size() > columns) {
                const NameList& f = raw_.columns.back().fields;
                star = f.star;
                if (!f.star && !f.overflow) own = f.last();
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (output) {
        target_position_ = saved;
        raw_.output_columns.push_back(RawOutput{c.scope, position, name.empty() ? own : name, target_star_});
        if (star) target_star_ = true;  // what follows is at a position not known
    }
    if (!name.empty()) {
        if (c.res == ResMode::output) {
            raw_.outputs.push_back(ScopedName{c.scope, name});
        } else {
            RawColumn col;
            col.scope = c.scope;
            col.fields.add(name);
            col.written = true;
            col.target = c.target;
            col.location = location;
            raw_.columns.push_back(col);
        }
    }
    return acc.done();
}

Sub Walker::def_elem(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    DefElemValue d;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "defname")) {
            Sub s;
            d.name = string_value(s);
            acc.add(key, s);
        } else if (is(key, "arg")) {
            has_scalar_ = false;
            acc.add(key, value(child, key));
            if (has_scalar_) {
                d.arg = last_scalar_;
                d.has_arg = true;
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (c.capture_defelems) s_.defelems.push_back(d);
    return acc.done();
}

Sub Walker::index_elem(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "name")) {
            Sub s;
            Str name = string_value(s);
            acc.add(key, s);
            if (c.target >= 0 && !name.empty()) {  // ON CONFLICT (column): read
                RawColumn col;
                col.scope = c.scope;
                col.fields.add(name);
                col.target = c.target;
                raw_.columns.push_back(col);
            }
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    return acc.done();
}

}  // namespace pgmoat::sql::detail
