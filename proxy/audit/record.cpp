// Serialisation of records into the stable JSON field order documented in record.h.
#include "pgmoat/audit/record.h"

#include "pgmoat/audit/json.h"

#include <charconv>

namespace pgmoat::audit {

std::string_view name(Event event) {
    switch (event) {
        case Event::statement:
            return "statement";
        case Event::connection_accepted:
            return "connection_accepted";
        case Event::auth_succeeded:
            return "auth_succeeded";
        case Event::auth_failed:
            return "auth_failed";
        case Event::target_denied:
            return "target_denied";
        case Event::disconnect:
            return "disconnect";
        case Event::policy_reload:
            return "policy_reload";
        case Event::pgmoat_start:
            return "pgmoat_start";
        case Event::pgmoat_stop:
            return "pgmoat_stop";
        case Event::admin_command:
            return "admin_command";
        case Event::approval:
            return "approval";
        case Event::grant:
            return "grant";
        case Event::log_opened:
            return "log_opened";
        case Event::audit_error:
            return "audit_error";
    }
    return "unknown";
}

std::string_view name(Decision decision) {
    switch (decision) {
        case Decision::allow:
            return "allow";
        case Decision::reject:
            return "reject";
        case Decision::would_reject:
            return "would_reject";
    }
    return "unknown";
}

size_t Record::approximate_bytes() const {
    size_t n = sizeof(Record);
    auto add = [&](const std::optional<std::string>& s) {
        if (s) n += s->capacity();
    };
    // Counted even when shared: the queue may be what keeps it alive, and an
    // overestimate only makes the bound stricter.
    if (statement) {
        add(statement->text);
        for (const auto& rel : statement->relations) n += rel.name.size() + rel.access.size() + sizeof rel;
    }
    add(rule);
    add(policy_file);
    add(policy_version);
    add(sqlstate);
    add(reason);
    add(approval_step);
    add(approver);
    add(grant);
    add(raw_statement);
    if (parameters) {
        n += parameters->capacity() * sizeof(std::optional<std::string>);
        for (const auto& p : *parameters) add(p);
    }
    return n;
}

namespace {

void key(std::string& out, std::string_view k) {
    out.push_back(',');
    out.push_back('"');
    out.append(k);
    out.append("\":");
}

void field(std::string& out, std::string_view k, const std::optional<std::string>& v) {
    if (!v) return;
    key(out, k);
    json::append_string(out, *v);
}

// Numbers go through to_chars into a stack buffer: formatting through a
// back_inserter costs a push_back per digit, and this runs for every record.
template <typename Int>
void append_int(std::string& out, Int v, int base = 10) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v, base);
    out.append(buf, static_cast<size_t>(res.ptr - buf));
}

template <typename Int>
void field(std::string& out, std::string_view k, const std::optional<Int>& v) {
    if (!v) return;
    key(out, k);
    append_int(out, *v);
}

}  // namespace

void append_record_fields(std::string& out, const Record& r, uint64_t seq) {
    out.append("{\"time\":\"");
    json::append_time(out, r.time);
    out.append("\",\"seq\":");
    append_int(out, seq);
    out.append(",\"event\":\"");
    out.append(name(r.event));
    out.push_back('"');
    if (const SessionInfo* s = r.session.get()) {
        out.append(",\"session\":");
        append_int(out, s->id);
        field(out, "app", s->app);
        field(out, "upstream_user", s->upstream_user);
        field(out, "target", s->target);
        field(out, "database", s->database);
        field(out, "application_name", s->application_name);
        field(out, "client_addr", s->client_addr);
        field(out, "client_port", s->client_port);
    }
    if (const StatementInfo* st = r.statement.get()) {
        field(out, "statement_kind", st->kind);
        field(out, "statement", st->text);
        if (st->fingerprint) {
            out.append(",\"fingerprint\":\"");
            char hex[17];
            auto res = std::to_chars(hex, hex + 16, *st->fingerprint, 16);
            size_t len = static_cast<size_t>(res.ptr - hex);
            out.append(16 - len, '0');  // 16 digits, zero-padded
            out.append(hex, len);
            out.push_back('"');
        }
        key(out, "relations");
        out.push_back('[');
        bool first = true;
        for (const auto& rel : st->relations) {
            if (!first) out.push_back(',');
            first = false;
            out.append("{\"name\":");
            json::append_string(out, rel.name);
            out.append(",\"access\":");
            json::append_string(out, rel.access);
            out.push_back('}');
        }
        out.push_back(']');
    }
    if (r.decision) {
        key(out, "decision");
        out.push_back('"');
        out.append(name(*r.decision));
        out.push_back('"');
    }
    field(out, "rule", r.rule);
    field(out, "policy_file", r.policy_file);
    field(out, "policy_line", r.policy_line);
    field(out, "policy_version", r.policy_version);
    field(out, "sqlstate", r.sqlstate);
    field(out, "rows", r.rows);
    field(out, "duration_us", r.duration_us);
    field(out, "bytes_sent", r.bytes_sent);
    field(out, "backend_pid", r.backend_pid);
    field(out, "reason", r.reason);
    field(out, "approval", r.approval);
    field(out, "approval_step", r.approval_step);
    field(out, "approver", r.approver);
    field(out, "grant", r.grant);
    field(out, "raw_statement", r.raw_statement);
    if (r.parameters) {
        key(out, "parameters");
        out.push_back('[');
        bool first = true;
        for (const auto& p : *r.parameters) {
            if (!first) out.push_back(',');
            first = false;
            if (p)
                json::append_string(out, *p);
            else
                out.append("null");
        }
        out.push_back(']');
    }
}

}  // namespace pgmoat::audit
