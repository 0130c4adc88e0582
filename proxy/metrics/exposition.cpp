// Prometheus text exposition format 0.0.4: escaping, number formatting, names.
#include "pgmoat/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdint>

namespace pgmoat::metrics {

namespace {

std::string_view type_name(MetricType t) {
    switch (t) {
        case MetricType::counter:
            return "counter";
        case MetricType::gauge:
            return "gauge";
        case MetricType::histogram:
            return "histogram";
        case MetricType::untyped:
            break;
    }
    return "untyped";
}

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is not one
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_sequence(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
    unsigned char c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) return 0;
        if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
        if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) return 0;
        if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
        if (c == 0xF4 && b(1) > 0x8F) return 0;  // past U+10FFFF
        return 4;
    }
    return 0;
}

}  // namespace

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    char buf[32];
    std::to_chars_result r;
    // Every integral double below 2^63 is an exact int64: print it as one.
    if (value == std::trunc(value) && std::fabs(value) < 9223372036854775808.0)
        r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    else
        r = std::to_chars(buf, buf + sizeof buf, value);  // shortest that reads back exactly
    return std::string(buf, r.ptr);
}

std::string escape_help(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string escape_label_value(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        size_t n = utf8_sequence(text, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

bool is_valid_metric_name(std::string_view name) {
    if (name.empty()) return false;
    if (!is_name_start(name[0]) && name[0] != ':') return false;
    for (char c : name)
        if (!is_name_char(c) && c != ':') return false;
    return true;
}

bool is_valid_label_name(std::string_view name) {
    if (name.empty() || !is_name_start(name[0]) || name.starts_with("__")) return false;
    for (char c : name)
        if (!is_name_char(c)) return false;
    return true;
}

void render_to(std::string& out, const MetricFamily& family) {
    if (family.samples.empty()) return;
    if (!family.help.empty()) {
        out += "# HELP ";
        out += family.name;
        out += ' ';
        out += escape_help(family.help);
        out += '\n';
    }
    out += "# TYPE ";
    out += family.name;
    out += ' ';
    out += type_name(family.type);
    out += '\n';
    for (const auto& s : family.samples) {
        out += s.name;
        if (!s.labels.empty()) {
            out += '{';
            for (size_t i = 0; i < s.labels.size(); ++i) {
                if (i) out += ',';
                out += s.labels[i].first;
                out += "=\"";
                out += escape_label_value(s.labels[i].second);
                out += '"';
            }
            out += '}';
        }
        out += ' ';
        out += format_value(s.value);
        out += '\n';
    }
}

std::string render(const std::vector<MetricFamily>& families) {
    std::string out;
    for (const auto& f : families) render_to(out, f);
    return out;
}

}  // namespace pgmoat::metrics
