// The fields that hold one node type without libpg_query's {"Type": ...} wrapper,
// keyed by (parent node, field): the JSON does not name such an object's type, so
// this table does, and says whether the walker judges it as that node.
#pragma once

#include "node_fields.inc"
#include "node_tag.h"

#include <array>
#include <cstdint>
#include <string_view>

namespace pgmoat::sql::detail {

// The (parent, field) pairs the walker walks as their node, with the node's own
// handler (relations, types, queries, ...). Every other typed field is walked
// generically as a plain structure of its type (Walker::structure), which still
// reports a RangeVar as a relation. Written once here; node_fields_test.cpp
// checks each pair against PostgreSQL 15's grammar (node_fields.inc).
struct FieldOf {
    NodeTag parent;
    std::string_view field;
};
inline constexpr FieldOf kJudgedFields[] = {
    {NodeTag::AlterDatabaseSetStmt, "setstmt"},
    {NodeTag::AlterObjectDependsStmt, "relation"},
    {NodeTag::AlterObjectSchemaStmt, "relation"},
    {NodeTag::AlterOwnerStmt, "relation"},
    {NodeTag::AlterPolicyStmt, "table"},
    {NodeTag::AlterRoleSetStmt, "setstmt"},
    {NodeTag::AlterSeqStmt, "sequence"},
    {NodeTag::AlterSystemStmt, "setstmt"},
    {NodeTag::AlterTableStmt, "relation"},
    {NodeTag::CallStmt, "funccall"},
    {NodeTag::ClusterStmt, "relation"},
    {NodeTag::ColumnDef, "typeName"},
    {NodeTag::CompositeTypeStmt, "typevar"},
    {NodeTag::Constraint, "pktable"},
    {NodeTag::CopyStmt, "relation"},
    {NodeTag::CreateDomainStmt, "typeName"},
    {NodeTag::CreateForeignTableStmt, "base"},
    {NodeTag::CreateFunctionStmt, "returnType"},
    {NodeTag::CreatePolicyStmt, "table"},
    {NodeTag::CreateSeqStmt, "sequence"},
    {NodeTag::CreateStmt, "relation"},
    {NodeTag::CreateStmt, "ofTypename"},
    {NodeTag::CreateTableAsStmt, "into"},
    {NodeTag::CreateTrigStmt, "relation"},
    {NodeTag::DeleteStmt, "relation"},
    {NodeTag::DeleteStmt, "withClause"},
    {NodeTag::FunctionParameter, "argType"},
    {NodeTag::IndexStmt, "relation"},
    {NodeTag::InsertStmt, "relation"},
    {NodeTag::InsertStmt, "onConflictClause"},
    {NodeTag::InsertStmt, "withClause"},
    {NodeTag::IntoClause, "rel"},
    {NodeTag::MergeStmt, "relation"},
    {NodeTag::MergeStmt, "withClause"},
    {NodeTag::OnConflictClause, "infer"},
    {NodeTag::PublicationTable, "relation"},
    {NodeTag::RangeTableFuncCol, "typeName"},
    {NodeTag::RefreshMatViewStmt, "relation"},
    {NodeTag::ReindexStmt, "relation"},
    {NodeTag::RenameStmt, "relation"},
    {NodeTag::RuleStmt, "relation"},
    {NodeTag::SelectStmt, "intoClause"},
    {NodeTag::SelectStmt, "withClause"},
    {NodeTag::SelectStmt, "larg"},
    {NodeTag::SelectStmt, "rarg"},
    {NodeTag::TableLikeClause, "relation"},
    {NodeTag::TypeCast, "typeName"},
    {NodeTag::UpdateStmt, "relation"},
    {NodeTag::UpdateStmt, "withClause"},
    {NodeTag::VacuumRelation, "relation"},
    {NodeTag::ViewStmt, "view"},
    {NodeTag::XmlSerialize, "typeName"},
};

// A typed field: its parent, its name, the node it holds, and whether the walker
// judges it (kJudgedFields) or walks it generically.
struct TypedField {
    NodeTag parent = NodeTag::unknown;
    std::string_view field;
    NodeTag type = NodeTag::unknown;
    bool judged = false;
};

namespace typed_fields_impl {

// The tag named `name` (a type outside the walker's vocabulary is unknown:
// CallStmt.funcexpr's FuncExpr, which the grammar leaves empty).
constexpr NodeTag tag_named(std::string_view name) {
    constexpr std::string_view kNames[] = {
#define PGMOAT_SQL_NODE_NAME(tag, kind, flags) #tag,
        PGMOAT_SQL_NODES(PGMOAT_SQL_NODE_NAME)
#undef PGMOAT_SQL_NODE_NAME
    };
    for (size_t i = 0; i < std::size(kNames); ++i)
        if (kNames[i] == name) return static_cast<NodeTag>(i + 1);
    return NodeTag::unknown;
}

constexpr bool judged(NodeTag parent, std::string_view field) {
    for (const FieldOf& f : kJudgedFields)
        if (f.parent == parent && f.field == field) return true;
    return false;
}

}  // namespace typed_fields_impl

// Every typed field of PostgreSQL 15's grammar nodes (node_fields.inc), grouped
// by parent as the generator writes them.
inline constexpr TypedField kTypedFields[] = {
#define PGMOAT_SQL_TYPED_FIELD(parent, field, type) \
    {NodeTag::parent, #field, typed_fields_impl::tag_named(#type), typed_fields_impl::judged(NodeTag::parent, #field)},
    PGMOAT_SQL_TYPED_FIELDS(PGMOAT_SQL_TYPED_FIELD)
#undef PGMOAT_SQL_TYPED_FIELD
};

namespace typed_fields_impl {

// Where each parent's typed fields start in kTypedFields, and how many there are.
struct Span {
    uint16_t first = 0;
    uint16_t count = 0;
};
constexpr std::array<Span, static_cast<size_t>(NodeTag::count)> spans() {
    std::array<Span, static_cast<size_t>(NodeTag::count)> out{};
    for (size_t i = 0; i < std::size(kTypedFields); ++i) {
        Span& s = out[static_cast<size_t>(kTypedFields[i].parent)];
        if (s.count == 0) s.first = static_cast<uint16_t>(i);
        if (s.first + s.count != i) throw "node_fields.inc: a parent's typed fields are not together";
        ++s.count;
    }
    return out;
}
inline constexpr auto kSpans = spans();

}  // namespace typed_fields_impl

// The typed field `field` of `parent`; nullptr when `parent` has no such field.
inline const TypedField* typed_field(NodeTag parent, std::string_view field) {
    const typed_fields_impl::Span s = typed_fields_impl::kSpans[static_cast<size_t>(parent)];
    for (uint16_t i = s.first; i < s.first + s.count; ++i)
        if (kTypedFields[i].field == field) return &kTypedFields[i];
    return nullptr;
}

}  // namespace pgmoat::sql::detail
