// JSON string unescaping, for the rare names that carry escapes (quotes,
// backslashes, control characters, and '<', '>', '&', which libpg_query escapes).
#include "json_reader.h"

#include "pgmoat/common/utf8.h"

namespace pgmoat::sql::detail {

namespace {

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool read_hex4(std::string_view s, size_t at, uint32_t& out) {
    if (at + 4 > s.size()) return false;
    out = 0;
    for (size_t i = 0; i < 4; ++i) {
        int v = hex(s[at + i]);
        if (v < 0) return false;
        out = (out << 4) | static_cast<uint32_t>(v);
    }
    return true;
}

}  // namespace

std::string JsonReader::unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c != '\\' || i + 1 >= raw.size()) {
            out.push_back(c);
            continue;
        }
        char e = raw[++i];
        switch (e) {
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case 'r':
                out.push_back('\r');
                break;
            case 'b':
                out.push_back('\b');
                break;
            case 'f':
                out.push_back('\f');
                break;
            case 'u': {
                uint32_t cp;
                if (!read_hex4(raw, i + 1, cp)) {
                    out.push_back('u');
                    break;
                }
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') {
                    uint32_t low;
                    if (read_hex4(raw, i + 3, low) && low >= 0xDC00 && low <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                }
                append_utf8(out, cp);
                break;
            }
            default:
                out.push_back(e);
                break;  // \" \\ \/
        }
    }
    return out;
}

}  // namespace pgmoat::sql::detail
