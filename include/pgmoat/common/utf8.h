// UTF-8 at the byte level, shared by everything that validates or writes text
// that is not pgmoat's own (JSON output, the parser's JSON, audit lines).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pgmoat {

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), or
// 0 when the bytes there are not one (stray continuation bytes, overlong forms,
// surrogates, code points above U+10FFFF, a sequence cut off at n).
size_t utf8_sequence_length(const unsigned char* s, size_t n, size_t i);

// Appends code point cp (at most U+10FFFF) encoded as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

}  // namespace pgmoat
