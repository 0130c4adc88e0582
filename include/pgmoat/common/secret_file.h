// Reading secrets (passwords, keys) from files and the environment.
#pragma once

#include <string>

namespace pgmoat {

// Warns on the operational log when a file holding secrets can be read or written by
// users other than its owner. The file's content is never logged.
void warn_if_exposed(const std::string& path, const std::string& what);

// Reads a one-line secret (trailing newline removed); throws ConfigError on failure.
std::string read_secret_file(const std::string& path, const std::string& what);

}  // namespace pgmoat
