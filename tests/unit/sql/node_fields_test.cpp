// The walker's node vocabulary against PostgreSQL 15's own (node_fields.inc,
// generated from libpg_query's struct definitions and the grammar): every node
// type the grammar builds is known, and every field the walker walks as a
// typed node holds that type in every node that has the field.
#include "../../../proxy/sql/node_fields.inc"
#include "../../../proxy/sql/node_tag.h"
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

TEST_CASE("each field walked as a typed node holds that node wherever it occurs") {
    std::map<std::string, std::set<std::string>> types_of;  // field -> types across parents
    for (const Field& f : grammar_fields()) types_of[f.field].insert(f.type);
    for (const TypedField& t : kTypedFields) {
        std::string field(t.field);
        CAPTURE(field);
        REQUIRE(types_of.count(field) == 1);
        CHECK(types_of[field] == std::set<std::string>{std::string(node_name(t.tag))});
        CHECK(typed_field(t.field) == t.tag);
    }
    CHECK(typed_field("alias") == NodeTag::unknown);
    CHECK(typed_field("relation") == NodeTag::RangeVar);
}

TEST_CASE("a relation in an unwrapped field outside the typed list is still seen") {
    // Walker::structure reports any RangeVar-shaped object as a relation: the
    // fields of type RangeVar it relies on for that are these, no others.
    std::set<std::string> by_structure;
    for (const Field& f : grammar_fields())
        if (f.type == "RangeVar" && typed_field(f.field) == NodeTag::unknown)
            by_structure.insert(f.parent + "." + f.field);
    CHECK(by_structure ==
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
