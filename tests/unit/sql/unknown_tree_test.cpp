// The walker against parse trees libpg_query 15 does not print today (a newer
// grammar, a corrupted buffer): unknown nodes are reported, never skipped, and
// malformed JSON fails the walk. White-box: it drives the internal walker.
#include "../../../proxy/sql/lexer.h"
#include "../../../proxy/sql/walker.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat::sql;
using namespace pgmoat::sql::detail;

namespace {

struct Walked {
    bool ok = false;
    bool too_deep = false;
    Analysis analysis;
};

Walked walk(const std::string& sql, const std::string& json, uint32_t max_depth = 1000) {
    Scratch scratch;
    lex(sql, 10000, scratch.lex);
    Walked w;
    w.ok = walk_parse_tree(sql, json, max_depth, scratch, w.analysis, w.too_deep);
    return w;
}

}  // namespace

TEST_CASE("an unknown statement node is kind other and named") {
    Walked w = walk("FANCY NEW THING", R"({"version":160000,"stmts":[{"stmt":{"FancyNewStmt":{"x":1}}}]})");
    REQUIRE(w.ok);
    REQUIRE(w.analysis.statements.size() == 1);
    const Statement& st = w.analysis.statements[0];
    CHECK(st.kind == StatementKind::other);
    REQUIRE(st.unknown_nodes.size() == 1);
    CHECK(st.unknown_nodes[0] == "FancyNewStmt");
}

TEST_CASE("what sits below an unknown node is still seen") {
    std::string sql = "SELECT * FROM secrets WHERE pg_sleep(1) IS NULL";
    std::string json = R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"whereClause":{"NewExpr":{"arg":)"
                       R"({"FuncCall":{"funcname":[{"String":{"sval":"pg_sleep"}}],"location":28}},)"
                       R"("rel":{"relname":"secrets","location":14}}},"op":"SETOP_NONE"}}}]})";
    Walked w = walk(sql, json);
    REQUIRE(w.ok);
    const Statement& st = w.analysis.statements[0];
    CHECK(st.kind == StatementKind::select);
    REQUIRE(st.unknown_nodes.size() == 1);
    CHECK(st.unknown_nodes[0] == "NewExpr");
    REQUIRE(st.functions.size() == 1);
    CHECK(st.functions[0].name == "pg_sleep");
    // An unwrapped object shaped like a RangeVar is a relation, whatever its field.
    REQUIRE(st.relations.size() == 1);
    CHECK(st.relations[0].name == "secrets");
}

TEST_CASE("malformed JSON fails the walk") {
    const char* bad[] = {
        R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{)",
        R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"targetList":[}}}]})",
        R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{"op":"SETOP_NONE}}}]})",
        R"({"version":150001,"stmts":[{"stmt":{"SelectStmt":{}}}]} trailing)",
        R"({"stmts":[{"stmt":{"CommonTableExpr":{}}},{"stmt":)",
        "",
    };
    for (const char* json : bad) {
        INFO(json);
        CHECK_FALSE(walk("SELECT 1", json).ok);
    }
}

TEST_CASE("JSON nested past the walker's bound fails as too deep") {
    std::string json = R"({"stmts":[{"stmt":{"SelectStmt":{"targetList":)";
    for (int i = 0; i < 200; ++i) json += R"([{"List":{"items":)";
    json += "[]";
    for (int i = 0; i < 200; ++i) json += "}}]";
    json += "}}}]}";
    Walked w = walk("SELECT 1", json, 100);
    CHECK_FALSE(w.ok);
    CHECK(w.too_deep);
    CHECK(walk("SELECT 1", json, 1000).ok);
}

TEST_CASE("escaped names in the JSON are unescaped") {
    std::string sql = R"(SELECT * FROM "a""b<c>\d")";
    std::string json = R"({"stmts":[{"stmt":{"SelectStmt":{"fromClause":[{"RangeVar":)"
                       R"({"relname":"a\"b\u003cc\u003e\\d","location":14}}],"op":"SETOP_NONE"}}}]})";
    Walked w = walk(sql, json);
    REQUIRE(w.ok);
    REQUIRE(w.analysis.statements[0].relations.size() == 1);
    CHECK(w.analysis.statements[0].relations[0].name == "a\"b<c>\\d");
}
