// The tree walk's FROM items: relations with their aliases and scopes,
// sub-selects, functions and table samples in FROM, and joins.
#include "walker_impl.h"

#include <algorithm>
#include <vector>

namespace pgmoat::sql::detail {

int32_t Walker::add_relation(const Ctx& c, Str catalog, Str schema, Str name, Str alias, AccessSet access,
                             int32_t location, bool from_item) {
    RawRelation r;
    r.catalog = catalog;
    r.schema = schema;
    r.name = name;
    r.alias = alias;
    r.access = access;
    r.location = location;
    r.scope = c.scope;
    r.cte_candidate = from_item && schema.empty() && catalog.empty();
    int32_t index = static_cast<int32_t>(raw_.relations.size());
    raw_.relations.push_back(r);
    if (from_item && c.scope >= 0) add_entry(c.scope, index, true);
    return index;
}

void Walker::add_entry(int32_t scope, int32_t relation, bool visible) {
    const RawRelation& r = raw_.relations[static_cast<size_t>(relation)];
    RangeEntry e;
    e.scope = scope;
    e.kind = EntryKind::relation;
    e.has_alias = !r.alias.empty();
    e.name = e.has_alias ? r.alias : r.name;
    e.schema = e.has_alias ? Str{} : r.schema;
    e.relation = relation;
    e.visible_to_children = visible;
    raw_.entries.push_back(e);
}

Sub Walker::alias(Str& name, std::vector<Str>* column_names) {
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    if (r_.peek() != '{' || r_.peek_wrapped()) return value(Ctx{});
    Acc acc(kStructSeed);
    fields(acc, Ctx{}, [&](Str key) {
        if (is(key, "aliasname")) {
            Sub s;
            name = string_value(s);
            acc.add(key, s);
        } else if (is(key, "colnames") && column_names) {
            acc.add(key, name_strings(*column_names, Ctx{}));
        } else {
            return false;
        }
        return true;
    });
    return acc.done();
}

// A list of names, hashed as array() would.
Sub Walker::name_strings(std::vector<Str>& out, const Ctx& c) {
    DepthGuard guard(*this);
    if (!guard.ok) return {};
    if (r_.peek() != '[') return value(c);
    return items(c, [&] { out.push_back(was_string() ? last_scalar_ : Str{}); });
}

Sub Walker::name_columns(const Ctx& c, Str key, int32_t scope, int32_t target) {
    if (r_.peek() != '[') return value(c, key);
    return items(c, [&] {
        if (!was_string()) return;
        RawColumn col;
        col.scope = scope;
        col.fields.add(last_scalar_);
        col.target = target;
        raw_.columns.push_back(col);
    });
}

Sub Walker::target_list(const Ctx& c, Str key) {
    const int32_t counter = target_counter_, position = target_position_;
    const bool star = target_star_;
    target_counter_ = 0;
    target_star_ = false;
    Sub s = value(c, key);
    target_counter_ = counter;
    target_position_ = position;
    target_star_ = star;
    return s;
}

// Every column of a relation, read (or written): `u AS u(a, b)` renames columns
// by position, `COPY t TO` and `INSERT INTO t VALUES` take them all.
void Walker::all_columns_of(int32_t scope, int32_t relation, bool written, int32_t location) {
    RawColumn col;
    col.scope = scope;
    col.fields.star = true;
    col.target = relation;
    col.written = written;
    col.location = location;
    raw_.columns.push_back(col);
}

Sub Walker::range_var(const NodeInfo& info, const Ctx& c) {
    Acc acc(info.hash);
    Str catalog, schema, relname, alias_name;
    std::vector<Str> renamed;
    int32_t location = -1;
    bool ok = fields(acc, Ctx{}, [&](Str key) {
        if (is(key, "relname") || is(key, "schemaname") || is(key, "catalogname")) {
            Sub s;
            Str v = string_value(s);
            acc.add(key, s);
            (is(key, "relname") ? relname : is(key, "schemaname") ? schema : catalog) = v;
        } else if (is(key, "relpersistence")) {
            Sub s;
            if (is(string_value(s), "t")) st().temporary = true;  // CREATE TEMP ..., SELECT INTO TEMP
            acc.add(key, s);
        } else if (is(key, "alias")) {
            acc.add(key, alias(alias_name, &renamed));
        } else if (is(key, "location")) {
            location = location_value(acc);
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    if (c.lock_ref) {
        // FOR UPDATE OF name: names a FROM item, not a new relation.
        raw_.lock_targets.push_back(ScopedName{c.scope, relname});
    } else {
        int32_t rel = add_relation(c, catalog, schema, relname, alias_name, c.access, location, c.from_item);
        // FROM users AS u(a, b, c): which column each new name is depends on the
        // table's column order, which pgmoat does not know; every column counts.
        if (!renamed.empty()) all_columns_of(c.scope, rel, false, location);
        acc.variable = true;
    }
    return acc.done();
}

Sub Walker::range_subselect(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Str alias_name;
    std::vector<Str> renamed;
    bool lateral = false;
    int32_t sub = -1;
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "alias")) {
            acc.add(key, alias(alias_name, &renamed));
        } else if (is(key, "lateral")) {
            Str v = r_.scalar();
            lateral = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else if (is(key, "subquery")) {
            Ctx q = child;
            q.hide_parent = !lateral;
            // Its values feed the statement's conditions as well as its output.
            q.output = LiteralContext::other;
            sub = static_cast<int32_t>(raw_.scopes.size());
            acc.add(key, value(q, key));
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    add_derived(c.scope, alias_name);
    if (c.scope >= 0) {
        raw_.entries.back().sub_scope = sub;
        const int32_t entry = static_cast<int32_t>(raw_.entries.size() - 1);
        for (size_t i = 0; i < renamed.size(); ++i)
            raw_.renames.push_back(RawRename{entry, -1, static_cast<int32_t>(i), renamed[i]});
    }
    return acc.done();
}

Sub Walker::range_function(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Str alias_name;
    const size_t columns = raw_.columns.size();
    const size_t scopes = raw_.scopes.size();
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "alias")) {
            acc.add(key, alias(alias_name));
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    add_derived(c.scope, alias_name);
    if (c.scope >= 0) raw_.entries.back().values_only = raw_.columns.size() == columns && raw_.scopes.size() == scopes;
    return acc.done();
}

// TABLESAMPLE: its relation is a FROM item when the sampled table is one.
Sub Walker::range_table_sample(const NodeInfo& info, const Ctx& c) {
    Ctx f = child_of(info, c);
    f.from_item = c.from_item;
    return body_with(info, c, "relation", f);
}

void Walker::add_derived(int32_t scope, Str alias_name) {
    if (scope < 0) return;
    RangeEntry e;
    e.scope = scope;
    e.kind = EntryKind::derived;
    e.name = alias_name;
    e.has_alias = !alias_name.empty();
    raw_.entries.push_back(e);
}

Sub Walker::join_expr(const NodeInfo& info, const Ctx& c) {
    Ctx child = child_of(info, c);
    Acc acc(info.hash);
    Str alias_name;
    bool inner = false, natural = false;
    std::vector<Str> renamed;
    uint32_t begin = static_cast<uint32_t>(raw_.entries.size());
    bool ok = fields(acc, child, [&](Str key) {
        if (is(key, "jointype") && r_.peek() == '"') {
            Sub s;
            inner = is(string_value(s), "JOIN_INNER");
            acc.add(key, s);
        } else if (is(key, "isNatural") && r_.peek() != '{' && r_.peek() != '[') {
            Str v = r_.scalar();
            natural = is(v, "true");
            acc.add(key, Sub{hash_bytes(v)});
        } else if (is(key, "quals")) {
            // An inner join's ON is one more condition on the rows; an outer
            // join's keeps the rows of the other side whatever it says: which
            // it is, the jointype before it says.
            acc.add(key, boolean_root(child, Clause::join_on, inner ? CondRole::inner_join : CondRole::none));
        } else if (is(key, "usingClause")) {
            // USING (a, b): each name is a column of both sides.
            acc.add(key, name_columns(child, key, c.scope, -1));
        } else if (is(key, "alias")) {
            acc.add(key, alias(alias_name, &renamed));
        } else {
            return false;
        }
        return true;
    });
    if (!ok) return {};
    const uint32_t end = static_cast<uint32_t>(raw_.entries.size());
    // NATURAL compares every column both sides share; a join alias with column
    // names renames them by position: either way every column of every
    // relation in it counts.
    if ((natural || !renamed.empty()) && c.scope >= 0) {
        for (uint32_t m = begin; m < end; ++m) {
            const RangeEntry& e = raw_.entries[m];
            if (e.kind == EntryKind::relation && e.relation >= 0)
                all_columns_of(c.scope, e.relation, false, raw_.relations[static_cast<size_t>(e.relation)].location);
        }
    }
    if (!alias_name.empty() && c.scope >= 0) {
        RangeEntry e;
        e.scope = c.scope;
        e.kind = EntryKind::join;
        e.name = alias_name;
        e.has_alias = true;
        e.member_begin = begin;
        e.member_end = end;
        raw_.entries.push_back(e);
    }
    return acc.done();
}

}  // namespace pgmoat::sql::detail
