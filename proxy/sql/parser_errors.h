// The SQLSTATE PostgreSQL answers for an error its parser raises: most are
// syntax_error (42601), but the grammar and the scanner raise a few with a code
// of their own (feature_not_supported, invalid_parameter_value, ...). libpg_query
// reports an error's message and source file, not its code.
#pragma once

#include <string_view>

namespace pgmoat::sql::detail {

// file: libpg_query's PgQueryError::filename ("gram.y", "scan.l", ...);
// message: its message. "42601" unless the pair is one of PostgreSQL 15's own.
std::string_view parser_error_sqlstate(std::string_view file, std::string_view message);

}  // namespace pgmoat::sql::detail
