// One table of pgmoat.toml read through the key table (keys.h): each getter takes
// a key's name, and its type, range and allowed values come from the table, so a
// key nobody listed cannot be read and a range is written in one place.
#pragma once

#include "pgmoat/common/toml_reader.h"
#include "pgmoat/config/keys.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pgmoat::config {

class Section {
  public:
    // settings: where each key that is set is recorded, by its full path, with its
    // value as TOML text (what a reload compares).
    Section(TomlTable& table, std::map<std::string, std::string>& settings) : t_(table), settings_(settings) {}

    // Strings with allowed values are checked against them.
    std::optional<std::string> string(std::string_view name);
    std::optional<int64_t> integer(std::string_view name);
    std::optional<bool> boolean(std::string_view name);
    std::optional<std::chrono::milliseconds> duration(std::string_view name);
    std::optional<uint64_t> size(std::string_view name);
    std::optional<std::vector<std::string>> strings(std::string_view name);

    // What the checks that span keys need, as TomlTable has them.
    bool has(std::string_view name) const { return t_.has(name); }
    int line_of(std::string_view name) const { return t_.line_of(name); }
    std::optional<TomlTable> table(std::string_view name) { return t_.table(name); }
    void reject_unknown_keys() const { t_.reject_unknown_keys(); }
    [[noreturn]] void fail(std::string_view name, const std::string& message) const { t_.fail(name, message); }
    [[noreturn]] void fail_here(const std::string& message) const { t_.fail_here(message); }
    std::map<std::string, std::string>& settings() { return settings_; }

  private:
    const Key& key(std::string_view name, KeyType type);
    // Checks a duration's or size's range (integers: TomlTable checks them).
    void check_range(const Key& k, int64_t value) const;

    TomlTable& t_;
    std::map<std::string, std::string>& settings_;
};

}  // namespace pgmoat::config
