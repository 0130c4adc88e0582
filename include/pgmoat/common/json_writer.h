// A small streaming JSON writer for machine-readable output (pgmoat explain
// --json). Strings are escaped so that any byte sequence yields valid JSON on one
// line: control characters as \u00XX, invalid UTF-8 bytes as \uFFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgmoat {

void append_json_string(std::string& out, std::string_view s);

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view v);
    JsonWriter& value(const char* v) { return value(std::string_view(v)); }
    JsonWriter& value(int64_t v);
    JsonWriter& value(bool v);
    JsonWriter& null();

private:
    void separate();
    std::string& out_;
    bool need_comma_ = false;
};

}  // namespace pgmoat
