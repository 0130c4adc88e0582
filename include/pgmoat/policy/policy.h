// What a DBA can state in a policy file, compiled into a form the decision can
// check quickly. Every rule remembers where in which file it was written, so a
// rejection can say which line to look at.
#pragma once

#include "pgmoat/policy/pattern.h"
#include "pgmoat/shapes/lock.h"
#include "pgmoat/sql/analysis.h"

#include <bitset>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::policy {

// Where a rule was written.
struct Source {
    std::string file;
    int line = 0;
};

enum class Mode { enforce, monitor };

// How statement values must reach the server.
enum class ParameterMode {
    // Literals in value positions are rejected unless the statement is approved.
    require_parameters,
    // For drivers that bind on the client side (psycopg2, PDO emulation): every
    // statement's structure (fingerprint) must be approved; values may vary.
    approved_structures,
    // The shape lock: a statement's shape must be in the policy's lock files, and
    // the positions locked as constants must carry their values; locked shapes
    // need no parameters. Transaction control and session statements are judged
    // by their own rules.
    shapes,
    // No check (migrations, DBA tools).
    off,
};

// A statement a DBA has approved despite its literals.
struct Approval {
    enum class Kind { text, fingerprint, fingerprint_with_literals };
    Kind kind = Kind::text;
    std::string text;  // exact text (Kind::text) or a note for humans
    uint64_t fingerprint = 0;
    std::vector<std::string> literals;  // the literal values as written, in order
    Source source;
};

// The statement kinds a name stands for in a policy or grant: the kind of that
// name, or every kind of that category (query, dml, ddl, ...); empty when neither.
std::bitset<256> kinds_named(std::string_view name);

// A server setting bounded by a policy's [limits]: pgmoat pins it on its
// upstream session as a startup parameter (so RESET and DISCARD ALL return to
// it), and a SET, set_config() or client startup parameter may lower it but
// never raise it.
struct SettingLimit {
    std::string parameter;   // lower case, one of bounded_settings()
    std::string value;       // as written in the policy, sent to the server as is
    int64_t base_value = 0;  // in the setting's base unit (ms or kB)
    Source source;
};

// [holds]: statements that wait for a person's approval before they reach the
// server (policy/holds.h, session/approvals.h).
struct HoldPolicy {
    std::bitset<256> kinds;  // by StatementKind value
    Source kinds_source;
    // UPDATE/DELETE/MERGE that does not select its rows by value (as require_where).
    bool unrestricted_writes = false;
    Source unrestricted_writes_source;
    // UPDATE/DELETE/MERGE the planner expects to change more rows than this
    // (policy/row_estimate.h); 0: no such hold.
    uint64_t rows_over = 0;
    Source rows_over_source;
    std::chrono::milliseconds timeout{std::chrono::minutes(15)};  // no decision by then: denied
    bool notice = true;  // tell the client its statement waits, and the approval's id
    // Whether a grant of a statement kind (or category) lifts that kind's hold too;
    // false: the statement is allowed but still waits for a person (only a grant of
    // the rule hold_statements lifts the holds).
    bool kind_grants_lift = true;
    bool enabled() const { return kinds.any() || unrestricted_writes || rows_over > 0; }
};

struct ColumnPattern {
    QualifiedPattern relation;
    std::string column;  // glob
    std::string text;
};

// Who a policy is for. Each list that is not empty must match; a policy with no
// lists at all matches nobody unless it is the default.
struct AppliesTo {
    std::vector<std::string> apps;               // globs over app names
    std::vector<std::string> targets;            // globs over target names
    std::vector<std::string> application_names;  // globs over application_name
    std::vector<Cidr> client_addresses;
    std::vector<std::string> kinds;  // the identity's kind in pgmoat.toml: app, agent, person
    bool empty() const;
};

// The facts about a session that select its policy.
struct SessionFacts {
    std::string app;
    std::string target;
    std::string application_name;
    std::string client_address;
    std::string kind = "app";  // [apps.X] kind
};

// The [limits] key of the rate limit: the loader reads it and a rejection's
// DETAIL names it, so a renamed key cannot leave the message behind.
inline constexpr std::string_view statements_per_second_key = "statements_per_second";

struct Policy {
    std::string name;
    Source source;  // the file, line of [policy]
    Mode mode = Mode::enforce;
    int priority = 0;
    bool is_default = false;
    AppliesTo applies_to;
    Source applies_to_source;

    // [parameters]
    ParameterMode parameter_mode = ParameterMode::require_parameters;
    Source parameters_source;
    // LiteralContext values that never reject (bit per enumerator).
    std::bitset<32> exempt_contexts;
    bool exempt_null = true;
    bool exempt_boolean = true;
    // With type_cast exempt: only casts to these types (globs over the analyzer's
    // type names, e.g. "interval", "reg*"); empty: every cast.
    std::vector<std::string> exempt_casts;
    std::vector<Approval> approvals;
    // mode = "shapes": the lock files (`shapes = [...]`, resolved against the
    // policy file's directory), read with the policy and reloaded with it.
    std::vector<std::string> shape_files;
    std::shared_ptr<const shapes::ShapeLock> shape_lock;
    Source shapes_source;

    // [signatures]: injection shapes, on unless turned off
    bool stacked_statements = true;
    Source stacked_statements_source;
    bool tautologies = true;
    Source tautologies_source;
    bool comment_truncation = true;
    Source comment_truncation_source;
    // A UNION/INTERSECT/EXCEPT arm that reads a relation with no bind
    // parameter of its own (not the recursive arm of WITH RECURSIVE): the
    // shape of `... WHERE id = 0 UNION SELECT id, password FROM users`.
    bool set_operations = true;
    Source set_operations_source;
    // A sub-select reading a relation whose value goes through a cast or call
    // that may quote it in an error: `CAST((SELECT password FROM users) AS int)`.
    bool subquery_conversions = true;
    Source subquery_conversions_source;

    // [statements]
    std::bitset<256> allowed_kinds;  // by StatementKind value
    Source allowed_kinds_source;
    std::bitset<256> require_where;
    Source require_where_source;
    // SELECT ... FOR UPDATE/SHARE must select the rows it locks by values too.
    bool require_where_for_row_locks = false;
    Source require_where_for_row_locks_source;
    std::vector<sql::CopyEndpoint> copy_endpoints;
    Source copy_endpoints_source;
    std::vector<std::string> set_parameters;  // globs over parameter names SET/RESET may change
    Source set_parameters_source;
    bool prepare_over_simple_query = false;  // PREPARE/EXECUTE as SQL text
    Source prepare_source;

    // [relations]
    std::vector<QualifiedPattern> read_allow, read_deny, write_allow, write_deny, ddl_allow, ddl_deny;
    Source read_source, write_source, ddl_source;
    std::vector<QualifiedPattern> catalog_allow;
    Source catalog_source;

    // [columns]
    std::vector<ColumnPattern> column_deny;
    Source columns_source;

    // [functions]
    std::vector<QualifiedPattern> function_deny;
    std::vector<QualifiedPattern> function_allow;  // exceptions to deny (an inherited list stays whole)
    Source functions_source;

    // [policy] read_only: the second lock (read_only_lock.h): the identity's server
    // session starts with default_transaction_read_only = on, and nothing may turn it off.
    bool read_only = false;
    Source read_only_source;

    // [limits]
    uint64_t max_rows = 0;  // 0: no cap
    Source max_rows_source;
    // Rows one UPDATE/DELETE/MERGE may change; over it the statement is rolled
    // back (session/affected_rows_cap.cpp). 0: no cap.
    uint64_t max_rows_affected = 0;
    Source max_rows_affected_source;
    double statements_per_second = 0;  // 0: no limit (key: statements_per_second_key)
    Source rate_source;
    // Settings pinned on the upstream session, in bounded_settings() order. A
    // limit written as "no limit" (0 for a timeout) is not in the list: the
    // server's own setting applies and SET is not bounded.
    std::vector<SettingLimit> setting_limits;
    const SettingLimit* setting_limit(std::string_view parameter) const;

    // [holds]
    HoldPolicy holds;
    // [audit]: what records may carry beyond the normalized text
    bool audit_raw_statement = false;
    bool audit_parameters = false;

    bool applies(const SessionFacts& s) const;
};

// All policies loaded together, with the version that audit records and metrics
// carry (a hash of every file's name and content).
struct PolicySet {
    std::vector<std::shared_ptr<const Policy>> policies;  // priority order, highest first
    std::shared_ptr<const Policy> default_policy;
    std::string version;  // 12 hex digits
    uint64_t version_number = 0;
    std::vector<std::string> files;

    // The policy a session is judged by: the highest-priority policy whose
    // applies_to matches (ties: file name order), else the default.
    std::shared_ptr<const Policy> select(const SessionFacts& s) const;
};

}  // namespace pgmoat::policy
