// PostgreSQL 15's parser errors that carry a SQLSTATE other than syntax_error,
// as raised in src/backend/parser/gram.y and scan.l (every ereport(ERROR,
// errcode(...)) there whose code is not ERRCODE_SYNTAX_ERROR). "%" in a message
// stands for whatever the server formats into it.
#include "parser_errors.h"

#include "pgmoat/common/sqlstate.h"

#include <array>

namespace pgmoat::sql::detail {

namespace {

struct ParserError {
    std::string_view file;
    std::string_view message;
    std::string_view sqlstate;
};

constexpr std::array kErrors{
    ParserError{"gram.y", "UNENCRYPTED PASSWORD is no longer supported", sqlstate::feature_not_supported},
    ParserError{"gram.y", "CREATE SCHEMA IF NOT EXISTS cannot include schema elements",
                sqlstate::feature_not_supported},
    ParserError{"gram.y", "current database cannot be changed", sqlstate::feature_not_supported},
    ParserError{"gram.y", "column number must be in range from 1 to %", sqlstate::invalid_parameter_value},
    ParserError{"gram.y", "modulus for hash partition provided more than once", sqlstate::duplicate_object},
    ParserError{"gram.y", "remainder for hash partition provided more than once", sqlstate::duplicate_object},
    ParserError{"gram.y", "MATCH PARTIAL not yet implemented", sqlstate::feature_not_supported},
    ParserError{"gram.y", "a column list with % is only supported for ON DELETE actions",
                sqlstate::feature_not_supported},
    ParserError{"gram.y", "CREATE EXTENSION ... FROM is no longer supported", sqlstate::feature_not_supported},
    ParserError{"gram.y", "CREATE OR REPLACE CONSTRAINT TRIGGER is not supported", sqlstate::feature_not_supported},
    ParserError{"gram.y", "CREATE ASSERTION is not yet implemented", sqlstate::feature_not_supported},
    ParserError{"gram.y", "RECHECK is no longer required", sqlstate::feature_not_supported},
    ParserError{"gram.y", "aggregates cannot have output arguments", sqlstate::feature_not_supported},
    ParserError{"gram.y", "WITH CHECK OPTION not supported on recursive views", sqlstate::feature_not_supported},
    ParserError{"gram.y", "precision for type float must be at least 1 bit", sqlstate::invalid_parameter_value},
    ParserError{"gram.y", "precision for type float must be less than 54 bits", sqlstate::invalid_parameter_value},
    ParserError{"gram.y", "UNIQUE predicate is not yet implemented", sqlstate::feature_not_supported},
    ParserError{"gram.y", "frame start cannot be UNBOUNDED FOLLOWING", sqlstate::windowing_error},
    ParserError{"gram.y", "frame starting from following row cannot end with current row", sqlstate::windowing_error},
    ParserError{"gram.y", "frame end cannot be UNBOUNDED PRECEDING", sqlstate::windowing_error},
    ParserError{"gram.y", "frame starting from current row cannot have preceding rows", sqlstate::windowing_error},
    ParserError{"gram.y", "frame starting from following row cannot have preceding rows", sqlstate::windowing_error},
    ParserError{"gram.y", "role name \"%\" is reserved", sqlstate::reserved_name},
    ParserError{"gram.y", "% cannot be used as a role name here", sqlstate::reserved_name},
    ParserError{"gram.y",
                "an ordered-set aggregate with a VARIADIC direct argument must have one VARIADIC "
                "aggregated "
                "argument of the same data type",
                sqlstate::feature_not_supported},
    // processCASbits: "%s constraints cannot be marked DEFERRABLE" (and NOT VALID, NO INHERIT).
    ParserError{"gram.y", "% constraints cannot be marked DEFERRABLE", sqlstate::feature_not_supported},
    ParserError{"gram.y", "% constraints cannot be marked NOT VALID", sqlstate::feature_not_supported},
    ParserError{"gram.y", "% constraints cannot be marked NO INHERIT", sqlstate::feature_not_supported},
    ParserError{"scan.l", "unsafe use of string constant with Unicode escapes", sqlstate::feature_not_supported},
    // The scanner's E'\u...' check; parser.c raises the same message for U&'...' as a syntax error.
    ParserError{"scan.l", "invalid Unicode escape", sqlstate::invalid_escape_sequence},
    ParserError{"scan.l", "unsafe use of \\' in a string literal", sqlstate::nonstandard_use_of_escape_character},
};

// `pattern` with each '%' standing for one or more characters.
bool matches(std::string_view pattern, std::string_view text) {
    size_t wild = pattern.find('%');
    if (wild == std::string_view::npos) return pattern == text;
    std::string_view head = pattern.substr(0, wild);
    std::string_view rest = pattern.substr(wild + 1);
    if (text.substr(0, head.size()) != head) return false;
    for (size_t from = head.size() + 1; from <= text.size(); ++from)
        if (matches(rest, text.substr(from))) return true;
    return false;
}

}  // namespace

std::string_view parser_error_sqlstate(std::string_view file, std::string_view message) {
    for (const ParserError& e : kErrors)
        if (e.file == file && matches(e.message, message)) return e.sqlstate;
    return sqlstate::syntax_error;
}

}  // namespace pgmoat::sql::detail
