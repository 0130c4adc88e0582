// The shape lock's model and the check a statement goes through under
// [parameters] mode = "shapes": is its shape locked, and are its constants the
// ones the code writes?
#include "pgmoat/shapes/lock.h"

#include "pgmoat/sql/statement_kind.h"

#include <ctime>

namespace pgmoat::shapes {

namespace {

bool replaced(const sql::Literal& l) {
    // As the analyzer numbers literals in the normalized text: NULL, TRUE/FALSE
    // and keywords the grammar turns into constants keep their text.
    return !l.bare_word && l.length > 0 && l.kind != sql::LiteralKind::boolean && l.kind != sql::LiteralKind::null;
}

// Calls f(number, literal index) for each numbered literal, in text order; stops
// when f returns false.
template <class F>
void for_each_position(const sql::Statement& st, F&& f) {
    int number = st.param_count;
    int32_t end = -1;
    for (size_t i = 0; i < st.literals.size(); ++i) {
        const auto& l = st.literals[i];
        if (!replaced(l) || l.offset < end) continue;
        end = l.offset + l.length;
        if (!f(++number, i)) return;
    }
}

}  // namespace

const Shape* ShapeLock::find(uint64_t fingerprint) const {
    auto it = shapes.find(fingerprint);
    return it == shapes.end() ? nullptr : &it->second;
}

std::vector<Position> positions(const sql::Statement& st) {
    std::vector<Position> out;
    for_each_position(st, [&](int n, size_t i) {
        out.push_back({n, i});
        return true;
    });
    return out;
}

Match match(const ShapeLock& lock, const sql::Statement& st, std::string_view sql) {
    Match m;
    m.shape = lock.find(st.fingerprint);
    if (!m.shape) return m;
    m.verdict = Verdict::known;
    // Constants are few and in position order, as the literals are.
    auto c = m.shape->constants.begin();
    const auto end = m.shape->constants.end();
    for_each_position(st, [&](int n, size_t i) {
        if (c == end) return false;
        if (n < c->position) return true;
        const auto& l = st.literals[i];
        if (n > c->position || l.text(sql) != c->value) {
            m.verdict = Verdict::constant_changed;
            if (n == c->position) m.offset = l.offset;
            return false;
        }
        ++c;
        return true;
    });
    if (m.verdict == Verdict::known && c != end) m.verdict = Verdict::constant_changed;  // fewer literals than locked
    if (m.verdict == Verdict::constant_changed) {
        m.position = c->position;
        m.expected = c->value;
        if (m.offset < 0) m.offset = st.offset;
    }
    return m;
}

bool needs_shape(const sql::Statement& st) {
    // PREPARE and DECLARE carry a statement of their own: theirs is a shape.
    if (st.kind == sql::StatementKind::prepare || st.kind == sql::StatementKind::declare_cursor) return true;
    auto c = sql::category(st.kind);
    return c != sql::StatementCategory::transaction && c != sql::StatementCategory::session;
}

std::string with_constants(const Shape& shape) {
    const std::string& s = shape.statement;
    std::string out;
    out.reserve(s.size());
    char quote = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        char ch = s[i];
        if (quote) {
            out += ch;
            if (ch == quote) quote = 0;
            continue;
        }
        if (ch == '\'' || ch == '"') {
            quote = ch;
            out += ch;
            continue;
        }
        if (ch == '$' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
            (i == 0 || !(std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_'))) {
            size_t j = i + 1;
            int n = 0;
            while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) && n < 100000)
                n = n * 10 + (s[j++] - '0');
            const Constant* c = nullptr;
            for (const auto& k : shape.constants)
                if (k.position == n) c = &k;
            out += c ? c->value : s.substr(i, j - i);
            i = j - 1;
            continue;
        }
        out += ch;
    }
    return out;
}

std::string today() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

}  // namespace pgmoat::shapes
