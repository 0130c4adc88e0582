// Regression for finding F3 (SECURITY.md): pgmoat keeps its own record of a named
// prepared statement when the server does not have it (the server refused the
// Parse, e.g. relation does not exist, or a DEALLOCATE dropped it). A later Parse
// of that name, which the server accepts, is then executed under the old record:
// audit records name the old text, relations and fingerprint, so an app can read
// a table while the audit log says it read another.
//
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/audit_sink.h"
#include "pgmoat/session/session.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {

struct Records : AuditSink {
    std::vector<audit::Record> records;
    bool accepting() const override { return true; }
    void submit(audit::Record&& r) override { records.push_back(std::move(r)); }
};

Outbox feed(Session& s, const std::string& bytes, bool from_client) {
    Outbox out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        REQUIRE(r.status == DecodeStatus::frame);
        if (from_client) s.on_frontend(r.frame, out);
        else s.on_backend(r.frame, out);
        rest.remove_prefix(r.frame.size);
    }
    return out;
}

std::string msg(char type, std::string_view body = {}) {
    std::string out;
    MessageWriter(out).begin(type).bytes(body).end();
    return out;
}

std::string parse(std::string_view name, std::string_view sql) {
    std::string out;
    write_parse(out, name, sql);
    return out;
}

std::string bind(std::string_view statement, std::string_view value) {
    std::string out;
    MessageWriter(out)
        .begin(frontend::Bind)
        .cstring("")
        .cstring(statement)
        .int16(0)
        .int16(1)
        .int32(static_cast<int32_t>(value.size()))
        .bytes(value)
        .int16(0)
        .end();
    return out;
}

std::string execute() {
    std::string out;
    MessageWriter(out).begin(frontend::Execute).cstring("").int32(0).end();
    return out;
}

std::string rfq(char status) {
    std::string out;
    write_ready_for_query(out, status);
    return out;
}

std::string server_error(std::string_view sqlstate, std::string_view message) {
    ErrorFields e;
    e.sqlstate = std::string(sqlstate);
    e.message = std::string(message);
    std::string out;
    write_error_response(out, e);
    return out;
}

std::string data_row(std::string_view value) {
    std::string out;
    MessageWriter(out).begin(backend::DataRow).int16(1).int32(static_cast<int32_t>(value.size())).bytes(value).end();
    return out;
}

std::string complete(std::string_view tag) {
    std::string out;
    MessageWriter(out).begin(backend::CommandComplete).cstring(tag).end();
    return out;
}

Session make_session(Records& audit) {
    static auto set = std::make_shared<const policy::PolicySet>(
        policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies"));
    Identity id;
    id.app = "orders-api";
    id.target = "dev";
    StatementServices services;
    services.policies = set;
    services.audit = &audit;
    return Session(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
}

void run_secret_read(Session& s) {
    feed(s, parse("s1", "SELECT secret FROM secrets WHERE id = $1") + bind("s1", "1") + execute() + msg('S'), true);
    feed(s, msg(backend::ParseComplete) + msg(backend::BindComplete) + data_row("the-secret") + complete("SELECT 1") +
                rfq('I'),
         false);
}

std::string audited_text(const Records& audit) {
    REQUIRE_FALSE(audit.records.empty());
    const auto& r = audit.records.back();
    REQUIRE(r.statement);
    return r.statement->text.value_or("");
}

}  // namespace

TEST_CASE("a name the server refused to prepare is audited as what the server later runs under it") {
    Records audit;
    Session s = make_session(audit);
    feed(s, parse("s1", "SELECT id FROM no_such_table WHERE id = $1") + msg('S'), true);
    feed(s, server_error("42P01", "relation \"no_such_table\" does not exist") + rfq('I'), false);
    run_secret_read(s);
    CHECK(audited_text(audit).find("secrets") != std::string::npos);
}

TEST_CASE("a name dropped by DEALLOCATE is audited as what the server later runs under it") {
    Records audit;
    Session s = make_session(audit);
    feed(s, parse("s1", "SELECT name FROM victims WHERE id = $1") + msg('S'), true);
    feed(s, msg(backend::ParseComplete) + rfq('I'), false);
    std::string dealloc;
    write_query(dealloc, "DEALLOCATE s1");
    feed(s, dealloc, true);
    feed(s, complete("DEALLOCATE") + rfq('I'), false);
    run_secret_read(s);
    CHECK(audited_text(audit).find("secrets") != std::string::npos);
}
