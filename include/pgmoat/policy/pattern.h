// The name patterns policy files use: shell-style globs over identifiers
// ("pg_sleep*", "public.*"), and client address ranges in CIDR notation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgmoat::policy {

// '*' matches any run of characters, '?' one character; everything else matches
// itself. Identifiers are compared exactly (the analyzer has already folded case
// as PostgreSQL does); patterns written in a policy are folded to lower case
// unless they are double-quoted.
bool glob_match(std::string_view pattern, std::string_view text);

// "schema.name", "name" (any schema) or "*"; each part may hold globs.
struct QualifiedPattern {
    std::string schema;  // empty: any schema, including an unqualified name
    std::string name;
    std::string text;  // as written, for messages

    // Parses and folds case; nullopt with `error` set for malformed patterns.
    static std::optional<QualifiedPattern> parse(std::string_view text, std::string& error);
    // schema is the name as written in SQL (empty when unqualified). Where an
    // unqualified name resolves depends on search_path at run time: deny rules pass
    // true (it may be any schema), allow rules false (only "public" is assumed).
    bool matches(std::string_view schema, std::string_view name, bool unqualified_matches_any_schema) const;
};

// An IPv4 or IPv6 network, e.g. "10.0.0.0/8", "::1/128", or a single address.
struct Cidr {
    std::array<uint8_t, 16> address{};  // IPv4 stored as IPv4-mapped IPv6
    int prefix = 0;                     // in bits of the 128-bit form
    std::string text;

    static std::optional<Cidr> parse(std::string_view text);
    bool contains(std::string_view address) const;
};

}  // namespace pgmoat::policy
