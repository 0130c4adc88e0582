// regclassin() → stringToQualifiedNameList() → SplitIdentifierString(): dotted
// parts, white space around each, "quoted" parts exact (a doubled quote is
// one), unquoted ones lower-cased (ASCII only in UTF-8), each cut to 63 bytes.
#include "regclass_name.h"

#include "pgmoat/common/ascii.h"

#include <vector>

namespace pgmoat::sql::detail {

namespace {

constexpr size_t kMaxIdentifier = 63;  // NAMEDATALEN - 1

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// truncate_identifier(): at most 63 bytes, never inside a UTF-8 character.
void truncate(std::string& s) {
    if (s.size() <= kMaxIdentifier) return;
    size_t n = kMaxIdentifier;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s.resize(n);
}

}  // namespace

bool parse_regclass_name(std::string_view text, RegclassName& out) {
    // An OID, or "-" for none: not a name.
    if (text == "-") return false;
    if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) return false;
    std::vector<std::string> parts;
    size_t i = 0;
    const size_t n = text.size();
    while (i < n && is_space(text[i])) ++i;
    if (i == n) return false;
    while (true) {
        std::string part;
        if (text[i] == '"') {
            for (++i;; ++i) {
                if (i >= n) return false;  // unterminated
                if (text[i] == '"') {
                    if (i + 1 < n && text[i + 1] == '"') {
                        part += '"';
                        ++i;
                        continue;
                    }
                    ++i;
                    break;
                }
                part += text[i];
            }
            if (part.empty()) return false;
        } else {
            while (i < n && text[i] != '.' && !is_space(text[i])) {
                part += ascii::to_lower(text[i++]);
            }
            if (part.empty()) return false;
        }
        truncate(part);
        parts.push_back(std::move(part));
        while (i < n && is_space(text[i])) ++i;
        if (i == n) break;
        if (text[i] != '.') return false;
        ++i;
        while (i < n && is_space(text[i])) ++i;
        if (i == n) return false;
    }
    if (parts.size() > 3) return false;
    out = RegclassName{};
    out.name = std::move(parts.back());
    if (parts.size() >= 2) out.schema = std::move(parts[parts.size() - 2]);
    if (parts.size() == 3) out.catalog = std::move(parts[0]);
    return true;
}

}  // namespace pgmoat::sql::detail
