// What PostgreSQL 15's own functions expose, as far as the analyzer reports it:
// the system views a function's result is the data of (so calling it reads
// that catalog relation), and the functions that take a whole row in one
// argument (so `t.f` in attribute notation reads every column of t).
#pragma once

#include <span>
#include <string_view>
#include <utility>

namespace pgmoat::sql::detail {

// (function, view) pairs, sorted: each function that a view in
// system_views.sql reads its rows from (a FROM item called with constants
// only: pg_lock_status() for pg_locks, pg_show_all_settings() for
// pg_settings, ...) or that is a statistics accessor (pg_stat_get_*) used in
// it. tests/unit/sql/catalog_functions_test.cpp derives the table from the
// installed system_views.sql with the analyzer and compares.
std::span<const std::pair<std::string_view, std::string_view>> catalog_view_functions();

// The views a call of `function` (unqualified or pg_catalog) reads, in order.
std::span<const std::pair<std::string_view, std::string_view>> views_read_by(std::string_view function);

// Whether PostgreSQL 15 has a pg_catalog function (or aggregate) callable with
// one argument of any row type (record, anyelement, "any", ...): to_json(u),
// row_to_json, concat, count, ... tests/integration/test_holes_columns.py
// compares the list with the server's pg_proc.
bool takes_a_row(std::string_view function);
std::span<const std::string_view> row_functions();

}  // namespace pgmoat::sql::detail
