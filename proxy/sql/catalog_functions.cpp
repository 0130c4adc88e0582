// The tables behind catalog_functions.h, from PostgreSQL 15's
// system_views.sql and pg_proc (both checked by tests against the real thing).
#include "catalog_functions.h"

#include <algorithm>

namespace pgmoat::sql::detail {

namespace {

constexpr std::pair<std::string_view, std::string_view> kViewFunctions[] = {
    {"pg_available_extension_versions", "pg_available_extension_versions"},
    {"pg_available_extensions", "pg_available_extensions"},
    {"pg_config", "pg_config"},
    {"pg_cursor", "pg_cursors"},
    {"pg_get_backend_memory_contexts", "pg_backend_memory_contexts"},
    {"pg_get_replication_slots", "pg_replication_slots"},
    {"pg_get_shmem_allocations", "pg_shmem_allocations"},
    {"pg_hba_file_rules", "pg_hba_file_rules"},
    {"pg_ident_file_mappings", "pg_ident_file_mappings"},
    {"pg_lock_status", "pg_locks"},
    {"pg_prepared_statement", "pg_prepared_statements"},
    {"pg_prepared_xact", "pg_prepared_xacts"},
    {"pg_show_all_file_settings", "pg_file_settings"},
    {"pg_show_all_settings", "pg_settings"},
    {"pg_show_replication_origin_status", "pg_replication_origin_status"},
    {"pg_stat_get_activity", "pg_stat_activity"},
    {"pg_stat_get_activity", "pg_stat_gssapi"},
    {"pg_stat_get_activity", "pg_stat_replication"},
    {"pg_stat_get_activity", "pg_stat_ssl"},
    {"pg_stat_get_analyze_count", "pg_stat_all_tables"},
    {"pg_stat_get_archiver", "pg_stat_archiver"},
    {"pg_stat_get_autoanalyze_count", "pg_stat_all_tables"},
    {"pg_stat_get_autovacuum_count", "pg_stat_all_tables"},
    {"pg_stat_get_bgwriter_buf_written_checkpoints", "pg_stat_bgwriter"},
    {"pg_stat_get_bgwriter_buf_written_clean", "pg_stat_bgwriter"},
    {"pg_stat_get_bgwriter_maxwritten_clean", "pg_stat_bgwriter"},
    {"pg_stat_get_bgwriter_requested_checkpoints", "pg_stat_bgwriter"},
    {"pg_stat_get_bgwriter_stat_reset_time", "pg_stat_bgwriter"},
    {"pg_stat_get_bgwriter_timed_checkpoints", "pg_stat_bgwriter"},
    {"pg_stat_get_blocks_fetched", "pg_statio_all_indexes"},
    {"pg_stat_get_blocks_fetched", "pg_statio_all_sequences"},
    {"pg_stat_get_blocks_fetched", "pg_statio_all_tables"},
    {"pg_stat_get_blocks_hit", "pg_statio_all_indexes"},
    {"pg_stat_get_blocks_hit", "pg_statio_all_sequences"},
    {"pg_stat_get_blocks_hit", "pg_statio_all_tables"},
    {"pg_stat_get_buf_alloc", "pg_stat_bgwriter"},
    {"pg_stat_get_buf_fsync_backend", "pg_stat_bgwriter"},
    {"pg_stat_get_buf_written_backend", "pg_stat_bgwriter"},
    {"pg_stat_get_checkpoint_sync_time", "pg_stat_bgwriter"},
    {"pg_stat_get_checkpoint_write_time", "pg_stat_bgwriter"},
    {"pg_stat_get_db_active_time", "pg_stat_database"},
    {"pg_stat_get_db_blk_read_time", "pg_stat_database"},
    {"pg_stat_get_db_blk_write_time", "pg_stat_database"},
    {"pg_stat_get_db_blocks_fetched", "pg_stat_database"},
    {"pg_stat_get_db_blocks_hit", "pg_stat_database"},
    {"pg_stat_get_db_checksum_failures", "pg_stat_database"},
    {"pg_stat_get_db_checksum_last_failure", "pg_stat_database"},
    {"pg_stat_get_db_conflict_all", "pg_stat_database"},
    {"pg_stat_get_db_conflict_bufferpin", "pg_stat_database_conflicts"},
    {"pg_stat_get_db_conflict_lock", "pg_stat_database_conflicts"},
    {"pg_stat_get_db_conflict_snapshot", "pg_stat_database_conflicts"},
    {"pg_stat_get_db_conflict_startup_deadlock", "pg_stat_database_conflicts"},
    {"pg_stat_get_db_conflict_tablespace", "pg_stat_database_conflicts"},
    {"pg_stat_get_db_deadlocks", "pg_stat_database"},
    {"pg_stat_get_db_idle_in_transaction_time", "pg_stat_database"},
    {"pg_stat_get_db_numbackends", "pg_stat_database"},
    {"pg_stat_get_db_session_time", "pg_stat_database"},
    {"pg_stat_get_db_sessions", "pg_stat_database"},
    {"pg_stat_get_db_sessions_abandoned", "pg_stat_database"},
    {"pg_stat_get_db_sessions_fatal", "pg_stat_database"},
    {"pg_stat_get_db_sessions_killed", "pg_stat_database"},
    {"pg_stat_get_db_stat_reset_time", "pg_stat_database"},
    {"pg_stat_get_db_temp_bytes", "pg_stat_database"},
    {"pg_stat_get_db_temp_files", "pg_stat_database"},
    {"pg_stat_get_db_tuples_deleted", "pg_stat_database"},
    {"pg_stat_get_db_tuples_fetched", "pg_stat_database"},
    {"pg_stat_get_db_tuples_inserted", "pg_stat_database"},
    {"pg_stat_get_db_tuples_returned", "pg_stat_database"},
    {"pg_stat_get_db_tuples_updated", "pg_stat_database"},
    {"pg_stat_get_db_xact_commit", "pg_stat_database"},
    {"pg_stat_get_db_xact_rollback", "pg_stat_database"},
    {"pg_stat_get_dead_tuples", "pg_stat_all_tables"},
    {"pg_stat_get_function_calls", "pg_stat_user_functions"},
    {"pg_stat_get_function_self_time", "pg_stat_user_functions"},
    {"pg_stat_get_function_total_time", "pg_stat_user_functions"},
    {"pg_stat_get_ins_since_vacuum", "pg_stat_all_tables"},
    {"pg_stat_get_last_analyze_time", "pg_stat_all_tables"},
    {"pg_stat_get_last_autoanalyze_time", "pg_stat_all_tables"},
    {"pg_stat_get_last_autovacuum_time", "pg_stat_all_tables"},
    {"pg_stat_get_last_vacuum_time", "pg_stat_all_tables"},
    {"pg_stat_get_live_tuples", "pg_stat_all_tables"},
    {"pg_stat_get_mod_since_analyze", "pg_stat_all_tables"},
    {"pg_stat_get_numscans", "pg_stat_all_indexes"},
    {"pg_stat_get_numscans", "pg_stat_all_tables"},
    {"pg_stat_get_progress_info", "pg_stat_progress_analyze"},
    {"pg_stat_get_progress_info", "pg_stat_progress_basebackup"},
    {"pg_stat_get_progress_info", "pg_stat_progress_cluster"},
    {"pg_stat_get_progress_info", "pg_stat_progress_copy"},
    {"pg_stat_get_progress_info", "pg_stat_progress_create_index"},
    {"pg_stat_get_progress_info", "pg_stat_progress_vacuum"},
    {"pg_stat_get_recovery_prefetch", "pg_stat_recovery_prefetch"},
    {"pg_stat_get_replication_slot", "pg_stat_replication_slots"},
    {"pg_stat_get_slru", "pg_stat_slru"},
    {"pg_stat_get_subscription", "pg_stat_subscription"},
    {"pg_stat_get_subscription_stats", "pg_stat_subscription_stats"},
    {"pg_stat_get_tuples_deleted", "pg_stat_all_tables"},
    {"pg_stat_get_tuples_fetched", "pg_stat_all_indexes"},
    {"pg_stat_get_tuples_fetched", "pg_stat_all_tables"},
    {"pg_stat_get_tuples_hot_updated", "pg_stat_all_tables"},
    {"pg_stat_get_tuples_inserted", "pg_stat_all_tables"},
    {"pg_stat_get_tuples_returned", "pg_stat_all_indexes"},
    {"pg_stat_get_tuples_returned", "pg_stat_all_tables"},
    {"pg_stat_get_tuples_updated", "pg_stat_all_tables"},
    {"pg_stat_get_vacuum_count", "pg_stat_all_tables"},
    {"pg_stat_get_wal", "pg_stat_wal"},
    {"pg_stat_get_wal_receiver", "pg_stat_wal_receiver"},
    {"pg_stat_get_wal_senders", "pg_stat_replication"},
    {"pg_stat_get_xact_function_calls", "pg_stat_xact_user_functions"},
    {"pg_stat_get_xact_function_self_time", "pg_stat_xact_user_functions"},
    {"pg_stat_get_xact_function_total_time", "pg_stat_xact_user_functions"},
    {"pg_stat_get_xact_numscans", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_deleted", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_fetched", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_hot_updated", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_inserted", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_returned", "pg_stat_xact_all_tables"},
    {"pg_stat_get_xact_tuples_updated", "pg_stat_xact_all_tables"},
    {"pg_timezone_abbrevs", "pg_timezone_abbrevs"},
    {"pg_timezone_names", "pg_timezone_names"},
};

// pg_proc, PostgreSQL 15: pg_catalog functions whose first argument is record,
// anyelement, anynonarray, anycompatible, anycompatiblenonarray or "any" and
// that can be called with that argument alone.
constexpr std::string_view kRowFunctions[] = {
    "any_out",
    "anycompatible_out",
    "anycompatiblenonarray_out",
    "anyelement_out",
    "anynonarray_out",
    "array_agg",
    "concat",
    "count",
    "cume_dist",
    "dense_rank",
    "first_value",
    "hash_record",
    "json_agg",
    "json_build_array",
    "json_build_object",
    "jsonb_agg",
    "jsonb_build_array",
    "jsonb_build_object",
    "lag",
    "last_value",
    "lead",
    "mode",
    "num_nonnulls",
    "num_nulls",
    "percent_rank",
    "pg_collation_for",
    "pg_column_compression",
    "pg_column_size",
    "pg_typeof",
    "quote_literal",
    "quote_nullable",
    "rank",
    "record_out",
    "record_send",
    "row_to_json",
    "to_json",
    "to_jsonb",
};

}  // namespace

std::span<const std::pair<std::string_view, std::string_view>> catalog_view_functions() {
    return kViewFunctions;
}

std::span<const std::pair<std::string_view, std::string_view>> views_read_by(
    std::string_view function) {
    auto [lo, hi] = std::equal_range(
        std::begin(kViewFunctions), std::end(kViewFunctions),
        std::pair<std::string_view, std::string_view>{function, {}},
        [](const auto& a, const auto& b) { return a.first < b.first; });
    return {lo, hi};
}

bool takes_a_row(std::string_view function) {
    return std::binary_search(std::begin(kRowFunctions), std::end(kRowFunctions), function);
}

std::span<const std::string_view> row_functions() {
    return kRowFunctions;
}

}  // namespace pgmoat::sql::detail
