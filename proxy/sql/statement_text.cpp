// A statement's place in the text, its literals with their exact extents (the
// tree knows where each constant starts, the lexer where it ends), and its
// normalized text for logs: comments out, every literal value replaced by $n.
#include "walker.h"

#include <algorithm>
#include <charconv>

namespace pgmoat::sql::detail {

namespace {

inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool replaceable(const Literal& l) {
    return !l.bare_word && l.length > 0 && l.kind != LiteralKind::boolean && l.kind != LiteralKind::null;
}

// Where literals the parse tree does not carry as constants sit (COPY file
// names, DO and function bodies, passwords, options): by statement family.
void default_place(StatementKind kind, LiteralContext& context, Clause& clause) {
    switch (category(kind)) {
        case StatementCategory::ddl:
        case StatementCategory::dcl:
            context = LiteralContext::ddl;
            clause = Clause::ddl;
            return;
        case StatementCategory::query:
        case StatementCategory::dml:
            context = LiteralContext::other;
            clause = Clause::other;
            return;
        default:
            break;
    }
    if (kind == StatementKind::set || kind == StatementKind::reset || kind == StatementKind::alter_system) {
        context = LiteralContext::set_value;
        clause = Clause::set_value;
    } else {
        context = LiteralContext::utility;
        clause = Clause::utility;
    }
}

struct Buffers {
    std::vector<TreeLiteral> tree;
    std::vector<uint8_t> matched;
};

}  // namespace

void finish_text(std::string_view sql, const LexResult& lex, const RawStatement& raw, Statement& st) {
    const int32_t n = static_cast<int32_t>(sql.size());
    const int32_t start = std::clamp(raw.location, 0, n);
    const int32_t end = raw.length > 0 ? std::min(start + raw.length, n) : n;

    // Lexer literals and comments inside the statement.
    auto lit_lo = std::lower_bound(lex.literals.begin(), lex.literals.end(), start,
                                   [](const LexLiteral& l, int32_t o) { return l.offset < o; });
    auto lit_hi =
        std::lower_bound(lit_lo, lex.literals.end(), end, [](const LexLiteral& l, int32_t o) { return l.offset < o; });
    auto com_lo = std::lower_bound(lex.comments.begin(), lex.comments.end(), start,
                                   [](const LexComment& c, int32_t o) { return c.offset < o; });
    auto com_hi =
        std::lower_bound(com_lo, lex.comments.end(), end, [](const LexComment& c, int32_t o) { return c.offset < o; });

    // The statement starts at its first token: skip white space and comments.
    int32_t a = start;
    for (auto c = com_lo;;) {
        while (a < end && is_space(sql[static_cast<size_t>(a)])) ++a;
        if (c != com_hi && c->offset == a) {
            a = c->offset + c->length;
            ++c;
            continue;
        }
        break;
    }
    int32_t b = end;
    while (b > a && is_space(sql[static_cast<size_t>(b - 1)])) --b;
    st.offset = a;
    st.length = b - a;

    thread_local Buffers buf;
    buf.tree.assign(raw.literals.begin(), raw.literals.end());
    // Equal locations are one constant printed twice: any order among them will do.
    std::sort(buf.tree.begin(), buf.tree.end(),
              [](const TreeLiteral& x, const TreeLiteral& y) { return x.location < y.location; });
    buf.matched.assign(static_cast<size_t>(lit_hi - lit_lo), 0);
    st.literals.reserve(std::max(buf.tree.size(), static_cast<size_t>(lit_hi - lit_lo)));

    int32_t last = -2;
    for (const TreeLiteral& t : buf.tree) {
        if (t.location < 0 || t.location == last) continue;  // synthesized, or printed twice
        last = t.location;
        Literal l;
        l.kind = t.kind;
        l.context = t.context;
        l.clause = t.clause;
        l.offset = t.location;
        for (uint8_t i = 0; i < t.compared_to.count; ++i) {
            if (i) l.compared_to += '.';
            l.compared_to += t.compared_to.parts[i];
        }
        if (t.cast_set) cast_type(t.cast, l.cast_type);
        l.value = t.value;
        auto it =
            std::lower_bound(lit_lo, lit_hi, t.location, [](const LexLiteral& x, int32_t o) { return x.offset < o; });
        const size_t idx = static_cast<size_t>(it - lit_lo);
        if (it != lit_hi && it->offset == t.location) {
            l.length = it->length;
            buf.matched[idx] = 1;
        } else if (it != lit_lo && std::prev(it)->offset + std::prev(it)->length > t.location &&
                   std::prev(it)->kind == LiteralKind::string) {
            // N'...': the parser reports the quote, the token starts at the N.
            auto token = std::prev(it);
            l.offset = token->offset;
            l.length = token->length;
            buf.matched[idx - 1] = 1;
        } else if (t.location < n && sql[static_cast<size_t>(t.location)] == '-' && it != lit_hi &&
                   (it->kind == LiteralKind::integer || it->kind == LiteralKind::float_)) {
            // A negative constant: the parser folds the sign in and reports its place.
            l.length = it->offset + it->length - t.location;
            buf.matched[idx] = 1;
            // libpg_query 15-4.0.0 prints a negative Integer as {"ival":{}}, as it
            // prints 0: its value is the sign and the token's digits.
            if (l.kind == LiteralKind::integer)
                l.value =
                    "-" + std::string(sql.substr(static_cast<size_t>(it->offset), static_cast<size_t>(it->length)));
        } else {
            l.bare_word = true;
            l.length = word_length(sql, t.location);
        }
        st.literals.push_back(l);
    }
    // Literal tokens the tree does not hold as constants.
    LiteralContext context;
    Clause clause;
    default_place(st.kind, context, clause);
    for (auto it = lit_lo; it != lit_hi; ++it) {
        if (buf.matched[static_cast<size_t>(it - lit_lo)]) continue;
        if (it->kind == LiteralKind::boolean || it->kind == LiteralKind::null) continue;  // keywords
        Literal l;
        l.kind = it->kind;
        l.context = context;
        l.clause = clause;
        l.offset = it->offset;
        l.length = it->length;
        st.literals.push_back(l);
    }
    std::sort(st.literals.begin(), st.literals.end(),
              [](const Literal& x, const Literal& y) { return x.offset < y.offset; });

    // Normalized text.
    std::string& out = st.normalized;
    out.clear();
    out.reserve(static_cast<size_t>(st.length) + 8);
    int32_t pos = a;
    int32_t number = st.param_count;
    auto lit = st.literals.begin();
    auto com = com_lo;
    while (true) {
        while (lit != st.literals.end() && (!replaceable(*lit) || lit->offset < pos)) ++lit;
        while (com != com_hi && com->offset < pos) ++com;
        const bool have_lit = lit != st.literals.end() && lit->offset < b;
        const bool have_com = com != com_hi && com->offset < b;
        if (!have_lit && !have_com) break;
        if (have_lit && (!have_com || lit->offset < com->offset)) {
            out.append(sql.substr(static_cast<size_t>(pos), static_cast<size_t>(lit->offset - pos)));
            char digits[16];
            auto r = std::to_chars(digits, digits + sizeof digits, ++number);
            out.push_back('$');
            out.append(digits, r.ptr);
            pos = std::min(lit->offset + lit->length, b);
            ++lit;
        } else {
            out.append(sql.substr(static_cast<size_t>(pos), static_cast<size_t>(com->offset - pos)));
            pos = std::min(com->offset + com->length, b);
            if (!out.empty() && is_space(out.back())) {
                // The comment sat between spaces: keep one run of them.
                while (pos < b && is_space(sql[static_cast<size_t>(pos)])) ++pos;
            } else if (!out.empty() && pos < b && !is_space(sql[static_cast<size_t>(pos)])) {
                out.push_back(' ');  // keep the tokens on either side apart
            }
            ++com;
        }
    }
    if (pos < b) out.append(sql.substr(static_cast<size_t>(pos), static_cast<size_t>(b - pos)));
    while (!out.empty() && is_space(out.back())) out.pop_back();
    size_t lead = 0;
    while (lead < out.size() && is_space(out[lead])) ++lead;
    if (lead) out.erase(0, lead);
}

void cast_type(const CastType& type, std::string& out) {
    const NameList& n = type.names;
    if (n.overflow || n.star || n.count == 0) return;
    for (uint8_t i = type.implicit_schema ? 1 : 0; i < n.count; ++i) {
        if (!out.empty()) out += '.';
        out += n.parts[i];
    }
    for (uint8_t i = 0; i < type.array_dims; ++i) out += "[]";
}

void link_facts(Statement& st) {
    // Arguments name their literal by location until the literals are in order.
    for (FunctionCall& f : st.functions) {
        for (Argument& a : f.arguments) {
            if (a.kind != ArgumentKind::literal) continue;
            const int32_t location = a.literal;
            a.literal = -1;
            auto it = std::upper_bound(st.literals.begin(), st.literals.end(), location,
                                       [](int32_t o, const Literal& l) { return o < l.offset; });
            if (it == st.literals.begin()) continue;
            --it;  // the literal starting at or before the location (N'...' starts at N)
            if (location < it->offset + std::max(it->length, 1))
                a.literal = static_cast<int32_t>(it - st.literals.begin());
        }
    }
    // The statement's own writes are where it starts.
    for (Write& w : st.writes)
        if (w.place == WritePlace::statement || w.offset < 0) w.offset = st.offset;
    std::stable_sort(st.writes.begin(), st.writes.end(),
                     [](const Write& a, const Write& b) { return a.offset < b.offset; });
}

}  // namespace pgmoat::sql::detail
