// Turns a statement's raw facts into its reported relations, columns, calls and
// tautologies: which FROM names are CTEs, which relation a column belongs to
// (only where the parse tree makes it certain), and which relations are locked.
// Lookups are indexed so a large statement stays near-linear.
#include "catalog_functions.h"
#include "restriction.h"
#include "value_flow.h"
#include "walker.h"

#include <algorithm>
#include <climits>
#include <unordered_map>

namespace pgmoat::sql::detail {

namespace {

constexpr size_t kMaxCandidates = 16;
constexpr size_t kMaxScanned = 64;  // FROM items looked at for one unqualified column

// Reused between statements: resolving allocates only what it reports.
struct Buffers {
    std::vector<uint32_t> cte_order, order, begin, end, plain, visible;
    std::vector<int32_t> rel_map, single, column_entry;
    std::vector<uint8_t> outer, starred;
};

class Resolver {
  public:
    Resolver(RawStatement& raw, Statement& st, Buffers& b)
        : raw_(raw),
          st_(st),
          cte_order_(b.cte_order),
          rel_map_(b.rel_map),
          order_(b.order),
          begin_(b.begin),
          end_(b.end),
          plain_(b.plain),
          visible_(b.visible),
          single_(b.single),
          outer_(b.outer),
          starred_(b.starred),
          column_entry_(b.column_entry) {}

    void run() {
        st_.relations.reserve(raw_.relations.size());
        st_.columns.reserve(raw_.columns.size());
        st_.functions.reserve(raw_.functions.size());
        if (!raw_.ctes.empty()) {
            index_ctes();
            for (RawRelation& r : raw_.relations) {
                if (!r.cte_candidate) continue;
                int32_t body = -1;
                if (names_cte(r.scope, r.name, body)) {
                    r.is_cte = true;
                    r.cte_body = body;
                }
            }
        }
        build_relations();
        column_entry_.assign(raw_.columns.size(), -1);
        const bool locking = !raw_.lock_targets.empty() || any_lock_all();
        if (!raw_.columns.empty() || locking || !raw_.writes.empty()) {
            index_entries();
            index_outputs();
            for (size_t i = 0; i < raw_.columns.size(); ++i) column(raw_.columns[i], i);
        }
        if (locking || !raw_.writes.empty()) writes(locking);
        settle_derived_values(raw_, column_entry_);
        st_.unknown_relations.assign(raw_.unknown_relations.begin(), raw_.unknown_relations.end());
        if (!raw_.functions.empty()) functions();
        if (!raw_.tautologies.empty()) tautologies();
    }

  private:
    bool any_lock_all() const {
        for (const ScopeInfo& s : raw_.scopes)
            if (s.lock_all) return true;
        return false;
    }

    // ---- CTEs ----------------------------------------------------------------
    void index_ctes() {
        cte_order_.resize(raw_.ctes.size());
        for (size_t i = 0; i < cte_order_.size(); ++i) cte_order_[i] = static_cast<uint32_t>(i);
        std::sort(cte_order_.begin(), cte_order_.end(), [&](uint32_t a, uint32_t b) {
            const RawCte& x = raw_.ctes[a];
            const RawCte& y = raw_.ctes[b];
            return x.scope != y.scope ? x.scope < y.scope : x.name < y.name;
        });
    }
    bool cte_in(int32_t scope, Str name, int32_t limit, int32_t& body) const {
        auto it = std::lower_bound(cte_order_.begin(), cte_order_.end(), 0u, [&](uint32_t a, uint32_t) {
            const RawCte& x = raw_.ctes[a];
            return x.scope != scope ? x.scope < scope : x.name < name;
        });
        for (; it != cte_order_.end(); ++it) {
            const RawCte& x = raw_.ctes[*it];
            if (x.scope != scope || x.name != name) break;
            if (x.index < limit) {
                body = x.body;
                return true;
            }
        }
        return false;
    }
    // A CTE is visible in its own statement and below; a CTE body sees only the
    // CTEs before it in the same WITH, unless the WITH is RECURSIVE.
    bool names_cte(int32_t scope, Str name, int32_t& body) const {
        int32_t limit = INT32_MAX;
        for (int32_t cur = scope; cur >= 0;) {
            if (cte_in(cur, name, limit, body)) return true;
            const ScopeInfo& si = raw_.scopes[static_cast<size_t>(cur)];
            if (si.parent < 0) break;
            bool recursive = raw_.scopes[static_cast<size_t>(si.parent)].recursive;
            limit = (si.cte_index >= 0 && !recursive) ? si.cte_index : INT32_MAX;
            cur = si.parent;
        }
        return false;
    }

    // ---- relations -------------------------------------------------------------
    void build_relations() {
        rel_map_.assign(raw_.relations.size(), -1);
        std::unordered_map<std::string, int32_t> by_name;  // used once there are many
        for (size_t i = 0; i < raw_.relations.size(); ++i) {
            const RawRelation& r = raw_.relations[i];
            if (r.is_cte) continue;
            int32_t found = -1;
            if (st_.relations.size() <= 16) {
                for (size_t j = 0; j < st_.relations.size(); ++j) {
                    const Relation& x = st_.relations[j];
                    if (x.name == r.name && x.schema == r.schema && x.catalog == r.catalog) {
                        found = static_cast<int32_t>(j);
                        break;
                    }
                }
            } else {
                if (by_name.empty()) {
                    for (size_t j = 0; j < st_.relations.size(); ++j)
                        by_name.emplace(key(st_.relations[j].catalog, st_.relations[j].schema, st_.relations[j].name),
                                        static_cast<int32_t>(j));
                }
                auto it = by_name.find(key(r.catalog, r.schema, r.name));
                if (it != by_name.end()) found = it->second;
            }
            if (found < 0) {
                found = static_cast<int32_t>(st_.relations.size());
                Relation rel;
                rel.catalog = r.catalog;
                rel.schema = r.schema;
                rel.name = r.name;
                rel.offset = r.location;
                st_.relations.push_back(std::move(rel));
                if (!by_name.empty()) by_name.emplace(key(r.catalog, r.schema, r.name), found);
            }
            Relation& rel = st_.relations[static_cast<size_t>(found)];
            rel.access.add(r.access);
            if (r.location >= 0 && (rel.offset < 0 || r.location < rel.offset)) rel.offset = r.location;
            rel_map_[i] = found;
        }
    }
    static std::string key(std::string_view c, std::string_view s, std::string_view n) {
        std::string k;
        k.reserve(c.size() + s.size() + n.size() + 2);
        k.append(c).push_back('\0');
        k.append(s).push_back('\0');
        k.append(n);
        return k;
    }

    // ---- range entries by scope ---------------------------------------------------
    void index_entries() {
        size_t scopes = raw_.scopes.size();
        order_.resize(raw_.entries.size());
        for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
        // std::sort with the index as tie-break: stable without stable_sort's buffer.
        if (order_.size() > 1)
            std::sort(order_.begin(), order_.end(), [&](uint32_t a, uint32_t b) {
                const RangeEntry& x = raw_.entries[a];
                const RangeEntry& y = raw_.entries[b];
                if (x.scope != y.scope) return x.scope < y.scope;
                if (x.name != y.name) return x.name < y.name;
                return a < b;
            });
        begin_.assign(scopes, 0);
        end_.assign(scopes, 0);
        plain_.assign(scopes, 0);
        visible_.assign(scopes, 0);
        single_.assign(scopes, -1);
        for (size_t k = 0; k < order_.size(); ++k) {
            const RangeEntry& e = raw_.entries[order_[k]];
            if (e.scope < 0 || static_cast<size_t>(e.scope) >= scopes) continue;
            size_t s = static_cast<size_t>(e.scope);
            if (end_[s] == 0) begin_[s] = static_cast<uint32_t>(k);
            end_[s] = static_cast<uint32_t>(k + 1);
            if (e.kind == EntryKind::join || e.qualified_only) continue;
            ++plain_[s];
            single_[s] = static_cast<int32_t>(order_[k]);
            if (e.visible_to_children) ++visible_[s];
        }
        // Whether an enclosing scope has FROM items this one can see. Scopes are
        // created parent first, so one forward pass suffices.
        outer_.assign(scopes, 0);
        starred_.assign(scopes, 0);
        for (size_t s = 0; s < scopes; ++s) {
            int32_t p = raw_.scopes[s].parent;
            if (p >= 0) {
                size_t ps = static_cast<size_t>(p);
                bool parent_visible = !raw_.scopes[s].hides_parent_entries && visible_[ps] > 0;
                outer_[s] = parent_visible || outer_[ps];
            }
        }
    }
    // Entries of scope named name: [first, last) in order_.
    std::pair<size_t, size_t> named(int32_t scope, Str name) const {
        if (scope < 0 || static_cast<size_t>(scope) >= begin_.size()) return {0, 0};
        size_t s = static_cast<size_t>(scope);
        auto first = order_.begin() + begin_[s];
        auto last = order_.begin() + end_[s];
        auto lo = std::lower_bound(first, last, name, [&](uint32_t a, Str n) { return raw_.entries[a].name < n; });
        auto hi = lo;
        while (hi != last && raw_.entries[*hi].name == name) ++hi;
        return {static_cast<size_t>(lo - order_.begin()), static_cast<size_t>(hi - order_.begin())};
    }
    // The entry a qualifier (t, s.t or c.s.t) names, searching outward.
    int32_t find_qualified(int32_t scope, const Str* quals, uint8_t n) const {
        Str rel = quals[n - 1];
        Str schema = n >= 2 ? quals[n - 2] : Str{};
        bool first = true;
        bool hidden = false;
        for (int32_t cur = scope; cur >= 0;) {
            if (!hidden) {
                auto [lo, hi] = named(cur, rel);
                for (size_t k = lo; k < hi; ++k) {
                    const RangeEntry& e = raw_.entries[order_[k]];
                    if (!first && !e.visible_to_children) continue;
                    if (n >= 2 && (e.has_alias || e.schema != schema)) continue;
                    return static_cast<int32_t>(order_[k]);
                }
            }
            const ScopeInfo& si = raw_.scopes[static_cast<size_t>(cur)];
            hidden = si.hides_parent_entries;
            cur = si.parent;
            first = false;
        }
        return -1;
    }
    // The reported relation behind an entry, or -1 (derived, CTE, join).
    int32_t relation_of(const RangeEntry& e) const {
        if (e.kind != EntryKind::relation || e.relation < 0) return -1;
        return rel_map_[static_cast<size_t>(e.relation)];
    }

    void index_outputs() {
        std::sort(raw_.outputs.begin(), raw_.outputs.end(), [](const ScopedName& a, const ScopedName& b) {
            return a.scope != b.scope ? a.scope < b.scope : a.name < b.name;
        });
    }
    bool is_output(int32_t scope, Str name) const {
        ScopedName probe{scope, name};
        return std::binary_search(raw_.outputs.begin(), raw_.outputs.end(), probe,
                                  [](const ScopedName& a, const ScopedName& b) {
                                      return a.scope != b.scope ? a.scope < b.scope : a.name < b.name;
                                  });
    }

    // ---- columns -----------------------------------------------------------------
    Column& add(const RawColumn& c, Str name, bool star) {
        Column col;
        col.name = name;
        col.all_columns = star;
        col.written = c.written;
        col.offset = c.location;
        st_.columns.push_back(std::move(col));
        return st_.columns.back();
    }
    void certain(Column& col, int32_t relation) {
        col.origin = ColumnOrigin::relation;
        col.relation = relation;
        if (!col.written && relation >= 0) st_.relations[static_cast<size_t>(relation)].access.add(Access::read);
    }
    void add_candidate(Column& col, int32_t relation, bool& any) {
        if (relation < 0 || any) return;
        uint32_t r = static_cast<uint32_t>(relation);
        if (std::find(col.candidates.begin(), col.candidates.end(), r) != col.candidates.end()) return;
        if (col.candidates.size() >= kMaxCandidates) {
            any = true;
            col.candidates.clear();
            return;
        }
        col.candidates.push_back(r);
    }
    void uncertain_in_scope_chain(Column& col, int32_t scope) {
        col.origin = ColumnOrigin::uncertain;
        bool any = false;
        bool first = true;
        bool hidden = false;
        size_t scanned = 0;  // bounded, so many FROM items times many columns stays linear
        for (int32_t cur = scope; cur >= 0 && !any;) {
            size_t s = static_cast<size_t>(cur);
            for (size_t k = begin_[s]; k < end_[s] && !any && !hidden; ++k) {
                if (++scanned > kMaxScanned) {
                    any = true;
                    break;
                }
                const RangeEntry& e = raw_.entries[order_[k]];
                if (e.kind == EntryKind::join || e.qualified_only) continue;
                if (!first && !e.visible_to_children) continue;
                add_candidate(col, relation_of(e), any);
            }
            hidden = raw_.scopes[s].hides_parent_entries;
            cur = raw_.scopes[s].parent;
            first = false;
        }
        if (any) col.candidates.clear();
    }
    void join_members(Column& col, const RangeEntry& join) {
        col.origin = ColumnOrigin::uncertain;
        bool any = false;
        for (uint32_t m = join.member_begin; m < join.member_end && !any; ++m) {
            if (m - join.member_begin >= kMaxScanned) any = true;
            add_candidate(col, relation_of(raw_.entries[m]), any);
        }
        if (any) col.candidates.clear();
    }

    void column(const RawColumn& c, size_t index) {
        const NameList& f = c.fields;
        if (f.overflow && f.count == 0 && !f.star) return;
        if (c.target >= 0) {  // a DML target's own column list, or every column of it
            Column& col = add(c, f.star ? Str{} : f.last(), f.star);
            certain(col, rel_map_[static_cast<size_t>(c.target)]);
            return;
        }
        const uint8_t quals = f.star ? f.count : static_cast<uint8_t>(f.count ? f.count - 1 : 0);
        const Str name = f.star ? Str{} : f.last();
        if (f.overflow || quals > 3) {  // (composite).field chains and the like
            Column& col = add(c, name, f.star);
            col.origin = ColumnOrigin::uncertain;
            return;
        }
        if (quals == 0) {
            if (f.star) {
                star_of_scope(c);
            } else {
                column_entry_[index] = innermost_entry(c.scope);
                unqualified(c, name);
            }
            return;
        }
        int32_t entry = find_qualified(c.scope, f.parts, quals);
        if (entry < 0 && c.field_of_whole_row) return;  // (composite_column).field
        if (entry < 0) {
            // Not a FROM name: maybe a composite column's field. Any relation.
            Column& col = add(c, name, f.star);
            col.origin = ColumnOrigin::uncertain;
            return;
        }
        column_entry_[index] = entry;
        const RangeEntry& e = raw_.entries[static_cast<size_t>(entry)];
        Column& col = add(c, name, f.star);
        if (e.kind == EntryKind::join) {
            join_members(col, e);
        } else if (int32_t rel = relation_of(e); rel >= 0) {
            certain(col, rel);
        } else {
            col.origin = ColumnOrigin::derived;
        }
        // t.to_json is to_json(t) when t has no column to_json: the whole row.
        if (!f.star && quals == 1 && takes_a_row(name)) every_column(c, e);
    }

    // Every column of what a FROM item is, read: a whole-row reference.
    void every_column(const RawColumn& c, const RangeEntry& e) {
        if (e.kind == EntryKind::join) {
            for (uint32_t m = e.member_begin; m < e.member_end; ++m)
                if (int32_t rel = relation_of(raw_.entries[m]); rel >= 0) certain(add(c, {}, true), rel);
        } else if (int32_t rel = relation_of(e); rel >= 0) {
            certain(add(c, {}, true), rel);
        }
        // A sub-select, function or CTE: what it reads is reported inside it.
    }

    // The FROM item an unqualified column of `scope` belongs to when the
    // nearest query level with FROM items has exactly one (PostgreSQL looks
    // there first); -1 otherwise.
    int32_t innermost_entry(int32_t scope) const {
        for (int32_t cur = scope; cur >= 0;) {
            size_t s = static_cast<size_t>(cur);
            if (plain_[s] > 0) return plain_[s] == 1 ? single_[s] : -1;
            if (raw_.scopes[s].hides_parent_entries) return -1;
            cur = raw_.scopes[s].parent;
        }
        return -1;
    }

    // SELECT *: every FROM item of this query level, once per level however
    // many stars it has (so `*, *, ...` over many tables stays linear).
    void star_of_scope(const RawColumn& c) {
        if (c.scope < 0 || static_cast<size_t>(c.scope) >= begin_.size()) return;
        size_t s = static_cast<size_t>(c.scope);
        if (starred_[s]) return;
        starred_[s] = 1;
        bool any_entry = false;
        for (size_t k = begin_[s]; k < end_[s]; ++k) {
            const RangeEntry& e = raw_.entries[order_[k]];
            if (e.kind == EntryKind::join || e.qualified_only) continue;
            any_entry = true;
            if (int32_t rel = relation_of(e); rel >= 0) certain(add(c, {}, true), rel);
        }
        if (!any_entry) add(c, {}, true).origin = ColumnOrigin::uncertain;
    }

    void unqualified(const RawColumn& c, Str name) {
        Column& col = add(c, name, false);
        if (c.order_by && is_output(c.scope, name)) {
            col.origin = ColumnOrigin::derived;  // ORDER BY an output column
            return;
        }
        bool done = false;
        if (c.scope >= 0 && static_cast<size_t>(c.scope) < begin_.size()) {
            size_t s = static_cast<size_t>(c.scope);
            if (plain_[s] == 1 && !outer_[s]) {
                const RangeEntry& e = raw_.entries[static_cast<size_t>(single_[s])];
                if (int32_t rel = relation_of(e); rel >= 0) {
                    certain(col, rel);
                } else {
                    col.origin = ColumnOrigin::derived;
                }
                done = true;
            }
        }
        if (!done) uncertain_in_scope_chain(col, c.scope);
        // `SELECT u FROM users u`, row_to_json(u), u::text: a name that is a FROM
        // item's is its whole row when that item has no such column (which
        // pgmoat cannot know): every column counts. `(u).col` reads only col.
        if (c.field_selected || c.written) return;
        int32_t entry = find_qualified(c.scope, &name, 1);
        if (entry >= 0) every_column(c, raw_.entries[static_cast<size_t>(entry)]);
    }

    // ---- writes and row locks ---------------------------------------------------
    void writes(bool locking) {
        Restrictions restrictions(raw_, column_entry_);
        for (size_t i = 0; i < raw_.writes.size(); ++i) {
            const RawWrite& w = raw_.writes[i];
            Write out;
            out.kind = w.kind;
            out.place = w.place;
            out.merge_action = w.merge >= 0;
            out.relation = w.target >= 0 ? rel_map_[static_cast<size_t>(w.target)] : -1;
            out.has_where = w.has_where;
            out.restricts = restrictions.write_restricts(i);
            out.offset = w.offset;
            st_.writes.push_back(out);
        }
        if (!locking) return;
        where_scopes_.clear();
        for (const RawCond& k : raw_.conds)
            if (k.parent < 0 && k.role == CondRole::where) where_scopes_.push_back(k.scope);
        std::sort(where_scopes_.begin(), where_scopes_.end());
        // FOR UPDATE OF t: the FROM items named t; FOR UPDATE: every table in FROM.
        auto lock = [&](size_t scope, int32_t entry) {
            int32_t rel = relation_of(raw_.entries[static_cast<size_t>(entry)]);
            if (rel < 0) return;
            st_.relations[static_cast<size_t>(rel)].access.add(Access::lock);
            Write out;
            out.kind = StatementKind::select;
            out.row_lock = true;
            out.place = raw_.scopes[scope].place;
            out.relation = rel;
            out.has_where = has_where(static_cast<int32_t>(scope));
            out.restricts = restrictions.lock_restricts(static_cast<int32_t>(scope), entry);
            const RangeEntry& e = raw_.entries[static_cast<size_t>(entry)];
            out.offset = e.relation >= 0 ? raw_.relations[static_cast<size_t>(e.relation)].location : -1;
            st_.writes.push_back(out);
        };
        for (const ScopedName& t : raw_.lock_targets) {
            auto [lo, hi] = named(t.scope, t.name);
            for (size_t k = lo; k < hi; ++k) lock(static_cast<size_t>(t.scope), static_cast<int32_t>(order_[k]));
        }
        for (size_t s = 0; s < raw_.scopes.size(); ++s) {
            if (!raw_.scopes[s].lock_all) continue;
            for (size_t k = begin_[s]; k < end_[s]; ++k) lock(s, static_cast<int32_t>(order_[k]));
        }
    }
    bool has_where(int32_t scope) const {
        return std::binary_search(where_scopes_.begin(), where_scopes_.end(), scope);
    }

    // ---- calls, tautologies ----------------------------------------------------------
    void functions() {
        // A node can be printed twice (UPDATE SET (a, b) = (SELECT ...)): one call
        // per location and name. (A field selection whose name could not be
        // found in the text shares its expression's start with what begins there.)
        auto order = [](const RawFunction& a, const RawFunction& b) {
            if (a.location != b.location) return a.location < b.location;
            if (a.attribute_notation != b.attribute_notation) return b.attribute_notation;
            return a.name.last() < b.name.last();
        };
        std::sort(raw_.functions.begin(), raw_.functions.end(), order);
        const RawFunction* last = nullptr;
        for (const RawFunction& f : raw_.functions) {
            if (last && f.location >= 0 && !order(*last, f)) continue;
            last = &f;
            FunctionCall call;
            const NameList& n = f.name;
            if (n.count >= 1) call.name = n.parts[n.count - 1];
            if (n.count >= 2) call.schema = n.parts[n.count - 2];
            if (n.count >= 3) call.catalog = n.parts[n.count - 3];
            call.sql_syntax = f.sql_syntax;
            call.attribute_notation = f.attribute_notation;
            call.offset = f.location;
            call.row_source = f.row_source;
            if (f.relation >= 0) call.relation = rel_map_[static_cast<size_t>(f.relation)];
            call.arguments.reserve(f.arg_end - f.arg_begin);
            for (uint32_t i = f.arg_begin; i < f.arg_end; ++i) {
                const RawArgument& a = raw_.arguments[i];
                Argument arg;
                arg.kind = a.kind;
                arg.name = a.name;
                arg.literal = a.literal;  // a location until link_facts() makes it an index
                arg.parameter = a.parameter;
                arg.offset = a.location;
                call.arguments.push_back(std::move(arg));
            }
            st_.functions.push_back(std::move(call));
        }
    }
    void tautologies() {
        auto& t = raw_.tautologies;
        std::sort(t.begin(), t.end(), [](const Tautology& a, const Tautology& b) { return a.offset < b.offset; });
        t.erase(std::unique(t.begin(), t.end(),
                            [](const Tautology& a, const Tautology& b) { return a.offset == b.offset; }),
                t.end());
        st_.tautologies.assign(t.begin(), t.end());
    }

    RawStatement& raw_;
    Statement& st_;
    std::vector<uint32_t>& cte_order_;
    std::vector<int32_t>& rel_map_;
    std::vector<uint32_t>& order_;
    std::vector<uint32_t>&begin_, &end_, &plain_, &visible_;
    std::vector<int32_t>& single_;
    std::vector<uint8_t>& outer_;
    std::vector<uint8_t>& starred_;
    std::vector<int32_t>& column_entry_;  // per raw column: its certain range entry, or -1
    std::vector<int32_t> where_scopes_;   // scopes with a WHERE, sorted
};

}  // namespace

void resolve(RawStatement& raw, Statement& out) {
    thread_local Buffers buffers;
    Resolver(raw, out, buffers).run();
}

}  // namespace pgmoat::sql::detail
