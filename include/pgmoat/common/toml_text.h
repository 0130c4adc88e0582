// Writing TOML strings that read back exactly, for files pgmoat writes for
// people to review (shape locks, the grants file, learned policy fragments).
#pragma once

#include <string>
#include <string_view>

namespace pgmoat {

// A TOML string holding s exactly: a literal '''…''' string when s reads the same
// in one (easiest to review), else a basic "…" string with escapes.
std::string toml_string(std::string_view s);

}  // namespace pgmoat
