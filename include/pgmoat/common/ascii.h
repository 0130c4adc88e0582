// ASCII case folding as PostgreSQL folds keywords, unquoted names and setting
// names: only A-Z change, every other byte (UTF-8 included) stays as it is,
// whatever the C locale says.
#pragma once

#include <string>
#include <string_view>

namespace pgmoat::ascii {

constexpr char to_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char to_upper(char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline void lower_in_place(std::string& s) {
    for (char& c : s) c = to_lower(c);
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    lower_in_place(out);
    return out;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

}  // namespace pgmoat::ascii
