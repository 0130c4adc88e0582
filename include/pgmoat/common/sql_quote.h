// Quoting for the SQL pgmoat writes itself (settings replayed on a server
// connection, catalog look-ups), as PostgreSQL's quote_ident and quote_literal do.
#pragma once

#include <string>
#include <string_view>

namespace pgmoat {

// A name as a quoted identifier ("my""name"): always quoted, so case and
// reserved words survive.
std::string quote_identifier(std::string_view name);

// A string as an SQL literal ('it''s'). Backslashes stay as they are:
// standard_conforming_strings is on in every upstream session pgmoat writes to
// (a client that changes it is pinned to its own server connection).
std::string quote_literal(std::string_view s);

}  // namespace pgmoat
