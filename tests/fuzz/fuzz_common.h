// Shared pieces of the fuzz targets: invariant checks that abort (so libFuzzer
// records the input), the shipped policies, and the checks the frontend and
// backend targets make on what the connection engine (driven by
// tests/support/engine_driver.h) writes to each side.
#pragma once

#include "pgmoat/audit/json.h"
#include "pgmoat/audit/record.h"
#include "pgmoat/auth/scram.h"
#include "pgmoat/common/log.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/protocol/frame_decoder.h"
#include "pgmoat/protocol/message.h"
#include "pgmoat/protocol/message_writer.h"
#include "pgmoat/protocol/messages.h"
#include "pgmoat/session/session.h"
#include "pgmoat/sql/analyzer.h"

#include "../support/engine_driver.h"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#ifndef PGMOAT_SOURCE_DIR
#error "PGMOAT_SOURCE_DIR must point at the repository (set by cmake/fuzz.cmake)"
#endif

namespace fuzz {

// pgmoat's own log lines (rejections, monitor warnings) would dominate the run.
inline const bool quiet_log = (pgmoat::log::set_level(pgmoat::log::Level::error), true);

// An invariant that does not hold is a finding: abort so libFuzzer keeps the input.
#define FUZZ_CHECK(cond, ...)                                                                    \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "FUZZ_CHECK failed: %s at %s:%d: ", #cond, __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);                                                   \
            std::fprintf(stderr, "\n");                                                          \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

inline bool is_backend_type(char t) {
    return std::string_view("RK23CdcGHWDIEVvntSN A1s ZT").find(t) != std::string_view::npos && t != ' ';
}
inline bool is_frontend_type(char t) {
    return std::string_view("BCdcfDEHFPpQSX").find(t) != std::string_view::npos;
}

// Every byte pgmoat writes must split into whole, correctly sized frames of the
// direction's message types. Relayed frames are copied as they came, so when the
// peer is the fuzzer they may be any type: `strict_types` only for what pgmoat
// writes itself.
inline void check_frames(std::string_view bytes, bool to_client, bool strict_types, const char* what) {
    while (!bytes.empty()) {
        auto r = pgmoat::protocol::decode_message(bytes, 0x7ffffff0u);
        FUZZ_CHECK(r.status == pgmoat::protocol::DecodeStatus::frame, "%s: %zu trailing bytes do not form a frame",
                   what, bytes.size());
        if (strict_types) {
            FUZZ_CHECK(to_client ? is_backend_type(r.frame.type) : is_frontend_type(r.frame.type),
                       "%s: pgmoat wrote message type %d", what, r.frame.type);
        }
        if (r.frame.type == 'E' && strict_types) {
            auto fields = pgmoat::protocol::read_error_fields(r.frame.body);
            FUZZ_CHECK(fields.has_value(), "%s: malformed ErrorResponse", what);
            FUZZ_CHECK(!pgmoat::protocol::find_field(*fields, 'S').empty() &&
                           pgmoat::protocol::find_field(*fields, 'C').size() == 5 &&
                           !pgmoat::protocol::find_field(*fields, 'M').empty(),
                       "%s: ErrorResponse without severity, SQLSTATE or message", what);
        }
        bytes.remove_prefix(r.frame.size);
    }
}

// Lowers SCRAM iteration counts ("i=" and digits) between 65 and 10^7 to 64, so
// PBKDF2 does not dominate a fuzz run; larger (or longer) ones stay, to test
// their refusal.
inline void clamp_iterations(std::string& s) {
    for (size_t pos = 0; (pos = s.find("i=", pos)) != std::string::npos; pos += 2) {
        size_t d = pos + 2, e = d;
        while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
        if (e == d) continue;
        size_t z = d;
        while (z + 1 < e && s[z] == '0') ++z;
        if (e - z > 8) continue;
        long v = std::stol(s.substr(z, e - z));
        if (v > 64 && v <= 10'000'000) s.replace(d, e - d, "64");
    }
}

// A private scratch directory per fuzzing process (policy and config files).
inline const std::string& scratch_dir() {
    static const std::string dir = [] {
        std::string d = std::filesystem::temp_directory_path().string() + "/pgmoat-fuzz-" + std::to_string(::getpid());
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline void write_file(const std::string& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

// The shipped policies, plus one for the app "capped" that caps rows, audits raw
// text and parameters, and one in monitor mode for "watched".
inline std::shared_ptr<const pgmoat::policy::PolicySet> policies() {
    return pgmoat::testing::engine_policies(PGMOAT_SOURCE_DIR);
}

inline constexpr const char* kPassword = pgmoat::testing::kAppPassword;

// Audit records must always serialize to one valid JSON object, whatever the
// client sent (raw statements and bind parameters are arbitrary bytes).
inline void check_audit(std::vector<pgmoat::audit::Record>& records) {
    uint64_t seq = 0;
    for (const auto& r : records) {
        std::string line;
        pgmoat::audit::append_record_fields(line, r, ++seq);
        line += "}";
        FUZZ_CHECK(line.find('\n') == std::string::npos, "audit record contains a newline");
        FUZZ_CHECK(pgmoat::audit::json::parse(line).has_value(), "audit record is not valid JSON: %.300s",
                   line.c_str());
    }
    records.clear();
}

inline std::string_view cstring_at(std::string_view body, size_t& pos) {
    size_t end = body.find('\0', pos);
    if (end == std::string_view::npos) return {};
    auto s = body.substr(pos, end - pos);
    pos = end + 1;
    return s;
}

// pgmoat's own query for the name of a FunctionCall's function.
inline bool is_function_lookup(const pgmoat::protocol::Frame& f) {
    return f.type == 'Q' && f.body.rfind("SELECT n.nspname, p.proname FROM pg_catalog.pg_proc p", 0) == 0;
}

// What one frontend frame is allowed to become on the way to the server: itself,
// nothing, or (when rejected) a decoy the server is sure to refuse.
inline void check_to_server(const pgmoat::session::Session& session, const pgmoat::protocol::Frame& in,
                            std::string_view sent, const pgmoat::session::ServerSettings& settings_before,
                            bool enforce) {
    using namespace pgmoat;
    std::string_view rest = sent;
    bool forwarded = false;
    while (!rest.empty()) {
        auto r = protocol::decode_message(rest, 0x7ffffff0u);
        FUZZ_CHECK(r.status == protocol::DecodeStatus::frame, "to_server does not split into frames");
        std::string_view bytes = r.frame.bytes();
        if (bytes == in.bytes()) {
            forwarded = true;
        } else if (r.frame.type == 'Q' || r.frame.type == 'P') {
            // Anything pgmoat writes itself in place of a statement is the decoy, or
            // its catalog look-up for a FunctionCall.
            FUZZ_CHECK(
                r.frame.body.find("pgmoat_rejected_statement") != std::string_view::npos || is_function_lookup(r.frame),
                "pgmoat sent the server a statement the client did not send");
        } else {
            FUZZ_CHECK(false, "pgmoat sent the server a message of type %d the client did not send", r.frame.type);
        }
        rest.remove_prefix(r.frame.size);
    }
    if (!forwarded || !enforce || (in.type != 'Q' && in.type != 'P')) return;
    // A client that sends the decoy text itself gets it "forwarded" as the decoy.
    if (in.body.find("pgmoat_rejected_statement") != std::string_view::npos) return;
    // Forwarded text must be allowed as pgmoat reads it (standard_conforming_strings
    // on, UTF8), and text that reads differently under other settings only while the
    // session's settings were those.
    std::string_view sql;
    size_t pos = 0;
    if (in.type == 'P') cstring_at(in.body, pos);
    sql = cstring_at(in.body, pos);
    sql::AnalyzerOptions options;
    auto analysis = sql::analyze(sql, options);
    auto d = policy::decide(session.policy(), analysis, sql,
                            in.type == 'P' ? policy::Protocol::extended : policy::Protocol::simple_query);
    FUZZ_CHECK(d.allow && !d.would_reject, "a statement the policy rejects was forwarded: rule %s",
               std::string(name(d.rule)).c_str());
    FUZZ_CHECK(!analysis.depends_on_settings ||
                   (settings_before.standard_conforming_strings && settings_before.client_encoding == "UTF8"),
               "text that reads differently under the session's settings was forwarded");
}

// Feeds a logged-in engine an interleaving of client and server frames taken from
// the fuzz input: each frame is preceded by a control byte whose low bit says which
// side sent it (1: server) and whose other bits, when not zero, cut the frame into
// pieces of that many bytes. Frames that do not decode end the run, as does the
// engine closing.
inline void drive_relay(pgmoat::testing::EngineDriver& d, std::string_view data, bool enforce, uint32_t max_body) {
    using namespace pgmoat;
    d.new_client_bytes();
    d.new_server_bytes();
    while (data.size() >= 2 && !d.closed()) {
        uint8_t control = static_cast<uint8_t>(data[0]);
        data.remove_prefix(1);
        auto r = protocol::decode_message(data, max_body);
        if (r.status != protocol::DecodeStatus::frame) return;
        data.remove_prefix(r.frame.size);
        bool from_server = control & 1;
        size_t piece = control >> 1;
        const session::Session* s = d.engine().session();
        FUZZ_CHECK(s != nullptr, "a logged-in engine without a session");
        auto settings = s->server_settings();
        if (from_server)
            d.from_server(r.frame.bytes(), piece);
        else
            d.from_client(r.frame.bytes(), piece);
        std::string to_client = d.new_client_bytes();
        std::string to_server = d.new_server_bytes();
        check_audit(d.audit.records);
        if (from_server) {
            check_frames(to_server, false, true, "to_server after a server frame");
            check_frames(to_client, true, false, "to_client after a server frame");
            // Only decoys go to the server in answer to the server.
            std::string_view rest = to_server;
            while (!rest.empty()) {
                auto m = protocol::decode_message(rest, 0x7ffffff0u);
                FUZZ_CHECK(m.frame.type == 'Q' &&
                               (m.frame.body.find("pgmoat_rejected_statement") == 0 || is_function_lookup(m.frame)),
                           "pgmoat sent the server something of its own after a server frame");
                rest.remove_prefix(m.frame.size);
            }
        } else {
            check_frames(to_server, false, false, "to_server after a client frame");
            check_frames(to_client, true, true, "to_client after a client frame");
            if (s == d.engine().session()) check_to_server(*s, r.frame, to_server, settings, enforce);
        }
        if (const auto* now = d.engine().session()) {
            char status = now->transaction_status();
            FUZZ_CHECK(status == 'I' || status == 'T' || status == 'E', "transaction status %d", status);
        }
    }
}

}  // namespace fuzz
