#include "pgmoat/common/sql_quote.h"

namespace pgmoat {

namespace {
std::string quote(std::string_view s, char mark) {
    std::string out(1, mark);
    out.reserve(s.size() + 2);
    for (char c : s) {
        if (c == mark) out += mark;
        out += c;
    }
    return out + mark;
}
}  // namespace

std::string quote_identifier(std::string_view name) {
    return quote(name, '"');
}

std::string quote_literal(std::string_view s) {
    return quote(s, '\'');
}

}  // namespace pgmoat
