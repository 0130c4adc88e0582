// TOML strings for files pgmoat writes for people to read in a review.
#include "pgmoat/common/toml_text.h"

#include <fmt/format.h>

namespace pgmoat {

std::string toml_string(std::string_view s) {
    bool control = false;
    for (char c : s)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) control = true;
    if (!control && s.find_first_of("\"\\\n\t") == std::string_view::npos) return fmt::format("\"{}\"", s);
    if (!control && !s.empty() && s.find("\'\'\'") == std::string_view::npos && s.front() != '\n' && s.back() != '\'')
        return fmt::format("\'\'\'{}\'\'\'", s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\', out += c;
        else if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        else
            out += c;
    }
    return out + "\"";
}

}  // namespace pgmoat
