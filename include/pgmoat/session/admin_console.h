// The admin console, as pgbouncer users expect one: an admin identity connects
// with `psql -d pgmoat` and gets read-only SHOW commands (sessions, targets,
// policies, recent rejections, counters) and a few actions (RELOAD, PAUSE and
// RESUME of a target, KILL of a session). Every command is audited. No I/O:
// frames in, the answer's bytes out; what it shows and does goes through
// AdminState, which net/ implements over the running server.
#pragma once

#include "pgmoat/audit/record.h"
#include "pgmoat/policy/grants.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/session/approvals.h"
#include "pgmoat/session/audit_sink.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::session {

// The database name that opens the console instead of a target.
inline constexpr std::string_view kAdminDatabase = "pgmoat";

struct SessionRow {
    uint64_t id = 0;
    std::string app, target, application_name, client_addr;
    uint16_t client_port = 0;
    std::string state;           // idle, active, idle in transaction, failed transaction, starting
    std::string statement_kind;  // of the last statement; empty before the first
    std::string connected_at;    // RFC 3339
};

struct TargetRow {
    std::string name, host, database;
    uint16_t port = 0;
    std::string health;   // "up", "down: why" (the last readiness probe), or "not probed"
    bool paused = false;  // PAUSE: statements wait until RESUME
    uint64_t sessions = 0;
};

struct PolicyRow {
    std::string name, mode, file;
    int priority = 0;
    bool is_default = false;
};

struct RejectionRow {
    std::string time;
    uint64_t session = 0;
    std::string app, target, rule, sqlstate, statement;  // statement: normalized, never raw
};

struct CounterRow {
    std::string metric, labels, value;
};

class AdminState {
  public:
    virtual ~AdminState() = default;
    virtual std::vector<SessionRow> sessions() const = 0;
    virtual std::vector<TargetRow> targets() const = 0;
    virtual std::vector<PolicyRow> policies() const = 0;
    virtual std::string policy_version() const = 0;
    virtual std::vector<RejectionRow> rejections() const = 0;
    virtual std::vector<CounterRow> counters() const = 0;
    // Re-reads config, credentials and policies as SIGHUP does: "" on success,
    // else the error (file:line: ...); the previous set stays in force.
    virtual std::string reload() = 0;
    // false: no target of that name.
    virtual bool set_paused(std::string_view target, bool paused) = 0;
    // Ends a session (FATAL 57P01, its running statement cancelled); `by` names the
    // admin in the error its client reads. false: no session with that id.
    virtual bool kill(uint64_t session, std::string_view by) = 0;
    // The statements waiting for approval (README "Approval holds"); null: this
    // server holds none (APPROVE and DENY find nothing).
    virtual Approvals* approvals() { return nullptr; }
    // The time-boxed grants of the grants file in force (pgmoat grant).
    virtual std::vector<policy::Grant> grants() const { return {}; }
    // GRANT and REVOKE on the console: the grants file changed as `pgmoat grant` and
    // `pgmoat revoke` change it, then read back (a reload) so the change is in
    // force, and audited, when the command completes.
    struct GrantChange {
        std::string sqlstate;  // empty: done
        std::string message, hint;
        policy::Grant grant;  // the grant added or removed
        std::string warning;  // done, but not in force yet (the reload failed)
    };
    // g: app, allow, target, reason and granted_by set; checked against the
    // configuration in force (the app and target exist).
    // Both refuse by default: this server keeps no grants file.
    virtual GrantChange add_grant(policy::Grant g, std::chrono::seconds length);
    virtual GrantChange remove_grant(std::string_view id);
    // After Approvals::decide took an entry: tells its session, which runs or
    // refuses the statement.
    virtual void approval_decided(const PendingApproval& entry, bool approved, std::string_view by,
                                  std::string_view reason) {
        (void)entry, (void)approved, (void)by, (void)reason;
    }
};

class AdminConsole;

// One console command: its words as typed ("<name>" is the one argument; a last
// "[…]", which may span words, takes the rest of the line, which may be empty), what it
// does for SHOW HELP, and the function that answers it. The table of them is in
// admin_console.cpp; a new command is one entry there (and, for what it reads or
// does, a method of AdminState).
struct AdminCommand {
    std::string_view syntax;
    std::string_view help;
    void (*run)(AdminConsole& console, std::string_view argument);
};

class AdminConsole {
  public:
    AdminConsole(AdminState& state, AuditSink* audit, std::shared_ptr<const audit::SessionInfo> who);

    // A frontend message; the answer is appended to `out`. Returns false when the
    // client ended the session (Terminate) or broke the protocol (a FATAL is in `out`).
    bool on_frontend(const protocol::Frame& frame, std::string& out);

    // ---- for the commands ----
    AdminState& state() { return state_; }
    const audit::SessionInfo& who() const { return *who_; }
    // The command as the client sent it (a GRANT's REASON keeps its spacing).
    std::string_view command_text() const { return command_text_; }
    // A query result of text columns: RowDescription, DataRows, CommandComplete "SHOW n".
    void result(const std::vector<std::string>& columns,
                const std::vector<std::vector<std::optional<std::string>>>& rows);
    void complete(std::string_view tag);
    void notice(std::string message);
    // An ERROR; the command is audited as refused.
    void fail(std::string_view sqlstate, const std::string& message, std::string hint = {}, std::string detail = {});

  private:
    void run(std::string_view command);
    void record(std::string_view sqlstate, std::string_view reason);

    AdminState& state_;
    AuditSink* audit_;
    std::shared_ptr<const audit::SessionInfo> who_;
    bool skip_until_sync_ = false;
    // The command being run and where its answer goes.
    std::string line_;
    std::string_view command_text_;
    std::string* out_ = nullptr;
    bool failed_ = false;
};

}  // namespace pgmoat::session
