// The tree walk's generic part: the statements of a parse result, values, node
// dispatch and the one field loop. Every node is hashed into the fingerprint
// whether or not it means anything to the analyzer, and every node the analyzer
// does not know is walked anyway (so nothing below it hides) and reported.
// Expressions are in walker_expressions.cpp, FROM items in walker_from.cpp,
// statement nodes in walker_statements.cpp.
#include "walker_impl.h"

#include "pgmoat/common/ascii.h"

#include <algorithm>
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
        unknown_node(key);
        NodeInfo tmp{NodeTag::unknown, StatementKind::none, 0, hash_bytes(key)};
        ParentGuard parent(*this, NodeTag::unknown);
        s = generic_body(tmp, c);
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

Sub Walker::node(const NodeInfo& info, const Ctx& c) {
    ParentGuard parent(*this, info.tag);
    if (info.flags & node_flag::statement) return statement(info, c);
    switch (info.tag) {
        case NodeTag::A_Const:
            return a_const(c);
        case NodeTag::ParamRef:
            return param_ref(c);
        case NodeTag::ColumnRef:
            return column_ref(info, c);
        case NodeTag::A_Indirection:
            return a_indirection(info, c);
        case NodeTag::FuncCall:
            return func_call(info, c);
        case NodeTag::A_Expr:
            return a_expr(info, c);
        case NodeTag::BoolExpr:
            return bool_expr(info, c);
        case NodeTag::TypeCast:
            return type_cast(info, c);
        case NodeTag::TypeName:
            return type_name(info, c);
        case NodeTag::SubLink:
            return sub_link(info, c);
        case NodeTag::List:
        case NodeTag::IntList:
        case NodeTag::OidList:
            return list_node(info, c);
        case NodeTag::String:
        case NodeTag::Integer:
        case NodeTag::Float:
        case NodeTag::Boolean:
        case NodeTag::BitString:
            return scalar_node(info);
        case NodeTag::ResTarget:
            return res_target(info, c);
        case NodeTag::DefElem:
            return def_elem(info, c);
        case NodeTag::RangeVar:
            return range_var(info, c);
        case NodeTag::RangeSubselect:
            return range_subselect(info, c);
        case NodeTag::RangeFunction:
        case NodeTag::RangeTableFunc:
            return range_function(info, c);
        case NodeTag::RangeTableSample:
            return range_table_sample(info, c);
        case NodeTag::JoinExpr:
            return join_expr(info, c);
        case NodeTag::WithClause:
            return with_clause(c);
        case NodeTag::OnConflictClause:
            return on_conflict(c);
        case NodeTag::MergeWhenClause:
            return merge_when(info, c);
        case NodeTag::LockingClause:
            return locking_clause(info, c);
        case NodeTag::IndexElem:
            return index_elem(info, c);
        case NodeTag::CurrentOfExpr: {
            add_cond(c, CondKind::current_of);
            Sub s = generic_body(info, c);
            s.variable = true;
            return s;
        }
        case NodeTag::NamedArgExpr:
            return named_arg(info, c);
        case NodeTag::CaseExpr:
            return case_expr(info, c);
        case NodeTag::CaseWhen:
            return case_when(info, c);
        default:
            return generic_body(info, c);
    }
}

Sub Walker::field(const Ctx& c, Str key) {
    const FieldRole role = field_role(parent_, key);
    switch (role) {
        case FieldRole::generic:
        case FieldRole::code:
            return value(c, key);
        case FieldRole::where:
            return boolean_root(c, Clause::where, CondRole::where);
        case FieldRole::filter:
            return boolean_root(c, Clause::where);
        case FieldRole::having:
            return boolean_root(c, Clause::having);
        case FieldRole::merge_on:
            return boolean_root(c, Clause::join_on, CondRole::merge_on);
        case FieldRole::select_list:
        case FieldRole::returning:
            return target_list(role_context(role, c), key);
        default:
            return value(role_context(role, c), key);
    }
}

Ctx Walker::role_context(FieldRole role, const Ctx& c) {
    Ctx f = c;
    switch (role) {
        case FieldRole::select_list:
            f.clause = Clause::select_list;
            break;
        case FieldRole::returning:
            f.clause = Clause::returning;
            break;
        case FieldRole::group_by:
            f.clause = Clause::group_by;
            f.role = Role::key;
            break;
        case FieldRole::order_by:
            f.clause = Clause::order_by;
            break;
        case FieldRole::window:
            f.clause = Clause::window;
            break;
        case FieldRole::limit:
            f.clause = Clause::limit;
            break;
        case FieldRole::value_rows:
            f.clause = Clause::values;
            f.collapse = true;
            break;
        case FieldRole::values:
            f.clause = Clause::values;
            break;
        case FieldRole::inserted_query:
            f.output = LiteralContext::values;
            break;
        case FieldRole::insert_columns:
            f.res = ResMode::insert_column;
            f.clause = Clause::values;
            break;
        case FieldRole::update_set:
            f.res = ResMode::assign;
            f.clause = Clause::update_set;
            break;
        case FieldRole::on_conflict:
            f.clause = Clause::on_conflict;
            break;
        case FieldRole::from:
            f.from_item = true;
            f.access = access(Access::read);
            f.clause = Clause::from;
            f.role = Role::none;
            break;
        case FieldRole::set_arm:
            f.arm = true;
            break;
        case FieldRole::create_target:
            f.access = access(Access::ddl, Access::insert);
            break;
        case FieldRole::truncated:
            f.access = access(Access::truncate);
            break;
        case FieldRole::locked:
            f.access = access(Access::lock);
            break;
        case FieldRole::lock_targets:
            f.lock_ref = true;
            break;
        case FieldRole::row_source:
            f.row_source = true;
            break;
        case FieldRole::elements:
            f.collapse = true;
            break;
        case FieldRole::case_operand:
            f.role = Role::comparison;
            break;
        case FieldRole::sort_key:
            if (c.clause == Clause::order_by) f.role = Role::key;
            break;
        case FieldRole::type_modifiers:
            f.role = Role::type_modifier;
            break;
        case FieldRole::options:
            f.capture_defelems = true;
            break;
        case FieldRole::query:
        case FieldRole::later_query:
            f.ddl = false;
            f.access = access(Access::read);
            f.clause = Clause::other;
            f.stmt = role == FieldRole::query && c.outer ? StmtRole::inner : StmtRole::nested;
            // Run later, its values go who knows where.
            if (role == FieldRole::later_query) f.output = LiteralContext::other;
            break;
        default:
            break;
    }
    return f;
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
    Acc acc(kArraySeed);
    if (r_.peek() != '[') {
        out.overflow = true;
        return value(c);
    }
    r_.begin_array();
    while (r_.next_element()) {
        has_scalar_ = false;
        last_tag_ = NodeTag::unknown;
        Sub s = value(c);
        if (last_tag_ == NodeTag::String && has_scalar_) {
            out.add(last_scalar_);
        } else if (last_tag_ == NodeTag::A_Star) {
            out.star = true;
        } else {
            out.overflow = true;
        }
        acc.merge(s);
        acc.h = combine(acc.h, s.hash);
    }
    return acc.done();
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
        s = scalar_node(info);
        out.add(last_scalar_);
    } else {
        out.overflow = true;
        if (info.tag == NodeTag::unknown) {
            unknown_node(key);
            NodeInfo tmp{NodeTag::unknown, StatementKind::none, 0, hash_bytes(key)};
            ParentGuard parent(*this, NodeTag::unknown);
            s = generic_body(tmp, c);
        } else {
            s = node(info, c);
        }
    }
    s = wrapper_rest(s, c, false);
    last_tag_ = info.tag;
    return s;
}

}  // namespace pgmoat::sql::detail
