// The SQLSTATEs pgmoat answers with or reads from the server, under PostgreSQL's
// own condition names (Appendix A, "PostgreSQL Error Codes").
#pragma once

namespace pgmoat::sqlstate {

inline constexpr char successful_completion[] = "00000";
inline constexpr char connection_failure[] = "08006";
inline constexpr char protocol_violation[] = "08P01";
inline constexpr char feature_not_supported[] = "0A000";
inline constexpr char invalid_parameter_value[] = "22023";
inline constexpr char invalid_escape_sequence[] = "22025";
inline constexpr char nonstandard_use_of_escape_character[] = "22P06";
inline constexpr char invalid_text_representation[] = "22P02";
inline constexpr char read_only_sql_transaction[] = "25006";
inline constexpr char object_not_in_prerequisite_state[] = "55000";
inline constexpr char query_canceled[] = "57014";
inline constexpr char invalid_authorization_specification[] = "28000";
inline constexpr char invalid_password[] = "28P01";
inline constexpr char invalid_cursor_name[] = "34000";
inline constexpr char invalid_catalog_name[] = "3D000";
inline constexpr char insufficient_privilege[] = "42501";
inline constexpr char syntax_error[] = "42601";
inline constexpr char windowing_error[] = "42P20";
inline constexpr char duplicate_object[] = "42710";
inline constexpr char reserved_name[] = "42939";
inline constexpr char undefined_object[] = "42704";
inline constexpr char too_many_connections[] = "53300";
inline constexpr char configuration_limit_exceeded[] = "53400";
inline constexpr char program_limit_exceeded[] = "54000";
inline constexpr char statement_too_complex[] = "54001";
inline constexpr char admin_shutdown[] = "57P01";
inline constexpr char cannot_connect_now[] = "57P03";
inline constexpr char idle_session_timeout[] = "57P05";
inline constexpr char io_error[] = "58030";
inline constexpr char config_file_error[] = "F0000";
inline constexpr char internal_error[] = "XX000";

}  // namespace pgmoat::sqlstate
