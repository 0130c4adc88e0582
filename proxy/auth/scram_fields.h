// Reading the comma-separated attributes of a SCRAM message (RFC 5802), for the
// server side pgmoat plays to apps and the client side it plays upstream alike.
#pragma once

#include <optional>
#include <string_view>

namespace pgmoat::auth {

// The fields of a message, one at a time; done once the last has been taken.
struct ScramFields {
    std::string_view rest;
    bool done = false;

    // The next field; nullopt past the end.
    std::optional<std::string_view> next() {
        if (done) return std::nullopt;
        auto pos = rest.find(',');
        if (pos == std::string_view::npos) {
            done = true;
            return rest;
        }
        auto field = rest.substr(0, pos);
        rest.remove_prefix(pos + 1);
        return field;
    }
};

// "x=value" with x an ASCII letter (RFC 5802 attr-val).
inline bool scram_attribute(std::string_view field, char& name, std::string_view& value) {
    if (field.size() < 2 || field[1] != '=') return false;
    char c = field[0];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
    name = c;
    value = field.substr(2);
    return true;
}

// The field is attribute `expected`: its value in value.
inline bool attribute_named(std::optional<std::string_view> field, char expected, std::string_view& value) {
    char name = 0;
    return field && scram_attribute(*field, name, value) && name == expected;
}

}  // namespace pgmoat::auth
