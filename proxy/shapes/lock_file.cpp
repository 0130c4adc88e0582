// The shape lock file: TOML, one [[shape]] block per shape in fingerprint order,
// one constant per line, so a review of a pull request shows exactly which
// statements a change added or which constants it touched.
#include "pgmoat/common/toml_reader.h"
#include "pgmoat/common/toml_text.h"
#include "pgmoat/shapes/lock.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace pgmoat::shapes {

namespace {

int parse_position(TomlTable& t, std::string_view key, std::string_view text) {
    int n = 0;
    std::string_view digits = text.substr(text.empty() || text[0] != '$' ? 0 : 1);
    auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (text.empty() || text[0] != '$' || r.ec != std::errc{} || r.ptr != digits.data() + digits.size() || n < 1)
        t.fail(key, fmt::format("\"{}\" is not a literal position; write it as in the statement: \"$1\"", text));
    return n;
}

bool is_date(const std::string& s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
    for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

Shape read_shape(TomlTable& t) {
    Shape s;
    s.file = t.file();
    s.line = t.line();
    auto fp = t.string("fingerprint");
    if (!fp) t.fail_here("a shape needs its fingerprint = \"…\" (16 hex digits, as pgmoat explain prints it)");
    if (fp->size() != 16 || fp->find_first_not_of("0123456789abcdef") != std::string::npos)
        t.fail("fingerprint", "expected 16 lower-case hex digits");
    s.fingerprint = std::stoull(*fp, nullptr, 16);
    auto text = t.string("statement");
    if (!text || text->empty()) t.fail_here("a shape needs its statement = \"…\" (the normalized text)");
    s.statement = *text;
    if (auto cs = t.table_array("constants")) {
        for (TomlTable& c : *cs) {
            auto pos = c.string("position");
            auto value = c.string("value");
            if (!pos || !value) c.fail_here("a constant is { position = \"$n\", value = \"…\" }");
            Constant k{parse_position(c, "position", *pos), *value};
            if (!s.constants.empty() && s.constants.back().position >= k.position)
                c.fail("position", "constants are listed once each, in position order");
            if (k.value.empty()) c.fail("value", "a constant's value is the literal as the code writes it");
            c.reject_unknown_keys();
            s.constants.push_back(std::move(k));
        }
    }
    if (auto sp = t.strings("spliced")) {
        for (const auto& p : *sp) s.spliced.push_back(parse_position(t, "spliced", p));
        std::sort(s.spliced.begin(), s.spliced.end());
    }
    for (int p : s.spliced)
        for (const auto& c : s.constants)
            if (c.position == p) t.fail("spliced", fmt::format("${} is both a constant and spliced", p));
    for (auto [key, field] : {std::pair{"first_seen", &s.first_seen}, std::pair{"last_seen", &s.last_seen}}) {
        if (auto v = t.string(key)) {
            if (!is_date(*v)) t.fail(key, "expected a date, YYYY-MM-DD");
            *field = *v;
        }
    }
    if (auto v = t.string("note")) s.note = *v;
    t.reject_unknown_keys();
    return s;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path, 0, 0, "cannot read shape lock file");
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

void add(ShapeLock& lock, Shape s) {
    auto [it, fresh] = lock.shapes.emplace(s.fingerprint, s);
    if (fresh) return;
    const Shape& old = it->second;
    if (old.constants != s.constants) {
        throw ConfigError(s.file, s.line, 1,
                          fmt::format("shape {} is also in {}:{} with other constants; keep it in one file",
                                      sql::fingerprint_hex(s.fingerprint), old.file, old.line));
    }
}

}  // namespace

ShapeLock parse_lock(const std::string& text, const std::string& file) {
    ShapeLock lock;
    lock.files.push_back(file);
    auto doc = parse_toml(text, file);
    TomlTable root(doc, file);
    if (auto shapes = root.table_array("shape")) {
        for (TomlTable& t : *shapes) add(lock, read_shape(t));
    }
    root.reject_unknown_keys();
    return lock;
}

ShapeLock read_lock_files(const std::vector<std::string>& paths) {
    ShapeLock all;
    for (const auto& p : paths) {
        ShapeLock one = parse_lock(read_text(p), p);
        all.files.push_back(p);
        for (auto& [fp, s] : one.shapes) add(all, std::move(s));
    }
    return all;
}

std::string format_lock(const ShapeLock& lock) {
    std::string out =
        "# pgmoat shape lock: the statement shapes an app may run under [parameters] mode = \"shapes\".\n"
        "# Written by `pgmoat learn` and `pgmoat shapes approve`; review every change like code.\n"
        "# A shape: its fingerprint, its normalized text ($n for each literal), the literal positions that\n"
        "# are constants of the code (locked with their value), the positions seen with varying values\n"
        "# (spliced: fix the code to pass them as parameters), and when it was first and last seen.\n";
    for (const auto& [fp, s] : lock.shapes) {
        out += fmt::format("\n[[shape]]\nfingerprint = \"{}\"\nstatement = {}\n", sql::fingerprint_hex(fp),
                           toml_string(s.statement));
        if (!s.constants.empty()) {
            out += "constants = [\n";
            for (const auto& c : s.constants)
                out += fmt::format("  {{ position = \"${}\", value = {} }},\n", c.position, toml_string(c.value));
            out += "]\n";
        }
        if (!s.spliced.empty()) {
            out += "spliced = [";
            for (size_t i = 0; i < s.spliced.size(); ++i) out += fmt::format("{}\"${}\"", i ? ", " : "", s.spliced[i]);
            out += "]\n";
        }
        if (!s.first_seen.empty()) out += fmt::format("first_seen = \"{}\"\n", s.first_seen);
        if (!s.last_seen.empty()) out += fmt::format("last_seen = \"{}\"\n", s.last_seen);
        if (!s.note.empty()) out += fmt::format("note = {}\n", toml_string(s.note));
    }
    return out;
}

}  // namespace pgmoat::shapes
