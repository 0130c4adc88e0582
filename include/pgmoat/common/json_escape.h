// Reading JSON string escapes, shared by the readers of JSON pgmoat did not write
// (the audit log's records, libpg_query's parse trees): one place knows \uXXXX
// and its surrogate pairs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgmoat {

// Decodes the escape that starts at text[at] (a backslash): \" \\ \/ \b \f \n \r
// \t, \uXXXX (either case of hex digit) and a surrogate pair \uD8xx\uDCxx as one
// code point. Appends what it stands for to out (UTF-8) and returns how many bytes
// of text it took (2, 6 or 12); returns 0 and appends nothing when it is no valid
// escape: an unknown letter, fewer than four hex digits, a high surrogate without
// its low one, a low surrogate alone, or text ending inside it.
size_t read_json_escape(std::string_view text, size_t at, std::string& out);

}  // namespace pgmoat
