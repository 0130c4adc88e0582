// Every key of pgmoat.toml, named once: its type, default, range or allowed values,
// whether a reload applies it, and a line of documentation. The config reader asks
// this table for each key it reads (names, types and ranges come from here), and
// `pgmoat config-reference` prints it as README's configuration reference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::config {

enum class KeyType { string, integer, boolean, duration, size, strings };

// What a reload (SIGHUP, an edited policy file, the console's RELOAD) does with a
// changed value: apply it, or keep the running value until pgmoat restarts
// (listeners, threads and the audit writer are made once, at start).
enum class Reload { applies, restart };

struct Key {
    // Dotted path; "*" stands for the NAME of every [targets.NAME], [apps.NAME], [peers.N].
    std::string_view path;
    KeyType type;
    // As it would be written in the file, e.g. "\"10s\""; empty: no default (required,
    // or unset unless written; the doc says which).
    std::string_view default_value;
    // Integers: the value; durations: milliseconds; sizes: bytes. min == max == 0: no range.
    int64_t min = 0;
    int64_t max = 0;
    std::vector<std::string_view> allowed;  // strings that must be one of these
    Reload reload = Reload::applies;
    std::string_view doc;

    std::string_view name() const;   // the last part of the path
    std::string_view table() const;  // the path without it, e.g. "targets.*"
    bool has_range() const { return min != 0 || max != 0; }
};

// In the order README lists them.
const std::vector<Key>& keys();

// The key `name` of a table whose path matches `table` ("targets.*" matches
// "targets.prod"); nullptr if the table has no such key.
const Key* find_key(std::string_view table, std::string_view name);

// "100ms", "60s"; "1kB", "16GB": how ranges and defaults are written for people.
std::string format_duration_ms(int64_t ms);
std::string format_size(int64_t bytes);

// The configuration reference as a Markdown table (README's block between
// `<!-- config-reference -->` and `<!-- /config-reference -->`).
std::string reference_markdown();

}  // namespace pgmoat::config
