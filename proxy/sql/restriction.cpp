// Which FROM items a condition restricts by values, and so whether a write's
// rows are selected by them. A condition is the AND of its terms: each term
// that compares one item's columns with a value restricts that item, one that
// compares two items' columns restricts either once the other is; an OR
// restricts what every branch does; EXISTS adds the sub-select's own terms (a
// semi-join); `x IN (SELECT ...)` restricts x's item when the sub-select is
// bounded (all its items restricted, or a LIMIT, or no table at all).
#include "restriction.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace pgmoat::sql::detail {

Restrictions::Restrictions(const RawStatement& raw, const std::vector<int32_t>& column_entry)
    : raw_(raw), column_entry_(column_entry) {
    children_.resize(raw_.conds.size());
    roots_.resize(raw_.scopes.size());
    for (size_t i = 0; i < raw_.conds.size(); ++i) {
        const RawCond& k = raw_.conds[i];
        if (k.parent >= 0) {
            children_[static_cast<size_t>(k.parent)].push_back(static_cast<int32_t>(i));
        } else if (k.role != CondRole::none && k.scope >= 0 && static_cast<size_t>(k.scope) < roots_.size()) {
            roots_[static_cast<size_t>(k.scope)].push_back(static_cast<int32_t>(i));
        }
    }
    bounded_.assign(raw_.scopes.size(), -1);
    intrinsic_.assign(raw_.entries.size(), -1);
    plain_entries_.resize(raw_.scopes.size());
    arms_.resize(raw_.scopes.size());
    sub_scopes_.resize(raw_.scopes.size());
    for (size_t q = 0; q < raw_.scopes.size(); ++q) {
        const ScopeInfo& si = raw_.scopes[q];
        if (si.parent < 0) continue;
        sub_scopes_[static_cast<size_t>(si.parent)].push_back(static_cast<int32_t>(q));
        if (si.arm) arms_[static_cast<size_t>(si.parent)].push_back(static_cast<int32_t>(q));
    }
    for (size_t e = 0; e < raw_.entries.size(); ++e) {
        const RangeEntry& x = raw_.entries[e];
        if (x.scope >= 0 && static_cast<size_t>(x.scope) < plain_entries_.size() && x.kind != EntryKind::join &&
            !x.qualified_only)
            plain_entries_[static_cast<size_t>(x.scope)].push_back(static_cast<int32_t>(e));
    }
    for (const RawWrite& w : raw_.writes)
        if (w.scope >= 0 && w.entry >= 0) dml_target_[w.scope] = w.entry;
}

bool Restrictions::write_restricts(size_t index) {
    const RawWrite& w = raw_.writes[index];
    switch (w.kind) {
        case StatementKind::update:
        case StatementKind::delete_:
            break;
        case StatementKind::merge:
            if (w.merge >= 0) return false;
            // The MERGE as a whole: every action that changes existing rows.
            for (size_t i = 0; i < raw_.writes.size(); ++i) {
                const RawWrite& a = raw_.writes[i];
                if (a.merge == static_cast<int32_t>(index) && a.kind != StatementKind::insert && !write_restricts(i))
                    return false;
            }
            return true;
        default:
            return false;  // INSERT adds rows; it selects none
    }
    if (w.entry < 0 || w.scope < 0) return false;
    Facts facts;
    gather_scope(w.scope, w.merge >= 0 ? static_cast<int32_t>(index) : -1, facts);
    return restricted(closure(facts), w.entry);
}

bool Restrictions::lock_restricts(int32_t scope, int32_t entry) {
    if (scope < 0 || entry < 0) return false;
    // A LIMIT bounds the rows locked whatever the condition.
    if (raw_.scopes[static_cast<size_t>(scope)].has_limit) return true;
    Facts facts;
    gather_scope(scope, -1, facts);
    return restricted(closure(facts), entry);
}

bool Restrictions::restricted(const std::vector<int32_t>& set, int32_t entry) {
    return std::binary_search(set.begin(), set.end(), entry) || intrinsic(entry);
}

// The conditions on a query level's rows: WHERE, inner joins' ON, MERGE's ON,
// and the WHEN condition of MERGE action `action`.
void Restrictions::gather_scope(int32_t scope, int32_t action, Facts& facts) {
    for (int32_t root : roots_[static_cast<size_t>(scope)]) {
        const RawCond& k = raw_.conds[static_cast<size_t>(root)];
        if (k.role == CondRole::merge_when && k.action != action) continue;
        gather(root, facts);
    }
}

void Restrictions::gather(int32_t index, Facts& facts) {
    const RawCond& k = raw_.conds[static_cast<size_t>(index)];
    const auto& children = children_[static_cast<size_t>(index)];
    switch (k.kind) {
        case CondKind::and_:
            for (int32_t c : children) gather(c, facts);
            return;
        case CondKind::or_: {
            // A branch that is not recorded (a negation, IS NULL, ...) restricts
            // nothing, and then neither does the OR.
            if (children.size() < k.branches || children.empty()) return;
            std::vector<int32_t> all;
            for (size_t i = 0; i < children.size(); ++i) {
                Facts branch;
                gather(children[i], branch);
                std::vector<int32_t> r = closure(branch);
                if (i == 0) {
                    all = std::move(r);
                } else {
                    std::vector<int32_t> both;
                    std::set_intersection(all.begin(), all.end(), r.begin(), r.end(), std::back_inserter(both));
                    all = std::move(both);
                }
                if (all.empty()) return;
            }
            facts.restricted.insert(facts.restricted.end(), all.begin(), all.end());
            return;
        }
        case CondKind::exists:
            // Its terms are terms of the outer condition, with its own items.
            if (k.sub >= 0 && static_cast<size_t>(k.sub) < roots_.size()) gather_scope(k.sub, -1, facts);
            return;
        case CondKind::current_of:
            if (auto it = dml_target_.find(k.scope); it != dml_target_.end()) facts.restricted.push_back(it->second);
            return;
        case CondKind::compare:
        case CondKind::call:
        case CondKind::in_select:
            atom(k, facts);
            return;
    }
}

void Restrictions::atom(const RawCond& k, Facts& facts) {
    std::vector<int32_t> left, right;
    bool left_value = false, right_value = false;
    if (!side(k, 0, left, left_value)) return;
    switch (k.kind) {
        case CondKind::call:
            // f(x.a, $1): the item of the columns, when one argument is a value.
            if (left.size() == 1 && k.value_arg) facts.restricted.push_back(left.front());
            return;
        case CondKind::in_select:
            if (left.size() == 1 && k.sub >= 0 && bounded(k.sub)) facts.restricted.push_back(left.front());
            return;
        default:
            break;
    }
    if (!side(k, 1, right, right_value)) return;
    for (int32_t e : left)
        if (std::find(right.begin(), right.end(), e) != right.end()) return;  // id > -id
    if (left.size() == 1) {
        if (right.empty()) {
            if (right_value) facts.restricted.push_back(left.front());
        } else {
            facts.edges.push_back(Edge{left.front(), right});
        }
    }
    if (right.size() == 1) {
        if (left.empty()) {
            if (left_value) facts.restricted.push_back(right.front());
        } else {
            facts.edges.push_back(Edge{right.front(), left});
        }
    }
}

bool Restrictions::side(const RawCond& k, int i, std::vector<int32_t>& items, bool& value_like) {
    const uint32_t sb = k.scope_begin[i], se = k.scope_end[i];
    for (uint32_t c = k.col_begin[i]; c < k.col_end[i]; ++c) {
        const RawColumn& col = raw_.columns[c];
        const int32_t e = column_entry_[c];
        const bool inside =
            col.scope >= 0 && static_cast<uint32_t>(col.scope) >= sb && static_cast<uint32_t>(col.scope) < se;
        if (e < 0) {
            if (inside) continue;  // the sub-select's own business (it must be bounded)
            return false;          // which item it is is not certain
        }
        const int32_t at = raw_.entries[static_cast<size_t>(e)].scope;
        // A column of the sub-select's own items is not a reference of this side.
        if (inside && !encloses(at, k.scope)) continue;
        if (std::find(items.begin(), items.end(), e) == items.end()) items.push_back(e);
    }
    bool subs_bounded = true;
    for (uint32_t q = sb; q < se; ++q)
        if (raw_.scopes[q].parent == k.scope && !bounded(static_cast<int32_t>(q))) subs_bounded = false;
    // TRUE, FALSE and NULL select nothing by value (`active = true` is `active`).
    bool only_boolean = k.lit_end[i] > k.lit_begin[i];
    for (uint32_t l = k.lit_begin[i]; l < k.lit_end[i] && only_boolean; ++l) {
        LiteralKind kind = raw_.literals[l].kind;
        only_boolean = kind == LiteralKind::boolean || kind == LiteralKind::null;
    }
    value_like = items.empty() && subs_bounded && !only_boolean;
    return true;
}

// The items the facts restrict, besides those restricted whatever the
// conditions say (intrinsic): each edge fires once all its `from` items are,
// counted down as they become so (linear in the facts).
std::vector<int32_t> Restrictions::closure(const Facts& facts) {
    std::unordered_set<int32_t> in;
    std::vector<int32_t> work;
    auto add = [&](int32_t e) {
        if (e < 0 || static_cast<size_t>(e) >= raw_.entries.size() || intrinsic(e)) return;
        if (in.insert(e).second) work.push_back(e);
    };
    for (int32_t e : facts.restricted) add(e);
    std::vector<size_t> pending(facts.edges.size(), 0);
    std::unordered_map<int32_t, std::vector<size_t>> waiting;
    for (size_t i = 0; i < facts.edges.size(); ++i) {
        for (int32_t f : facts.edges[i].from) {
            if (in.count(f) || intrinsic(f)) continue;
            ++pending[i];
            waiting[f].push_back(i);
        }
        if (pending[i] == 0) add(facts.edges[i].to);
    }
    while (!work.empty()) {
        int32_t e = work.back();
        work.pop_back();
        auto it = waiting.find(e);
        if (it == waiting.end()) continue;
        for (size_t i : it->second)
            if (--pending[i] == 0) add(facts.edges[i].to);
    }
    std::vector<int32_t> out(in.begin(), in.end());
    std::sort(out.begin(), out.end());
    return out;
}

// A sub-select (or derived table, or WITH query) returns a bounded set of rows.
bool Restrictions::bounded(int32_t scope) {
    if (scope < 0 || static_cast<size_t>(scope) >= bounded_.size()) return false;
    int8_t& memo = bounded_[static_cast<size_t>(scope)];
    if (memo == 0 || memo == 1) return memo == 1;
    if (memo == 2) return false;  // refers to itself (WITH RECURSIVE): not bounded
    memo = 2;
    const ScopeInfo& s = raw_.scopes[static_cast<size_t>(scope)];
    bool result;
    if (s.has_limit) {
        result = true;
    } else if (s.dml) {
        // A WITH query's INSERT/UPDATE/DELETE ... RETURNING returns the rows it
        // wrote: those its condition selects, or those its VALUES/SELECT makes.
        result = false;
        for (size_t i = 0; i < raw_.writes.size(); ++i) {
            const RawWrite& w = raw_.writes[i];
            if (w.scope != scope || w.merge >= 0) continue;
            if (w.kind == StatementKind::insert) {
                result = true;
                for (int32_t q : sub_scopes_[static_cast<size_t>(scope)]) result = result && bounded(q);
            } else {
                result = write_restricts(i);
            }
            break;
        }
    } else if (s.set_operation) {
        result = true;
        for (int32_t q : arms_[static_cast<size_t>(scope)]) result = result && bounded(q);
    } else {
        const std::vector<int32_t>& entries = plain_entries_[static_cast<size_t>(scope)];
        result = true;
        if (!entries.empty()) {
            Facts facts;
            gather_scope(scope, -1, facts);
            std::vector<int32_t> r = closure(facts);
            for (int32_t e : entries) result = result && restricted(r, e);
        }
    }
    bounded_[static_cast<size_t>(scope)] = result ? 1 : 0;
    return result;
}

bool Restrictions::intrinsic(int32_t entry) {
    int8_t& memo = intrinsic_[static_cast<size_t>(entry)];
    if (memo >= 0) return memo == 1;
    memo = 0;  // while computing: a cycle restricts nothing
    const RangeEntry& e = raw_.entries[static_cast<size_t>(entry)];
    bool result = false;
    if (e.kind == EntryKind::derived) {
        // FROM (SELECT ...): bounded or not; FROM f(...): a function of values.
        result = e.sub_scope >= 0 ? bounded(e.sub_scope) : e.values_only;
    } else if (e.kind == EntryKind::relation && e.relation >= 0) {
        const RawRelation& r = raw_.relations[static_cast<size_t>(e.relation)];
        result = r.is_cte && bounded(r.cte_body);
    }
    memo = result ? 1 : 0;
    return result;
}

bool Restrictions::encloses(int32_t outer, int32_t scope) const {
    for (int32_t cur = scope; cur >= 0; cur = raw_.scopes[static_cast<size_t>(cur)].parent)
        if (cur == outer) return true;
    return false;
}

}  // namespace pgmoat::sql::detail
