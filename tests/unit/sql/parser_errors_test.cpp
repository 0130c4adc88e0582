// Text PostgreSQL's grammar rejects comes back unparseable with the SQLSTATE the
// server answers for the same error: syntax_error for most, the grammar's own
// code where it raises one (each of these is in PostgreSQL's regression suite).
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

using namespace pgmoat::sql;

namespace {

std::string sqlstate_of(const char* sql) {
    Analysis a = analyze(sql);
    CHECK(a.status == AnalysisStatus::unparseable);
    CHECK(a.statements.empty());
    return a.error_sqlstate;
}

}  // namespace

TEST_CASE("grammar errors carry PostgreSQL's own SQLSTATE") {
    // The scanner's check of E'...' Unicode escapes: invalid_escape_sequence.
    CHECK(sqlstate_of("SELECT E'wrong: \\u061'") == "22025");
    CHECK(sqlstate_of("SELECT E'wrong: \\U0061'") == "22025");
    // The same message for U&'...' comes from parser.c as a syntax error.
    CHECK(sqlstate_of("SELECT U&'wrong: \\061'") == "42601");
    CHECK(sqlstate_of("ALTER INDEX attmp_idx ALTER COLUMN 0 SET STATISTICS 1000") == "22023");
    CHECK(sqlstate_of("SELECT 1::float(0)") == "22023");
    CHECK(sqlstate_of("SELECT 1::float(54)") == "22023");
    CHECK(sqlstate_of("ALTER TABLE fktable ALTER CONSTRAINT fktable_fk_fkey NOT VALID") == "0A000");
    CHECK(sqlstate_of("ALTER TABLE fktable ALTER CONSTRAINT fktable_fk_fkey NO INHERIT") == "0A000");
    CHECK(sqlstate_of("CREATE TABLE fktable (tid int, id int, foo int, FOREIGN KEY (tid, foo) "
                      "REFERENCES pktable ON UPDATE SET NULL (foo))") == "0A000");
    CHECK(sqlstate_of("CREATE SCHEMA IF NOT EXISTS s CREATE TABLE abc (a int)") == "0A000");
    CHECK(sqlstate_of("SELECT count(*) OVER (ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) "
                      "FROM t") == "42P20");
    CHECK(sqlstate_of("CREATE ROLE none") == "42939");
}

TEST_CASE("other unparseable text is a syntax error, and analyzed text has no SQLSTATE") {
    CHECK(sqlstate_of("SELECT * FORM users") == "42601");
    CHECK(sqlstate_of("SELECT 1 +") == "42601");
    CHECK(sqlstate_of("SELECT 'a\xff'") == "42601");  // invalid UTF-8, refused before parsing
    // A message that only starts like one of the grammar's own is not it.
    CHECK(sqlstate_of("SELECT 1 FROM t WHERE x = ) -- frame start cannot be UNBOUNDED FOLLOWING") == "42601");
    Analysis ok = analyze("SELECT 1");
    CHECK(ok.ok());
    CHECK(ok.error_sqlstate.empty());
    AnalyzerOptions small;
    small.max_statement_bytes = 4;
    CHECK(analyze("SELECT 1", small).error_sqlstate.empty());
}

TEST_CASE("ALTER TABLE ... REPLICA IDENTITY is a known ALTER TABLE") {
    for (const char* sql :
         {"ALTER TABLE t REPLICA IDENTITY FULL", "ALTER TABLE t REPLICA IDENTITY NOTHING",
          "ALTER TABLE t REPLICA IDENTITY DEFAULT", "ALTER TABLE ONLY s.t REPLICA IDENTITY USING INDEX t_pkey"}) {
        CAPTURE(sql);
        Analysis a = analyze(sql);
        REQUIRE(a.ok());
        REQUIRE(a.statements.size() == 1);
        const Statement& st = a.statements[0];
        CHECK(st.kind == StatementKind::alter_table);
        CHECK(st.unknown_nodes.empty());
        REQUIRE(st.relations.size() == 1);
        CHECK(st.relations[0].name == "t");
        CHECK(st.relations[0].access.has(Access::ddl));
    }
    // The identity is part of the structure.
    CHECK(analyze("ALTER TABLE t REPLICA IDENTITY FULL").fingerprint !=
          analyze("ALTER TABLE t REPLICA IDENTITY NOTHING").fingerprint);
}
