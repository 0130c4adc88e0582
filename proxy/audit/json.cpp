// JSON encoding for audit lines (hot: runs for every record on the writer thread)
// and a small strict parser for verification.
#include "pgmoat/audit/json.h"

#include "pgmoat/common/json_escape.h"
#include "pgmoat/common/utf8.h"

#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace pgmoat::audit::json {

using pgmoat::append_utf8;
using pgmoat::utf8_sequence_length;

namespace {}  // namespace

void append_time(std::string& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
    int64_t secs = us / 1'000'000;
    int64_t frac = us % 1'000'000;
    if (frac < 0) {
        frac += 1'000'000;
        secs -= 1;
    }
    // Records come many per second: the date and time of day are formatted once per
    // second (per thread), only the microseconds each time.
    thread_local int64_t cached_secs = INT64_MIN;
    thread_local char cached[64];
    if (secs != cached_secs) {
        std::time_t tt = static_cast<std::time_t>(secs);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d", (tm.tm_year + 1900) % 10000,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_secs = secs;
    }
    char buf[28];
    std::memcpy(buf, cached, 19);
    buf[19] = '.';
    for (int i = 25; i >= 20; --i) {
        buf[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
    }
    buf[26] = 'Z';
    out.append(buf, 27);
}

// ---- reading -----------------------------------------------------------------

const Value* Value::find(std::string_view key) const {
    for (const auto& [k, v] : members)
        if (k == key) return &v;
    return nullptr;
}

std::optional<int64_t> Value::integer() const {
    if (type != Type::number) return std::nullopt;
    int64_t v = 0;
    auto res = std::from_chars(text.data(), text.data() + text.size(), v);
    if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return std::nullopt;
    return v;
}

namespace {

class Parser {
  public:
    explicit Parser(std::string_view text) : s_(text) {}

    bool parse_document(Value& out) {
        skip_ws();
        if (!parse_value(out, 0)) return false;
        skip_ws();
        return i_ == s_.size();
    }

  private:
    void skip_ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }

    bool parse_value(Value& v, int depth) {
        if (depth > 32 || i_ >= s_.size()) return false;
        char c = s_[i_];
        if (c == '{') return parse_object(v, depth);
        if (c == '[') return parse_array(v, depth);
        if (c == '"') {
            v.type = Value::Type::string;
            return parse_string(v.text);
        }
        if (c == 't' || c == 'f') {
            v.type = Value::Type::boolean;
            v.boolean = c == 't';
            return literal(c == 't' ? "true" : "false");
        }
        if (c == 'n') {
            v.type = Value::Type::null;
            return literal("null");
        }
        return parse_number(v);
    }

    bool parse_object(Value& v, int depth) {
        v.type = Value::Type::object;
        ++i_;
        skip_ws();
        if (i_ < s_.size() && s_[i_] == '}') {
            ++i_;
            return true;
        }
        for (;;) {
            skip_ws();
            std::string key;
            if (i_ >= s_.size() || s_[i_] != '"' || !parse_string(key)) return false;
            skip_ws();
            if (i_ >= s_.size() || s_[i_] != ':') return false;
            ++i_;
            skip_ws();
            Value member;
            if (!parse_value(member, depth + 1)) return false;
            v.members.push_back({std::move(key), std::move(member)});
            skip_ws();
            if (i_ >= s_.size()) return false;
            if (s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (s_[i_] == '}') {
                ++i_;
                return true;
            }
            return false;
        }
    }

    bool parse_array(Value& v, int depth) {
        v.type = Value::Type::array;
        ++i_;
        skip_ws();
        if (i_ < s_.size() && s_[i_] == ']') {
            ++i_;
            return true;
        }
        for (;;) {
            skip_ws();
            Value item;
            if (!parse_value(item, depth + 1)) return false;
            v.items.push_back(std::move(item));
            skip_ws();
            if (i_ >= s_.size()) return false;
            if (s_[i_] == ',') {
                ++i_;
                continue;
            }
            if (s_[i_] == ']') {
                ++i_;
                return true;
            }
            return false;
        }
    }

    bool parse_string(std::string& out) {
        ++i_;  // opening quote
        const auto* u = reinterpret_cast<const unsigned char*>(s_.data());
        while (i_ < s_.size()) {
            unsigned char c = u[i_];
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\') {
                size_t taken = read_json_escape(s_, i_, out);
                if (taken == 0) return false;
                i_ += taken;
                continue;
            }
            if (c < 0x80) {
                out.push_back(static_cast<char>(c));
                ++i_;
                continue;
            }
            size_t len = utf8_sequence_length(u, s_.size(), i_);
            if (len == 0) return false;
            out.append(s_.data() + i_, len);
            i_ += len;
        }
        return false;
    }

    bool parse_number(Value& v) {
        size_t start = i_;
        auto digit = [&] { return i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; };
        if (i_ < s_.size() && s_[i_] == '-') ++i_;
        if (!digit()) return false;
        if (s_[i_] == '0')
            ++i_;
        else
            while (digit()) ++i_;
        if (i_ < s_.size() && s_[i_] == '.') {
            ++i_;
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            ++i_;
            if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
            if (!digit()) return false;
            while (digit()) ++i_;
        }
        v.type = Value::Type::number;
        v.text.assign(s_.substr(start, i_ - start));
        return true;
    }

    std::string_view s_;
    size_t i_ = 0;
};

}  // namespace

std::optional<Value> parse(std::string_view text) {
    Value v;
    Parser p(text);
    if (!p.parse_document(v)) return std::nullopt;
    return v;
}

}  // namespace pgmoat::audit::json
