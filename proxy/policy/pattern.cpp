#include "pgmoat/policy/pattern.h"

#include "pgmoat/common/ascii.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace pgmoat::policy {

bool glob_match(std::string_view p, std::string_view t) {
    // Iterative matching with one backtrack point: linear in practice, never
    // exponential whatever the pattern.
    size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

namespace {
// Folds one dotted part as PostgreSQL folds identifiers: quoted exact, else lower.
bool fold_part(std::string_view part, std::string& out, std::string& error) {
    if (part.size() >= 2 && part.front() == '"' && part.back() == '"') {
        out = std::string(part.substr(1, part.size() - 2));
        return true;
    }
    if (part.find('"') != std::string_view::npos) {
        error = "unbalanced double quote";
        return false;
    }
    out = ascii::lower(part);
    return true;
}

// Splits at the first dot that is outside double quotes.
size_t split_dot(std::string_view s) {
    bool quoted = false;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (s[i] == '.' && !quoted)
            return i;
    }
    return std::string_view::npos;
}
}  // namespace

std::optional<QualifiedPattern> QualifiedPattern::parse(std::string_view text, std::string& error) {
    QualifiedPattern p;
    p.text = std::string(text);
    if (text.empty()) {
        error = "empty pattern";
        return std::nullopt;
    }
    size_t dot = split_dot(text);
    if (dot == std::string_view::npos) {
        if (!fold_part(text, p.name, error)) return std::nullopt;
    } else {
        if (split_dot(text.substr(dot + 1)) != std::string_view::npos) {
            error = "expected \"schema.name\" or \"name\"";
            return std::nullopt;
        }
        if (!fold_part(text.substr(0, dot), p.schema, error) || !fold_part(text.substr(dot + 1), p.name, error)) {
            return std::nullopt;
        }
        if (p.schema.empty() || p.name.empty()) {
            error = "expected \"schema.name\" or \"name\"";
            return std::nullopt;
        }
    }
    if (p.name.empty()) {
        error = "empty name";
        return std::nullopt;
    }
    return p;
}

bool QualifiedPattern::matches(std::string_view schema, std::string_view name,
                               bool unqualified_matches_any_schema) const {
    if (!glob_match(this->name, name)) return false;
    if (this->schema.empty()) return true;
    if (schema.empty()) {
        // Which schema an unqualified name resolves to depends on search_path at
        // run time. Deny rules assume the worst (it may be any schema); allow rules
        // only accept the schema pgmoat assumes (public).
        return unqualified_matches_any_schema || glob_match(this->schema, "public");
    }
    return glob_match(this->schema, schema);
}

namespace {
bool parse_address(std::string_view text, std::array<uint8_t, 16>& out, bool& v4) {
    std::string s(text);
    in_addr a4{};
    in6_addr a6{};
    if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
        out.fill(0);
        out[10] = out[11] = 0xff;
        std::memcpy(out.data() + 12, &a4, 4);
        v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
        std::memcpy(out.data(), &a6, 16);
        v4 = false;
        return true;
    }
    return false;
}
}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
    Cidr c;
    c.text = std::string(text);
    auto slash = text.find('/');
    bool v4 = false;
    if (!parse_address(text.substr(0, slash), c.address, v4)) return std::nullopt;
    int bits = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        auto num = text.substr(slash + 1);
        auto r = std::from_chars(num.data(), num.data() + num.size(), bits);
        if (r.ec != std::errc() || r.ptr != num.data() + num.size() || bits < 0 || bits > (v4 ? 32 : 128)) {
            return std::nullopt;
        }
    }
    c.prefix = v4 ? bits + 96 : bits;
    // Host bits set in the network address are a typo worth refusing.
    for (int i = c.prefix; i < 128; ++i) {
        if (c.address[static_cast<size_t>(i / 8)] & (0x80 >> (i % 8))) return std::nullopt;
    }
    return c;
}

bool Cidr::contains(std::string_view text) const {
    std::array<uint8_t, 16> a{};
    bool v4 = false;
    if (!parse_address(text, a, v4)) return false;
    for (int i = 0; i < prefix; ++i) {
        uint8_t mask = static_cast<uint8_t>(0x80 >> (i % 8));
        if ((a[static_cast<size_t>(i / 8)] & mask) != (address[static_cast<size_t>(i / 8)] & mask)) return false;
    }
    return true;
}

}  // namespace pgmoat::policy
