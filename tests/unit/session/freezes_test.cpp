// Production freeze: windows as the config writes them, when a target is frozen,
// and which statements a freeze refuses.
#include "pgmoat/session/freezes.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using namespace pgmoat;
using namespace std::chrono;

namespace {
bool changes(const std::string& sql) {
    auto a = sql::analyze(sql, {});
    REQUIRE(a.ok());
    return session::changes_database(a.statements.at(0));
}
}  // namespace

TEST_CASE("freeze windows are read as UTC FROM/UNTIL, anything else is refused") {
    auto w = config::parse_freeze_window("2026-12-24T00:00:00Z/2026-12-27T06:30:00Z");
    REQUIRE(w);
    CHECK(w->until - w->from == hours(78) + minutes(30));
    for (const char* bad :
         {"", "2026-12-24T00:00:00Z", "2026-12-24/2026-12-27", "2026-12-24T00:00:00+01:00/2026-12-27T00:00:00Z",
          "2026-12-27T00:00:00Z/2026-12-24T00:00:00Z", "2026-02-30T00:00:00Z/2026-03-01T00:00:00Z",
          "2026-12-24T24:00:00Z/2026-12-25T00:00:00Z", "2026-12-24T00:00:00Z/2026-12-24T00:00:00Z"}) {
        CAPTURE(bad);
        CHECK_FALSE(config::parse_freeze_window(bad));
    }
}

TEST_CASE("a target is frozen by its switch or inside a window, not at the window's end") {
    config::Target t;
    auto w = *config::parse_freeze_window("2026-12-24T00:00:00Z/2026-12-27T00:00:00Z");
    t.freeze_windows.push_back(w);
    CHECK_FALSE(session::freeze_reason(t, "pgmoat.toml", w.from - seconds(1)));
    CHECK(session::freeze_reason(t, "pgmoat.toml", w.from) ==
          "the freeze window 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z");
    CHECK(session::freeze_reason(t, "pgmoat.toml", w.until - seconds(1)));
    CHECK_FALSE(session::freeze_reason(t, "pgmoat.toml", w.until));
    t.freeze = true;
    t.freeze_line = 12;
    CHECK(session::freeze_reason(t, "pgmoat.toml", w.until) == "freeze = true (pgmoat.toml:12)");
}

TEST_CASE("a freeze refuses writes wherever they are written, and lets reads through") {
    for (std::string sql : {"INSERT INTO t (a) VALUES ($1)",
                            "UPDATE t SET a = $1 WHERE id = $2",
                            "DELETE FROM t WHERE id = $1",
                            "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
                            "TRUNCATE t",
                            "DROP TABLE t",
                            "CREATE TABLE x (a int)",
                            "ALTER TABLE t ADD COLUMN b int",
                            "GRANT SELECT ON t TO public",
                            "COPY t FROM STDIN",
                            "DO $$BEGIN END$$",
                            "CALL p()",
                            "EXECUTE p(1)",
                            "VACUUM t",
                            "ALTER SYSTEM SET work_mem = '1MB'",
                            "WITH d AS (DELETE FROM t WHERE id = $1 RETURNING id) SELECT id FROM d",
                            "SELECT nextval('s')",
                            "SELECT * INTO x FROM t",
                            "EXPLAIN ANALYZE DELETE FROM t WHERE id = 1",
                            "PREPARE p AS DELETE FROM t WHERE id = $1"}) {
        CAPTURE(sql);
        CHECK(changes(sql));
    }
    for (std::string sql : {"SELECT * FROM t WHERE id = $1", "SELECT 1", "BEGIN", "COMMIT", "SET work_mem = '8MB'",
                            "SHOW work_mem", "COPY t TO STDOUT", "DECLARE c CURSOR FOR SELECT * FROM t",
                            "FETCH 10 FROM c", "SELECT * FROM t WHERE id = $1 FOR UPDATE", "EXPLAIN SELECT 1"}) {
        CAPTURE(sql);
        CHECK_FALSE(changes(sql));
    }
}
