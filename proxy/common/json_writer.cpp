#include "pgmoat/common/json_writer.h"

#include "pgmoat/common/utf8.h"

namespace pgmoat {

namespace {
constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, uint32_t code) {
    char buf[6] = {
        '\\', 'u', kHex[(code >> 12) & 0xf], kHex[(code >> 8) & 0xf], kHex[(code >> 4) & 0xf], kHex[code & 0xf]};
    out.append(buf, sizeof buf);
}
}  // namespace

void append_json_string(std::string& out, std::string_view sv) {
    const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
    size_t n = sv.size();
    out.push_back('"');
    size_t i = 0;
    while (i < n) {
        // Copy the longest run of printable ASCII that needs no escape in one go.
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\') ++run;
        if (run > i) {
            out.append(sv.data() + i, run - i);
            i = run;
            if (i == n) break;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                default:
                    append_u_escape(out, c);
                    break;  // other C0 controls and DEL
            }
            ++i;
            continue;
        }
        size_t len = utf8_sequence_length(s, n, i);
        if (len == 0) {
            out.append("\\ufffd");
            ++i;
            continue;
        }
        if (len == 2 && c == 0xC2 && s[i + 1] <= 0x9F) {
            append_u_escape(out, s[i + 1]);  // C1 control: U+0080..U+009F
        } else if (len == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) {
            append_u_escape(out, s[i + 2] == 0xA8 ? 0x2028 : 0x2029);
        } else {
            out.append(sv.data() + i, len);
        }
        i += len;
    }
    out.push_back('"');
}

void JsonWriter::separate() {
    if (need_comma_) out_.push_back(',');
    need_comma_ = true;
}

JsonWriter& JsonWriter::begin_object() {
    separate();
    out_.push_back('{');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    out_.push_back('}');
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    separate();
    out_.push_back('[');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    out_.push_back(']');
    need_comma_ = true;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
    separate();
    append_json_string(out_, k);
    out_.push_back(':');
    need_comma_ = false;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view v) {
    separate();
    append_json_string(out_, v);
    return *this;
}

JsonWriter& JsonWriter::value(int64_t v) {
    separate();
    out_ += std::to_string(v);
    return *this;
}

JsonWriter& JsonWriter::value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    separate();
    out_ += "null";
    return *this;
}

}  // namespace pgmoat
