// What the walker knows of the fields of PostgreSQL 15's nodes, keyed by (parent
// node, field): the type of a field that holds one node type without libpg_query's
// {"Type": ...} wrapper (the JSON does not name it) and whether the walker judges
// it as that node; and the role of every field that holds nodes, which says the
// context its value is walked in (the clause a literal there is classified by).
#pragma once

#include "node_fields.inc"
#include "node_tag.h"

#include <algorithm>
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

// The role of a field that holds nodes: the context Walker::field walks its
// value in. Most fields are walked in their node's own context (generic); a
// handler that must look at what it walks (a judgement the table cannot hold)
// walks its field itself (code), and names why where it does.
enum class FieldRole : uint8_t {
    generic,         // in its node's context
    code,            // walked by its node's handler (walker_*.cpp), which judges it
    where,           // a statement's WHERE: tautologies, and the condition require_where reads
    filter,          // a WHERE that selects no statement's rows (ON CONFLICT, COPY FROM, FILTER)
    having,          // HAVING: tautologies
    merge_on,        // MERGE ... ON: the condition require_where reads for the MERGE
    select_list,     // a select list: its columns counted, its values sent where the query's rows go
    returning,       // RETURNING: as a select list
    group_by,        // GROUP BY: each item a key
    order_by,        // ORDER BY (each SortBy's node a key: sort_key)
    window,          // WINDOW and OVER
    limit,           // LIMIT and OFFSET
    value_rows,      // VALUES lists: values, and a run of equal rows counts once
    values,          // values stored or bound (MERGE's INSERT VALUES, EXECUTE's parameters)
    inserted_query,  // INSERT's SELECT: its select list is the values inserted
    insert_columns,  // INSERT's column list: columns of the target, written
    update_set,      // SET lists: columns of the target, assigned
    on_conflict,     // INSERT's ON CONFLICT clause
    from,            // FROM items, and a join's sides
    set_arm,         // an arm of UNION, INTERSECT or EXCEPT
    create_target,   // the table SELECT INTO and CREATE TABLE AS create
    truncated,       // TRUNCATE's relations
    locked,          // LOCK's relations
    lock_targets,    // FOR UPDATE OF: names of FROM items, not relations
    row_source,      // the functions of a FROM item (ROWS FROM)
    elements,        // ARRAY[...]: a run of equal elements counts once
    case_operand,    // CASE x WHEN ...: x is compared with each WHEN value
    sort_key,        // a SortBy's node: a key itself in ORDER BY
    type_modifiers,  // a type's modifiers: varchar(20)
    options,         // a utility statement's options: DefElem values its handler reads
    query,           // the statement inside EXPLAIN, PREPARE, DECLARE, CREATE TABLE AS, COPY
    later_query,     // a query run later (views, rules, function bodies): its values go who knows where
};

// X(Parent, field, role): every field of PostgreSQL 15's grammar nodes that holds
// nodes (PGMOAT_SQL_NODE_FIELDS), and the typed fields that have a role besides
// their type; a field its handler walks (code) says what the handler judges.
// Written once from the walker's handlers; node_fields_test.cpp fails on a field
// of the grammar this table does not name, so that a new grammar cannot slip a
// field past the walker unseen.
// clang-format off
#define PGMOAT_SQL_FIELD_ROLES(X) \
    X(A_ArrayExpr, elements, elements) \
    X(A_Expr, name, code) /* the operator: comparison, arithmetic, a condition atom */ \
    X(A_Expr, lexpr, code) /* a side: compared by the operator, paired with a column */ \
    X(A_Expr, rexpr, code) /* a side: compared by the operator, paired with a column */ \
    X(A_Indices, lidx, generic) \
    X(A_Indices, uidx, generic) \
    X(A_Indirection, arg, code) /* (expr).f may be f(expr): an argument */ \
    X(A_Indirection, indirection, code) /* each field name may be a call */ \
    X(AccessPriv, cols, generic) \
    X(Alias, colnames, code) /* columns renamed by position */ \
    X(AlterCollationStmt, collname, generic) \
    X(AlterDatabaseStmt, options, options) \
    X(AlterDefaultPrivilegesStmt, options, options) \
    X(AlterDomainStmt, typeName, generic) \
    X(AlterDomainStmt, def, generic) \
    X(AlterEnumStmt, typeName, generic) \
    X(AlterExtensionContentsStmt, object, generic) \
    X(AlterExtensionStmt, options, options) \
    X(AlterFdwStmt, func_options, generic) \
    X(AlterFdwStmt, options, options) \
    X(AlterForeignServerStmt, options, options) \
    X(AlterFunctionStmt, actions, later_query) \
    X(AlterObjectDependsStmt, object, generic) \
    X(AlterObjectSchemaStmt, object, generic) \
    X(AlterOpFamilyStmt, opfamilyname, generic) \
    X(AlterOpFamilyStmt, items, generic) \
    X(AlterOperatorStmt, options, options) \
    X(AlterOwnerStmt, object, generic) \
    X(AlterPolicyStmt, roles, generic) \
    X(AlterPolicyStmt, qual, generic) \
    X(AlterPolicyStmt, with_check, generic) \
    X(AlterPublicationStmt, options, options) \
    X(AlterPublicationStmt, pubobjects, generic) \
    X(AlterRoleStmt, options, options) \
    X(AlterSeqStmt, options, options) \
    X(AlterStatsStmt, defnames, generic) \
    X(AlterSubscriptionStmt, publication, generic) \
    X(AlterSubscriptionStmt, options, options) \
    X(AlterTSConfigurationStmt, cfgname, generic) \
    X(AlterTSConfigurationStmt, tokentype, generic) \
    X(AlterTSConfigurationStmt, dicts, generic) \
    X(AlterTSDictionaryStmt, dictname, generic) \
    X(AlterTSDictionaryStmt, options, options) \
    X(AlterTableCmd, def, generic) \
    X(AlterTableMoveAllStmt, roles, generic) \
    X(AlterTableSpaceOptionsStmt, options, options) \
    X(AlterTableStmt, cmds, generic) \
    X(AlterTypeStmt, typeName, generic) \
    X(AlterTypeStmt, options, options) \
    X(AlterUserMappingStmt, options, options) \
    X(BoolExpr, args, code) /* AND/OR terms: a condition and its tautologies */ \
    X(BooleanTest, arg, generic) \
    X(CTECycleClause, cycle_col_list, generic) \
    X(CTECycleClause, cycle_mark_value, generic) \
    X(CTECycleClause, cycle_mark_default, generic) \
    X(CTESearchClause, search_col_list, generic) \
    X(CallStmt, outargs, generic) \
    X(CaseExpr, arg, case_operand) \
    X(CaseExpr, args, code) /* compared with the CASE operand when there is one */ \
    X(CaseExpr, defresult, generic) \
    X(CaseWhen, expr, code) /* compared with the CASE operand when there is one */ \
    X(CaseWhen, result, generic) \
    X(ClusterStmt, params, generic) \
    X(CoalesceExpr, args, generic) \
    X(CollateClause, arg, generic) \
    X(CollateClause, collname, generic) \
    X(ColumnDef, raw_default, generic) \
    X(ColumnDef, cooked_default, generic) \
    X(ColumnDef, constraints, generic) \
    X(ColumnDef, fdwoptions, generic) \
    X(ColumnRef, fields, code) /* the column's name */ \
    X(CommentStmt, object, code) /* names of the object */ \
    X(CommonTableExpr, aliascolnames, code) /* columns renamed by position */ \
    X(CommonTableExpr, ctequery, code) /* the WITH query's scope and writes */ \
    X(CommonTableExpr, ctecolnames, generic) \
    X(CommonTableExpr, ctecoltypes, generic) \
    X(CommonTableExpr, ctecoltypmods, generic) \
    X(CommonTableExpr, ctecolcollations, generic) \
    X(CompositeTypeStmt, coldeflist, generic) \
    X(Constraint, raw_expr, generic) \
    X(Constraint, keys, generic) \
    X(Constraint, including, generic) \
    X(Constraint, exclusions, generic) \
    X(Constraint, options, generic) \
    X(Constraint, where_clause, generic) \
    X(Constraint, fk_attrs, generic) \
    X(Constraint, pk_attrs, generic) \
    X(Constraint, fk_del_set_cols, generic) \
    X(Constraint, old_conpfeqop, generic) \
    X(ConstraintsSetStmt, constraints, generic) \
    X(CopyStmt, query, query) \
    X(CopyStmt, attlist, code) /* columns read or written, by direction */ \
    X(CopyStmt, options, generic) \
    X(CopyStmt, whereClause, filter) \
    X(CreateAmStmt, handler_name, generic) \
    X(CreateConversionStmt, conversion_name, generic) \
    X(CreateConversionStmt, func_name, generic) \
    X(CreateDomainStmt, domainname, generic) \
    X(CreateDomainStmt, constraints, generic) \
    X(CreateEnumStmt, typeName, generic) \
    X(CreateEnumStmt, vals, generic) \
    X(CreateEventTrigStmt, whenclause, generic) \
    X(CreateEventTrigStmt, funcname, generic) \
    X(CreateExtensionStmt, options, options) \
    X(CreateFdwStmt, func_options, generic) \
    X(CreateFdwStmt, options, options) \
    X(CreateForeignServerStmt, options, options) \
    X(CreateForeignTableStmt, options, options) \
    X(CreateFunctionStmt, funcname, code) /* the function's name */ \
    X(CreateFunctionStmt, parameters, generic) \
    X(CreateFunctionStmt, options, options) \
    X(CreateFunctionStmt, sql_body, later_query) \
    X(CreateOpClassItem, order_family, generic) \
    X(CreateOpClassItem, class_args, generic) \
    X(CreateOpClassStmt, opclassname, generic) \
    X(CreateOpClassStmt, opfamilyname, generic) \
    X(CreateOpClassStmt, items, generic) \
    X(CreateOpFamilyStmt, opfamilyname, generic) \
    X(CreatePLangStmt, plhandler, generic) \
    X(CreatePLangStmt, plinline, generic) \
    X(CreatePLangStmt, plvalidator, generic) \
    X(CreatePolicyStmt, roles, generic) \
    X(CreatePolicyStmt, qual, generic) \
    X(CreatePolicyStmt, with_check, generic) \
    X(CreatePublicationStmt, options, options) \
    X(CreatePublicationStmt, pubobjects, generic) \
    X(CreateRangeStmt, typeName, generic) \
    X(CreateRangeStmt, params, generic) \
    X(CreateRoleStmt, options, options) \
    X(CreateSchemaStmt, schemaElts, generic) \
    X(CreateSeqStmt, options, options) \
    X(CreateStatsStmt, defnames, generic) \
    X(CreateStatsStmt, stat_types, generic) \
    X(CreateStatsStmt, exprs, generic) \
    X(CreateStatsStmt, relations, generic) \
    X(CreateStmt, tableElts, generic) \
    X(CreateStmt, inhRelations, generic) \
    X(CreateStmt, constraints, generic) \
    X(CreateStmt, options, options) \
    X(CreateSubscriptionStmt, publication, generic) \
    X(CreateSubscriptionStmt, options, options) \
    X(CreateTableAsStmt, query, query) \
    X(CreateTableAsStmt, into, create_target) \
    X(CreateTableSpaceStmt, options, options) \
    X(CreateTrigStmt, funcname, generic) \
    X(CreateTrigStmt, args, options) \
    X(CreateTrigStmt, columns, generic) \
    X(CreateTrigStmt, whenClause, generic) \
    X(CreateTrigStmt, transitionRels, generic) \
    X(CreateUserMappingStmt, options, options) \
    X(CreatedbStmt, options, options) \
    X(DeclareCursorStmt, query, query) \
    X(DefElem, arg, code) /* the option's value, for its statement */ \
    X(DefineStmt, defnames, generic) \
    X(DefineStmt, args, options) \
    X(DefineStmt, definition, generic) \
    X(DeleteStmt, usingClause, from) \
    X(DeleteStmt, whereClause, where) \
    X(DeleteStmt, returningList, returning) \
    X(DoStmt, args, options) \
    X(DropOwnedStmt, roles, generic) \
    X(DropRoleStmt, roles, generic) \
    X(DropStmt, objects, code) /* names of the objects */ \
    X(DropdbStmt, options, options) \
    X(ExecuteStmt, params, values) \
    X(ExplainStmt, query, query) \
    X(ExplainStmt, options, options) \
    X(FuncCall, funcname, code) /* the function's name */ \
    X(FuncCall, args, code) /* each argument recorded for the call */ \
    X(FuncCall, agg_order, generic) \
    X(FuncCall, agg_filter, filter) \
    X(FuncCall, over, window) \
    X(FunctionParameter, defexpr, generic) \
    X(GrantRoleStmt, granted_roles, generic) \
    X(GrantRoleStmt, grantee_roles, generic) \
    X(GrantStmt, objects, generic) \
    X(GrantStmt, privileges, generic) \
    X(GrantStmt, grantees, generic) \
    X(GroupingFunc, args, generic) \
    X(GroupingFunc, refs, generic) \
    X(GroupingFunc, cols, generic) \
    X(GroupingSet, content, generic) \
    X(ImportForeignSchemaStmt, table_list, generic) \
    X(ImportForeignSchemaStmt, options, options) \
    X(IndexElem, expr, generic) \
    X(IndexElem, collation, generic) \
    X(IndexElem, opclass, generic) \
    X(IndexElem, opclassopts, generic) \
    X(IndexStmt, indexParams, generic) \
    X(IndexStmt, indexIncludingParams, generic) \
    X(IndexStmt, options, options) \
    X(IndexStmt, whereClause, generic) \
    X(IndexStmt, excludeOpNames, generic) \
    X(InferClause, indexElems, generic) \
    X(InferClause, whereClause, generic) \
    X(InsertStmt, cols, insert_columns) \
    X(InsertStmt, selectStmt, inserted_query) \
    X(InsertStmt, returningList, returning) \
    X(InsertStmt, onConflictClause, on_conflict) \
    X(IntoClause, colNames, generic) \
    X(IntoClause, options, generic) \
    X(IntoClause, viewQuery, generic) \
    X(JoinExpr, larg, from) \
    X(JoinExpr, rarg, from) \
    X(JoinExpr, usingClause, code) /* columns of both sides */ \
    X(JoinExpr, quals, code) /* a condition on the rows only for an inner join */ \
    X(LockStmt, relations, locked) \
    X(LockingClause, lockedRels, lock_targets) \
    X(MergeStmt, sourceRelation, from) \
    X(MergeStmt, joinCondition, merge_on) \
    X(MergeStmt, mergeWhenClauses, code) /* actions on the MERGE's target */ \
    X(MergeWhenClause, condition, code) /* selects rows for its action */ \
    X(MergeWhenClause, targetList, code) /* INSERT columns or SET list, by its command */ \
    X(MergeWhenClause, values, values) \
    X(MinMaxExpr, args, generic) \
    X(MultiAssignRef, source, generic) \
    X(NamedArgExpr, arg, code) /* keeps the argument's role */ \
    X(NullTest, arg, generic) \
    X(ObjectWithArgs, objname, generic) \
    X(ObjectWithArgs, objargs, generic) \
    X(ObjectWithArgs, objfuncargs, generic) \
    X(OnConflictClause, targetList, update_set) \
    X(OnConflictClause, whereClause, filter) \
    X(PLAssignStmt, indirection, generic) \
    X(PartitionBoundSpec, listdatums, generic) \
    X(PartitionBoundSpec, lowerdatums, generic) \
    X(PartitionBoundSpec, upperdatums, generic) \
    X(PartitionElem, expr, generic) \
    X(PartitionElem, collation, generic) \
    X(PartitionElem, opclass, generic) \
    X(PartitionSpec, partParams, generic) \
    X(PrepareStmt, argtypes, generic) \
    X(PrepareStmt, query, query) \
    X(PublicationTable, whereClause, generic) \
    X(PublicationTable, columns, generic) \
    X(RangeFunction, functions, row_source) \
    X(RangeFunction, coldeflist, generic) \
    X(RangeSubselect, subquery, code) /* sees the FROM list only when LATERAL */ \
    X(RangeTableFunc, docexpr, generic) \
    X(RangeTableFunc, rowexpr, generic) \
    X(RangeTableFunc, namespaces, generic) \
    X(RangeTableFunc, columns, generic) \
    X(RangeTableFuncCol, colexpr, generic) \
    X(RangeTableFuncCol, coldefexpr, generic) \
    X(RangeTableSample, relation, code) /* a FROM item when the sample is one */ \
    X(RangeTableSample, method, generic) \
    X(RangeTableSample, args, generic) \
    X(RangeTableSample, repeatable, generic) \
    X(RawStmt, stmt, generic) \
    X(ReassignOwnedStmt, roles, generic) \
    X(ReindexStmt, params, generic) \
    X(RenameStmt, object, generic) \
    X(ResTarget, indirection, generic) \
    X(ResTarget, val, code) /* its name when it is a column */ \
    X(ReturnStmt, returnval, generic) \
    X(RowExpr, args, generic) \
    X(RowExpr, colnames, generic) \
    X(RuleStmt, whereClause, later_query) \
    X(RuleStmt, actions, later_query) \
    X(SecLabelStmt, object, code) /* names of the object */ \
    X(SelectStmt, distinctClause, generic) \
    X(SelectStmt, targetList, select_list) \
    X(SelectStmt, fromClause, from) \
    X(SelectStmt, whereClause, where) \
    X(SelectStmt, groupClause, group_by) \
    X(SelectStmt, havingClause, having) \
    X(SelectStmt, windowClause, window) \
    X(SelectStmt, valuesLists, value_rows) \
    X(SelectStmt, sortClause, order_by) \
    X(SelectStmt, limitOffset, limit) \
    X(SelectStmt, limitCount, limit) \
    X(SelectStmt, lockingClause, generic) \
    X(SelectStmt, intoClause, create_target) \
    X(SelectStmt, larg, set_arm) \
    X(SelectStmt, rarg, set_arm) \
    X(SortBy, node, sort_key) \
    X(SortBy, useOp, generic) \
    X(StatsElem, expr, generic) \
    X(SubLink, testexpr, code) /* compared with the sub-select, a condition side */ \
    X(SubLink, operName, code) /* whether it selects rows by value */ \
    X(SubLink, subselect, code) /* where its rows go, its conversions */ \
    X(TransactionStmt, options, options) \
    X(TruncateStmt, relations, truncated) \
    X(TypeCast, arg, code) /* the literals it casts */ \
    X(TypeName, names, code) /* the type's name */ \
    X(TypeName, typmods, type_modifiers) \
    X(TypeName, arrayBounds, code) /* array dimensions */ \
    X(UpdateStmt, targetList, update_set) \
    X(UpdateStmt, whereClause, where) \
    X(UpdateStmt, fromClause, from) \
    X(UpdateStmt, returningList, returning) \
    X(VacuumRelation, va_cols, generic) \
    X(VacuumStmt, options, options) \
    X(VacuumStmt, rels, generic) \
    X(VariableSetStmt, args, generic) \
    X(ViewStmt, aliases, generic) \
    X(ViewStmt, query, later_query) \
    X(ViewStmt, options, options) \
    X(WindowDef, partitionClause, generic) \
    X(WindowDef, orderClause, generic) \
    X(WindowDef, startOffset, generic) \
    X(WindowDef, endOffset, generic) \
    X(WithClause, ctes, code) /* each WITH query by its position */ \
    X(XmlExpr, named_args, generic) \
    X(XmlExpr, arg_names, generic) \
    X(XmlExpr, args, generic) \
    X(XmlSerialize, expr, generic)
// clang-format on

struct FieldRoleOf {
    NodeTag parent = NodeTag::unknown;
    std::string_view field;
    FieldRole role = FieldRole::generic;
};

inline constexpr FieldRoleOf kFieldRoles[] = {
#define PGMOAT_SQL_FIELD_ROLE(parent, field, role) {NodeTag::parent, #field, FieldRole::role},
    PGMOAT_SQL_FIELD_ROLES(PGMOAT_SQL_FIELD_ROLE)
#undef PGMOAT_SQL_FIELD_ROLE
};

namespace typed_fields_impl {

// The rows Walker::field looks up, by parent: those that change the context
// (a generic field and one its handler walks are walked as every other field).
constexpr bool changes_context(FieldRole r) {
    return r != FieldRole::generic && r != FieldRole::code;
}
constexpr size_t kContextRows = [] {
    size_t n = 0;
    for (const FieldRoleOf& f : kFieldRoles) n += changes_context(f.role);
    return n;
}();
constexpr std::array<FieldRoleOf, kContextRows> context_rows() {
    std::array<FieldRoleOf, kContextRows> out{};
    size_t n = 0;
    for (const FieldRoleOf& f : kFieldRoles)
        if (changes_context(f.role)) out[n++] = f;
    std::sort(out.begin(), out.end(), [](const FieldRoleOf& a, const FieldRoleOf& b) { return a.parent < b.parent; });
    return out;
}
inline constexpr auto kContextRoles = context_rows();
constexpr std::array<Span, static_cast<size_t>(NodeTag::count)> context_spans() {
    std::array<Span, static_cast<size_t>(NodeTag::count)> out{};
    for (size_t i = 0; i < kContextRows; ++i) {
        Span& s = out[static_cast<size_t>(kContextRoles[i].parent)];
        if (s.count == 0) s.first = static_cast<uint16_t>(i);
        ++s.count;
    }
    return out;
}
inline constexpr auto kContextSpans = context_spans();

}  // namespace typed_fields_impl

// The role of `parent`'s field `field` as far as it changes the context it is
// walked in: generic for every field that does not.
inline FieldRole field_role(NodeTag parent, std::string_view field) {
    const typed_fields_impl::Span s = typed_fields_impl::kContextSpans[static_cast<size_t>(parent)];
    for (uint16_t i = s.first; i < s.first + s.count; ++i)
        if (typed_fields_impl::kContextRoles[i].field == field) return typed_fields_impl::kContextRoles[i].role;
    return FieldRole::generic;
}

}  // namespace pgmoat::sql::detail
