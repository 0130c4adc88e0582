// PostgreSQL's `options` startup parameter (what PGOPTIONS sets): command-line
// switches for the server process, split at white space that no backslash
// escapes. pgmoat reads the settings among them, `-c name=value` (or
// `-cname=value`) and `--name=value`, as PostgreSQL does (pg_split_opts,
// process_postgres_switches); any other switch is refused by the caller.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::session {

struct StartupOptions {
    // In order; names with dashes read as underscores, as PostgreSQL reads them.
    std::vector<std::pair<std::string, std::string>> settings;
    // When not empty: what cannot be read as a setting, in words for the client,
    // and whether it is a switch pgmoat does not take (rather than malformed).
    std::string error;
    bool unsupported = false;
};

StartupOptions parse_startup_options(std::string_view options);

}  // namespace pgmoat::session
