// [holds] rows_over: an UPDATE, DELETE or MERGE the planner expects to change more
// rows than the policy allows waits for a person. The session asks the server
// for the plan (EXPLAIN (FORMAT JSON), which runs nothing); this reads it and
// decides. Pure: no socket, no server.
#pragma once

#include "pgmoat/policy/holds.h"
#include "pgmoat/policy/policy.h"
#include "pgmoat/sql/analysis.h"

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pgmoat::policy {

// What an EXPLAIN (FORMAT JSON) says the statement changes: the planner's rows
// under every ModifyTable node that updates, deletes or merges (a writable WITH
// counts too); or why it says nothing usable.
std::variant<double, std::string> planned_changed_rows(std::string_view explain_json);

// The first statement of `a` whose rows [holds] rows_over limits (an UPDATE,
// DELETE or MERGE, or one in its WITH); -1: none, or the policy sets no rows_over
// (or is in monitor mode).
int rows_over_statement(const Policy& p, const sql::Analysis& a);

// Why statement `index` waits: its estimate is over rows_over, or unknown
// (`estimate` holds why); nullopt when it is at most rows_over.
std::optional<HoldReason> rows_hold_reason(const Policy& p, const sql::Analysis& a, int index,
                                           const std::variant<double, std::string>& estimate);

}  // namespace pgmoat::policy
