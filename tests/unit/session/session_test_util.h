// What the session tests share: protocol messages built as a client or server
// would send them, a session under the shipped policies, and an audit sink that
// keeps records in memory.
#pragma once

#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/audit_sink.h"
#include "pgmoat/session/session.h"
#include "pgmoat/sql/analysis_cache.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgmoat::session::testing {

using namespace pgmoat::protocol;

// Every message in a byte string, as (type, body).
inline std::vector<std::pair<char, std::string>> messages(const std::string& bytes) {
    std::vector<std::pair<char, std::string>> out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        REQUIRE(r.status == DecodeStatus::frame);
        out.emplace_back(r.frame.type, std::string(r.frame.body));
        rest.remove_prefix(r.frame.size);
    }
    return out;
}

// Feeds a byte string of messages to one side of the session.
inline Outbox feed(Session& s, const std::string& bytes, bool from_client) {
    Outbox out;
    std::string_view rest = bytes;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        REQUIRE(r.status == DecodeStatus::frame);
        if (from_client)
            s.on_frontend(r.frame, out);
        else
            s.on_backend(r.frame, out);
        rest.remove_prefix(r.frame.size);
    }
    return out;
}

inline std::string msg(char type, std::string_view body = {}) {
    std::string out;
    MessageWriter(out).begin(type).bytes(body).end();
    return out;
}

inline std::string query(std::string_view sql) {
    std::string out;
    write_query(out, sql);
    return out;
}

inline std::string parse(std::string_view name, std::string_view sql) {
    std::string out;
    write_parse(out, name, sql);
    return out;
}

// A Bind of the unnamed portal with text parameters.
inline std::string bind(std::string_view statement, const std::vector<std::string>& values = {}) {
    std::string out;
    MessageWriter w(out);
    w.begin(frontend::Bind).cstring("").cstring(statement).int16(0).int16(static_cast<int16_t>(values.size()));
    for (const auto& v : values) w.int32(static_cast<int32_t>(v.size())).bytes(v);
    w.int16(0).end();
    return out;
}

inline std::string bind(std::string_view statement, std::string_view value) {
    return testing::bind(statement, std::vector<std::string>{std::string(value)});
}

inline std::string execute(std::string_view portal = "") {
    std::string out;
    MessageWriter(out).begin(frontend::Execute).cstring(portal).int32(0).end();
    return out;
}

inline std::string sync_message() {
    return msg(frontend::Sync);
}

inline std::string rfq(char status) {
    std::string out;
    write_ready_for_query(out, status);
    return out;
}

inline std::string complete(std::string_view tag) {
    std::string out;
    MessageWriter(out).begin(backend::CommandComplete).cstring(tag).end();
    return out;
}

inline std::string data_row(std::string_view value) {
    std::string out;
    MessageWriter(out).begin(backend::DataRow).int16(1).int32(static_cast<int32_t>(value.size())).bytes(value).end();
    return out;
}

inline std::string server_error(std::string_view sqlstate, std::string_view message) {
    ErrorFields e;
    e.sqlstate = std::string(sqlstate);
    e.message = std::string(message);
    std::string out;
    write_error_response(out, e);
    return out;
}

// The server's answer to a decoy (or to any text that does not parse).
inline std::string syntax_error(std::string_view near) {
    return server_error("42601", std::string("syntax error at or near \"") + std::string(near) + "\"");
}

// The shipped policies: the baseline, enforcing.
inline std::shared_ptr<const policy::PolicySet> shipped_policies() {
    static auto set = std::make_shared<const policy::PolicySet>(
        policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies"));
    return set;
}

// Collects what a session would write to the audit log.
struct MemoryAudit : AuditSink {
    bool ok = true;
    std::vector<audit::Record> records;
    bool accepting() const override { return ok; }
    void submit(audit::Record&& r) override { records.push_back(std::move(r)); }
};

// A session of `app` under the shipped policies (orders-api gets the baseline;
// analyst-* readonly-analyst); with `analyses`, texts are analyzed through that cache.
inline Session make_session(AuditSink* audit = nullptr, std::string app = "orders-api",
                            sql::AnalysisCache* analyses = nullptr) {
    Identity id;
    id.app = std::move(app);
    id.target = "dev";
    StatementServices services;
    services.policies = shipped_policies();
    services.audit = audit;
    services.analyses = analyses;
    return Session(id, {{"standard_conforming_strings", "on"}, {"client_encoding", "UTF8"}}, services);
}

}  // namespace pgmoat::session::testing
