// JSON string unescaping, for the rare names that carry escapes (quotes,
// backslashes, control characters, and '<', '>', '&', which libpg_query escapes).
#include "json_reader.h"

#include "pgmoat/common/json_escape.h"

namespace pgmoat::sql::detail {

std::string JsonReader::unescape(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 >= raw.size()) {
            out.push_back(raw[i]);
            continue;
        }
        if (size_t taken = read_json_escape(raw, i, out)) {
            i += taken - 1;
            continue;
        }
        // No valid escape (libpg_query writes none): the character after the
        // backslash, as written.
        out.push_back(raw[++i]);
    }
    return out;
}

}  // namespace pgmoat::sql::detail
