// The walker's node vocabulary against PostgreSQL 15's own (node_fields.inc,
// generated from libpg_query's struct definitions and the grammar): every node
// type the grammar builds is known, and every typed field of every such node is
// known by (parent, field) with its type, judged or walked generically.
#include "../../../proxy/sql/node_fields.inc"
#include "../../../proxy/sql/node_tag.h"
#include "../../../proxy/sql/typed_fields.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

using namespace pgmoat::sql::detail;

namespace {

struct Field {
    std::string parent, field, type;
};

std::vector<Field> grammar_fields() {
    return {
#define PGMOAT_FIELD(parent, field, type) Field{#parent, #field, #type},
        PGMOAT_SQL_TYPED_FIELDS(PGMOAT_FIELD)
#undef PGMOAT_FIELD
    };
}

}  // namespace

TEST_CASE("every node type PostgreSQL 15's grammar builds is known to the walker") {
    std::vector<std::string> nodes = {
#define PGMOAT_NODE(type) #type,
        PGMOAT_SQL_GRAMMAR_NODES(PGMOAT_NODE)
#undef PGMOAT_NODE
    };
    CHECK(nodes.size() > 190);
    for (const std::string& n : nodes) {
        CAPTURE(n);
        CHECK(node_info(n).tag != NodeTag::unknown);
    }
    CHECK(node_info("ReplicaIdentityStmt").tag == NodeTag::ReplicaIdentityStmt);
    CHECK(node_info("NotANode").tag == NodeTag::unknown);
}

TEST_CASE("every typed field of the grammar's nodes is known by (parent, field) with its type") {
    size_t n = 0;
    for (const Field& f : grammar_fields()) {
        CAPTURE(f.parent + "." + f.field);
        const TypedField* t = typed_field(node_info(f.parent).tag, f.field);
        REQUIRE(t != nullptr);
        CHECK(t->field == f.field);
        // FuncExpr (CallStmt.funcexpr) is filled in by parse analysis, never by the grammar.
        CHECK(t->type == (f.type == "FuncExpr" ? NodeTag::unknown : node_info(f.type).tag));
        ++n;
    }
    CHECK(n == std::size(kTypedFields));
    CHECK(typed_field(NodeTag::InsertStmt, "relation")->type == NodeTag::RangeVar);
    CHECK(typed_field(NodeTag::InsertStmt, "alias") == nullptr);
    CHECK(typed_field(NodeTag::RangeVar, "relation") == nullptr);
    CHECK(typed_field(NodeTag::unknown, "relation") == nullptr);
}

TEST_CASE("each field the walker judges is a typed field of its parent") {
    for (const FieldOf& j : kJudgedFields) {
        CAPTURE(std::string(node_name(j.parent)) + "." + std::string(j.field));
        const TypedField* t = typed_field(j.parent, j.field);
        REQUIRE(t != nullptr);
        CHECK(t->judged);
        CHECK(t->type != NodeTag::unknown);
    }
    size_t judged = 0;
    for (const TypedField& t : kTypedFields) judged += t.judged;
    CHECK(judged == std::size(kJudgedFields));
}

TEST_CASE("a relation in a typed field the walker does not judge is still seen") {
    // Walker::structure reports a RangeVar it walks generically as a relation:
    // the fields of type RangeVar it does that for are these, no others.
    std::set<std::string> generic;
    for (const TypedField& t : kTypedFields)
        if (t.type == NodeTag::RangeVar && !t.judged)
            generic.insert(std::string(node_name(t.parent)) + "." + std::string(t.field));
    CHECK(generic ==
          std::set<std::string>{"ColumnDef.identitySequence", "CreateTrigStmt.constrrel", "PartitionCmd.name"});
}

TEST_CASE("relations in those fields are reported") {
    using namespace pgmoat::sql;
    auto names = [](const char* sql) {
        std::set<std::string> out;
        Analysis a = analyze(sql);
        REQUIRE(a.ok());
        for (const Relation& r : a.statements.at(0).relations) out.insert(r.name);
        CHECK(a.statements[0].unknown_nodes.empty());
        return out;
    };
    CHECK(names("CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON t FROM other FOR EACH ROW "
                "EXECUTE FUNCTION f()") == std::set<std::string>{"t", "other"});
    CHECK(names("ALTER TABLE parent ATTACH PARTITION child FOR VALUES IN (1)") ==
          std::set<std::string>{"parent", "child"});
}

TEST_CASE("every field of the grammar's nodes that holds nodes has a role the walker reads") {
    // Each such field is named in PGMOAT_SQL_FIELD_ROLES: walked in a context
    // of its own, by its node's handler, or generically, said outright. A field
    // a new grammar adds fails here until someone says how it is walked.
    std::set<std::string> node_fields;
#define PGMOAT_FIELD(parent, field) node_fields.insert(#parent "." #field);
    PGMOAT_SQL_NODE_FIELDS(PGMOAT_FIELD)
#undef PGMOAT_FIELD
    CHECK(node_fields.size() > 290);
    std::set<std::string> typed;
    for (const Field& f : grammar_fields()) typed.insert(f.parent + "." + f.field);
    std::map<std::string, FieldRole> roles;
    for (const FieldRoleOf& r : kFieldRoles) {
        const std::string name = std::string(node_name(r.parent)) + "." + std::string(r.field);
        CAPTURE(name);
        CHECK(roles.emplace(name, r.role).second);  // named once
        // A row names a field of the grammar: one that holds nodes, or a typed
        // field with a role besides its type (SELECT INTO's intoClause, ...).
        CHECK((node_fields.count(name) == 1 || (typed.count(name) == 1 && r.role != FieldRole::generic)));
    }
    std::string unnamed;  // the fields the table does not name, to add to it
    for (const std::string& f : node_fields)
        if (!roles.count(f)) unnamed += " " + f;
    CHECK(unnamed == "");
}

TEST_CASE("a field's role is found by (parent, field) and only changes a context where it says so") {
    CHECK(field_role(NodeTag::SelectStmt, "whereClause") == FieldRole::where);
    CHECK(field_role(NodeTag::UpdateStmt, "whereClause") == FieldRole::where);
    CHECK(field_role(NodeTag::OnConflictClause, "whereClause") == FieldRole::filter);
    CHECK(field_role(NodeTag::IndexStmt, "whereClause") == FieldRole::generic);
    CHECK(field_role(NodeTag::SelectStmt, "targetList") == FieldRole::select_list);
    CHECK(field_role(NodeTag::UpdateStmt, "targetList") == FieldRole::update_set);
    CHECK(field_role(NodeTag::InsertStmt, "returningList") == FieldRole::returning);
    CHECK(field_role(NodeTag::SelectStmt, "limitOffset") == FieldRole::limit);
    CHECK(field_role(NodeTag::MergeStmt, "joinCondition") == FieldRole::merge_on);
    CHECK(field_role(NodeTag::ViewStmt, "query") == FieldRole::later_query);
    CHECK(field_role(NodeTag::ExplainStmt, "query") == FieldRole::query);
    CHECK(field_role(NodeTag::SelectStmt, "intoClause") == FieldRole::create_target);
    // What its handler walks, and what is generic, are walked in the node's context.
    CHECK(field_role(NodeTag::JoinExpr, "quals") == FieldRole::generic);
    CHECK(field_role(NodeTag::A_Indices, "lidx") == FieldRole::generic);
    CHECK(field_role(NodeTag::SelectStmt, "nosuchfield") == FieldRole::generic);
    CHECK(field_role(NodeTag::unknown, "whereClause") == FieldRole::generic);
}
