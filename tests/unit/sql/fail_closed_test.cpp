// The analyzer never crashes and never runs unbounded: deep, huge, malformed and
// mis-encoded text comes back as "not analyzed" with a reason, quickly, even on
// a thread with an ordinary stack.
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>
#include <pthread.h>

#include <chrono>
#include <functional>
#include <string>

using namespace pgmoat::sql;

namespace {

std::string repeat(std::string_view s, size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

// Runs fn on a thread whose stack is exactly `bytes` (the default for new
// threads here is 8 MB; smaller makes a stack overflow show up sooner).
void on_stack(size_t bytes, const std::function<void()>& fn) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, bytes);
    pthread_t t;
    auto* f = new std::function<void()>(fn);
    REQUIRE(pthread_create(
                &t, &attr,
                [](void* p) -> void* {
                    auto* g = static_cast<std::function<void()>*>(p);
                    (*g)();
                    delete g;
                    return nullptr;
                },
                f) == 0);
    pthread_attr_destroy(&attr);
    pthread_join(t, nullptr);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("25,000 chained terms, which overflow libpg_query's stack, are rejected as too deep") {
    std::string sql = "SELECT 1" + repeat("+1", 25000);
    Analysis a;
    auto t0 = std::chrono::steady_clock::now();
    on_stack(8 << 20, [&] { a = analyze(sql); });
    CHECK(seconds_since(t0) < 2.0);
    CHECK(a.status == AnalysisStatus::too_deep);
    CHECK(a.error.find("too deep") != std::string::npos);
    CHECK(a.error_position > 0);
    CHECK(a.statements.empty());
}

TEST_CASE("deep input within the limit is analyzed on a large stack, not the caller's") {
    // 5,000 levels would need ~0.7 MB of libpg_query stack plus the walker's;
    // the caller here has only 256 kB, so this passes only if the parse runs
    // elsewhere.
    std::string sql = "SELECT 1" + repeat("+1", 5000);
    Analysis a;
    on_stack(256 << 10, [&] { a = analyze(sql); });
    REQUIRE(a.status == AnalysisStatus::ok);
    REQUIRE(a.statements.size() == 1);
    CHECK(a.statements[0].literals.size() == 5001);
}

TEST_CASE("the deepest statements parsed on the caller's thread fit in 1 MB of stack") {
    // Just under the depth that moves parsing to its own thread, in the shapes
    // that cost the most stack per level (about 1.7 kB: ~0.4 kB libpg_query's,
    // the rest the walker's). Sanitizers inflate every frame several times over.
#if defined(__SANITIZE_ADDRESS__)
    const size_t stack = 8 << 20;
#else
    const size_t stack = 1 << 20;
#endif
    const std::string shapes[] = {
        repeat("SELECT (", 250) + "1" + repeat(")", 250),
        repeat("SELECT 1 WHERE EXISTS (", 250) + "SELECT 1" + repeat(")", 250),
        "WITH " + repeat("a AS (WITH ", 250) + "b AS (SELECT 1) SELECT 1" + repeat(") SELECT 1", 250),
        "SELECT " + repeat("f(", 250) + "1" + repeat(")", 250),
        "SELECT " + repeat("ARRAY[", 250) + "1" + repeat("]", 250),
        "SELECT 1" + repeat("+1", 250),
    };
    for (const std::string& sql : shapes) {
        Analysis a;
        on_stack(stack, [&] { a = analyze(sql); });
        CHECK(a.status == AnalysisStatus::ok);
    }
}

TEST_CASE("every deep construct is bounded before parsing") {
    AnalyzerOptions o;
    o.max_depth = 1000;
    struct Shape {
        const char* name;
        std::string sql;
    };
    const Shape shapes[] = {
        {"parentheses", "SELECT " + repeat("(", 3000) + "1" + repeat(")", 3000)},
        {"sub-selects", repeat("SELECT (", 1500) + "1" + repeat(")", 1500)},
        {"NOT chains", "SELECT " + repeat("NOT ", 3000) + "true"},
        {"unary minus", "SELECT " + repeat("- ", 3000) + "1"},
        // One run of operator characters is many operators when it ends in + or -
        // (found by fuzz_analyzer: 3,800 of them overflowed the walker's stack).
        {"unary plus run", "SELECT " + repeat("+", 3000) + "1"},
        {"mixed sign run", "SELECT 1 *" + repeat("-+", 1500) + "1"},
        {"casts", "SELECT 1" + repeat("::int", 3000)},
        {"string concatenation", "SELECT 'a'" + repeat(" || 'a'", 3000)},
        {"JSON operators", "SELECT d" + repeat("->'k'", 3000) + " FROM t"},
        {"UNION chains", "SELECT 1" + repeat(" UNION SELECT 1", 3000)},
        {"JOIN chains", "SELECT * FROM t0" + repeat(" JOIN t ON true", 3000)},
        {"CASE nesting", "SELECT " + repeat("CASE WHEN true THEN ", 1500) + "1" + repeat(" END", 1500)},
        {"ARRAY nesting", "SELECT " + repeat("ARRAY[", 3000) + "1" + repeat("]", 3000)},
        {"IS chains", "SELECT x" + repeat(" IS NULL = true", 1000)},
        {"COLLATE chains", "SELECT x" + repeat(" COLLATE \"C\"", 3000)},
        {"AT TIME ZONE chains", "SELECT now()" + repeat(" AT TIME ZONE 'UTC'", 3000)},
        {"unclosed parentheses", "SELECT " + repeat("(", 5000)},
    };
    for (const Shape& s : shapes) {
        INFO(s.name);
        Analysis a;
        on_stack(8 << 20, [&] { a = analyze(s.sql, o); });
        CHECK(a.status == AnalysisStatus::too_deep);
    }
}

TEST_CASE("wide but shallow statements are not mistaken for deep ones") {
    AnalyzerOptions o;
    o.max_depth = 200;
    // 2,000 flat terms: commas and AND/OR do not nest.
    std::string in_list = "SELECT * FROM t WHERE id IN (" + repeat("1, ", 2000) + "1)";
    std::string ands = "SELECT * FROM t WHERE a = 1" + repeat(" AND a = 1", 2000);
    std::string ors = "SELECT * FROM t WHERE a = 1" + repeat(" OR b = 2 AND c = 3", 2000);
    std::string values = "INSERT INTO t VALUES (1 + 1)" + repeat(", (1 + 1)", 2000);
    // Operators that PostgreSQL reads as one token however long.
    std::string custom_ops = "SELECT * FROM t WHERE a" + repeat(" @@+++ a", 150);
    for (const std::string* sql : {&in_list, &ands, &ors, &values, &custom_ops}) {
        Analysis a = analyze(*sql, o);
        CHECK(a.status == AnalysisStatus::ok);
    }
}

TEST_CASE("a 10 MB statement is refused by the default size cap at once") {
    std::string sql = "SELECT '" + std::string(10 << 20, 'x') + "'";
    auto t0 = std::chrono::steady_clock::now();
    Analysis a = analyze(sql);
    CHECK(seconds_since(t0) < 0.5);
    CHECK(a.status == AnalysisStatus::too_large);
    CHECK(a.error.find("statement too large") != std::string::npos);
}

TEST_CASE("a 10 MB statement under a raised cap is analyzed in bounded time") {
    AnalyzerOptions o;
    o.max_statement_bytes = 16 << 20;
    SUBCASE("one huge literal") {
        std::string sql = "SELECT id FROM t WHERE note = '" + std::string(10 << 20, 'x') + "'";
        auto t0 = std::chrono::steady_clock::now();
        Analysis a;
        on_stack(8 << 20, [&] { a = analyze(sql, o); });
        CHECK(seconds_since(t0) < 10.0);
        REQUIRE(a.status == AnalysisStatus::ok);
        REQUIRE(a.statements[0].literals.size() == 1);
        CHECK(a.statements[0].literals[0].length == (10 << 20) + 2);
        CHECK(a.statements[0].normalized == "SELECT id FROM t WHERE note = $1");
    }
    SUBCASE("many statements and comments") {
        std::string sql = repeat("SELECT a, b FROM t WHERE c = 'xyz' /* c */;\n", 250000);
        REQUIRE(sql.size() > (10 << 20));
        auto t0 = std::chrono::steady_clock::now();
        Analysis a;
        on_stack(8 << 20, [&] { a = analyze(sql, o); });
        CHECK(seconds_since(t0) < 60.0);
        REQUIRE(a.status == AnalysisStatus::ok);
        CHECK(a.statements.size() == 250000);
        CHECK(a.comments.size() == 250000);
    }
    SUBCASE("deep and huge") {
        std::string sql = "SELECT 1" + repeat("+1", 5 << 20);
        auto t0 = std::chrono::steady_clock::now();
        Analysis a = analyze(sql, o);
        CHECK(seconds_since(t0) < 1.0);
        CHECK(a.status == AnalysisStatus::too_deep);
    }
}

TEST_CASE("wide statements cost time linear in their size") {
    // Each shape multiplies two large counts if handled naively.
    std::string tables, derived;
    for (int i = 0; i < 20000; ++i) tables += (i ? ", t" : "t") + std::to_string(i);
    for (int i = 0; i < 20000; ++i) derived += (i ? ", (SELECT 1) d" : "(SELECT 1) d") + std::to_string(i);
    std::string ctes = "WITH c0 AS (SELECT 1)", cte_refs = "c0";
    for (int i = 1; i < 20000; ++i) {
        ctes += ", c" + std::to_string(i) + " AS (SELECT 1)";
        cte_refs += ", c" + std::to_string(i);
    }
    // The require_where and value-flow checks: many OR branches, a long chain
    // of joins to restrict through, many locked tables, many values read.
    std::string branches = "a = $1", chain = "t.a = t0.a", named;
    for (int i = 1; i < 20000; ++i) branches += " OR a = $" + std::to_string(i + 1);
    for (int i = 1; i < 5000; ++i) chain += " AND t" + std::to_string(i - 1) + ".b = t" + std::to_string(i) + ".a";
    std::string chain_from = "t0";
    for (int i = 1; i < 5000; ++i) chain_from += ", t" + std::to_string(i);
    for (int i = 0; i < 20000; ++i) named += (i ? ", (SELECT 1 AS x) d" : "(SELECT 1 AS x) d") + std::to_string(i);
    struct Shape {
        const char* name;
        std::string sql;
        size_t max_columns;
    };
    const Shape shapes[] = {
        {"many stars over many tables", "SELECT " + repeat("*, ", 20000) + "* FROM " + tables, 20000},
        {"many columns over many derived tables", "SELECT " + repeat("x, ", 20000) + "x FROM " + derived, 20001},
        {"many qualified stars", "SELECT " + repeat("t7.*, ", 20000) + "t7.* FROM " + tables, 20001},
        {"many CTEs and references", ctes + " SELECT * FROM " + cte_refs, 0},
        {"an OR of many branches in a DELETE", "DELETE FROM t WHERE " + branches, 20000},
        {"a long chain of joins in an UPDATE",
         "UPDATE t SET a = $1 FROM " + chain_from + " WHERE " + chain + " AND t4999.b = $2", 20000},
        {"many tables locked", "SELECT t0.a FROM " + tables + " FOR UPDATE", 1},
        {"many derived values read in conditions",
         "SELECT 1 FROM " + named + " WHERE " + repeat("x = $1 AND ", 2000) + "true", 20001},
    };
    for (const Shape& s : shapes) {
        INFO(s.name);
        auto t0 = std::chrono::steady_clock::now();
        Analysis a = analyze(s.sql);
        CHECK(seconds_since(t0) < 5.0);
        REQUIRE(a.ok());
        CHECK(a.statements[0].columns.size() <= s.max_columns);
    }
}

TEST_CASE("the size cap is configurable and exact") {
    AnalyzerOptions o;
    o.max_statement_bytes = 10;
    CHECK(analyze("SELECT 123", o).status == AnalysisStatus::ok);
    CHECK(analyze("SELECT 1234", o).status == AnalysisStatus::too_large);
}

TEST_CASE("sessions whose settings the parser cannot honour fail closed") {
    AnalyzerOptions o;
    SUBCASE("standard_conforming_strings off") {
        o.standard_conforming_strings = false;
        // With scs off, the server reads \' as a quote and this injects.
        Analysis a = analyze("SELECT * FROM t WHERE name = 'x\\' OR 1=1 --'", o);
        CHECK(a.status == AnalysisStatus::session_settings);
        CHECK(a.error.find("standard_conforming_strings") != std::string::npos);
        CHECK(a.statements.empty());
    }
    SUBCASE("a client encoding other than UTF8") {
        o.client_encoding = "SJIS";
        Analysis a = analyze("SELECT 1", o);
        CHECK(a.status == AnalysisStatus::session_settings);
        CHECK(a.error.find("SJIS") != std::string::npos);
    }
    SUBCASE("UTF8 under its other spellings") {
        for (const char* e : {"UTF8", "utf8", "UTF-8", "unicode"}) {
            o.client_encoding = e;
            CHECK(analyze("SELECT 1", o).ok());
        }
    }
}

TEST_CASE("text the server would reject for its encoding is not analyzed") {
    SUBCASE("invalid UTF-8") {
        Analysis a = analyze("SELECT 'caf\xe9'");
        CHECK(a.status == AnalysisStatus::unparseable);
        CHECK(a.error.find("invalid byte sequence") != std::string::npos);
        CHECK(a.error_position == 12);  // the 12th character
    }
    SUBCASE("an embedded NUL, which would hide the rest from libpg_query") {
        std::string sql("SELECT 1; ", 10);
        sql += '\0';
        sql += "DROP TABLE users";
        Analysis a = analyze(sql);
        CHECK(a.status == AnalysisStatus::unparseable);
        CHECK(a.error.find("NUL") != std::string::npos);
    }
    SUBCASE("overlong and surrogate encodings") {
        CHECK(analyze("SELECT '\xc0\xa7'").status == AnalysisStatus::unparseable);
        CHECK(analyze("SELECT '\xed\xa0\x80'").status == AnalysisStatus::unparseable);
        CHECK(analyze("SELECT '\xf4\x90\x80\x80'").status == AnalysisStatus::unparseable);
    }
    SUBCASE("valid multi-byte text is fine") {
        CHECK(analyze("SELECT '\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80'").ok());
    }
}

TEST_CASE("error positions count characters, as PostgreSQL's do") {
    Analysis a = analyze("SELECT '\xc3\xa9\xc3\xa9' FROM WHERE");
    REQUIRE(a.status == AnalysisStatus::unparseable);
    // "SELECT 'éé' FROM " is 17 characters (19 bytes): WHERE is at 18.
    CHECK(a.error_position == 18);
    CHECK(character_position("a\xc3\xa9"
                             "b",
                             3) == 3);
}

TEST_CASE("arbitrary bytes never crash the analyzer") {
    // A cheap deterministic fuzz over lexer-significant characters.
    const char alphabet[] = "'\"$-/*()[];,.:+eEuU&\\ \n1aSELECTFROMWHERE";
    uint64_t state = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 3000; ++i) {
        std::string sql;
        size_t len = 1 + (state >> 58);
        for (size_t k = 0; k < len; ++k) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            sql += alphabet[(state >> 33) % (sizeof(alphabet) - 1)];
        }
        Analysis a = analyze(sql);
        CHECK((a.ok() || !a.error.empty()));
    }
}
