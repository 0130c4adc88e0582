// Facts about a statement's shape that need the whole walk: the arms of its set
// operations, the sub-selects whose values are converted (the error-based leak
// shape), and the literals that are structure rather than values, by position.
#include "walker.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace pgmoat::sql::detail {

namespace {

bool system_catalog(const RawRelation& r) {
    if (r.schema == "pg_catalog" || r.schema == "information_schema" || r.schema == "pg_toast") return true;
    return r.schema.empty() && r.name.substr(0, 3) == "pg_";
}

// Per scope, what it or a scope inside it holds.
struct Below {
    bool parameter = false;
    bool relation = false;  // any relation or WITH query, system catalogs included
    bool data = false;      // a relation that is not a system catalog (WITH queries count)
    bool recursive = false;
};

// Marks s and its ancestors; stops where the flag is already set (its
// ancestors have it too), so the whole pass is linear in the scopes.
template <typename Flag>
void mark_up(const std::vector<ScopeInfo>& scopes, std::vector<Below>& below, int32_t s, Flag flag) {
    while (s >= 0 && static_cast<size_t>(s) < scopes.size()) {
        bool& f = flag(below[static_cast<size_t>(s)]);
        if (f) return;
        f = true;
        s = scopes[static_cast<size_t>(s)].parent;
    }
}

bool ancestor_or_self(const std::vector<ScopeInfo>& scopes, int32_t ancestor, int32_t s) {
    for (size_t steps = 0; s >= 0 && static_cast<size_t>(s) < scopes.size() && steps <= scopes.size(); ++steps) {
        if (s == ancestor) return true;
        s = scopes[static_cast<size_t>(s)].parent;
    }
    return false;
}

std::string_view unqualified(std::string_view name) {
    if (name.substr(0, 11) == "pg_catalog.") name.remove_prefix(11);
    return name;
}

// Casts whose input accepts any text: no value can fail them, so no error
// quotes it.
bool string_type(std::string_view type) {
    type = unqualified(type);
    while (type.size() > 2 && type.substr(type.size() - 2) == "[]") type.remove_suffix(2);
    static constexpr std::string_view kTypes[] = {"text", "varchar", "bpchar", "name", "citext"};
    return std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes);
}

// Calls that never quote an argument's value in their errors: aggregates,
// JSON and array builders, and string functions defined for any text. Anything
// else (date_trunc's unit, current_setting's name, to_number, int4in, regclass
// look-ups, ...) may, and an unknown function is taken to.
bool keeps_values_out_of_errors(std::string_view f) {
    static constexpr std::string_view kSafe[] = {"count",
                                                 "sum",
                                                 "avg",
                                                 "min",
                                                 "max",
                                                 "bool_and",
                                                 "bool_or",
                                                 "every",
                                                 "array_agg",
                                                 "json_agg",
                                                 "jsonb_agg",
                                                 "json_object_agg",
                                                 "jsonb_object_agg",
                                                 "string_agg",
                                                 "json_build_object",
                                                 "jsonb_build_object",
                                                 "json_build_array",
                                                 "jsonb_build_array",
                                                 "to_json",
                                                 "to_jsonb",
                                                 "row_to_json",
                                                 "array_to_json",
                                                 "lower",
                                                 "upper",
                                                 "length",
                                                 "char_length",
                                                 "character_length",
                                                 "octet_length",
                                                 "bit_length",
                                                 "md5",
                                                 "concat",
                                                 "btrim",
                                                 "ltrim",
                                                 "rtrim",
                                                 "replace",
                                                 "reverse",
                                                 "initcap",
                                                 "array_length",
                                                 "cardinality",
                                                 "unnest",
                                                 "quote_ident",
                                                 "quote_literal",
                                                 "quote_nullable"};
    return std::find(std::begin(kSafe), std::end(kSafe), f) != std::end(kSafe);
}

void set_operation_arms(const RawStatement& raw, const std::vector<Below>& below, Statement& st) {
    for (size_t i = 0; i < raw.scopes.size(); ++i) {
        const ScopeInfo& s = raw.scopes[i];
        if (!s.arm || s.set_operation) continue;  // a nested set operation reports its own arms
        SetOperationArm arm;
        arm.offset = s.first_location;
        arm.parameters = below[i].parameter;
        arm.reads_relation = below[i].relation;  // catalogs too: `UNION SELECT datname FROM pg_database`
        arm.recursive = below[i].recursive;
        st.set_operation_arms.push_back(arm);
    }
    std::stable_sort(st.set_operation_arms.begin(), st.set_operation_arms.end(),
                     [](const SetOperationArm& a, const SetOperationArm& b) { return a.offset < b.offset; });
}

void converted_queries(const RawStatement& raw, const std::vector<Below>& below, Statement& st) {
    for (const RawConvertedQuery& q : raw.converted) {
        ConvertedQuery out;
        if (q.scope >= 0 && static_cast<size_t>(q.scope) < raw.scopes.size()) {
            out.offset = raw.scopes[static_cast<size_t>(q.scope)].first_location;
            out.reads_relation = below[static_cast<size_t>(q.scope)].data;
        }
        for (uint32_t i = q.chain_begin; i < q.chain_end && i < raw.chain.size(); ++i) {
            const RawConversion& r = raw.conversions[static_cast<size_t>(raw.chain[i])];
            Conversion c;
            c.cast = r.cast;
            if (r.cast) {
                if (r.type_set) cast_type(r.type, c.name);
                c.may_quote_value = !string_type(c.name);
            } else {
                c.name = std::string(r.function);
                c.may_quote_value = !keeps_values_out_of_errors(c.name);
            }
            out.conversions.push_back(std::move(c));
        }
        st.converted_queries.push_back(std::move(out));
    }
    std::stable_sort(st.converted_queries.begin(), st.converted_queries.end(),
                     [](const ConvertedQuery& a, const ConvertedQuery& b) { return a.offset < b.offset; });
}

// ---- literals that are structure -------------------------------------------------

// Which positional arguments (0-based) of a well-known function are its
// format, separator, precision, field or option rather than a value it works
// on. `every_other` marks keys of key/value lists (json_build_object).
struct Options {
    std::string_view function;
    std::array<int8_t, 3> positions;  // -1: unused
    uint8_t min_args = 0;             // the call must have at least this many
    bool every_other = false;
    bool from_second = false;  // every argument from the second (path elements)
};

constexpr Options kOptions[] = {
    {"count", {0, -1, -1}, 1},
    {"string_agg", {1, -1, -1}, 2},
    {"array_to_string", {1, 2, -1}, 2},
    {"string_to_array", {1, 2, -1}, 2},
    {"concat_ws", {0, -1, -1}, 2},
    {"split_part", {1, 2, -1}, 3},
    {"date_trunc", {0, 2, -1}, 2},
    {"date_part", {0, -1, -1}, 2},
    {"extract", {0, -1, -1}, 2},
    {"to_char", {1, -1, -1}, 2},
    {"to_date", {1, -1, -1}, 2},
    {"to_timestamp", {1, -1, -1}, 2},
    {"to_number", {1, -1, -1}, 2},
    {"round", {1, -1, -1}, 2},
    {"trunc", {1, -1, -1}, 2},
    {"lpad", {1, 2, -1}, 2},
    {"rpad", {1, 2, -1}, 2},
    {"left", {1, -1, -1}, 2},
    {"right", {1, -1, -1}, 2},
    {"format", {0, -1, -1}, 1},
    {"obj_description", {1, -1, -1}, 2},
    {"like_escape", {1, -1, -1}, 2},  // LIKE $1 ESCAPE '\'
    {"similar_to_escape", {1, -1, -1}, 2},
    {"to_tsvector", {0, -1, -1}, 2},
    {"to_tsquery", {0, -1, -1}, 2},
    {"plainto_tsquery", {0, -1, -1}, 2},
    {"phraseto_tsquery", {0, -1, -1}, 2},
    {"websearch_to_tsquery", {0, -1, -1}, 2},
    {"json_build_object", {-1, -1, -1}, 2, true},
    {"jsonb_build_object", {-1, -1, -1}, 2, true},
    {"json_extract_path", {-1, -1, -1}, 2, false, true},
    {"json_extract_path_text", {-1, -1, -1}, 2, false, true},
    {"jsonb_extract_path", {-1, -1, -1}, 2, false, true},
    {"jsonb_extract_path_text", {-1, -1, -1}, 2, false, true},
};

bool plain_call(const FunctionCall& f) {
    if (f.attribute_notation || !f.catalog.empty() || (!f.schema.empty() && f.schema != "pg_catalog")) return false;
    for (const Argument& a : f.arguments)
        if (!a.name.empty()) return false;
    return true;
}

void option(Statement& st, const FunctionCall& f, size_t index) {
    if (index >= f.arguments.size()) return;
    const Argument& a = f.arguments[index];
    if (a.kind != ArgumentKind::literal || a.literal < 0 || static_cast<size_t>(a.literal) >= st.literals.size())
        return;
    Literal& l = st.literals[static_cast<size_t>(a.literal)];
    // A bare word (EXTRACT(year FROM d)) is a keyword already.
    if (l.context == LiteralContext::function_argument && !l.bare_word) l.context = LiteralContext::function_option;
}

void function_options(Statement& st) {
    for (const FunctionCall& f : st.functions) {
        if (!plain_call(f)) continue;
        for (const Options& o : kOptions) {
            if (o.function != f.name) continue;
            if (f.arguments.size() < o.min_args) break;
            for (int8_t p : o.positions)
                if (p >= 0) option(st, f, static_cast<size_t>(p));
            for (size_t i = 0; i < f.arguments.size(); ++i) {
                if ((o.every_other && i % 2 == 0) || (o.from_second && i >= 1)) option(st, f, i);
            }
            break;
        }
    }
}

// Not with a set operation: `... UNION SELECT * FROM pg_proc` reads more than
// the look-up it extends (driver queries with one are approved by text).
void catalog_lookups(Statement& st) {
    if (st.relations.empty() || st.is_write() || st.set_operations.any()) return;
    for (const Relation& r : st.relations)
        if (!r.system_catalog()) return;
    for (Literal& l : st.literals) {
        if (l.context == LiteralContext::comparison || l.context == LiteralContext::predicate ||
            l.context == LiteralContext::function_argument)
            l.context = LiteralContext::catalog_lookup;
    }
}

}  // namespace

void structure_facts(const RawStatement& raw, Statement& st) {
    if (!raw.scopes.empty()) {
        std::vector<Below> below(raw.scopes.size());
        for (size_t i = 0; i < raw.scopes.size(); ++i)
            if (raw.scopes[i].has_parameter)
                mark_up(raw.scopes, below, static_cast<int32_t>(i), [](Below& b) -> bool& { return b.parameter; });
        for (const RawRelation& r : raw.relations) {
            if (r.scope < 0) continue;
            mark_up(raw.scopes, below, r.scope, [](Below& b) -> bool& { return b.relation; });
            if (r.is_cte || !system_catalog(r))
                mark_up(raw.scopes, below, r.scope, [](Below& b) -> bool& { return b.data; });
            // WITH RECURSIVE x AS (... UNION ALL SELECT ... FROM x ...): the arms
            // between the reference and the query's own body read themselves.
            if (r.is_cte && r.cte_body >= 0 && ancestor_or_self(raw.scopes, r.cte_body, r.scope)) {
                for (int32_t s = r.scope; s >= 0 && s != r.cte_body; s = raw.scopes[static_cast<size_t>(s)].parent)
                    below[static_cast<size_t>(s)].recursive = true;
            }
        }
        set_operation_arms(raw, below, st);
        converted_queries(raw, below, st);
    }
    function_options(st);
    catalog_lookups(st);
}

}  // namespace pgmoat::sql::detail
