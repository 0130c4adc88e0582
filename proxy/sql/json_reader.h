// A minimal pull reader for the JSON libpg_query prints: no DOM, no copies, one
// forward pass. Malformed input never reads out of bounds; it sets !ok() and
// the caller fails closed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pgmoat::sql::detail {

class JsonReader {
  public:
    JsonReader(const char* begin, const char* end) : p_(begin), end_(end) {}

    bool ok() const { return ok_; }
    void fail() {
        ok_ = false;
        p_ = end_;
    }
    bool at_end() {
        skip_space();
        return p_ >= end_;
    }

    // The first character of the next value: '{', '[', '"', or a scalar's first
    // character; '\0' at the end.
    char peek() {
        skip_space();
        return p_ < end_ ? *p_ : '\0';
    }

    // Whether the next value is a node wrapper {"TypeName": ...}: libpg_query
    // writes node types capitalised and field names in lower case.
    bool peek_wrapped() {
        skip_space();
        const char* q = p_;
        if (q >= end_ || *q != '{') return false;
        ++q;
        while (q < end_ && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')) ++q;
        return q + 1 < end_ && *q == '"' && q[1] >= 'A' && q[1] <= 'Z';
    }

    // Where the next value starts: with the position after it, the value's text.
    const char* position() {
        skip_space();
        return p_;
    }

    bool begin_object() { return expect('{'); }
    bool begin_array() { return expect('['); }

    // Next key of the current object, or false after consuming its '}'.
    bool next_key(std::string_view& key) {
        // Fast path for what libpg_query prints: no white space, keys without
        // escapes. Anything else takes the general path below.
        const char* q = p_;
        const char* const end = end_;
        if (q < end && *q == ',') ++q;
        if (q < end && *q == '}') {
            p_ = q + 1;
            return false;
        }
        if (q < end && *q == '"') {
            const char* start = ++q;
            q = quote_or_backslash(q, end);
            if (q + 1 < end && *q == '"' && q[1] == ':') {
                key = std::string_view(start, static_cast<size_t>(q - start));
                p_ = q + 2;
                return true;
            }
        }
        return next_key_slow(key);
    }

    // Whether the next bytes are exactly prefix; consumes them if so.
    bool consume(std::string_view prefix) {
        if (static_cast<size_t>(end_ - p_) < prefix.size() || std::memcmp(p_, prefix.data(), prefix.size()) != 0)
            return false;
        p_ += prefix.size();
        return true;
    }
    bool starts_with(std::string_view prefix) const {
        return static_cast<size_t>(end_ - p_) >= prefix.size() && p_[1] == prefix[1] && p_[2] == prefix[2] &&
               std::memcmp(p_, prefix.data(), prefix.size()) == 0;
    }

    // Whether the current array has another element; consumes its ']' when not.
    bool next_element() { return another(']'); }

    // A string value as it appears between the quotes; escaped says whether it
    // holds backslash escapes (see unescape()).
    bool string(std::string_view& raw, bool& escaped) {
        skip_space();
        escaped = false;
        const char* q = p_;  // a local, so the loop runs in registers
        const char* const end = end_;
        if (q >= end || *q != '"') {
            fail();
            return false;
        }
        const char* start = ++q;
        q = quote_or_backslash(q, end);
        while (q < end) {
            char c = *q;
            if (c == '"') {
                raw = std::string_view(start, static_cast<size_t>(q - start));
                p_ = q + 1;
                return true;
            }
            if (c == '\\') {
                escaped = true;
                q += 2;
            } else {
                ++q;
            }
        }
        fail();
        return false;
    }

    // A number, true, false or null as written.
    std::string_view scalar() {
        skip_space();
        const char* const start = p_;
        const char* q = start;
        while (q < end_) {
            char c = *q;
            if (c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r') break;
            ++q;
        }
        p_ = q;
        if (q == start) fail();
        return std::string_view(start, static_cast<size_t>(q - start));
    }

    // Skips one value of any shape without recursion.
    void skip() {
        skip_space();
        if (p_ >= end_) {
            fail();
            return;
        }
        char c = *p_;
        if (c == '"') {
            std::string_view s;
            bool e;
            string(s, e);
            return;
        }
        if (c != '{' && c != '[') {
            scalar();
            return;
        }
        size_t depth = 0;
        while (p_ < end_) {
            c = *p_;
            if (c == '"') {
                std::string_view s;
                bool e;
                if (!string(s, e)) return;
                continue;
            }
            ++p_;
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return;
            }
        }
        fail();
    }

    // An integer scalar, read in place; false (nothing consumed) for anything else.
    bool integer(int64_t& out) {
        const char* q = p_;
        const char* const end = end_;
        bool neg = q < end && *q == '-';
        if (neg) ++q;
        if (q >= end || *q < '0' || *q > '9') return false;
        int64_t v = 0;
        while (q < end && *q >= '0' && *q <= '9') {
            if (v < (INT64_MAX - 9) / 10) v = v * 10 + (*q - '0');
            ++q;
        }
        if (q < end && (*q == '.' || *q == 'e' || *q == 'E')) return false;
        p_ = q;
        out = neg ? -v : v;
        return true;
    }

    static int64_t to_int(std::string_view s) {
        int64_t v = 0;
        bool neg = !s.empty() && s[0] == '-';
        for (size_t i = neg ? 1 : 0; i < s.size(); ++i) {
            if (s[i] < '0' || s[i] > '9') break;
            if (v > (INT64_MAX - 9) / 10) break;
            v = v * 10 + (s[i] - '0');
        }
        return neg ? -v : v;
    }

    // The next token, structure ignored: a string with its quotes, a number or
    // keyword, or a bracket; commas and colons only separate and are skipped.
    // False at the end. For comparing printed subtrees token by token.
    bool token(std::string_view& out) {
        while (p_ < end_ && (*p_ == ',' || *p_ == ':' || *p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
        if (p_ >= end_) return false;
        const char* start = p_;
        if (*p_ == '"') {
            for (++p_; p_ < end_ && *p_ != '"'; ++p_)
                if (*p_ == '\\') ++p_;
            p_ = p_ + 1 < end_ ? p_ + 1 : end_;
        } else if (*p_ == '{' || *p_ == '}' || *p_ == '[' || *p_ == ']') {
            ++p_;
        } else {
            while (p_ < end_ && *p_ != ',' && *p_ != ':' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' &&
                   *p_ != '\t' && *p_ != '\r')
                ++p_;
        }
        out = std::string_view(start, static_cast<size_t>(p_ - start));
        return true;
    }

    // Decodes JSON escapes (\" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs).
    static std::string unescape(std::string_view raw);

  private:
    // Past the ',' before the next member: true when there is one, false (the
    // closer consumed, or the text failed) when the array or object ends.
    bool another(char closer) {
        skip_space();
        if (p_ < end_ && *p_ == ',') ++p_;
        skip_space();
        if (p_ >= end_) {
            fail();
            return false;
        }
        if (*p_ == closer) {
            ++p_;
            return false;
        }
        return true;
    }

    [[gnu::noinline]] bool next_key_slow(std::string_view& key) {
        if (!another('}')) return false;
        bool escaped;
        if (!string(key, escaped) || !expect(':')) {
            fail();
            return false;
        }
        return true;
    }

    // High bit set in each byte of w equal to c (exact up to the first match).
    static uint64_t has_byte(uint64_t w, char c) {
        uint64_t x = w ^ (0x0101010101010101ULL * static_cast<unsigned char>(c));
        return (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
    }

    // The first '"' or '\\' from q on, or end: eight bytes at a time (names
    // and most strings are short and escape-free).
    static const char* quote_or_backslash(const char* q, const char* end) {
        while (q + 8 <= end) {
            uint64_t w;
            std::memcpy(&w, q, 8);
            uint64_t hit = has_byte(w, '"') | has_byte(w, '\\');
            if (hit) return q + __builtin_ctzll(hit) / 8;
            q += 8;
        }
        while (q < end && *q != '"' && *q != '\\') ++q;
        return q;
    }
    void skip_space() {
        // libpg_query prints no white space; stay cheap when there is none.
        if (p_<end_&& static_cast<unsigned char>(*p_)> ' ') return;
        while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
    }
    bool expect(char c) {
        skip_space();
        if (p_ < end_ && *p_ == c) {
            ++p_;
            return true;
        }
        fail();
        return false;
    }

    const char* p_;
    const char* end_;
    bool ok_ = true;
};

}  // namespace pgmoat::sql::detail
