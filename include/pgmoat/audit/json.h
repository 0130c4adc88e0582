// The JSON the audit log needs: an encoder that always produces one valid line
// whatever bytes it is given, and a small strict reader for `pgmoat audit verify`
// and the tests (records are flat objects with a few arrays; nothing else is
// needed, so no JSON library).
#pragma once

#include "pgmoat/common/json_writer.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::audit::json {

// Appends s as a JSON string literal (see pgmoat::append_json_string).
inline void append_string(std::string& out, std::string_view s) {
    pgmoat::append_json_string(out, s);
}

// Appends the time as RFC 3339 UTC with microseconds: 2026-11-24T10:00:00.123456Z.
void append_time(std::string& out, std::chrono::system_clock::time_point t);

struct Member;

// A parsed JSON value. Numbers keep their text; integer() parses it.
struct Value {
    enum class Type { null, boolean, number, string, array, object };
    Type type = Type::null;
    bool boolean = false;
    std::string text;  // the string's decoded value, or the number as written
    std::vector<Value> items;
    std::vector<Member> members;  // in document order

    const Value* find(std::string_view key) const;  // first member named key
    std::optional<int64_t> integer() const;         // numbers without fraction or exponent
    bool is_string() const { return type == Type::string; }
};

struct Member {
    std::string key;
    Value value;
};

// Parses exactly one JSON value spanning the whole text (RFC 8259, nesting at most
// 32 deep, duplicate keys allowed and kept). Returns nullopt on any error.
std::optional<Value> parse(std::string_view text);

}  // namespace pgmoat::audit::json
