// JSON output: string escaping shared by audit lines and pgmoat explain --json,
// and a small streaming writer.
//
// append_json_string appends s as a JSON string literal with its quotes. Valid
// UTF-8 is copied as is, except that control characters (U+0000–U+001F, U+007F,
// U+0080–U+009F) and U+2028/U+2029 are \u-escaped ('\n', '\t' and friends get
// their short escapes). Each byte that is not part of a valid UTF-8 sequence
// becomes \ufffd: the output is deterministic and never contains a raw newline.
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
