// Strict reading of TOML files that people edit by hand: every value is checked
// for type and range, every key that nobody asked for is an error, and every error
// names file:line:column.
#pragma once

#include "pgmoat/common/config_error.h"

#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pgmoat {

// Parses a whole TOML document from text (file is only used in messages) or from a
// file on disk; syntax errors become ConfigError.
toml::table parse_toml(const std::string& text, const std::string& file);
toml::table parse_toml_file(const std::string& path);

class TomlTable {
  public:
    TomlTable(const toml::table& table, std::string file, std::string path = {});

    bool has(std::string_view key) const;
    // The value of key as TOML text ("\"10s\"", "[1, 2]"); "" if it is not set.
    std::string value_text(std::string_view key) const;
    std::optional<std::string> string(std::string_view key);
    std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
    std::optional<bool> boolean(std::string_view key);
    // A string, or an integer given as its decimal text (settings PostgreSQL takes
    // either way: statement_timeout = 5000 or "5s").
    std::optional<std::string> string_or_integer(std::string_view key);
    // A duration written as an integer with a unit: "250ms", "10s", "5m", "1h", or 0.
    std::optional<std::chrono::milliseconds> duration(std::string_view key);
    // A size written as an integer of bytes or with a unit: "64kB", "8MB", "1GB".
    std::optional<uint64_t> size(std::string_view key);
    std::optional<std::vector<std::string>> strings(std::string_view key);
    std::optional<TomlTable> table(std::string_view key);
    // An array of tables ([[key]] sections), in document order.
    std::optional<std::vector<TomlTable>> table_array(std::string_view key);
    // Subtables in document order, e.g. every [targets.NAME].
    std::vector<std::pair<std::string, TomlTable>> tables();

    // Throws for the first key that no getter asked for.
    void reject_unknown_keys() const;

    [[noreturn]] void fail(std::string_view key, const std::string& message) const;
    [[noreturn]] void fail_here(const std::string& message) const;
    const std::string& file() const { return file_; }
    // Dotted path of this table in the document, e.g. "targets.dev".
    const std::string& path() const { return path_; }
    std::string key_path(std::string_view key) const;
    int line() const;
    int line_of(std::string_view key) const;

  private:
    const toml::node* get(std::string_view key);
    const toml::table* table_;
    std::string file_;
    std::string path_;
    std::set<std::string, std::less<>> used_;
};

}  // namespace pgmoat
