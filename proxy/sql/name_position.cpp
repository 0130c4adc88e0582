// Finds field names and WITH query bodies in the text (see name_position.h).
#include "name_position.h"

#include "pgmoat/common/ascii.h"

#include <algorithm>
#include <string>
#include <vector>

namespace pgmoat::sql::detail {

namespace {

// A field selection follows its expression closely; past this many bytes the
// caller falls back to the expression's start (and nested selections cannot
// make the scans quadratic in the statement's size).
constexpr size_t kWindow = 4096;
// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes (at a character
// boundary, so up to 3 bytes fewer in UTF-8).
constexpr size_t kMaxIdentifier = 63;

bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool ident_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool ident_cont(unsigned char c) {
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

// Whether an identifier's folded text is name, allowing for truncation.
bool same_identifier(std::string_view folded, std::string_view name) {
    if (folded == name) return true;
    return folded.size() > kMaxIdentifier && name.size() <= kMaxIdentifier && name.size() + 4 > kMaxIdentifier &&
           folded.substr(0, name.size()) == name;
}

template <typename Extent>
size_t extent_in(const std::vector<Extent>& v, size_t p) {
    auto it = std::lower_bound(v.begin(), v.end(), p,
                               [](const Extent& e, size_t at) { return static_cast<size_t>(e.offset) < at; });
    if (it == v.end() || static_cast<size_t>(it->offset) != p || it->length <= 0) return p;
    return p + static_cast<size_t>(it->length);
}

}  // namespace

size_t NamePositions::skip_space(size_t p) const {
    while (p < sql_.size()) {
        if (space(sql_[p])) {
            ++p;
            continue;
        }
        if ((sql_[p] == '-' || sql_[p] == '/') && p + 1 < sql_.size() && sql_[p + 1] == (sql_[p] == '-' ? '-' : '*')) {
            size_t e = extent_in(lex_.comments, p);
            if (e > p) {
                p = e;
                continue;
            }
        }
        break;
    }
    return std::min(p, sql_.size());
}

size_t NamePositions::extent_at(size_t p) const {
    return std::min(extent_in(lex_.literals, p), sql_.size());
}

size_t NamePositions::word_end(size_t p) const {
    if (p >= sql_.size()) return p;
    if (sql_[p] == '"') return p + static_cast<size_t>(word_length(sql_, static_cast<int32_t>(p)));
    if (!ident_start(static_cast<unsigned char>(sql_[p]))) return p;
    size_t e = p + 1;
    while (e < sql_.size() && ident_cont(static_cast<unsigned char>(sql_[e]))) ++e;
    return e;
}

bool NamePositions::names(size_t p, size_t end, std::string_view name) const {
    if (end <= p || name.empty()) return false;
    std::string_view word = sql_.substr(p, end - p);
    if (word.front() == '"') {
        if (word.size() < 2 || word.back() != '"') return false;
        std::string exact;
        for (size_t i = 1; i + 1 < word.size(); ++i) {
            exact += word[i];
            if (word[i] == '"') ++i;  // "" stands for "
        }
        return same_identifier(exact, name);
    }
    if (word.size() == name.size()) {
        for (size_t i = 0; i < word.size(); ++i)
            if (ascii::to_lower(word[i]) != name[i]) return false;
        return true;
    }
    if (word.size() <= kMaxIdentifier) return false;
    std::string folded(word);
    ascii::lower_in_place(folded);
    return same_identifier(folded, name);
}

bool NamePositions::keyword(size_t p, size_t end, std::string_view lower) const {
    if (end - p != lower.size() || end > sql_.size()) return false;
    for (size_t i = 0; i < lower.size(); ++i)
        if (ascii::to_lower(sql_[p + i]) != lower[i]) return false;
    return true;
}

int32_t NamePositions::last_of_dotted(int32_t at, uint8_t dots, std::string_view name) const {
    if (at < 0) return -1;
    size_t p = static_cast<size_t>(at);
    size_t e = word_end(p);
    if (e == p) return -1;
    for (uint8_t i = 0; i < dots; ++i) {
        p = skip_space(e);
        if (p >= sql_.size() || sql_[p] != '.') return -1;
        p = skip_space(p + 1);
        e = word_end(p);
        if (e == p) return -1;
    }
    return names(p, e, name) ? static_cast<int32_t>(p) : -1;
}

int32_t NamePositions::next_field(int32_t& from, int32_t& depth, int32_t& min_depth, bool enclosed,
                                  std::string_view name) const {
    if (from < 0) return -1;
    size_t p = static_cast<size_t>(from);
    const size_t limit = std::min(sql_.size(), p + kWindow);
    while (p < limit) {
        p = skip_space(p);
        if (p >= limit) break;
        if (size_t e = extent_at(p); e > p) {
            p = e;
            continue;
        }
        const char ch = sql_[p];
        if (ch == '(' || ch == '[') {
            ++depth;
            ++p;
        } else if (ch == ')' || ch == ']') {
            --depth;
            min_depth = std::min(min_depth, depth);
            ++p;
        } else if (ch == ';') {
            break;
        } else if (ch == '.') {
            size_t q = skip_space(p + 1);
            size_t qe = word_end(q);
            // Not inside a bracket the expression opened, and past the
            // expression's own parentheses when it has them.
            if (qe > q && depth <= min_depth && (enclosed ? depth < 0 : depth <= 0) && names(q, qe, name)) {
                from = static_cast<int32_t>(qe);
                return static_cast<int32_t>(q);
            }
            ++p;
        } else if (size_t e = word_end(p); e > p) {
            p = e;
        } else {
            ++p;
        }
    }
    return -1;
}

int32_t NamePositions::cte_body(int32_t at) const {
    if (at < 0) return -1;
    size_t p = static_cast<size_t>(at);
    size_t e = word_end(p);
    if (e == p) return -1;
    p = skip_space(e);
    if (p < sql_.size() && sql_[p] == '(') {  // column names
        p = skip_space(p + 1);
        while (p < sql_.size() && sql_[p] != ')') {
            e = word_end(p);
            if (e == p && sql_[p] != ',') return -1;
            p = skip_space(e == p ? p + 1 : e);
        }
        if (p >= sql_.size()) return -1;
        p = skip_space(p + 1);
    }
    e = word_end(p);
    if (!keyword(p, e, "as")) return -1;
    p = skip_space(e);
    e = word_end(p);
    if (keyword(p, e, "not")) {
        p = skip_space(e);
        e = word_end(p);
    }
    if (keyword(p, e, "materialized")) p = skip_space(e);
    if (p >= sql_.size() || sql_[p] != '(') return -1;
    p = skip_space(p + 1);
    e = word_end(p);
    for (std::string_view k : {"insert", "update", "delete", "merge", "with"})
        if (keyword(p, e, k)) return static_cast<int32_t>(p);
    return -1;
}

}  // namespace pgmoat::sql::detail
