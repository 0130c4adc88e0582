// Where the values a derived table or WITH query makes in its select list go:
// a literal there is a select_list value (sent to the client) only when every
// read of its column sends it to the client, else it stays other.
#pragma once

#include "walker.h"

#include <vector>

namespace pgmoat::sql::detail {

// Settles the context of every TreeLiteral with derived_output set.
// column_entry: each raw column's certain range entry, or -1.
void settle_derived_values(RawStatement& raw, const std::vector<int32_t>& column_entry);

}  // namespace pgmoat::sql::detail
