// The pre-parse scan: PostgreSQL 15's lexical rules for whitespace, comments,
// quoting and numbers (scan.l), plus a depth bound from brackets and operator
// chains. Iterative throughout: any input is scanned in linear time on a small,
// fixed amount of stack.
#include "lexer.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace pgmoat::sql::detail {

namespace {

// Byte classes, one table lookup per byte.
enum : uint8_t { kSpace = 1, kIdentStart = 2, kDigit = 4, kIdentCont = 8, kOp = 16 };

constexpr std::array<uint8_t, 256> make_classes() {
    std::array<uint8_t, 256> t{};
    for (unsigned char c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] |= kSpace;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] |= kIdentStart | kIdentCont;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] |= kIdentStart | kIdentCont;
    for (int c = 0x80; c <= 0xFF; ++c) t[static_cast<size_t>(c)] |= kIdentStart | kIdentCont;
    t['_'] |= kIdentStart | kIdentCont;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] |= kDigit | kIdentCont;
    t['$'] |= kIdentCont;
    for (unsigned char c : {'~', '!', '@', '#', '^', '&', '|', '`', '?', '+', '-', '*', '/', '%', '<', '>', '='})
        t[c] |= kOp;
    return t;
}
constexpr std::array<uint8_t, 256> kClasses = make_classes();

inline bool is_space(unsigned char c) {
    return kClasses[c] & kSpace;
}
inline bool is_ident_start(unsigned char c) {
    return kClasses[c] & kIdentStart;
}
inline bool is_digit(unsigned char c) {
    return kClasses[c] & kDigit;
}
inline bool is_ident_cont(unsigned char c) {
    return kClasses[c] & kIdentCont;
}
inline bool is_op_char(unsigned char c) {
    return kClasses[c] & kOp;
}
inline char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view word, std::string_view lower_keyword) {
    if (word.size() != lower_keyword.size()) return false;
    for (size_t i = 0; i < word.size(); ++i)
        if (lower(word[i]) != lower_keyword[i]) return false;
    return true;
}

// How many tree levels an unquoted word adds to the chain it sits in; 0 for
// words that do not nest (AND/OR are handled apart: the grammar flattens them).
uint32_t keyword_weight(std::string_view w) {
    if (w.size() < 2 || w.size() > 9) return 0;
    switch (lower(w[0])) {
        case 'a':
            return iequals(w, "at") ? 2 : 0;
        case 'b':
            return iequals(w, "between") ? 1 : 0;
        case 'c':
            return iequals(w, "case") ? 3 : iequals(w, "collate") ? 1 : 0;
        case 'e':
            return (iequals(w, "except") || iequals(w, "escape")) ? 1 : 0;
        case 'i':
            return (iequals(w, "is") || iequals(w, "in") || iequals(w, "ilike") || iequals(w, "isnull") ||
                    iequals(w, "intersect"))
                       ? 1
                       : 0;
        case 'j':
            return iequals(w, "join") ? 1 : 0;
        case 'l':
            return iequals(w, "like") ? 1 : 0;
        case 'n':
            return (iequals(w, "not") || iequals(w, "notnull")) ? 1 : 0;
        case 'o':
            return (iequals(w, "operator") || iequals(w, "overlaps")) ? 1 : 0;
        case 's':
            return iequals(w, "similar") ? 2 : 0;
        case 'u':
            return iequals(w, "union") ? 1 : 0;
        default:
            return 0;
    }
}

using Frame = DepthFrame;

class Scanner {
  public:
    Scanner(std::string_view sql, uint32_t max_depth, LexResult& out)
        : s_(sql), n_(sql.size()), max_depth_(max_depth), out_(out), frames_(out.frames) {
        frames_.clear();
        frames_.emplace_back();
    }

    void run() {
        size_t i = 0;
        while (i < n_ && !out_.too_deep) {
            unsigned char c = static_cast<unsigned char>(s_[i]);
            if (is_space(c)) {
                ++i;
            } else if (c == '-' && i + 1 < n_ && s_[i + 1] == '-') {
                i = line_comment(i);
            } else if (c == '/' && i + 1 < n_ && s_[i + 1] == '*') {
                i = block_comment(i);
            } else if (c == '\'') {
                i = literal(i, quoted_string(i, false), LiteralKind::string);
            } else if (c == '"') {
                i = quoted_identifier(i);
                significant(false);
            } else if (c == '$') {
                i = dollar(i);
            } else if (is_digit(c) || (c == '.' && i + 1 < n_ && is_digit(s_[i + 1]))) {
                i = number(i);
            } else if (is_ident_start(c)) {
                i = word(i);
            } else if (is_op_char(c)) {
                i = op(i);
            } else if (c == ':') {
                if (i + 1 < n_ && s_[i + 1] == ':') {
                    add_ops(2, i);  // TypeCast over its argument, plus the TypeName
                    i += 2;
                } else {
                    i += (i + 1 < n_ && s_[i + 1] == '=') ? 2 : 1;
                }
                significant(false);
            } else if (c == '(' || c == '[') {
                open(i);
                significant(false);
                ++i;
            } else if (c == ')' || c == ']') {
                close(i);
                significant(false);
                ++i;
            } else if (c == ',') {
                end_element();
                significant(false);
                ++i;
            } else if (c == ';') {
                end_element();
                statement_end();
                ++i;
            } else {
                significant(false);
                ++i;
            }
        }
        if (out_.too_deep) return;
        statement_end();
        // Unclosed brackets: fold them as if closed at the end (the parser will
        // reject the text, but the bound must still hold).
        while (frames_.size() > 1) close(n_);
        frames_.back().end_element();
        out_.depth = std::max(out_.depth, frames_.back().max + 1);
        if (out_.depth > max_depth_) exceed(n_);
    }

  private:
    // ---- depth -----------------------------------------------------------------
    void exceed(size_t at) {
        if (!out_.too_deep) {
            out_.too_deep = true;
            out_.too_deep_offset = static_cast<int32_t>(std::min(at, n_ == 0 ? 0 : n_ - 1));
        }
    }
    void add_ops(uint32_t weight, size_t at) {
        frames_.back().ops += weight;
        path_ += weight;
        if (path_ > max_depth_) exceed(at);
    }
    void open(size_t at) {
        frames_.emplace_back();
        path_ += 1;
        if (path_ > max_depth_) exceed(at);
    }
    void close(size_t at) {
        if (frames_.size() == 1) return;  // unbalanced ')': the parser reports it
        Frame& f = frames_.back();
        path_ -= 1 + f.ops + f.bool_extra;
        f.end_element();
        uint32_t value = f.max + 1;
        frames_.pop_back();
        Frame& parent = frames_.back();
        parent.run_child = std::max(parent.run_child, value);
        if (value > max_depth_ || path_ + parent.run_child > max_depth_) exceed(at);
    }
    // ',' and ';' end an element of the innermost bracket.
    void end_element() {
        Frame& f = frames_.back();
        path_ -= f.ops + f.bool_extra;
        f.end_element();
    }
    void boolean_operator() {
        Frame& f = frames_.back();
        path_ -= f.ops;
        f.end_run();
        if (f.bool_extra == 0) {
            f.bool_extra = 2;
            path_ += 2;
        }
    }
    void statement_end() {
        for (LexComment& c : pending_comments_view()) c.at_end = true;
        pending_from_ = out_.comments.size();
        last_literal_ = false;
    }

    // ---- tokens -----------------------------------------------------------------
    struct Pending {
        std::vector<LexComment>& v;
        size_t from;
        LexComment* begin() { return v.data() + from; }
        LexComment* end() { return v.data() + v.size(); }
    };
    Pending pending_comments_view() { return Pending{out_.comments, pending_from_}; }

    // A token other than a comment: comments before it are not at the end.
    void significant(bool literal) {
        pending_from_ = out_.comments.size();
        last_literal_ = literal;
    }

    size_t line_comment(size_t i) {
        size_t j = i + 2;
        while (j < n_ && s_[j] != '\n' && s_[j] != '\r') ++j;
        add_comment(i, j, CommentStyle::line);
        return j;
    }
    size_t block_comment(size_t i) {
        size_t j = i + 2;
        int depth = 1;
        while (j < n_ && depth > 0) {
            if (s_[j] == '/' && j + 1 < n_ && s_[j + 1] == '*') {
                ++depth;
                j += 2;
            } else if (s_[j] == '*' && j + 1 < n_ && s_[j + 1] == '/') {
                --depth;
                j += 2;
            } else {
                ++j;
            }
        }
        add_comment(i, j, CommentStyle::block);
        return j;
    }
    void add_comment(size_t from, size_t to, CommentStyle style) {
        LexComment c;
        c.offset = static_cast<int32_t>(from);
        c.length = static_cast<int32_t>(to - from);
        c.style = style;
        c.after_literal = last_literal_;
        out_.comments.push_back(c);
    }

    // Scans '...' (or "..." with quote '"') starting at the quote, a doubled quote
    // standing for one; returns the index after the closing quote.
    size_t quoted_string(size_t i, bool backslash_escapes, char quote = '\'') {
        size_t j = i + 1;
        while (j < n_) {
            char c = s_[j];
            if (backslash_escapes && c == '\\') {
                j += 2;
            } else if (c == quote) {
                if (j + 1 < n_ && s_[j + 1] == quote) {
                    j += 2;
                } else {
                    return j + 1;
                }
            } else {
                ++j;
            }
        }
        return n_;
    }

    // After a closing quote: PostgreSQL joins 'a' <newline> 'b' into one literal
    // when the white space between holds a newline (a comment ends it). Returns the
    // index of the continuing quote, or npos.
    size_t continuation(size_t j) {
        bool newline = false;
        size_t k = j;
        while (k < n_) {
            char c = s_[k];
            if (c == '\n' || c == '\r') {
                newline = true;
                ++k;
            } else if (is_space(static_cast<unsigned char>(c))) {
                ++k;
            } else {
                break;
            }
        }
        if (newline && k < n_ && s_[k] == '\'') return k;
        return std::string_view::npos;
    }

    // Records a literal from start to end (after its first quoted part), following
    // continuations; returns where scanning resumes.
    size_t literal(size_t start, size_t end, LiteralKind kind, bool backslash_escapes = false, bool unicode = false) {
        size_t next;
        while ((next = continuation(end)) != std::string_view::npos) end = quoted_string(next, backslash_escapes);
        if (unicode) end = uescape(end);
        LexLiteral lit;
        lit.offset = static_cast<int32_t>(start);
        lit.length = static_cast<int32_t>(end - start);
        lit.kind = kind;
        out_.literals.push_back(lit);
        if (kind == LiteralKind::string && !backslash_escapes &&
            s_.substr(start, end - start).find('\\') != std::string_view::npos) {
            out_.backslash_in_standard_string = true;
        }
        significant(true);
        return end;
    }

    // U&'...' UESCAPE 'c': the escape clause belongs to the literal.
    size_t uescape(size_t j) {
        size_t k = j;
        while (k < n_ && is_space(static_cast<unsigned char>(s_[k]))) ++k;
        if (k + 7 <= n_ && iequals(s_.substr(k, 7), "uescape") &&
            (k + 7 == n_ || !is_ident_cont(static_cast<unsigned char>(s_[k + 7])))) {
            size_t q = k + 7;
            while (q < n_ && is_space(static_cast<unsigned char>(s_[q]))) ++q;
            if (q < n_ && s_[q] == '\'') return quoted_string(q, false);
        }
        return j;
    }

    size_t quoted_identifier(size_t i) { return quoted_string(i, false, '"'); }

    size_t dollar(size_t i) {
        size_t j = i + 1;
        if (j < n_ && is_digit(s_[j])) {  // $n parameter
            while (j < n_ && is_digit(s_[j])) ++j;
            significant(false);
            return j;
        }
        // $tag$: the tag is an identifier without '$'.
        if (j < n_ && is_ident_start(s_[j])) {
            while (j < n_ && (is_ident_start(s_[j]) || is_digit(s_[j]))) ++j;
        }
        if (j < n_ && s_[j] == '$') {
            std::string_view delim = s_.substr(i, j + 1 - i);
            size_t close = s_.find(delim, j + 1);
            size_t end = close == std::string_view::npos ? n_ : close + delim.size();
            LexLiteral lit;
            lit.offset = static_cast<int32_t>(i);
            lit.length = static_cast<int32_t>(end - i);
            lit.kind = LiteralKind::string;
            out_.literals.push_back(lit);
            significant(true);
            return end;
        }
        significant(false);
        return i + 1;
    }

    size_t number(size_t i) {
        size_t j = i;
        bool real = false;
        while (j < n_ && is_digit(s_[j])) ++j;
        // "1..10" is 1 followed by "..": only a '.' not followed by another '.'.
        if (j < n_ && s_[j] == '.' && !(j + 1 < n_ && s_[j + 1] == '.')) {
            real = true;
            ++j;
            while (j < n_ && is_digit(s_[j])) ++j;
        }
        if (j < n_ && (s_[j] == 'e' || s_[j] == 'E')) {
            size_t k = j + 1;
            if (k < n_ && (s_[k] == '+' || s_[k] == '-')) ++k;
            if (k < n_ && is_digit(s_[k])) {
                real = true;
                j = k;
                while (j < n_ && is_digit(s_[j])) ++j;
            }
        }
        LexLiteral lit;
        lit.offset = static_cast<int32_t>(i);
        lit.length = static_cast<int32_t>(j - i);
        lit.kind = real ? LiteralKind::float_ : LiteralKind::integer;
        out_.literals.push_back(lit);
        significant(true);
        return j;
    }

    size_t word(size_t i) {
        size_t j = i + 1;
        while (j < n_ && is_ident_cont(static_cast<unsigned char>(s_[j]))) ++j;
        if (j - i == 1 && j < n_) {
            char p = lower(s_[i]);
            if (s_[j] == '\'') {
                if (p == 'e') return literal(i, quoted_string(j, true), LiteralKind::string, true);
                if (p == 'b' || p == 'x') return literal(i, quoted_string(j, false), LiteralKind::bit_string);
                if (p == 'n') return literal(i, quoted_string(j, false), LiteralKind::string);
            }
            if (p == 'u' && s_[j] == '&' && j + 1 < n_) {
                if (s_[j + 1] == '\'') return literal(i, quoted_string(j + 1, false), LiteralKind::string, false, true);
                if (s_[j + 1] == '"') {
                    size_t end = quoted_identifier(j + 1);
                    end = uescape(end);
                    significant(false);
                    return end;
                }
            }
        }
        std::string_view w = s_.substr(i, j - i);
        if (w.size() == 4 && (iequals(w, "true") || iequals(w, "null"))) {
            keyword_literal(i, j, lower(w[0]) == 't' ? LiteralKind::boolean : LiteralKind::null);
        } else if (w.size() == 5 && iequals(w, "false")) {
            keyword_literal(i, j, LiteralKind::boolean);
        } else if (iequals(w, "and") || iequals(w, "or")) {
            boolean_operator();
            significant(false);
        } else {
            if (uint32_t weight = keyword_weight(w)) add_ops(weight, i);
            significant(false);
        }
        return j;
    }
    void keyword_literal(size_t i, size_t j, LiteralKind kind) {
        LexLiteral lit;
        lit.offset = static_cast<int32_t>(i);
        lit.length = static_cast<int32_t>(j - i);
        lit.kind = kind;
        out_.literals.push_back(lit);
        significant(false);  // a keyword: a comment after it is not after a value
    }

    // An operator: op chars, but never containing the start of a comment.
    size_t op(size_t i) {
        size_t j = i;
        while (j < n_ && is_op_char(static_cast<unsigned char>(s_[j]))) {
            if (j > i && ((s_[j] == '-' && j + 1 < n_ && s_[j + 1] == '-') || (s_[j] == '*' && s_[j - 1] == '/') ||
                          (s_[j] == '/' && j + 1 < n_ && s_[j + 1] == '*')))
                break;
            ++j;
        }
        if (j > i && s_[j - 1] == '/' && j < n_ && s_[j] == '*') --j;
        if (j == i) j = i + 1;
        add_ops(operator_count(s_.substr(i, j - i)), i);
        significant(false);
        return j;
    }
    // How many operators PostgreSQL reads in a run of operator characters: scan.l
    // strips trailing '+' and '-' from an operator (unless it holds one of
    // ~!@#^&|`?%), so "+++++1" is five nested unary plus, not one operator.
    static uint32_t operator_count(std::string_view ops) {
        if (ops.find_first_of("~!@#^&|`?%") != std::string_view::npos) return 1;
        size_t trailing = 0;
        while (trailing < ops.size() &&
               (ops[ops.size() - 1 - trailing] == '+' || ops[ops.size() - 1 - trailing] == '-'))
            ++trailing;
        if (trailing == ops.size()) return static_cast<uint32_t>(trailing);
        return static_cast<uint32_t>(1 + trailing);
    }

    std::string_view s_;
    size_t n_;
    uint32_t max_depth_;
    LexResult& out_;
    std::vector<Frame>& frames_;
    // A lower bound of the depth at the current position: each open bracket plus
    // the operators of its current run (kept incrementally, checked on growth).
    uint32_t path_ = 1;
    size_t pending_from_ = 0;
    bool last_literal_ = false;
};

}  // namespace

int32_t find_invalid_encoding(std::string_view sql) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sql.data());
    size_t n = sql.size();
    size_t i = 0;
    while (i < n) {
        // ASCII fast path, eight bytes at a time.
        if (i + 8 <= n) {
            uint64_t w;
            std::memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                // A NUL byte in the word?
                if (((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) == 0) {
                    i += 8;
                    continue;
                }
            }
        }
        unsigned char c = p[i];
        if (c == 0) return static_cast<int32_t>(i);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return static_cast<int32_t>(i);
        }
        if (i + len > n) return static_cast<int32_t>(i);
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return static_cast<int32_t>(i);
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        // Overlong forms, surrogates and values past U+10FFFF.
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return static_cast<int32_t>(i);
        i += len;
    }
    return -1;
}

void lex(std::string_view sql, uint32_t max_depth, LexResult& out) {
    out.clear();
    Scanner(sql, max_depth, out).run();
}

int32_t word_length(std::string_view sql, int32_t offset) {
    if (offset < 0 || static_cast<size_t>(offset) >= sql.size()) return 0;
    size_t i = static_cast<size_t>(offset);
    size_t j = i;
    if (sql[i] == '"') {
        ++j;
        while (j < sql.size()) {
            if (sql[j] == '"') {
                if (j + 1 < sql.size() && sql[j + 1] == '"') {
                    j += 2;
                    continue;
                }
                ++j;
                break;
            }
            ++j;
        }
    } else {
        while (j < sql.size() && is_ident_cont(static_cast<unsigned char>(sql[j]))) ++j;
    }
    return static_cast<int32_t>(j - i);
}

bool is_sqlcommenter(std::string_view c) {
    if (c.size() < 4 || c.substr(0, 2) != "/*" || c.substr(c.size() - 2) != "*/") return false;
    std::string_view body = c.substr(2, c.size() - 4);
    size_t i = 0;
    auto skip_space = [&] {
        while (i < body.size() && is_space(static_cast<unsigned char>(body[i]))) ++i;
    };
    skip_space();
    if (i == body.size()) return false;
    while (true) {
        // key: URL-encoded, so letters, digits and a few marks only.
        size_t key_start = i;
        while (i < body.size() &&
               ((body[i] >= 'a' && body[i] <= 'z') || (body[i] >= 'A' && body[i] <= 'Z') || is_digit(body[i]) ||
                body[i] == '_' || body[i] == '.' || body[i] == '-' || body[i] == '%' || body[i] == '~'))
            ++i;
        if (i == key_start || i >= body.size() || body[i] != '=') return false;
        ++i;
        if (i >= body.size() || body[i] != '\'') return false;
        ++i;
        // value: up to the next unescaped quote.
        while (i < body.size() && body[i] != '\'') {
            if (body[i] == '\\') ++i;
            ++i;
        }
        if (i >= body.size()) return false;
        ++i;
        skip_space();
        if (i == body.size()) return true;
        if (body[i] != ',') return false;
        ++i;
        skip_space();
    }
}

bool is_marginalia(std::string_view c) {
    if (c.size() < 4 || c.substr(0, 2) != "/*" || c.substr(c.size() - 2) != "*/") return false;
    std::string_view body = c.substr(2, c.size() - 4);
    size_t i = 0;
    while (i < body.size() && is_space(static_cast<unsigned char>(body[i]))) ++i;
    size_t end = body.size();
    while (end > i && is_space(static_cast<unsigned char>(body[end - 1]))) --end;
    if (i == end) return false;
    // key:value[,key:value...]: word keys, values up to the next comma on one line.
    while (true) {
        size_t key_start = i;
        while (i < end && ((body[i] >= 'a' && body[i] <= 'z') || (body[i] >= 'A' && body[i] <= 'Z') ||
                           is_digit(body[i]) || body[i] == '_'))
            ++i;
        if (i == key_start || i >= end || body[i] != ':') return false;
        ++i;
        size_t value_start = i;
        while (i < end && body[i] != ',' && body[i] != '\n' && body[i] != '\r') ++i;
        if (i == value_start) return false;
        if (i == end) return true;
        if (body[i] != ',') return false;
        ++i;
    }
}

bool looks_like_sql(std::string_view c) {
    // What follows the -- or /*: the rest of a statement it would cut off.
    std::string_view body = c.size() >= 2 ? c.substr(2) : std::string_view{};
    if (body.size() >= 2 && body.substr(body.size() - 2) == "*/") body.remove_suffix(2);
    for (char ch : body)
        if (ch == '\'' || ch == '"' || ch == '(' || ch == ')' || ch == ';' || ch == '=' || ch == '<' || ch == '>' ||
            ch == '$' || ch == '|')
            return true;
    if (body.find("::") != std::string_view::npos) return true;
    // Clause keywords: those that are also common English words only as SQL is
    // usually written (upper case), the others in any case.
    static constexpr std::string_view kUpper[] = {"AND", "OR", "WHERE", "FROM", "SELECT", "JOIN",
                                                  "NOT", "IN", "IS",    "LIKE", "AS"};
    static constexpr std::string_view kAnyCase[] = {"limit",     "offset", "returning", "having",  "union",
                                                    "intersect", "except", "order by",  "group by"};
    size_t i = 0;
    while (i < body.size()) {
        while (i < body.size() && !is_ident_start(static_cast<unsigned char>(body[i]))) ++i;
        size_t start = i;
        while (i < body.size() && is_ident_cont(static_cast<unsigned char>(body[i]))) ++i;
        std::string_view word = body.substr(start, i - start);
        if (word.empty()) break;
        for (std::string_view k : kUpper)
            if (word == k) return true;
        // "order by", "group by": the word and the next one.
        std::string_view rest = body.substr(start);
        for (std::string_view k : kAnyCase) {
            if (rest.size() < k.size()) continue;
            bool match = true;
            for (size_t j = 0; j < k.size() && match; ++j) match = lower(rest[j]) == k[j];
            if (!match) continue;
            if (k.find(' ') == std::string_view::npos && word.size() != k.size()) continue;
            if (rest.size() == k.size() || !is_ident_cont(static_cast<unsigned char>(rest[k.size()]))) return true;
        }
    }
    return false;
}

}  // namespace pgmoat::sql::detail
