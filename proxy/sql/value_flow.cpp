// A column of a derived table or WITH query is read by column references of
// the FROM items over it (derived entries, references to the WITH query): by
// name, through `*`, or whole (`t`). Each read sends the value to the client, on
// into another such select list (followed there), or elsewhere (a condition, a
// call, VALUES ...). References are grouped by FROM item and name first, so
// the work stays near-linear whatever the number of columns and references.
#include "value_flow.h"

#include <algorithm>
#include <unordered_map>

namespace pgmoat::sql::detail {

namespace {

// What the reads of a group of references do with the value.
struct Uses {
    bool other = false;
    std::vector<std::pair<int32_t, int32_t>> onward;  // (scope, position) of select lists it goes into

    void add(const RawColumn& c) {
        if (c.use == ColumnUse::other) other = true;
        if (c.use == ColumnUse::onward) {
            std::pair<int32_t, int32_t> k{c.scope, c.position};
            if (std::find(onward.begin(), onward.end(), k) == onward.end()) onward.push_back(k);
        }
    }
    void add(const Uses& u) {
        other = other || u.other;
        for (const auto& k : u.onward)
            if (std::find(onward.begin(), onward.end(), k) == onward.end()) onward.push_back(k);
    }
};

// The reads of one FROM item over a derived table or WITH query.
struct Reader {
    std::vector<Str> names;  // the names its columns are seen by, by position ("" unknown)
    bool positions_known = true;
    std::vector<Uses> by_position;  // reads by a name that is a known column's
    Uses unnamed;                   // reads by a name no known column has
    Uses all;                       // *, whole-row references
};

class Flow {
  public:
    Flow(RawStatement& raw, const std::vector<int32_t>& column_entry) : raw_(raw), column_entry_(column_entry) {
        const size_t scopes = raw_.scopes.size();
        children_.resize(scopes);
        for (size_t s = 0; s < scopes; ++s) {
            int32_t p = raw_.scopes[s].parent;
            if (p >= 0) children_[static_cast<size_t>(p)].push_back(static_cast<int32_t>(s));
        }
        for (size_t e = 0; e < raw_.entries.size(); ++e) {
            int32_t source = source_of(static_cast<int32_t>(e));
            if (source >= 0) readers_[source].push_back(static_cast<int32_t>(e));
        }
        outputs_of_scope_.resize(scopes);
        for (size_t i = 0; i < raw_.output_columns.size(); ++i) {
            int32_t sc = raw_.output_columns[i].scope;
            if (sc >= 0 && static_cast<size_t>(sc) < scopes)
                outputs_of_scope_[static_cast<size_t>(sc)].push_back(static_cast<uint32_t>(i));
        }
        for (size_t i = 0; i < raw_.renames.size(); ++i) {
            const RawRename& n = raw_.renames[i];
            renames_[n.entry >= 0 ? n.entry : -2 - n.cte_body].push_back(static_cast<uint32_t>(i));
        }
        columns_of_entry_.resize(raw_.entries.size());
        loose_.resize(scopes);
        loose_stars_.resize(scopes);
        for (size_t i = 0; i < raw_.columns.size(); ++i) {
            const RawColumn& c = raw_.columns[i];
            if (c.target >= 0 || c.scope < 0 || static_cast<size_t>(c.scope) >= scopes) continue;
            const int32_t e = column_entry_[i];
            if (e >= 0) {
                columns_of_entry_[static_cast<size_t>(e)].push_back(static_cast<uint32_t>(i));
            } else if (c.fields.star && c.fields.count == 0) {
                loose_stars_[static_cast<size_t>(c.scope)].add(c);
            } else if (!c.fields.star && c.fields.count == 1) {
                loose_[static_cast<size_t>(c.scope)][c.fields.last()].add(c);
            }
        }
    }

    void run() {
        for (TreeLiteral& l : raw_.literals)
            if (l.derived_output && to_client(output_scope(l.scope), l.position))
                l.context = LiteralContext::select_list;
    }

  private:
    // The query whose rows a FROM item reads: a derived table's, a WITH query's.
    int32_t source_of(int32_t entry) const {
        const RangeEntry& e = raw_.entries[static_cast<size_t>(entry)];
        if (e.kind == EntryKind::derived) return e.sub_scope;
        if (e.kind != EntryKind::relation || e.relation < 0) return -1;
        const RawRelation& r = raw_.relations[static_cast<size_t>(e.relation)];
        return r.is_cte ? r.cte_body : -1;
    }
    // The query whose rows a select list makes: set operations' arms are their parent's.
    int32_t output_scope(int32_t scope) const {
        while (scope >= 0 && raw_.scopes[static_cast<size_t>(scope)].arm)
            scope = raw_.scopes[static_cast<size_t>(scope)].parent;
        return scope;
    }
    // A set operation's column names are its first arm's.
    int32_t naming_scope(int32_t scope) const {
        while (scope >= 0 && raw_.scopes[static_cast<size_t>(scope)].set_operation) {
            int32_t first = -1;
            for (int32_t q : children_[static_cast<size_t>(scope)]) {
                if (raw_.scopes[static_cast<size_t>(q)].arm) {
                    first = q;
                    break;
                }
            }
            if (first < 0) break;
            scope = first;
        }
        return scope;
    }

    const Reader& reader(int32_t entry) {
        auto it = reader_cache_.find(entry);
        if (it != reader_cache_.end()) return it->second;
        Reader r;
        const int32_t source = source_of(entry);
        const int32_t naming = naming_scope(source);
        static const std::vector<uint32_t> kNone;
        const std::vector<uint32_t>& outputs = naming >= 0 ? outputs_of_scope_[static_cast<size_t>(naming)] : kNone;
        for (uint32_t i : outputs) {
            const RawOutput& o = raw_.output_columns[i];
            if (o.after_star) r.positions_known = false;
            if (o.position < 0) continue;
            if (r.names.size() <= static_cast<size_t>(o.position)) r.names.resize(static_cast<size_t>(o.position) + 1);
            r.names[static_cast<size_t>(o.position)] = o.name;
        }
        // Alias column lists: the FROM item's own, or the WITH query's.
        const bool cte = raw_.entries[static_cast<size_t>(entry)].kind == EntryKind::relation;
        auto renamed = renames_.find(cte ? -2 - source : entry);
        if (r.positions_known && renamed != renames_.end()) {
            for (uint32_t i : renamed->second) {
                const RawRename& n = raw_.renames[i];
                if (r.names.size() <= static_cast<size_t>(n.position))
                    r.names.resize(static_cast<size_t>(n.position) + 1);
                r.names[static_cast<size_t>(n.position)] = n.name;
            }
        }
        std::unordered_map<Str, int32_t> position_of;
        for (size_t p = 0; p < r.names.size(); ++p)
            if (!r.names[p].empty()) position_of.emplace(r.names[p], static_cast<int32_t>(p));
        r.by_position.resize(r.names.size());
        const RangeEntry& e = raw_.entries[static_cast<size_t>(entry)];
        auto read = [&](Str name, const Uses& uses) {
            if (name.empty() || name == e.name) {  // `t`: the whole row
                r.all.add(uses);
                return;
            }
            auto p = position_of.find(name);
            if (p == position_of.end()) {
                r.unnamed.add(uses);
            } else {
                r.by_position[static_cast<size_t>(p->second)].add(uses);
            }
        };
        for (uint32_t i : columns_of_entry_[static_cast<size_t>(entry)]) {
            const RawColumn& c = raw_.columns[i];
            Uses u;
            u.add(c);
            read(c.fields.star || c.fields.overflow ? Str{} : c.fields.last(), u);
        }
        // Names whose FROM item is not certain, anywhere it is in reach; `*` of its level.
        if (e.scope >= 0) {
            r.all.add(loose_stars_[static_cast<size_t>(e.scope)]);
            for (const auto& [name, uses] : loose_in_reach(e.scope)) read(name, uses);
        }
        return reader_cache_.emplace(entry, std::move(r)).first->second;
    }

    // The uncertain names of a query level and every level inside it, once per level.
    const std::vector<std::pair<Str, Uses>>& loose_in_reach(int32_t scope) {
        auto it = reach_cache_.find(scope);
        if (it != reach_cache_.end()) return it->second;
        std::vector<std::pair<Str, Uses>> out;
        std::vector<int32_t> stack{scope};
        while (!stack.empty()) {
            int32_t s = stack.back();
            stack.pop_back();
            for (const auto& [name, uses] : loose_[static_cast<size_t>(s)]) out.emplace_back(name, uses);
            for (int32_t q : children_[static_cast<size_t>(s)]) stack.push_back(q);
        }
        return reach_cache_.emplace(scope, std::move(out)).first->second;
    }

    bool to_client(int32_t scope, int32_t position) {
        if (scope < 0) return false;
        const uint64_t key =
            (static_cast<uint64_t>(static_cast<uint32_t>(scope)) << 32) | static_cast<uint32_t>(position);
        auto [it, fresh] = memo_.emplace(key, 2);
        if (!fresh) return it->second != 0;  // 2: its own recursive arm, goes where it goes
        bool result = true;
        auto readers = readers_.find(scope);
        if (readers != readers_.end()) {
            for (int32_t entry : readers->second) {
                const Reader& r = reader(entry);
                Uses uses = r.all;
                if (!r.positions_known || position < 0) {
                    uses.add(r.unnamed);
                    for (const Uses& u : r.by_position) uses.add(u);
                } else if (static_cast<size_t>(position) < r.names.size() &&
                           !r.names[static_cast<size_t>(position)].empty()) {
                    uses.add(r.by_position[static_cast<size_t>(position)]);
                } else {
                    uses.add(r.unnamed);  // a name PostgreSQL makes up: any unknown name may be it
                }
                if (uses.other) result = false;
                for (size_t k = 0; k < uses.onward.size() && result; ++k)
                    result = to_client(output_scope(uses.onward[k].first), uses.onward[k].second);
                if (!result) break;
            }
        }
        memo_[key] = result ? 1 : 0;
        return result;
    }

    RawStatement& raw_;
    const std::vector<int32_t>& column_entry_;
    std::vector<std::vector<int32_t>> children_;
    std::unordered_map<int32_t, std::vector<int32_t>> readers_;  // source scope -> FROM items
    std::vector<std::vector<uint32_t>> columns_of_entry_;
    std::vector<std::unordered_map<Str, Uses>> loose_;  // per scope: uncertain names
    std::vector<Uses> loose_stars_;                     // per scope: `*`
    std::vector<std::vector<uint32_t>> outputs_of_scope_;
    std::unordered_map<int32_t, std::vector<uint32_t>> renames_;  // entry, or -2 - WITH query scope
    std::unordered_map<int32_t, std::vector<std::pair<Str, Uses>>> reach_cache_;
    std::unordered_map<int32_t, Reader> reader_cache_;
    std::unordered_map<uint64_t, int8_t> memo_;
};

}  // namespace

void settle_derived_values(RawStatement& raw, const std::vector<int32_t>& column_entry) {
    bool any = false;
    for (const TreeLiteral& l : raw.literals) any = any || l.derived_output;
    if (!any) return;
    Flow(raw, column_entry).run();
}

}  // namespace pgmoat::sql::detail
