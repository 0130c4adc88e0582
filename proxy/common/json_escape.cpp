// JSON string escapes (json_escape.h).
#include "pgmoat/common/json_escape.h"

#include "pgmoat/common/utf8.h"

#include <cstdint>

namespace pgmoat {

namespace {

// The four hex digits at text[at]; false when there are not four.
bool hex4(std::string_view text, size_t at, uint32_t& out) {
    if (at + 4 > text.size()) return false;
    out = 0;
    for (size_t i = at; i < at + 4; ++i) {
        char c = text[i];
        out <<= 4;
        if (c >= '0' && c <= '9')
            out |= static_cast<uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
            out |= static_cast<uint32_t>(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            out |= static_cast<uint32_t>(c - 'A' + 10);
        else
            return false;
    }
    return true;
}

}  // namespace

size_t read_json_escape(std::string_view text, size_t at, std::string& out) {
    if (at + 1 >= text.size() || text[at] != '\\') return 0;
    char simple = 0;
    switch (text[at + 1]) {
        case '"':
        case '\\':
        case '/':
            simple = text[at + 1];
            break;
        case 'b':
            simple = '\b';
            break;
        case 'f':
            simple = '\f';
            break;
        case 'n':
            simple = '\n';
            break;
        case 'r':
            simple = '\r';
            break;
        case 't':
            simple = '\t';
            break;
        case 'u':
            break;
        default:
            return 0;
    }
    if (simple) {
        out.push_back(simple);
        return 2;
    }
    uint32_t cp = 0;
    if (!hex4(text, at + 2, cp)) return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;  // a low surrogate first
    if (cp < 0xD800 || cp > 0xDBFF) {
        append_utf8(out, cp);
        return 6;
    }
    uint32_t low = 0;
    if (at + 7 >= text.size() || text[at + 6] != '\\' || text[at + 7] != 'u' || !hex4(text, at + 8, low) ||
        low < 0xDC00 || low > 0xDFFF)
        return 0;
    append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00));
    return 12;
}

}  // namespace pgmoat
