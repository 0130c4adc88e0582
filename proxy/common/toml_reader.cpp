#include "pgmoat/common/toml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pgmoat {

namespace {
int line_of_node(const toml::node& n) {
    return static_cast<int>(n.source().begin.line);
}
int column_of_node(const toml::node& n) {
    return static_cast<int>(n.source().begin.column);
}

const char* type_name(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        default:
            return "a date or time";
    }
}
}  // namespace

namespace {
// TOML allows non-ASCII text only inside strings and comments. toml++ 3.3.0 reports
// a stray non-ASCII character poorly (and, unpatched, reaches undefined behaviour
// on it: see toml_impl.cpp), so find it first and name its line and column.
void reject_stray_non_ascii(const std::string& text, const std::string& file) {
    enum class In { code, comment, basic, literal, ml_basic, ml_literal } in = In::code;
    int line = 1, column = 1;
    for (size_t i = 0; i < text.size(); ++i, ++column) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        auto starts = [&](const char* s) { return text.compare(i, std::strlen(s), s) == 0; };
        if (c == '\n') {
            ++line;
            column = 0;
            if (in == In::comment || in == In::basic || in == In::literal) in = In::code;
            continue;
        }
        switch (in) {
            case In::code:
                if (c >= 0x80) {
                    throw ConfigError(
                        file, line, column,
                        "non-ASCII character outside a quoted string or comment (quote the key or value)");
                }
                if (c == '#')
                    in = In::comment;
                else if (starts("\"\"\""))
                    in = In::ml_basic, i += 2, column += 2;
                else if (starts("'''"))
                    in = In::ml_literal, i += 2, column += 2;
                else if (c == '"')
                    in = In::basic;
                else if (c == '\'')
                    in = In::literal;
                break;
            case In::comment:
                break;
            case In::basic:
                if (c == '\\')
                    ++i, ++column;
                else if (c == '"')
                    in = In::code;
                break;
            case In::literal:
                if (c == '\'') in = In::code;
                break;
            case In::ml_basic:
                if (c == '\\')
                    ++i, ++column;
                else if (starts("\"\"\""))
                    in = In::code, i += 2, column += 2;
                break;
            case In::ml_literal:
                if (starts("'''")) in = In::code, i += 2, column += 2;
                break;
        }
    }
}
}  // namespace

toml::table parse_toml(const std::string& text, const std::string& file) {
    reject_stray_non_ascii(text, file);
    try {
        return toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        throw ConfigError(file, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                          std::string(e.description()));
    }
}

toml::table parse_toml_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "cannot open file");
    std::ostringstream buf;
    buf << in.rdbuf();
    return parse_toml(buf.str(), path);
}

TomlTable::TomlTable(const toml::table& table, std::string file, std::string path)
    : table_(&table), file_(std::move(file)), path_(std::move(path)) {}

bool TomlTable::has(std::string_view key) const {
    return table_->contains(key);
}

std::string TomlTable::value_text(std::string_view key) const {
    auto* n = table_->get(key);
    if (!n) return {};
    std::ostringstream out;
    n->visit([&](const auto& v) { out << v; });
    return out.str();
}

std::string TomlTable::key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

int TomlTable::line() const {
    return line_of_node(*table_);
}

int TomlTable::line_of(std::string_view key) const {
    auto* n = table_->get(key);
    return n ? line_of_node(*n) : line();
}

void TomlTable::fail(std::string_view key, const std::string& message) const {
    auto* n = table_->get(key);
    if (n)
        throw ConfigError(file_, line_of_node(*n), column_of_node(*n), fmt::format("{}: {}", key_path(key), message));
    throw ConfigError(file_, line(), column_of_node(*table_), fmt::format("{}: {}", key_path(key), message));
}

void TomlTable::fail_here(const std::string& message) const {
    throw ConfigError(file_, line(), column_of_node(*table_),
                      path_.empty() ? message : fmt::format("[{}]: {}", path_, message));
}

const toml::node* TomlTable::get(std::string_view key) {
    used_.emplace(key);
    return table_->get(key);
}

std::optional<std::string> TomlTable::string(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    if (auto s = n->as_string()) return s->get();
    fail(key, fmt::format("expected a string, found {}", type_name(*n)));
}

std::optional<int64_t> TomlTable::integer(std::string_view key, int64_t min, int64_t max) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    auto i = n->as_integer();
    if (!i) fail(key, fmt::format("expected an integer, found {}", type_name(*n)));
    int64_t v = i->get();
    if (v < min || v > max) fail(key, fmt::format("{} is out of range [{}, {}]", v, min, max));
    return v;
}

std::optional<std::string> TomlTable::string_or_integer(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    if (auto s = n->as_string()) return s->get();
    if (auto i = n->as_integer()) return std::to_string(i->get());
    fail(key, fmt::format("expected a string or an integer, found {}", type_name(*n)));
}

std::optional<bool> TomlTable::boolean(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    if (auto b = n->as_boolean()) return b->get();
    fail(key, fmt::format("expected true or false, found {}", type_name(*n)));
}

namespace {
// Splits "250ms" into 250 and "ms"; returns false when there is no leading number.
bool split_number(std::string_view s, uint64_t& number, std::string_view& unit) {
    auto res = std::from_chars(s.data(), s.data() + s.size(), number);
    if (res.ec != std::errc() || res.ptr == s.data()) return false;
    unit = s.substr(static_cast<size_t>(res.ptr - s.data()));
    while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
    return true;
}
}  // namespace

std::optional<std::chrono::milliseconds> TomlTable::duration(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    if (auto i = n->as_integer()) {
        if (i->get() == 0) return std::chrono::milliseconds(0);
        fail(key, "a duration needs a unit, e.g. \"500ms\", \"10s\", \"5m\"");
    }
    auto s = n->as_string();
    if (!s) fail(key, fmt::format("expected a duration such as \"10s\", found {}", type_name(*n)));
    uint64_t v = 0;
    std::string_view unit;
    if (!split_number(s->get(), v, unit)) fail(key, fmt::format("\"{}\" is not a duration such as \"10s\"", s->get()));
    if (v == 0 && unit.empty()) return std::chrono::milliseconds(0);  // "0": off, whatever the unit
    uint64_t factor = 0;
    if (unit == "ms")
        factor = 1;
    else if (unit == "s")
        factor = 1000;
    else if (unit == "m" || unit == "min")
        factor = 60'000;
    else if (unit == "h")
        factor = 3'600'000;
    else
        fail(key, fmt::format("unknown duration unit \"{}\" (use ms, s, m or h)", unit));
    if (v > uint64_t(1) << 40) fail(key, "duration is too large");
    return std::chrono::milliseconds(static_cast<int64_t>(v * factor));
}

std::optional<uint64_t> TomlTable::size(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    if (auto i = n->as_integer()) {
        if (i->get() < 0) fail(key, "a size cannot be negative");
        return static_cast<uint64_t>(i->get());
    }
    auto s = n->as_string();
    if (!s) fail(key, fmt::format("expected a size such as \"8MB\", found {}", type_name(*n)));
    uint64_t v = 0;
    std::string_view unit;
    if (!split_number(s->get(), v, unit)) fail(key, fmt::format("\"{}\" is not a size such as \"8MB\"", s->get()));
    uint64_t factor = 0;
    if (unit.empty() || unit == "B")
        factor = 1;
    else if (unit == "kB" || unit == "KB" || unit == "KiB")
        factor = 1024;
    else if (unit == "MB" || unit == "MiB")
        factor = 1024 * 1024;
    else if (unit == "GB" || unit == "GiB")
        factor = 1024ull * 1024 * 1024;
    else
        fail(key, fmt::format("unknown size unit \"{}\" (use B, kB, MB or GB)", unit));
    if (v > (uint64_t(1) << 50) / factor) fail(key, "size is too large");
    return v * factor;
}

std::optional<std::vector<std::string>> TomlTable::strings(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    auto arr = n->as_array();
    if (!arr) fail(key, fmt::format("expected an array of strings, found {}", type_name(*n)));
    std::vector<std::string> out;
    for (const auto& el : *arr) {
        auto s = el.as_string();
        if (!s) {
            throw ConfigError(
                file_, line_of_node(el), column_of_node(el),
                fmt::format("{}: expected only strings in the array, found {}", key_path(key), type_name(el)));
        }
        out.push_back(s->get());
    }
    return out;
}

std::optional<TomlTable> TomlTable::table(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    auto t = n->as_table();
    if (!t) fail(key, fmt::format("expected a table, found {}", type_name(*n)));
    return TomlTable(*t, file_, key_path(key));
}

std::optional<std::vector<TomlTable>> TomlTable::table_array(std::string_view key) {
    auto* n = get(key);
    if (!n) return std::nullopt;
    auto arr = n->as_array();
    if (!arr) fail(key, fmt::format("expected an array of tables ([[{}]]), found {}", key_path(key), type_name(*n)));
    std::vector<TomlTable> out;
    size_t i = 0;
    for (const auto& el : *arr) {
        auto t = el.as_table();
        if (!t) {
            throw ConfigError(
                file_, line_of_node(el), column_of_node(el),
                fmt::format("{}: expected only tables in the array, found {}", key_path(key), type_name(el)));
        }
        out.emplace_back(*t, file_, fmt::format("{}[{}]", key_path(key), i++));
    }
    return out;
}

std::vector<std::pair<std::string, TomlTable>> TomlTable::tables() {
    std::vector<std::pair<std::string, TomlTable>> out;
    for (const auto& [k, v] : *table_) {
        std::string key(k.str());
        used_.insert(key);
        auto t = v.as_table();
        if (!t) fail(key, fmt::format("expected a table, found {}", type_name(v)));
        out.emplace_back(key, TomlTable(*t, file_, key_path(key)));
    }
    // toml++ keeps keys sorted; present them in the order the file has them.
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second.line() < b.second.line(); });
    return out;
}

void TomlTable::reject_unknown_keys() const {
    for (const auto& [k, v] : *table_) {
        if (!used_.count(k.str())) {
            throw ConfigError(file_, static_cast<int>(k.source().begin.line), static_cast<int>(k.source().begin.column),
                              fmt::format("unknown key \"{}\"", key_path(k.str())));
        }
    }
}

}  // namespace pgmoat
