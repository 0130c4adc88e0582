// The admin console's commands: one table of what each is and answers, one
// function that runs them. Answers are ordinary query results (text columns), so
// psql, scripts and monitoring tools read them as they read pgbouncer's SHOW.
#include "pgmoat/session/admin_console.h"

#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace pgmoat::session {

using namespace pgmoat::protocol;

namespace {

using Row = std::vector<std::optional<std::string>>;

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

// Words of a command, its trailing ';' and surrounding white space dropped.
std::vector<std::string> words(std::string_view text) {
    while (!text.empty() && (text.back() == ';' || text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                             text.back() == '\r'))
        text.remove_suffix(1);
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n' && text[j] != '\r') ++j;
        if (j > i) out.emplace_back(text.substr(i, j - i));
        i = j;
    }
    return out;
}

void result(std::string& out, const std::vector<std::string>& columns, const std::vector<Row>& rows) {
    write_row_description(out, columns);
    for (const auto& r : rows) write_data_row(out, r);
    write_command_complete(out, fmt::format("SHOW {}", rows.size()));
}

std::optional<std::string> text(std::string_view s) {
    if (s.empty()) return std::nullopt;
    return std::string(s);
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

struct Command {
    const char* name;  // as typed, upper case
    const char* help;
};

constexpr Command kCommands[] = {
    {"SHOW HELP", "this list"},
    {"SHOW SESSIONS", "client sessions: app, target, client address, state, last statement kind"},
    {"SHOW TARGETS", "targets: address, health from the last readiness probe, paused, sessions"},
    {"SHOW POLICIES", "the policy set in force and its version"},
    {"SHOW REJECTIONS", "the most recent rejected statements (normalized text)"},
    {"SHOW COUNTERS", "pgmoat's counters, as /metrics has them"},
    {"SHOW VERSION", "pgmoat's version"},
    {"RELOAD", "re-read config, credentials and policies (as SIGHUP)"},
    {"PAUSE <target>", "hold new statements for a target until RESUME"},
    {"RESUME <target>", "let a paused target's statements run"},
    {"KILL <session>", "end a client session (FATAL 57P01)"},
};

}  // namespace

AdminConsole::AdminConsole(AdminState& state, AuditSink* audit, std::shared_ptr<const audit::SessionInfo> who)
    : state_(state), audit_(audit), who_(std::move(who)) {}

bool AdminConsole::on_frontend(const Frame& frame, std::string& out) {
    switch (frame.type) {
        case frontend::Query: {
            auto q = read_query(frame.body);
            if (!q) {
                ErrorFields e{"FATAL", "08P01", "invalid Query message", {}, {}, 0};
                write_error_response(out, e);
                return false;
            }
            run(q->sql, out);
            write_ready_for_query(out, 'I');
            return true;
        }
        case frontend::Terminate: return false;
        case frontend::Sync:
            skip_until_sync_ = false;
            write_ready_for_query(out, 'I');
            return true;
        case frontend::Flush: return true;
        default:
            // The extended protocol: one error per batch, as the server gives it.
            if (!skip_until_sync_) {
                ErrorFields e{"ERROR", "0A000", "pgmoat: the admin console takes simple queries only", {}, {}, 0};
                e.hint = "use psql, or send the command as a simple Query";
                write_error_response(out, e);
                skip_until_sync_ = true;
            }
            return true;
    }
}

void AdminConsole::run(std::string_view command, std::string& out) {
    auto w = words(command);
    if (w.empty()) {
        write_empty_query_response(out);
        return;
    }
    std::string verb = upper(w[0]);
    std::string what = w.size() > 1 ? upper(w[1]) : "";
    std::string line;
    for (const auto& x : w) line += (line.empty() ? "" : " ") + x;
    auto fail = [&](std::string_view sqlstate, std::string message, std::string hint = {}) {
        ErrorFields e{"ERROR", std::string(sqlstate), "pgmoat: " + message, {}, std::move(hint), 0};
        write_error_response(out, e);
        record(line, sqlstate, message);
    };

    if (verb == "SHOW" && w.size() == 2) {
        if (what == "HELP") {
            std::vector<Row> rows;
            for (const auto& c : kCommands) rows.push_back({std::string(c.name), std::string(c.help)});
            result(out, {"command", "does"}, rows);
        } else if (what == "SESSIONS") {
            std::vector<Row> rows;
            for (const auto& s : state_.sessions()) {
                rows.push_back({std::to_string(s.id), s.app, s.target, text(s.application_name), s.client_addr,
                                std::to_string(s.client_port), s.state, text(s.statement_kind), s.connected_at});
            }
            result(out,
                   {"session", "app", "target", "application_name", "client_addr", "client_port", "state",
                    "statement_kind", "connected_at"},
                   rows);
        } else if (what == "TARGETS") {
            std::vector<Row> rows;
            for (const auto& t : state_.targets()) {
                rows.push_back({t.name, t.host, std::to_string(t.port), t.database, yes_no(t.up), yes_no(t.paused),
                                std::to_string(t.sessions)});
            }
            result(out, {"target", "host", "port", "database", "up", "paused", "sessions"}, rows);
        } else if (what == "POLICIES") {
            std::vector<Row> rows;
            std::string version = state_.policy_version();
            for (const auto& p : state_.policies()) {
                rows.push_back({p.name, p.mode, std::to_string(p.priority), yes_no(p.is_default), p.file, version});
            }
            result(out, {"policy", "mode", "priority", "default", "file", "version"}, rows);
        } else if (what == "REJECTIONS") {
            std::vector<Row> rows;
            for (const auto& r : state_.rejections()) {
                rows.push_back({r.time, std::to_string(r.session), r.app, r.target, r.rule, r.sqlstate, r.statement});
            }
            result(out, {"time", "session", "app", "target", "rule", "sqlstate", "statement"}, rows);
        } else if (what == "COUNTERS") {
            std::vector<Row> rows;
            for (const auto& c : state_.counters()) rows.push_back({c.metric, text(c.labels), c.value});
            result(out, {"metric", "labels", "value"}, rows);
        } else if (what == "VERSION") {
            result(out, {"version"}, {{std::string("pgmoat ") + PGMOAT_VERSION}});
        } else {
            return fail("42704", fmt::format("unknown SHOW item \"{}\"", w[1]), "SHOW HELP lists the commands");
        }
        record(line, "00000", {});
        return;
    }
    if (verb == "RELOAD" && w.size() == 1) {
        std::string error = state_.reload();
        if (!error.empty()) return fail("F0000", "reload failed, the previous set stays in force: " + error);
        write_command_complete(out, "RELOAD");
        record(line, "00000", {});
        return;
    }
    if ((verb == "PAUSE" || verb == "RESUME") && w.size() == 2) {
        if (!state_.set_paused(w[1], verb == "PAUSE"))
            return fail("42704", fmt::format("no target named \"{}\"", w[1]), "SHOW TARGETS lists them");
        write_command_complete(out, verb);
        record(line, "00000", {});
        return;
    }
    if (verb == "KILL" && w.size() == 2) {
        uint64_t id = 0;
        auto [end, ec] = std::from_chars(w[1].data(), w[1].data() + w[1].size(), id);
        if (ec != std::errc() || end != w[1].data() + w[1].size())
            return fail("22P02", fmt::format("\"{}\" is not a session number", w[1]), "SHOW SESSIONS lists them");
        if (!state_.kill(id)) return fail("42704", fmt::format("no session {}", id), "SHOW SESSIONS lists them");
        write_command_complete(out, "KILL");
        record(line, "00000", {});
        return;
    }
    fail("42601", fmt::format("\"{}\" is not an admin console command", line.substr(0, 200)),
         "SHOW HELP lists the commands; the console runs no SQL");
}

void AdminConsole::record(std::string_view command, std::string_view sqlstate, std::string_view reason) {
    if (!audit_) return;
    audit::Record r;
    r.event = audit::Event::admin_command;
    r.session = who_;
    auto info = std::make_shared<audit::StatementInfo>();
    info->kind = "admin";
    info->text = std::string(command.substr(0, 1000));
    r.statement = std::move(info);
    r.decision = sqlstate == "00000" ? audit::Decision::allow : audit::Decision::reject;
    r.sqlstate = std::string(sqlstate);
    if (!reason.empty()) r.reason = std::string(reason);
    audit_->submit(std::move(r));
}

}  // namespace pgmoat::session
