// The tree walk's generic part: the statements of a parse result, values, node
// dispatch and the one field loop. Every node is hashed into the fingerprint
// whether or not it means anything to the analyzer, and every node the analyzer
// does not know is walked anyway (so nothing below it hides) and reported.
// Expressions are in walker_expressions.cpp, FROM items in walker_from.cpp,
// statement nodes in walker_statements.cpp.
#include "walker_impl.h"

#include "pgmoat/common/ascii.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace pgmoat::sql::detail {

std::string object_type_name(std::string_view e) {
    if (e.substr(0, 7) == "OBJECT_") e.remove_prefix(7);
    return ascii::lower(e);
}

bool walk_parse_tree(std::string_view sql, std::string_view json, uint32_t max_json_depth, Scratch& scratch,
                     Analysis& out, bool& too_deep) {
    scratch.arena.clear();
    scratch.starts.clear();
    Walker w(sql, json, max_json_depth, scratch, out);
    return w.run(too_deep);
}

bool Walker::run(bool& too_deep) {
    Str key;
    if (!r_.begin_object()) return false;
    while (r_.next_key(key)) {
        if (!is(key, "stmts")) {
            r_.skip();
            continue;
        }
        if (!r_.begin_array()) break;
        while (r_.next_element()) {
            raw_.clear();
            s_.defelems.clear();
            param_max_ = 0;
            param_refs_ = 0;
            conversions_.clear();
            out_.statements.emplace_back();
            Sub body;
            if (!r_.begin_object()) break;
            Str k;
            while (r_.next_key(k)) {
                if (is(k, "stmt")) {
                    Ctx c;
                    body = value(c, k);
                } else if (is(k, "stmt_location")) {
                    raw_.location = static_cast<int32_t>(JsonReader::to_int(r_.scalar()));
                } else if (is(k, "stmt_len")) {
                    raw_.length = static_cast<int32_t>(JsonReader::to_int(r_.scalar()));
                } else {
                    r_.skip();
                }
            }
            if (!r_.ok() || too_deep_) break;
            Statement& st = out_.statements.back();
            st.fingerprint = body.hash;
            st.param_count = param_max_;
            s_.starts.push_back(raw_.location);
            resolve(raw_, st);
            finish_text(sql_, s_.lex, raw_, st);
            link_facts(st);
            structure_facts(raw_, st);
        }
    }
    too_deep = too_deep_;
    return r_.ok() && !too_deep_ && r_.at_end();
}

Sub Walker::value(const Ctx& c, Str field) {
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    switch (r_.peek()) {
        case '{': {
            if (r_.peek_wrapped()) {
                if (r_.starts_with(kStringNode)) return string_fast();
                return wrapped(c);
            }
            const TypedField* f = field.empty() ? nullptr : typed_field(parent_, field);
            if (f && f->judged) {
                last_tag_ = f->type;
                return node(node_info(f->type), c);
            }
            return structure(c, f ? f->type : NodeTag::unknown);
        }
        case '[':
            return array(c);
        case '"': {
            Sub s;
            string_value(s);
            return s;
        }
        case '\0':
            r_.fail();
            return {};
        default: {
            Str v = r_.scalar();
            return Sub{hash_bytes(v)};
        }
    }
}

// {"String":{"sval":"name"}}, the most common node by far (every name part and
// operator): read directly, without the generic dispatch.
Sub Walker::string_fast() {
    r_.consume(kStringNode);
    Str raw;
    bool escaped;
    if (!r_.string(raw, escaped) || !r_.consume("}}")) {
        r_.fail();
        return {};
    }
    last_scalar_ = keep(raw, escaped);
    has_scalar_ = true;
    last_tag_ = NodeTag::String;
    shape_ = Shape{};
    return Sub{mix(hash_bytes(raw), 0x6a09e667f3bcc908ULL)};
}

Sub Walker::array(const Ctx& c) {
    Ctx child = c;
    child.collapse = false;
    Acc acc(kArraySeed);
    uint64_t prev = 0;
    bool have_prev = false;
    if (!r_.begin_array()) return {};
    while (r_.next_element()) {
        Sub s = value(child);
        acc.merge(s);
        // A run of equal items (IN lists, ARRAY[...], VALUES rows) counts once.
        if (c.collapse && have_prev && s.hash == prev) continue;
        acc.h = combine(acc.h, s.hash);
        prev = s.hash;
        have_prev = true;
    }
    return acc.done();
}

Sub Walker::wrapped(const Ctx& c) {
    Str key;
    if (!r_.begin_object() || !r_.next_key(key)) return {};
    const NodeInfo& info = node_info(key);
    Sub s;
    if (info.tag == NodeTag::unknown) {
        s = unknown_body(key, c);
    } else {
        s = node(info, c);
    }
    switch (info.tag) {
        case NodeTag::A_Const:
        case NodeTag::ParamRef:
        case NodeTag::ColumnRef:
        case NodeTag::TypeCast:
        case NodeTag::NamedArgExpr:
            break;  // their handlers say what they are
        default:
            shape_ = Shape{};
            break;
    }
    s = wrapper_rest(s, c, true);
    last_tag_ = info.tag;
    return s;
}

Ctx Walker::child_of(const NodeInfo& info, const Ctx& c) const {
    Ctx child = c;
    if (!(info.flags & node_flag::transparent)) child.role = Role::none;
    child.from_item = false;
    child.collapse = false;
    child.cte_index = -1;
    child.capture_defelems = false;
    child.lock_ref = false;
    child.hide_parent = false;
    child.simple_case = false;
    child.arm = false;
    child.row_source = false;
    child.cond = -1;
    child.conjunct = false;
    child.outer = false;
    child.res = ResMode::output;
    if (child.stmt != StmtRole::nested && !(info.flags & node_flag::statement)) child.stmt = StmtRole::nested;
    return child;
}

// The nodes the walker judges, and the handler of each (walker_*.cpp); any
// other statement is a utility statement, any other node walked generically.
constexpr std::array<Walker::Handler, static_cast<size_t>(NodeTag::count)> Walker::handlers() {
    struct HandlerOf {
        NodeTag tag;
        Handler handler;
    };
    constexpr HandlerOf kHandlers[] = {
        {NodeTag::SelectStmt, &Walker::select_stmt},
        {NodeTag::InsertStmt, &Walker::insert_stmt},
        {NodeTag::UpdateStmt, &Walker::update_or_delete},
        {NodeTag::DeleteStmt, &Walker::update_or_delete},
        {NodeTag::MergeStmt, &Walker::merge_stmt},
        {NodeTag::CopyStmt, &Walker::copy_stmt},
        {NodeTag::VariableSetStmt, &Walker::variable_set},
        {NodeTag::DropStmt, &Walker::drop_like},
        {NodeTag::CommentStmt, &Walker::drop_like},
        {NodeTag::SecLabelStmt, &Walker::drop_like},
        {NodeTag::A_Const, &Walker::a_const},
        {NodeTag::ParamRef, &Walker::param_ref},
        {NodeTag::ColumnRef, &Walker::column_ref},
        {NodeTag::A_Indirection, &Walker::a_indirection},
        {NodeTag::FuncCall, &Walker::func_call},
        {NodeTag::A_Expr, &Walker::a_expr},
        {NodeTag::BoolExpr, &Walker::bool_expr},
        {NodeTag::TypeCast, &Walker::type_cast},
        {NodeTag::TypeName, &Walker::type_name},
        {NodeTag::SubLink, &Walker::sub_link},
        {NodeTag::List, &Walker::list_node},
        {NodeTag::IntList, &Walker::list_node},
        {NodeTag::OidList, &Walker::list_node},
        {NodeTag::String, &Walker::scalar_node},
        {NodeTag::Integer, &Walker::scalar_node},
        {NodeTag::Float, &Walker::scalar_node},
        {NodeTag::Boolean, &Walker::scalar_node},
        {NodeTag::BitString, &Walker::scalar_node},
        {NodeTag::ResTarget, &Walker::res_target},
        {NodeTag::DefElem, &Walker::def_elem},
        {NodeTag::RangeVar, &Walker::range_var},
        {NodeTag::RangeSubselect, &Walker::range_subselect},
        {NodeTag::RangeFunction, &Walker::range_function},
        {NodeTag::RangeTableFunc, &Walker::range_function},
        {NodeTag::RangeTableSample, &Walker::range_table_sample},
        {NodeTag::JoinExpr, &Walker::join_expr},
        {NodeTag::WithClause, &Walker::with_clause},
        {NodeTag::OnConflictClause, &Walker::on_conflict},
        {NodeTag::MergeWhenClause, &Walker::merge_when},
        {NodeTag::LockingClause, &Walker::locking_clause},
        {NodeTag::IndexElem, &Walker::index_elem},
        {NodeTag::CurrentOfExpr, &Walker::current_of},
        {NodeTag::NamedArgExpr, &Walker::named_arg},
        {NodeTag::CaseExpr, &Walker::case_expr},
        {NodeTag::CaseWhen, &Walker::case_when},
    };
    constexpr uint8_t kFlags[] = {0,
#define PGMOAT_SQL_NODE_FLAGS(tag, kind, flags) flags,
                                  PGMOAT_SQL_NODES(PGMOAT_SQL_NODE_FLAGS)
#undef PGMOAT_SQL_NODE_FLAGS
    };
    std::array<Handler, static_cast<size_t>(NodeTag::count)> out{};
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = kFlags[i] & node_flag::statement ? &Walker::utility_stmt : &Walker::generic_body;
    for (const HandlerOf& h : kHandlers) out[static_cast<size_t>(h.tag)] = h.handler;
    return out;
}

Sub Walker::node(const NodeInfo& info, const Ctx& c) {
    static constexpr auto kHandlers = handlers();
    ParentGuard parent(*this, info.tag);
    return (this->*kHandlers[static_cast<size_t>(info.tag)])(info, c);
}

namespace {

// What a field's role changes in the context its value is walked in (unset:
// the node's own), and how it is walked: as a value, as a condition (WHERE,
// HAVING, ON: boolean_root) or as a target list whose columns are counted.
struct RoleContext {
    enum class Walk : uint8_t { value, condition, target_list };
    Walk walk = Walk::value;
    std::optional<Clause> clause{};
    CondRole cond = CondRole::none;  // condition: what it is the root of
    std::optional<Role> role{};
    std::optional<ResMode> res{};
    std::optional<AccessSet> access{};
    std::optional<LiteralContext> output{};
    // A statement here is not this one's DDL: inner below an outer statement
    // (FieldRole::query, see Ctx::outer), or nested.
    std::optional<StmtRole> stmt{};
    bool from_item = false;
    bool collapse = false;
    bool arm = false;
    bool lock_ref = false;
    bool row_source = false;
    bool capture_defelems = false;
    bool order_by_key = false;  // in ORDER BY, the value is the key itself
};

using Walk = RoleContext::Walk;

struct RoleRow {
    FieldRole role;
    RoleContext context;
};

constexpr RoleRow kRoleRows[] = {
    {FieldRole::where, {.walk = Walk::condition, .clause = Clause::where, .cond = CondRole::where}},
    {FieldRole::filter, {.walk = Walk::condition, .clause = Clause::where}},
    {FieldRole::having, {.walk = Walk::condition, .clause = Clause::having}},
    {FieldRole::merge_on, {.walk = Walk::condition, .clause = Clause::join_on, .cond = CondRole::merge_on}},
    {FieldRole::select_list, {.walk = Walk::target_list, .clause = Clause::select_list}},
    {FieldRole::returning, {.walk = Walk::target_list, .clause = Clause::returning}},
    {FieldRole::group_by, {.clause = Clause::group_by, .role = Role::key}},
    {FieldRole::order_by, {.clause = Clause::order_by}},
    {FieldRole::window, {.clause = Clause::window}},
    {FieldRole::limit, {.clause = Clause::limit}},
    {FieldRole::value_rows, {.clause = Clause::values, .collapse = true}},
    {FieldRole::values, {.clause = Clause::values}},
    {FieldRole::inserted_query, {.output = LiteralContext::values}},
    {FieldRole::insert_columns, {.clause = Clause::values, .res = ResMode::insert_column}},
    {FieldRole::update_set, {.clause = Clause::update_set, .res = ResMode::assign}},
    {FieldRole::on_conflict, {.clause = Clause::on_conflict}},
    {FieldRole::from, {.clause = Clause::from, .role = Role::none, .access = access(Access::read), .from_item = true}},
    {FieldRole::set_arm, {.arm = true}},
    {FieldRole::create_target, {.access = access(Access::ddl, Access::insert)}},
    {FieldRole::truncated, {.access = access(Access::truncate)}},
    {FieldRole::locked, {.access = access(Access::lock)}},
    {FieldRole::lock_targets, {.lock_ref = true}},
    {FieldRole::row_source, {.row_source = true}},
    {FieldRole::elements, {.collapse = true}},
    {FieldRole::case_operand, {.role = Role::comparison}},
    {FieldRole::sort_key, {.order_by_key = true}},
    {FieldRole::type_modifiers, {.role = Role::type_modifier}},
    {FieldRole::options, {.capture_defelems = true}},
    {FieldRole::query, {.clause = Clause::other, .access = access(Access::read), .stmt = StmtRole::inner}},
    {FieldRole::later_query,
     {.clause = Clause::other,
      .access = access(Access::read),
      .output = LiteralContext::other,  // run later, its values go who knows where
      .stmt = StmtRole::nested}},
};

constexpr size_t kRoles = static_cast<size_t>(FieldRole::later_query) + 1;

// kRoleRows by role; generic and code change nothing.
constexpr std::array<RoleContext, kRoles> role_contexts() {
    std::array<RoleContext, kRoles> out{};
    std::array<bool, kRoles> seen{};
    seen[static_cast<size_t>(FieldRole::generic)] = seen[static_cast<size_t>(FieldRole::code)] = true;
    for (const RoleRow& r : kRoleRows) {
        if (seen[static_cast<size_t>(r.role)]) throw "kRoleRows: a role twice, or generic or code";
        seen[static_cast<size_t>(r.role)] = true;
        out[static_cast<size_t>(r.role)] = r.context;
    }
    for (bool s : seen)
        if (!s) throw "kRoleRows: a role without its row";
    return out;
}
constexpr auto kRoleContexts = role_contexts();

Ctx in_context(const RoleContext& e, const Ctx& c) {
    Ctx f = c;
    if (e.clause) f.clause = *e.clause;
    if (e.role) f.role = *e.role;
    if (e.res) f.res = *e.res;
    if (e.access) f.access = *e.access;
    if (e.output) f.output = *e.output;
    if (e.stmt) {
        f.ddl = false;
        f.stmt = *e.stmt == StmtRole::inner && c.outer ? StmtRole::inner : StmtRole::nested;
    }
    f.from_item |= e.from_item;
    f.collapse |= e.collapse;
    f.arm |= e.arm;
    f.lock_ref |= e.lock_ref;
    f.row_source |= e.row_source;
    f.capture_defelems |= e.capture_defelems;
    if (e.order_by_key && c.clause == Clause::order_by) f.role = Role::key;
    return f;
}

}  // namespace

Ctx Walker::role_context(FieldRole role, const Ctx& c) {
    return in_context(kRoleContexts[static_cast<size_t>(role)], c);
}

Sub Walker::field_in_role(FieldRole role, const Ctx& c, Str key) {
    const RoleContext& e = kRoleContexts[static_cast<size_t>(role)];
    switch (e.walk) {
        case Walk::condition:
            return boolean_root(c, *e.clause, e.cond);
        case Walk::target_list:
            return target_list(in_context(e, c), key);
        default:
            return value(in_context(e, c), key);
    }
}

Sub Walker::unknown_body(Str key, const Ctx& c) {
    unknown_node(key);
    NodeInfo tmp{NodeTag::unknown, StatementKind::none, 0, hash_bytes(key)};
    ParentGuard parent(*this, NodeTag::unknown);
    return generic_body(tmp, c);
}

Sub Walker::generic_body(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    if (!fields(acc, child, [](Str) { return false; })) return {};
    return acc.done();
}

// An unwrapped object walked field by field: of a typed field the walker does
// not judge (`type` from kTypedFields), or of a field PostgreSQL 15's grammar
// does not have (`type` unknown). A RangeVar is reported as a relation; an
// object of unknown type is one if it is shaped like a RangeVar (a relation
// must never be missed because the table did not know its field).
Sub Walker::structure(const Ctx& c, NodeTag type) {
    ParentGuard parent(*this, type);
    NodeInfo none{};
    Ctx child = child_of(none, c);
    Acc acc(kStructSeed);
    Str catalog, schema, relname;
    int32_t location = -1;
    bool ok = fields(acc, child, [&](Str k) {
        if (is(k, "location")) {
            Acc tmp(0);
            location = location_value(tmp);
        } else if (is(k, "relname") || is(k, "schemaname") || is(k, "catalogname")) {
            Sub s;
            Str v = string_value(s);
            acc.add(k, s);
            (is(k, "relname") ? relname : is(k, "schemaname") ? schema : catalog) = v;
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (!relname.empty() && (type == NodeTag::RangeVar || type == NodeTag::unknown)) {
        add_relation(c, catalog, schema, relname, {}, c.access, location, c.from_item);
        acc.variable = true;
    }
    acc.location(location);
    return acc.done();
}

int32_t Walker::location_value(Acc& acc) {
    int64_t v;
    if (!r_.integer(v)) {
        r_.skip();  // not a number: nothing to learn, but stay in step
        return -1;
    }
    int32_t loc = v < INT32_MIN || v > INT32_MAX ? -1 : static_cast<int32_t>(v);
    acc.location(loc);
    return loc;
}

Str Walker::keep(std::string_view raw, bool escaped) {
    if (!escaped) return raw;
    s_.arena.push_back(JsonReader::unescape(raw));
    return s_.arena.back();
}

Str Walker::keep_owned(std::string text) {
    if (text.empty()) return {};
    s_.arena.push_back(std::move(text));
    return s_.arena.back();
}

Str Walker::string_value(Sub& sub) {
    Str raw;
    bool escaped;
    if (!r_.string(raw, escaped)) return {};
    sub.hash = hash_bytes(raw);
    return keep(raw, escaped);
}

void Walker::unknown_node(std::string_view name) {
    auto& list = st().unknown_nodes;
    if (std::find(list.begin(), list.end(), name) == list.end()) list.emplace_back(name);
}

Sub Walker::name_list(NameList& out, const Ctx& c) {
    if (r_.peek() != '[') {
        out.overflow = true;
        return value(c);
    }
    return items(c, [&] {
        if (was_string()) {
            out.add(last_scalar_);
        } else if (last_tag_ == NodeTag::A_Star) {
            out.star = true;
        } else {
            out.overflow = true;
        }
    });
}

Sub Walker::list_of_names(NameList& out, const Ctx& c) {
    if (!r_.peek_wrapped()) {
        out.overflow = true;
        return value(c);
    }
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    Str key;
    r_.begin_object();
    if (!r_.next_key(key)) return {};
    const NodeInfo& info = node_info(key);
    Sub s;
    if (info.tag == NodeTag::List) {
        ParentGuard parent(*this, NodeTag::List);
        Acc acc(info.hash);
        r_.begin_object();
        Str k;
        while (r_.next_key(k)) {
            if (is(k, "items")) {
                acc.add(k, name_list(out, c));
            } else {
                acc.add(k, value(c, k));
            }
        }
        s = acc.done();
    } else if (info.tag == NodeTag::String) {
        s = scalar_node(info, c);
        out.add(last_scalar_);
    } else {
        out.overflow = true;
        s = info.tag == NodeTag::unknown ? unknown_body(key, c) : node(info, c);
    }
    s = wrapper_rest(s, c, false);
    last_tag_ = info.tag;
    return s;
}

}  // namespace pgmoat::sql::detail
