// Unit-test helper: the analysis of a text that must hold exactly one statement.
#pragma once

#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <string>

inline pgmoat::sql::Statement analyze_one(const std::string& sql) {
    pgmoat::sql::Analysis a = pgmoat::sql::analyze(sql);
    REQUIRE_MESSAGE(a.ok(), sql << ": " << a.error);
    REQUIRE(a.statements.size() == 1);
    return a.statements[0];
}
