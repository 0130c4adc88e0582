// One audit record: what a session or pgmoat itself did, as plain data. Sessions
// build one per statement and per connection event and hand it to AuditLog::submit;
// the writer thread turns it into one JSON line (serialisation never runs on the
// session thread).
//
// Building a record is cheap: what stays the same for a whole session (who, from
// where, to which target) and for every execution of a statement (its analysis)
// is shared through shared_ptr, so a record per execution of a prepared statement
// costs one allocation for the record's queue slot plus refcount increments.
//
// ## JSON Lines format (stable: fields are only ever added, never renamed)
//
// One object per line, fields in this order; a field that does not apply is
// omitted (never null). Strings are UTF-8; invalid UTF-8 bytes become U+FFFD,
// control characters (C0, DEL, C1) and U+2028/U+2029 are \u-escaped, so a line is
// always one line and safe to print on a terminal.
//
// clang-format off
// | field            | type    | events                  | meaning |
// |------------------|---------|-------------------------|---------|
// | time             | string  | all                     | when it happened, RFC 3339 UTC with microseconds: 2026-11-24T10:00:00.123456Z |
// | seq              | integer | all                     | position in the hash chain: 1 for the first record of a chain, +1 per line, continues across reopen/rotation and restarts |
// | event            | string  | all                     | statement, connection_accepted, auth_succeeded, auth_failed, target_denied, disconnect, policy_reload, pgmoat_start, pgmoat_stop, admin_command, approval, grant; written by the audit log itself: log_opened, audit_error |
// | session          | integer | session events          | pgmoat's session id (the same in every record of a connection) |
// | app              | string  | session events          | the app identity pgmoat issued (for auth_failed: the name the client claimed) |
// | upstream_user    | string  | session events          | the role pgmoat logs in as upstream |
// | target           | string  | session events          | the target name the client asked for |
// | database         | string  | session events          | the real database name upstream |
// | application_name | string  | session events          | the client's application_name |
// | client_addr      | string  | session events          | client IP address |
// | client_port      | integer | session events          | client TCP port |
// | statement_kind   | string  | statement               | e.g. select, insert, create_table (pgmoat's statement kind names) |
// | statement        | string  | statement               | normalized text: literals replaced by $n placeholders, comments removed |
// | fingerprint      | string  | statement               | 16 hex digits: the statement's structure, equal for equal shapes |
// | relations        | array   | statement               | [{"name":"schema.table","access":"read,update"}, ...]; [] when none |
// | decision         | string  | statement               | allow, reject, would_reject (monitor mode) |
// | rule             | string  | statement               | the policy rule that decided |
// | policy_file      | string  | statement               | the policy file of that rule |
// | policy_line      | integer | statement               | its line |
// | policy_version   | string  | statement, policy_reload| version of the policy set in force (after a reload: the new one) |
// | sqlstate         | string  | statement               | SQLSTATE of the outcome (00000 on success) |
// | rows             | integer | statement               | rows returned or affected |
// | duration_us      | integer | statement               | microseconds from forwarding to the server's answer |
// | bytes_sent       | integer | statement, disconnect   | bytes sent to the client |
// | backend_pid      | integer | statement               | the server connection's backend process id (PostgreSQL's pid), to match its log |
// | reason           | string  | disconnect, auth_failed, target_denied, policy_reload (failure), log_opened, audit_error | why, in words |
// | approval         | integer | approval, statement     | the approval hold's id (on a statement: the approval it ran under) |
// | approval_step    | string  | approval                | held, approved, denied, timed_out, abandoned (its session ended first) |
// | approver         | string  | approval                | the identity that approved or denied it |
// | grant            | string  | statement, grant        | the grant (time-boxed elevation) that let it through: its id |
// | raw_statement    | string  | statement               | the text as sent; only when the policy's [audit] raw_statement = true |
// | parameters       | array   | statement               | bind values as text (null for NULL); only when the policy's [audit] parameters = true |
// | pgmoat_version   | string  | log_opened              | version of pgmoat that opened the file |
// | chain_alg        | string  | log_opened              | "sha256" or "hmac-sha256": how every following line's chain is computed |
// | key_id           | string  | log_opened              | with hmac-sha256: 16 hex digits naming the key (not the key) |
// | previous_chain   | string  | log_opened              | the chain value this line continues from (absent: a new chain starts) |
// | previous_file    | string  | log_opened              | after a reopen: where the previous file was at that moment |
// | lost             | integer | audit_error             | records accepted earlier that are not in the log (queue full, failed writes) |
// | chain            | string  | all                     | always last: 64 hex digits, see chain.h |
// clang-format on
//
// Passwords, verifiers, SCRAM messages and any other credentials never appear in
// a record: there is no field for them, and sessions must not put them in reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::audit {

using Clock = std::chrono::system_clock;

enum class Event : uint8_t {
    statement,
    connection_accepted,
    auth_succeeded,
    auth_failed,
    target_denied,
    disconnect,
    policy_reload,
    pgmoat_start,
    pgmoat_stop,
    admin_command,  // a command on the admin console (statement: its text)
    approval,       // a step of an approval hold: held, approved, denied, timed_out, abandoned
    grant,          // a time-boxed grant added to or removed from the grants file
    // Written by the audit log itself, never submitted by sessions.
    log_opened,
    audit_error,
};
std::string_view name(Event event);

enum class Decision : uint8_t { allow, reject, would_reject };
std::string_view name(Decision decision);

// What stays the same for a session's records. Replace the shared_ptr with a new
// SessionInfo when something changes (e.g. SET application_name); records already
// queued keep the old one.
struct SessionInfo {
    uint64_t id = 0;
    std::optional<std::string> app;
    std::optional<std::string> upstream_user;
    std::optional<std::string> target;
    std::optional<std::string> database;
    std::optional<std::string> application_name;
    std::optional<std::string> client_addr;
    std::optional<uint16_t> client_port;
};

struct RelationAccess {
    std::string name;    // "schema.table" (or "table" when unqualified)
    std::string access;  // "read,update"
};

// What stays the same for every execution of one analyzed statement: build it once
// per analysis (e.g. with the prepared statement) and share it.
struct StatementInfo {
    std::optional<std::string> kind;        // statement_kind
    std::optional<std::string> text;        // statement: normalized, never raw
    std::optional<uint64_t> fingerprint;    // written as 16 hex digits
    std::vector<RelationAccess> relations;  // always written for a statement ([] when empty)
};

struct Record {
    Event event = Event::statement;
    // When it happened; AuditLog::submit sets it to now when left at the epoch.
    Clock::time_point time{};
    std::shared_ptr<const SessionInfo> session;      // absent for pgmoat_start and the like
    std::shared_ptr<const StatementInfo> statement;  // statement events only

    std::optional<Decision> decision;
    std::optional<std::string> rule;
    std::optional<std::string> policy_file;
    std::optional<int64_t> policy_line;
    std::optional<std::string> policy_version;
    std::optional<std::string> sqlstate;
    std::optional<uint64_t> rows;
    std::optional<uint64_t> duration_us;
    std::optional<uint64_t> bytes_sent;
    std::optional<int64_t> backend_pid;
    std::optional<std::string> reason;
    std::optional<uint64_t> approval;
    std::optional<std::string> approval_step;
    std::optional<std::string> approver;
    std::optional<std::string> grant;
    // Only when a policy asks for them (never by default: they carry the app's data).
    std::optional<std::string> raw_statement;
    std::optional<std::vector<std::optional<std::string>>> parameters;

    // Rough memory held by the record itself (not the shared parts), for the
    // queue's byte bound.
    size_t approximate_bytes() const;
};

// Appends the record's JSON object without its closing brace, starting
// `{"time":"…","seq":N,"event":"…"` and ending after the last present field:
// the writer appends `,"chain":"…"}` (see chain.h).
void append_record_fields(std::string& out, const Record& record, uint64_t seq);

}  // namespace pgmoat::audit
