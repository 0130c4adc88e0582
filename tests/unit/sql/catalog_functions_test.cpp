// The table of functions behind PostgreSQL 15's system views (which pgmoat
// reports as reads of those views) against the real thing: the analyzer reads
// the installed system_views.sql, and every view's row sources called with
// constants, and every statistics accessor (pg_stat_get_*) it uses, must be in
// the table, and nothing else.
#include "../../../proxy/sql/catalog_functions.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>

using namespace pgmoat::sql;

namespace {

std::string system_views_sql() {
    const char* env = std::getenv("PGMOAT_SYSTEM_VIEWS");
    std::string path = env ? env : "/usr/share/postgresql/15/system_views.sql";
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), path << " not found: install postgresql-15 (or set PGMOAT_SYSTEM_VIEWS)");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("the catalog functions table is what system_views.sql says") {
    const std::string sql = system_views_sql();
    AnalyzerOptions options;
    options.max_statement_bytes = sql.size() + 1;
    Analysis a = analyze(sql, options);
    REQUIRE_MESSAGE(a.ok(), a.error);
    std::set<std::pair<std::string, std::string>> derived;
    size_t views = 0;
    for (const Statement& st : a.statements) {
        if (st.kind != StatementKind::create_view) continue;
        ++views;
        std::string view;
        for (const Relation& r : st.relations)
            if (r.access.has(Access::ddl)) view = r.name;
        REQUIRE(!view.empty());
        for (const FunctionCall& f : st.functions) {
            if (f.attribute_notation || (!f.schema.empty() && f.schema != "pg_catalog")) continue;
            bool constants = true;
            for (const Argument& arg : f.arguments) constants = constants && arg.kind == ArgumentKind::literal;
            if ((f.row_source && constants) || f.name.rfind("pg_stat_get_", 0) == 0) derived.emplace(f.name, view);
        }
    }
    CHECK(views > 60);
    std::set<std::pair<std::string, std::string>> table;
    for (const auto& [function, view] : detail::catalog_view_functions())
        table.emplace(std::string(function), std::string(view));
    for (const auto& p : derived) {
        INFO("system_views.sql: " << p.first << " -> " << p.second);
        CHECK(table.count(p) == 1);
    }
    for (const auto& p : table) {
        INFO("table: " << p.first << " -> " << p.second);
        CHECK(derived.count(p) == 1);
    }
}

TEST_CASE("a call of a function behind a view reads that view") {
    Analysis a = analyze("SELECT * FROM pg_lock_status(), pg_catalog.pg_show_all_settings()");
    REQUIRE(a.ok());
    std::set<std::string> read;
    for (const Relation& r : a.statements[0].relations) read.insert(r.qualified_name());
    CHECK(read == std::set<std::string>{"pg_catalog.pg_locks", "pg_catalog.pg_settings"});
}
