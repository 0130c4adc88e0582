// The parse-tree node types of PostgreSQL 15's raw grammar output, as libpg_query
// names them in JSON, with the statement kind each statement node maps to. A
// node type not listed here is reported as unknown (and denied by policy).
#pragma once

#include "pgmoat/sql/statement_kind.h"

#include <cstdint>
#include <string_view>

namespace pgmoat::sql::detail {

namespace node_flag {
inline constexpr uint8_t statement = 1;    // a statement node
inline constexpr uint8_t ddl = 2;          // relations below are DDL targets, literals DDL
inline constexpr uint8_t maintenance = 4;  // relations below get ddl access, literals utility
inline constexpr uint8_t transparent = 8;  // a literal's role passes through (lists, rows, arrays)
}  // namespace node_flag

// X(tag, statement kind, flags)
#define PGMOAT_SQL_NODES(X)                                                                        \
    /* statements */                                                                               \
    X(InsertStmt, insert, node_flag::statement)                                                    \
    X(DeleteStmt, delete_, node_flag::statement)                                                   \
    X(UpdateStmt, update, node_flag::statement)                                                    \
    X(MergeStmt, merge, node_flag::statement)                                                      \
    X(SelectStmt, select, node_flag::statement)                                                    \
    X(ReturnStmt, other, node_flag::statement)                                                     \
    X(PLAssignStmt, other, node_flag::statement)                                                   \
    X(CreateSchemaStmt, create_schema, node_flag::statement | node_flag::ddl)                      \
    X(AlterTableStmt, alter_table, node_flag::statement | node_flag::ddl)                          \
    X(AlterDomainStmt, alter_domain, node_flag::statement | node_flag::ddl)                        \
    X(GrantStmt, grant, node_flag::statement | node_flag::ddl)                                     \
    X(GrantRoleStmt, grant_role, node_flag::statement | node_flag::ddl)                            \
    X(AlterDefaultPrivilegesStmt, alter_default_privileges, node_flag::statement | node_flag::ddl) \
    X(CopyStmt, copy, node_flag::statement)                                                        \
    X(VariableSetStmt, set, node_flag::statement)                                                  \
    X(VariableShowStmt, show, node_flag::statement)                                                \
    X(CreateStmt, create_table, node_flag::statement | node_flag::ddl)                             \
    X(CreateTableSpaceStmt, create_tablespace, node_flag::statement | node_flag::ddl)              \
    X(DropTableSpaceStmt, drop_tablespace, node_flag::statement | node_flag::ddl)                  \
    X(AlterTableSpaceOptionsStmt, alter_tablespace, node_flag::statement | node_flag::ddl)         \
    X(AlterTableMoveAllStmt, alter_tablespace, node_flag::statement | node_flag::ddl)              \
    X(CreateExtensionStmt, create_extension, node_flag::statement | node_flag::ddl)                \
    X(AlterExtensionStmt, alter_extension, node_flag::statement | node_flag::ddl)                  \
    X(AlterExtensionContentsStmt, alter_extension, node_flag::statement | node_flag::ddl)          \
    X(CreateFdwStmt, create_foreign_data_wrapper, node_flag::statement | node_flag::ddl)           \
    X(AlterFdwStmt, alter_foreign_data_wrapper, node_flag::statement | node_flag::ddl)             \
    X(CreateForeignServerStmt, create_server, node_flag::statement | node_flag::ddl)               \
    X(AlterForeignServerStmt, alter_server, node_flag::statement | node_flag::ddl)                 \
    X(CreateForeignTableStmt, create_foreign_table, node_flag::statement | node_flag::ddl)         \
    X(CreateUserMappingStmt, create_user_mapping, node_flag::statement | node_flag::ddl)           \
    X(AlterUserMappingStmt, alter_user_mapping, node_flag::statement | node_flag::ddl)             \
    X(DropUserMappingStmt, drop_user_mapping, node_flag::statement | node_flag::ddl)               \
    X(ImportForeignSchemaStmt, import_foreign_schema, node_flag::statement | node_flag::ddl)       \
    X(CreatePolicyStmt, create_policy, node_flag::statement | node_flag::ddl)                      \
    X(AlterPolicyStmt, alter_policy, node_flag::statement | node_flag::ddl)                        \
    X(CreateAmStmt, create_access_method, node_flag::statement | node_flag::ddl)                   \
    X(CreateTrigStmt, create_trigger, node_flag::statement | node_flag::ddl)                       \
    X(CreateEventTrigStmt, create_event_trigger, node_flag::statement | node_flag::ddl)            \
    X(AlterEventTrigStmt, alter_event_trigger, node_flag::statement | node_flag::ddl)              \
    X(CreatePLangStmt, create_language, node_flag::statement | node_flag::ddl)                     \
    X(CreateRoleStmt, create_role, node_flag::statement | node_flag::ddl)                          \
    X(AlterRoleStmt, alter_role, node_flag::statement | node_flag::ddl)                            \
    X(AlterRoleSetStmt, alter_role, node_flag::statement | node_flag::ddl)                         \
    X(DropRoleStmt, drop_role, node_flag::statement | node_flag::ddl)                              \
    X(CreateSeqStmt, create_sequence, node_flag::statement | node_flag::ddl)                       \
    X(AlterSeqStmt, alter_sequence, node_flag::statement | node_flag::ddl)                         \
    X(DefineStmt, create_type, node_flag::statement | node_flag::ddl)                              \
    X(CreateDomainStmt, create_domain, node_flag::statement | node_flag::ddl)                      \
    X(CreateOpClassStmt, create_operator_class, node_flag::statement | node_flag::ddl)             \
    X(CreateOpFamilyStmt, create_operator_family, node_flag::statement | node_flag::ddl)           \
    X(AlterOpFamilyStmt, alter_operator_family, node_flag::statement | node_flag::ddl)             \
    X(DropStmt, drop, node_flag::statement | node_flag::ddl)                                       \
    X(TruncateStmt, truncate, node_flag::statement | node_flag::ddl)                               \
    X(CommentStmt, comment, node_flag::statement | node_flag::ddl)                                 \
    X(SecLabelStmt, security_label, node_flag::statement | node_flag::ddl)                         \
    X(DeclareCursorStmt, declare_cursor, node_flag::statement)                                     \
    X(ClosePortalStmt, close_cursor, node_flag::statement)                                         \
    X(FetchStmt, fetch, node_flag::statement)                                                      \
    X(IndexStmt, create_index, node_flag::statement | node_flag::ddl)                              \
    X(CreateStatsStmt, create_statistics, node_flag::statement | node_flag::ddl)                   \
    X(AlterStatsStmt, alter_statistics, node_flag::statement | node_flag::ddl)                     \
    X(CreateFunctionStmt, create_function, node_flag::statement | node_flag::ddl)                  \
    X(AlterFunctionStmt, alter_function, node_flag::statement | node_flag::ddl)                    \
    X(DoStmt, do_, node_flag::statement)                                                           \
    X(CallStmt, call, node_flag::statement)                                                        \
    X(RenameStmt, rename, node_flag::statement | node_flag::ddl)                                   \
    X(AlterObjectDependsStmt, alter_object_depends, node_flag::statement | node_flag::ddl)         \
    X(AlterObjectSchemaStmt, alter_object_schema, node_flag::statement | node_flag::ddl)           \
    X(AlterOwnerStmt, alter_owner, node_flag::statement | node_flag::ddl)                          \
    X(AlterOperatorStmt, alter_operator, node_flag::statement | node_flag::ddl)                    \
    X(AlterTypeStmt, alter_type, node_flag::statement | node_flag::ddl)                            \
    X(RuleStmt, create_rule, node_flag::statement | node_flag::ddl)                                \
    X(NotifyStmt, notify, node_flag::statement)                                                    \
    X(ListenStmt, listen, node_flag::statement)                                                    \
    X(UnlistenStmt, unlisten, node_flag::statement)                                                \
    X(TransactionStmt, begin, node_flag::statement)                                                \
    X(CompositeTypeStmt, create_type, node_flag::statement | node_flag::ddl)                       \
    X(CreateEnumStmt, create_type, node_flag::statement | node_flag::ddl)                          \
    X(CreateRangeStmt, create_type, node_flag::statement | node_flag::ddl)                         \
    X(AlterEnumStmt, alter_type, node_flag::statement | node_flag::ddl)                            \
    X(ViewStmt, create_view, node_flag::statement | node_flag::ddl)                                \
    X(LoadStmt, load, node_flag::statement)                                                        \
    X(CreatedbStmt, create_database, node_flag::statement | node_flag::ddl)                        \
    X(AlterDatabaseStmt, alter_database, node_flag::statement | node_flag::ddl)                    \
    X(AlterDatabaseRefreshCollStmt, alter_database, node_flag::statement | node_flag::ddl)         \
    X(AlterDatabaseSetStmt, alter_database, node_flag::statement | node_flag::ddl)                 \
    X(DropdbStmt, drop_database, node_flag::statement | node_flag::ddl)                            \
    X(AlterSystemStmt, alter_system, node_flag::statement)                                         \
    X(ClusterStmt, cluster, node_flag::statement | node_flag::maintenance)                         \
    X(VacuumStmt, vacuum, node_flag::statement | node_flag::maintenance)                           \
    X(ExplainStmt, explain, node_flag::statement)                                                  \
    X(CreateTableAsStmt, create_table_as, node_flag::statement | node_flag::ddl)                   \
    X(RefreshMatViewStmt, refresh_materialized_view, node_flag::statement | node_flag::ddl)        \
    X(CheckPointStmt, checkpoint, node_flag::statement)                                            \
    X(DiscardStmt, discard, node_flag::statement)                                                  \
    X(LockStmt, lock, node_flag::statement)                                                        \
    X(ConstraintsSetStmt, set_constraints, node_flag::statement)                                   \
    X(ReindexStmt, reindex, node_flag::statement | node_flag::maintenance)                         \
    X(CreateConversionStmt, create_conversion, node_flag::statement | node_flag::ddl)              \
    X(CreateCastStmt, create_cast, node_flag::statement | node_flag::ddl)                          \
    X(CreateTransformStmt, create_transform, node_flag::statement | node_flag::ddl)                \
    X(PrepareStmt, prepare, node_flag::statement)                                                  \
    X(ExecuteStmt, execute, node_flag::statement)                                                  \
    X(DeallocateStmt, deallocate, node_flag::statement)                                            \
    X(DropOwnedStmt, drop_owned, node_flag::statement | node_flag::ddl)                            \
    X(ReassignOwnedStmt, reassign_owned, node_flag::statement | node_flag::ddl)                    \
    X(AlterTSDictionaryStmt, alter_text_search, node_flag::statement | node_flag::ddl)             \
    X(AlterTSConfigurationStmt, alter_text_search, node_flag::statement | node_flag::ddl)          \
    X(CreatePublicationStmt, create_publication, node_flag::statement | node_flag::ddl)            \
    X(AlterPublicationStmt, alter_publication, node_flag::statement | node_flag::ddl)              \
    X(CreateSubscriptionStmt, create_subscription, node_flag::statement | node_flag::ddl)          \
    X(AlterSubscriptionStmt, alter_subscription, node_flag::statement | node_flag::ddl)            \
    X(DropSubscriptionStmt, drop_subscription, node_flag::statement | node_flag::ddl)              \
    X(AlterCollationStmt, alter_collation, node_flag::statement | node_flag::ddl)                  \
    /* expressions and clauses */                                                                  \
    X(A_Const, none, 0)                                                                            \
    X(ParamRef, none, 0)                                                                           \
    X(ColumnRef, none, 0)                                                                          \
    X(FuncCall, none, 0)                                                                           \
    X(A_Expr, none, 0)                                                                             \
    X(BoolExpr, none, 0)                                                                           \
    X(TypeCast, none, 0)                                                                           \
    X(TypeName, none, 0)                                                                           \
    X(SubLink, none, 0)                                                                            \
    X(RangeVar, none, 0)                                                                           \
    X(RangeSubselect, none, 0)                                                                     \
    X(RangeFunction, none, 0)                                                                      \
    X(RangeTableFunc, none, 0)                                                                     \
    X(RangeTableFuncCol, none, 0)                                                                  \
    X(RangeTableSample, none, 0)                                                                   \
    X(JoinExpr, none, 0)                                                                           \
    X(ResTarget, none, 0)                                                                          \
    X(MultiAssignRef, none, 0)                                                                     \
    X(CommonTableExpr, none, 0)                                                                    \
    X(WithClause, none, 0)                                                                         \
    X(IntoClause, none, 0)                                                                         \
    X(OnConflictClause, none, 0)                                                                   \
    X(InferClause, none, 0)                                                                        \
    X(MergeWhenClause, none, 0)                                                                    \
    X(LockingClause, none, 0)                                                                      \
    X(VacuumRelation, none, 0)                                                                     \
    X(IndexElem, none, 0)                                                                          \
    X(DefElem, none, 0)                                                                            \
    X(String, none, 0)                                                                             \
    X(Integer, none, 0)                                                                            \
    X(Float, none, 0)                                                                              \
    X(Boolean, none, 0)                                                                            \
    X(BitString, none, 0)                                                                          \
    X(List, none, node_flag::transparent)                                                          \
    X(IntList, none, node_flag::transparent)                                                       \
    X(OidList, none, node_flag::transparent)                                                       \
    X(RowExpr, none, node_flag::transparent)                                                       \
    X(A_ArrayExpr, none, node_flag::transparent)                                                   \
    X(CurrentOfExpr, none, 0)                                                                      \
    X(Alias, none, 0)                                                                              \
    X(RawStmt, none, 0)                                                                            \
    X(TableFunc, none, 0)                                                                          \
    X(GroupingFunc, none, 0)                                                                       \
    X(NamedArgExpr, none, 0)                                                                       \
    X(CaseExpr, none, 0)                                                                           \
    X(CaseWhen, none, 0)                                                                           \
    X(CoalesceExpr, none, 0)                                                                       \
    X(MinMaxExpr, none, 0)                                                                         \
    X(SQLValueFunction, none, 0)                                                                   \
    X(XmlExpr, none, 0)                                                                            \
    X(XmlSerialize, none, 0)                                                                       \
    X(NullTest, none, 0)                                                                           \
    X(BooleanTest, none, 0)                                                                        \
    X(SetToDefault, none, 0)                                                                       \
    X(CollateClause, none, 0)                                                                      \
    X(RoleSpec, none, 0)                                                                           \
    X(A_Star, none, 0)                                                                             \
    X(A_Indices, none, 0)                                                                          \
    X(A_Indirection, none, 0)                                                                      \
    X(SortBy, none, 0)                                                                             \
    X(WindowDef, none, 0)                                                                          \
    X(ColumnDef, none, 0)                                                                          \
    X(TableLikeClause, none, 0)                                                                    \
    X(PartitionElem, none, 0)                                                                      \
    X(PartitionSpec, none, 0)                                                                      \
    X(PartitionBoundSpec, none, 0)                                                                 \
    X(PartitionRangeDatum, none, 0)                                                                \
    X(PartitionCmd, none, 0)                                                                       \
    X(GroupingSet, none, 0)                                                                        \
    X(CTESearchClause, none, 0)                                                                    \
    X(CTECycleClause, none, 0)                                                                     \
    X(TriggerTransition, none, 0)                                                                  \
    X(AlterTableCmd, none, 0)                                                                      \
    X(ReplicaIdentityStmt, none, 0)                                                                \
    X(ObjectWithArgs, none, 0)                                                                     \
    X(AccessPriv, none, 0)                                                                         \
    X(Constraint, none, 0)                                                                         \
    X(CreateOpClassItem, none, 0)                                                                  \
    X(StatsElem, none, 0)                                                                          \
    X(FunctionParameter, none, 0)                                                                  \
    X(PublicationTable, none, 0)                                                                   \
    X(PublicationObjSpec, none, 0)

enum class NodeTag : uint8_t {
    unknown = 0,
#define PGMOAT_SQL_NODE_ENUM(tag, kind, flags) tag,
    PGMOAT_SQL_NODES(PGMOAT_SQL_NODE_ENUM)
#undef PGMOAT_SQL_NODE_ENUM
        count
};

struct NodeInfo {
    NodeTag tag = NodeTag::unknown;
    StatementKind kind = StatementKind::none;
    uint8_t flags = 0;
    uint64_t hash = 0;  // of the name, for the fingerprint
};

// Looks a JSON node key up (e.g. "SelectStmt"); tag unknown when not listed.
const NodeInfo& node_info(std::string_view name);
const NodeInfo& node_info(NodeTag tag);
// The JSON key of a node type ("SelectStmt"); empty for unknown.
std::string_view node_name(NodeTag tag);

}  // namespace pgmoat::sql::detail
