// The admin console's commands: one table of what each is, says and runs, and one
// function that finds the command a line names. Answers are ordinary query results
// (text columns), so psql, scripts and monitoring tools read them as they read
// pgbouncer's SHOW.
#include "pgmoat/session/admin_console.h"

#include "pgmoat/session/admin_grant.h"

#include "pgmoat/common/sqlstate.h"
#include "pgmoat/common/utc_time.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <tuple>
#include <variant>

namespace pgmoat::session {

namespace {
AdminState::GrantChange no_grants_file() {
    return {sqlstate::object_not_in_prerequisite_state, "this server keeps no grants file", {}, {}, {}};
}
}  // namespace

// The grant is taken by value for the overrides, which keep it.
AdminState::GrantChange AdminState::add_grant(policy::Grant,  // NOLINT(performance-unnecessary-value-param)
                                              std::chrono::seconds) {
    return no_grants_file();
}
AdminState::GrantChange AdminState::remove_grant(std::string_view) {
    return no_grants_file();
}

using namespace pgmoat::protocol;

namespace {

using Row = std::vector<std::optional<std::string>>;

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Words of a line, its trailing ';' and surrounding white space dropped.
std::vector<std::string> words(std::string_view text) {
    while (!text.empty() && (text.back() == ';' || space(text.back()))) text.remove_suffix(1);
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && space(text[i])) ++i;
        size_t j = i;
        while (j < text.size() && !space(text[j])) ++j;
        if (j > i) out.emplace_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<std::string> text(std::string_view s) {
    if (s.empty()) return std::nullopt;
    return std::string(s);
}

std::string yes_no(bool b) {
    return b ? "yes" : "no";
}

// The value of one label in a Prometheus label list (app="x",target="y").
std::string label(std::string_view labels, std::string_view name) {
    std::string key = std::string(name) + "=\"";
    size_t at = 0;
    while ((at = labels.find(key, at)) != std::string_view::npos) {
        if (at == 0 || labels[at - 1] == ',') break;
        at += key.size();
    }
    if (at == std::string_view::npos) return {};
    std::string value;
    for (size_t i = at + key.size(); i < labels.size() && labels[i] != '"'; ++i) {
        if (labels[i] == '\\' && i + 1 < labels.size()) ++i;
        value += labels[i];
    }
    return value;
}

// ---- the commands ----

void show_help(AdminConsole& c, std::string_view);

void show_sessions(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    for (const auto& s : c.state().sessions()) {
        rows.push_back({std::to_string(s.id), s.app, s.target, text(s.application_name), s.client_addr,
                        std::to_string(s.client_port), s.state, text(s.statement_kind), s.connected_at});
    }
    c.result({"session", "app", "target", "application_name", "client_addr", "client_port", "state", "statement_kind",
              "connected_at"},
             rows);
}

void show_targets(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    for (const auto& t : c.state().targets()) {
        rows.push_back({t.name, t.host, std::to_string(t.port), t.database, t.health, yes_no(t.paused),
                        std::to_string(t.sessions)});
    }
    c.result({"target", "host", "port", "database", "health", "paused", "sessions"}, rows);
}

void show_policies(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    std::string version = c.state().policy_version();
    for (const auto& p : c.state().policies())
        rows.push_back({p.name, p.mode, std::to_string(p.priority), yes_no(p.is_default), p.file, version});
    c.result({"policy", "mode", "priority", "default", "file", "version"}, rows);
}

void show_rejections(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    for (const auto& r : c.state().rejections())
        rows.push_back({r.time, std::to_string(r.session), r.app, r.target, r.rule, r.sqlstate, r.statement});
    c.result({"time", "session", "app", "target", "rule", "sqlstate", "statement"}, rows);
}

void show_counters(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    for (const auto& m : c.state().counters()) rows.push_back({m.metric, text(m.labels), m.value});
    c.result({"metric", "labels", "value"}, rows);
}

// Statements per app and target, by decision: the counters an operator asks for first.
void show_stats(AdminConsole& c, std::string_view) {
    struct Totals {
        double allowed = 0, rejected = 0, would_reject = 0;
    };
    std::map<std::pair<std::string, std::string>, Totals> by;
    for (const auto& m : c.state().counters()) {
        if (m.metric != "pgmoat_statements_total") continue;
        double value = 0;
        std::from_chars(m.value.data(), m.value.data() + m.value.size(), value);
        auto& t = by[{label(m.labels, "app"), label(m.labels, "target")}];
        std::string decision = label(m.labels, "decision");
        (decision == "reject" ? t.rejected : decision == "would_reject" ? t.would_reject : t.allowed) += value;
    }
    std::vector<Row> rows;
    rows.reserve(by.size());
    for (const auto& [key, t] : by) {
        rows.push_back({key.first, key.second, fmt::format("{}", t.allowed + t.would_reject),
                        fmt::format("{}", t.rejected), fmt::format("{}", t.would_reject)});
    }
    c.result({"app", "target", "statements_allowed", "statements_rejected", "monitor_would_reject"}, rows);
}

void show_version(AdminConsole& c, std::string_view) {
    c.result({"version"}, {{std::string("pgmoat ") + PGMOAT_VERSION}});
}

void reload(AdminConsole& c, std::string_view) {
    std::string error = c.state().reload();
    if (!error.empty())
        return c.fail(sqlstate::config_file_error,
                      "reload failed, the previous configuration stays in force: " + error);
    c.notice(fmt::format("pgmoat: configuration reloaded, policies version {}", c.state().policy_version()));
    c.complete("RELOAD");
}

void pause(AdminConsole& c, std::string_view target) {
    if (!c.state().set_paused(target, true))
        return c.fail(sqlstate::undefined_object, fmt::format("no target named \"{}\"", target),
                      "SHOW TARGETS lists them");
    // Sessions inside a transaction or a statement finish it first.
    size_t busy = 0;
    for (const auto& s : c.state().sessions())
        if (s.target == target && s.state != "idle" && s.state != "paused") ++busy;
    if (busy > 0) {
        c.notice(
            fmt::format("pgmoat: {} session{} of target \"{}\" {} inside a transaction or statement and pause{} "
                        "when {} ends",
                        busy, busy == 1 ? "" : "s", target, busy == 1 ? "is" : "are", busy == 1 ? "s" : "",
                        busy == 1 ? "it" : "each"));
    }
    c.complete("PAUSE");
}

void resume(AdminConsole& c, std::string_view target) {
    if (!c.state().set_paused(target, false))
        return c.fail(sqlstate::undefined_object, fmt::format("no target named \"{}\"", target),
                      "SHOW TARGETS lists them");
    c.complete("RESUME");
}

void kill(AdminConsole& c, std::string_view session) {
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(session.data(), session.data() + session.size(), id);
    if (ec != std::errc() || end != session.data() + session.size())
        return c.fail(sqlstate::invalid_text_representation, fmt::format("\"{}\" is not a session number", session),
                      "SHOW SESSIONS lists them");
    if (!c.state().kill(id, c.who().app.value_or("")))
        return c.fail(sqlstate::undefined_object, fmt::format("no session {}", id), "SHOW SESSIONS lists them");
    c.complete("KILL");
}

void show_approvals(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    auto now = std::chrono::steady_clock::now();
    if (auto* table = c.state().approvals()) {
        for (const auto& a : table->pending()) {
            auto left = std::chrono::duration_cast<std::chrono::seconds>(a.deadline - now).count();
            rows.push_back({std::to_string(a.id), std::to_string(a.session), a.app, a.kind, a.target, a.rule, a.policy,
                            a.statement, a.why, a.held_at, std::to_string(std::max<int64_t>(left, 0))});
        }
    }
    c.result({"approval", "session", "app", "kind", "target", "rule", "policy", "statement", "why", "held_at",
              "seconds_left"},
             rows);
}

void show_grants(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    auto now = std::chrono::system_clock::now();
    for (const auto& g : c.state().grants()) {
        auto left = std::chrono::duration_cast<std::chrono::seconds>(g.expires - now).count();
        rows.push_back({g.id, g.app, g.allow, g.target, format_utc(g.expires),
                        std::to_string(std::max<int64_t>(left, 0)), g.granted_by, g.reason});
    }
    c.result({"grant", "app", "allow", "target", "expires", "seconds_left", "granted_by", "reason"}, rows);
}

// APPROVE and DENY: the argument is the approval's id, then for DENY a reason.
void decide(AdminConsole& c, std::string_view argument, bool approve) {
    std::string_view id_text = argument.substr(0, argument.find(' '));
    std::string_view reason =
        id_text.size() < argument.size() ? argument.substr(id_text.size() + 1) : std::string_view();
    uint64_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id == 0)
        return c.fail(sqlstate::invalid_text_representation, fmt::format("\"{}\" is not an approval number", id_text),
                      "SHOW APPROVALS lists them");
    auto* table = c.state().approvals();
    std::string by = c.who().app.value_or("");
    auto d = table ? table->decide(id, by, approve, reason) : Approvals::Decided{};
    using Status = Approvals::Decided::Status;
    switch (d.status) {
        case Status::not_found:
            return c.fail(sqlstate::undefined_object, fmt::format("no approval {} is pending", id),
                          "SHOW APPROVALS lists them");
        case Status::already_decided:
            return c.fail(sqlstate::object_not_in_prerequisite_state,
                          fmt::format("approval {} is no longer pending: it was {}", id, name(*d.earlier)),
                          "SHOW APPROVALS lists the pending ones");
        case Status::own_statement:
            return c.fail(sqlstate::insufficient_privilege,
                          fmt::format("\"{}\" cannot {} approval {}: the statement is its own", by,
                                      approve ? "approve" : "deny", id),
                          "another person must decide it",
                          "An identity never decides the approval of a statement it sent itself.");
        case Status::ok:
            break;
    }
    c.state().approval_decided(d.entry, approve, by, reason);
    c.notice(fmt::format("pgmoat: approval {} {}: app \"{}\" session {} on target \"{}\": {}", id,
                         approve ? "approved, the statement runs now" : "denied, the statement fails", d.entry.app,
                         d.entry.session, d.entry.target, d.entry.statement));
    c.complete(approve ? "APPROVE" : "DENY");
}

// GRANT: the console's `pgmoat grant`, naming the admin identity as the grantor.
void grant(AdminConsole& c, std::string_view) {
    auto parsed = parse_console_grant(c.command_text());
    if (auto* e = std::get_if<ConsoleGrantError>(&parsed)) return c.fail(sqlstate::syntax_error, e->message, e->hint);
    auto& g = std::get<ConsoleGrant>(parsed);
    std::string by = c.who().app.value_or("");
    if (g.app == by) {
        return c.fail(sqlstate::insufficient_privilege, fmt::format("\"{}\" cannot grant to itself", by),
                      "another admin identity must grant it",
                      "An identity never widens its own policy: the grant needs a second person.");
    }
    policy::Grant fields;
    if (auto refusal = fields.set_allow(g.allow)) return c.fail(sqlstate::invalid_parameter_value, *refusal);
    fields.app = g.app;
    fields.target = g.target;
    fields.reason = g.reason;
    fields.granted_by = by;
    auto done = c.state().add_grant(std::move(fields), g.length);
    if (!done.sqlstate.empty()) return c.fail(done.sqlstate, done.message, done.hint);
    const auto& added = done.grant;
    c.notice(fmt::format("pgmoat: grant {}: app \"{}\" may {} on target \"{}\" until {}", added.id, added.app,
                         added.allow, added.target, format_utc(added.expires)));
    if (!done.warning.empty()) c.notice("pgmoat: " + done.warning);
    c.result(
        {"grant", "app", "allow", "target", "expires", "granted_by", "reason"},
        {{added.id, added.app, added.allow, added.target, format_utc(added.expires), added.granted_by, added.reason}});
}

void revoke(AdminConsole& c, std::string_view id) {
    auto done = c.state().remove_grant(id);
    if (!done.sqlstate.empty()) return c.fail(done.sqlstate, done.message, done.hint);
    const auto& g = done.grant;
    c.notice(g.app.empty() ? fmt::format("pgmoat: grant {} revoked", g.id)
                           : fmt::format("pgmoat: grant {} revoked: app \"{}\" no longer may {} on target \"{}\"", g.id,
                                         g.app, g.allow, g.target));
    if (!done.warning.empty()) c.notice("pgmoat: " + done.warning);
    c.complete("REVOKE");
}

void approve(AdminConsole& c, std::string_view argument) {
    decide(c, argument, true);
}
void deny(AdminConsole& c, std::string_view argument) {
    decide(c, argument, false);
}

constexpr AdminCommand kCommands[] = {
    {"SHOW HELP", "this list", show_help},
    {"SHOW SESSIONS", "client sessions: app, target, client address, state, last statement kind", show_sessions},
    {"SHOW TARGETS", "targets: address, health from the last readiness probe, paused, sessions", show_targets},
    {"SHOW POLICIES", "the policy set in force and its version", show_policies},
    {"SHOW REJECTIONS", "the most recent rejected statements (normalized text), newest first", show_rejections},
    {"SHOW STATS", "statements per app and target: allowed, rejected, would be rejected (monitor)", show_stats},
    {"SHOW COUNTERS", "every counter and gauge of /metrics, one row per label set", show_counters},
    {"SHOW VERSION", "pgmoat's version", show_version},
    {"RELOAD", "re-read config, credentials and policies, as SIGHUP does; errors keep the old set", reload},
    {"PAUSE <target>", "hold the target's new statements at the next statement boundary until RESUME", pause},
    {"RESUME <target>", "let a paused target's statements run", resume},
    {"KILL <session>", "end a client session (FATAL 57P01) and cancel what it runs", kill},
    {"SHOW APPROVALS", "statements held for approval: who, what, which rule, seconds left before they are denied",
     show_approvals},
    {"SHOW GRANTS", "time-boxed grants (pgmoat grant): app, what they allow, target, seconds left", show_grants},
    {"GRANT [<kind or rule> TO <app> ON <target> FOR <duration> REASON '<text>'…]",
     "widen an app's policy for a bounded time, as pgmoat grant does (never one's own)", grant},
    {"REVOKE <grant>", "end a grant now", revoke},
    {"APPROVE <approval>", "run a held statement (never one's own)", approve},
    {"DENY <approval> [reason…]", "refuse a held statement; its client gets the error and the reason", deny},
};

void show_help(AdminConsole& c, std::string_view) {
    std::vector<Row> rows;
    for (const auto& cmd : kCommands) rows.push_back({std::string(cmd.syntax), std::string(cmd.help)});
    c.result({"command", "does"}, rows);
}

// The command a line names and its argument; nullptr when none matches.
std::pair<const AdminCommand*, std::string> find_command(const std::vector<std::string>& line) {
    for (const auto& cmd : kCommands) {
        auto syntax = words(cmd.syntax);
        // "[…]" (which may span words, as GRANT's does) stands for the rest of the line.
        auto bracket =
            std::find_if(syntax.begin(), syntax.end(), [](const std::string& w) { return w.front() == '['; });
        bool rest = bracket != syntax.end();
        if (rest) syntax.erase(bracket + 1, syntax.end());
        if (rest ? line.size() + 1 < syntax.size() : syntax.size() != line.size()) continue;
        std::string argument;
        bool match = true;
        for (size_t i = 0; i < syntax.size() && match; ++i) {
            if (syntax[i].front() == '[') {
                for (size_t j = i; j < line.size(); ++j) argument += " " + line[j];
            } else if (syntax[i].front() == '<') {
                argument = line[i];
            } else {
                match = upper(line[i]) == syntax[i];
            }
        }
        if (match) return {&cmd, argument};
    }
    return {nullptr, {}};
}

// Words that begin SQL statements: a line starting with one gets told the console
// runs no SQL (psql's meta-commands send catalog queries).
bool looks_like_sql(std::string_view verb) {
    static const std::string_view kSql[] = {
        "SELECT", "WITH",   "TABLE",    "VALUES", "INSERT", "UPDATE",  "DELETE",  "MERGE",   "COPY",       "EXPLAIN",
        "CREATE", "DROP",   "ALTER",    "SET",    "RESET",  "DISCARD", "PREPARE", "EXECUTE", "DEALLOCATE", "DECLARE",
        "FETCH",  "LISTEN", "TRUNCATE", "GRANT",  "REVOKE", "CALL",    "DO",      "VACUUM",  "ANALYZE",    "LOCK"};
    return std::find(std::begin(kSql), std::end(kSql), verb) != std::end(kSql);
}

constexpr const char* kAutocommitHint =
    "connect with autocommit on (psycopg: autocommit=True; JDBC: setAutoCommit(true))";

bool transaction_control(std::string_view verb) {
    return verb == "BEGIN" || verb == "START" || verb == "COMMIT" || verb == "ROLLBACK" || verb == "END" ||
           verb == "ABORT" || verb == "SAVEPOINT" || verb == "RELEASE";
}

}  // namespace

AdminConsole::AdminConsole(AdminState& state, AuditSink* audit, std::shared_ptr<const audit::SessionInfo> who)
    : state_(state), audit_(audit), who_(std::move(who)) {}

bool AdminConsole::on_frontend(const Frame& frame, std::string& out) {
    switch (frame.type) {
        case frontend::Query: {
            auto q = read_query(frame.body);
            if (!q) {
                write_error_response(
                    out, ErrorFields{"FATAL", sqlstate::protocol_violation, "invalid Query message", {}, {}, 0});
                return false;
            }
            out_ = &out;
            run(q->sql);
            out_ = nullptr;
            write_ready_for_query(out, 'I');
            return true;
        }
        case frontend::Terminate:
            return false;
        case frontend::Sync:
            skip_until_sync_ = false;
            write_ready_for_query(out, 'I');
            return true;
        case frontend::Flush:
            return true;
        default:
            // The extended protocol: one error per batch, as the server gives it.
            if (!skip_until_sync_) {
                ErrorFields e{"ERROR",
                              sqlstate::feature_not_supported,
                              "pgmoat: the admin console takes simple queries only",
                              {},
                              {},
                              0};
                e.hint = "send the command as a simple Query (psql does; psycopg does without parameters)";
                // Drivers outside autocommit open a transaction this way (psycopg's BEGIN).
                auto p = frame.type == frontend::Parse ? read_parse(frame.body) : std::nullopt;
                auto w = p ? words(p->sql) : std::vector<std::string>{};
                if (!w.empty() && transaction_control(upper(w[0]))) {
                    e.message = "pgmoat: the admin console has no transactions";
                    e.hint = kAutocommitHint;
                }
                write_error_response(out, e);
                skip_until_sync_ = true;
            }
            return true;
    }
}

void AdminConsole::run(std::string_view command) {
    auto w = words(command);
    if (w.empty()) return write_empty_query_response(*out_);
    command_text_ = command;
    line_.clear();
    for (const auto& x : w) line_ += (line_.empty() ? "" : " ") + x;
    failed_ = false;
    if (audit_ && !audit_->accepting()) {
        // Every command is audited: none runs unlogged (failure_policy = "block").
        ErrorFields e{"ERROR",
                      sqlstate::io_error,
                      "pgmoat: the audit log cannot be written; admin commands are refused until it can",
                      "The audit log's failure policy is block: nothing runs unlogged.",
                      "check pgmoat's audit log (disk space, permissions); /metrics still answers",
                      0};
        return write_error_response(*out_, e);
    }
    auto [cmd, argument] = find_command(w);
    if (cmd) {
        cmd->run(*this, argument);
    } else {
        std::string verb = upper(w[0]);
        std::string shown = line_.size() > 200 ? line_.substr(0, 200) + "…" : line_;
        if (transaction_control(verb)) {
            fail(sqlstate::feature_not_supported, "the admin console has no transactions", kAutocommitHint);
        } else if (looks_like_sql(verb)) {
            fail(sqlstate::syntax_error, fmt::format("\"{}\" is not an admin console command", shown),
                 "SHOW HELP lists the commands",
                 "The admin console runs its own commands, not SQL; psql's meta-commands (\\d, \\l, \\dt, …) send "
                 "catalog queries it does not answer.");
        } else {
            fail(sqlstate::syntax_error, fmt::format("\"{}\" is not an admin console command", shown),
                 "SHOW HELP lists the commands");
        }
    }
    if (!failed_) record(sqlstate::successful_completion, {});
}

void AdminConsole::result(const std::vector<std::string>& columns, const std::vector<Row>& rows) {
    write_row_description(*out_, columns);
    for (const auto& r : rows) write_data_row(*out_, r);
    write_command_complete(*out_, fmt::format("SHOW {}", rows.size()));
}

void AdminConsole::complete(std::string_view tag) {
    write_command_complete(*out_, tag);
}

void AdminConsole::notice(std::string message) {
    write_notice_response(*out_, ErrorFields{"NOTICE", sqlstate::successful_completion, std::move(message), {}, {}, 0});
}

void AdminConsole::fail(std::string_view sqlstate, const std::string& message, std::string hint, std::string detail) {
    ErrorFields e{"ERROR", std::string(sqlstate), "pgmoat: " + message, std::move(detail), std::move(hint), 0};
    write_error_response(*out_, e);
    failed_ = true;
    record(sqlstate, message);
}

void AdminConsole::record(std::string_view sqlstate, std::string_view reason) {
    if (!audit_) return;
    audit::Record r;
    r.event = audit::Event::admin_command;
    r.session = who_;
    auto info = std::make_shared<audit::StatementInfo>();
    info->kind = "admin";
    info->text = line_.substr(0, 1000);
    r.statement = std::move(info);
    r.decision = sqlstate == sqlstate::successful_completion ? audit::Decision::allow : audit::Decision::reject;
    r.sqlstate = std::string(sqlstate);
    if (!reason.empty()) r.reason = std::string(reason);
    audit_->submit(std::move(r));
}

}  // namespace pgmoat::session
