// What a statement is, in PostgreSQL's own vocabulary: one kind per command the
// grammar knows, each with a stable snake_case name for logs and policy files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pgmoat::sql {

// Broad families a policy can allow or deny at once ("no DDL").
enum class StatementCategory : uint8_t {
    query,        // SELECT, VALUES, TABLE
    dml,          // INSERT, UPDATE, DELETE, MERGE
    copy,         // COPY in either direction
    ddl,          // CREATE/ALTER/DROP of any object, TRUNCATE, COMMENT, REFRESH, ...
    dcl,          // GRANT/REVOKE and role management
    transaction,  // BEGIN, COMMIT, SAVEPOINT, SET CONSTRAINTS, ...
    session,      // SET/RESET/SHOW, DISCARD, LISTEN/NOTIFY, PREPARE/EXECUTE, cursors
    utility,      // EXPLAIN, CALL, DO, LOCK, VACUUM, ANALYZE, LOAD, ALTER SYSTEM, ...
    other,        // anything pgmoat does not recognise: deny it
};

// X(enumerator, "name", category). The names are part of pgmoat's interface
// (policy files, audit records): never rename one, only add.
#define PGMOAT_SQL_STATEMENT_KINDS(X)                                  \
    X(none, "none", other)                                             \
    X(other, "other", other)                                           \
    X(select, "select", query)                                         \
    X(insert, "insert", dml)                                           \
    X(update, "update", dml)                                           \
    X(delete_, "delete", dml)                                          \
    X(merge, "merge", dml)                                             \
    X(copy, "copy", copy)                                              \
    X(create_table, "create_table", ddl)                               \
    X(create_table_as, "create_table_as", ddl)                         \
    X(create_materialized_view, "create_materialized_view", ddl)       \
    X(refresh_materialized_view, "refresh_materialized_view", ddl)     \
    X(create_view, "create_view", ddl)                                 \
    X(create_index, "create_index", ddl)                               \
    X(create_sequence, "create_sequence", ddl)                         \
    X(alter_sequence, "alter_sequence", ddl)                           \
    X(create_schema, "create_schema", ddl)                             \
    X(create_function, "create_function", ddl)                         \
    X(create_procedure, "create_procedure", ddl)                       \
    X(alter_function, "alter_function", ddl)                           \
    X(create_trigger, "create_trigger", ddl)                           \
    X(create_event_trigger, "create_event_trigger", ddl)               \
    X(alter_event_trigger, "alter_event_trigger", ddl)                 \
    X(create_rule, "create_rule", ddl)                                 \
    X(create_type, "create_type", ddl)                                 \
    X(alter_type, "alter_type", ddl)                                   \
    X(create_domain, "create_domain", ddl)                             \
    X(alter_domain, "alter_domain", ddl)                               \
    X(create_aggregate, "create_aggregate", ddl)                       \
    X(create_operator, "create_operator", ddl)                         \
    X(alter_operator, "alter_operator", ddl)                           \
    X(create_collation, "create_collation", ddl)                       \
    X(alter_collation, "alter_collation", ddl)                         \
    X(create_text_search, "create_text_search", ddl)                   \
    X(alter_text_search, "alter_text_search", ddl)                     \
    X(create_conversion, "create_conversion", ddl)                     \
    X(create_cast, "create_cast", ddl)                                 \
    X(create_operator_class, "create_operator_class", ddl)             \
    X(create_operator_family, "create_operator_family", ddl)           \
    X(alter_operator_family, "alter_operator_family", ddl)             \
    X(create_language, "create_language", ddl)                         \
    X(create_foreign_data_wrapper, "create_foreign_data_wrapper", ddl) \
    X(alter_foreign_data_wrapper, "alter_foreign_data_wrapper", ddl)   \
    X(create_server, "create_server", ddl)                             \
    X(alter_server, "alter_server", ddl)                               \
    X(create_user_mapping, "create_user_mapping", ddl)                 \
    X(alter_user_mapping, "alter_user_mapping", ddl)                   \
    X(drop_user_mapping, "drop_user_mapping", ddl)                     \
    X(create_foreign_table, "create_foreign_table", ddl)               \
    X(import_foreign_schema, "import_foreign_schema", ddl)             \
    X(create_policy, "create_policy", ddl)                             \
    X(alter_policy, "alter_policy", ddl)                               \
    X(create_transform, "create_transform", ddl)                       \
    X(create_access_method, "create_access_method", ddl)               \
    X(create_publication, "create_publication", ddl)                   \
    X(alter_publication, "alter_publication", ddl)                     \
    X(create_subscription, "create_subscription", ddl)                 \
    X(alter_subscription, "alter_subscription", ddl)                   \
    X(drop_subscription, "drop_subscription", ddl)                     \
    X(create_statistics, "create_statistics", ddl)                     \
    X(alter_statistics, "alter_statistics", ddl)                       \
    X(create_extension, "create_extension", ddl)                       \
    X(alter_extension, "alter_extension", ddl)                         \
    X(create_database, "create_database", ddl)                         \
    X(alter_database, "alter_database", ddl)                           \
    X(drop_database, "drop_database", ddl)                             \
    X(create_tablespace, "create_tablespace", ddl)                     \
    X(alter_tablespace, "alter_tablespace", ddl)                       \
    X(drop_tablespace, "drop_tablespace", ddl)                         \
    X(alter_table, "alter_table", ddl)                                 \
    X(alter_object_schema, "alter_object_schema", ddl)                 \
    X(alter_object_depends, "alter_object_depends", ddl)               \
    X(alter_owner, "alter_owner", ddl)                                 \
    X(rename, "rename", ddl)                                           \
    X(drop, "drop", ddl)                                               \
    X(truncate, "truncate", ddl)                                       \
    X(comment, "comment", ddl)                                         \
    X(security_label, "security_label", ddl)                           \
    X(create_role, "create_role", dcl)                                 \
    X(alter_role, "alter_role", dcl)                                   \
    X(drop_role, "drop_role", dcl)                                     \
    X(grant, "grant", dcl)                                             \
    X(revoke, "revoke", dcl)                                           \
    X(grant_role, "grant_role", dcl)                                   \
    X(revoke_role, "revoke_role", dcl)                                 \
    X(alter_default_privileges, "alter_default_privileges", dcl)       \
    X(drop_owned, "drop_owned", dcl)                                   \
    X(reassign_owned, "reassign_owned", dcl)                           \
    X(begin, "begin", transaction)                                     \
    X(commit, "commit", transaction)                                   \
    X(rollback, "rollback", transaction)                               \
    X(savepoint, "savepoint", transaction)                             \
    X(release_savepoint, "release_savepoint", transaction)             \
    X(rollback_to_savepoint, "rollback_to_savepoint", transaction)     \
    X(prepare_transaction, "prepare_transaction", transaction)         \
    X(commit_prepared, "commit_prepared", transaction)                 \
    X(rollback_prepared, "rollback_prepared", transaction)             \
    X(set_constraints, "set_constraints", transaction)                 \
    X(set, "set", session)                                             \
    X(reset, "reset", session)                                         \
    X(show, "show", session)                                           \
    X(discard, "discard", session)                                     \
    X(listen, "listen", session)                                       \
    X(unlisten, "unlisten", session)                                   \
    X(notify, "notify", session)                                       \
    X(prepare, "prepare", session)                                     \
    X(execute, "execute", session)                                     \
    X(deallocate, "deallocate", session)                               \
    X(declare_cursor, "declare_cursor", session)                       \
    X(fetch, "fetch", session)                                         \
    X(move, "move", session)                                           \
    X(close_cursor, "close_cursor", session)                           \
    X(explain, "explain", utility)                                     \
    X(call, "call", utility)                                           \
    X(do_, "do", utility)                                              \
    X(lock, "lock", utility)                                           \
    X(vacuum, "vacuum", utility)                                       \
    X(analyze, "analyze", utility)                                     \
    X(cluster, "cluster", utility)                                     \
    X(reindex, "reindex", utility)                                     \
    X(checkpoint, "checkpoint", utility)                               \
    X(load, "load", utility)                                           \
    X(alter_system, "alter_system", utility)

enum class StatementKind : uint8_t {
#define PGMOAT_SQL_KIND_ENUM(e, n, c) e,
    PGMOAT_SQL_STATEMENT_KINDS(PGMOAT_SQL_KIND_ENUM)
#undef PGMOAT_SQL_KIND_ENUM
};

// Stable snake_case name, e.g. "select", "create_table", "do".
std::string_view name(StatementKind kind);
StatementCategory category(StatementKind kind);
std::string_view name(StatementCategory category);
// The inverse of name(), for policy files; nullopt for an unknown name.
std::optional<StatementKind> statement_kind_from_name(std::string_view name);

}  // namespace pgmoat::sql
