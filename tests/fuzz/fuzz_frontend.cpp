// Frontend target: what an untrusted client can send. The first byte picks the
// mode and options:
//   bit 0  0: the rest is the raw client byte stream of the startup phase (startup
//             packets, then SASL messages) fed to ClientStartup;
//          1: startup packets from the input until SCRAM starts, a correct SCRAM
//             login played by the harness, then a logged-in Session fed the rest
//             (see drive_session: a control byte before each frame, low bit 1 for
//             a server frame)
//   bit 1  TLS configured (SSLRequest answered 'S', channel binding offered)
//   bit 2  over max_client_connections
//   bit 3-4 which policy applies: baseline / capped (row cap, raw audit) / monitor
//   bit 5  analysis cache on
//   bit 6  the audit log refuses records (failure_policy = block)
//   bit 7  max message size 1 kB instead of 1 MB
// Invariants: no crash, every output splits into whole frames of the right
// direction, pgmoat's own ErrorResponses carry severity, SQLSTATE and message,
// only allowed text or decoys reach the server, audit records are valid JSON.
#include "fuzz_common.h"

#include "pgmoat/session/client_startup.h"

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {

const std::vector<uint8_t> kCertHash(32, 0xab);

// A one-byte answer to SSLRequest / GSSENCRequest is not a frame.
std::string_view after_ssl_answer(std::string_view out) { return out == "N" || out == "S" ? std::string_view() : out; }

struct Options {
    bool login;
    bool tls;
    bool over_limit;
    int policy;
    bool cache;
    bool audit_refuses;
    uint32_t max_body;
};

// Feeds startup-phase frames from `data` until ClientStartup wants typed
// messages in login mode (SASL started) or the exchange ends. Returns the last step.
StartupStep run_startup(ClientStartup& st, std::string_view& data, const Options& o, bool stop_at_sasl,
                        bool& started_sasl, std::string& last_out) {
    started_sasl = false;
    while (true) {
        bool typed = st.expects_typed_messages();
        if (typed && stop_at_sasl) {
            started_sasl = true;
            return StartupStep::read_more;
        }
        if (data.empty()) break;
        auto r = typed ? decode_message(data, o.max_body) : decode_startup_packet(data);
        if (r.status == DecodeStatus::need_more) return StartupStep::read_more;
        if (r.status == DecodeStatus::error) {
            FUZZ_CHECK(!r.error.empty(), "decode error without a message");
            return StartupStep::close;
        }
        data.remove_prefix(r.frame.size);
        std::string& out = last_out;
        out.clear();
        StartupStep step = st.on_frame(r.frame, out);
        if (step == StartupStep::start_tls) {
            FUZZ_CHECK(out == "S", "start_tls with output other than 'S'");
            FUZZ_CHECK(o.tls, "start_tls without TLS configured");
            st.tls_established(auth::ChannelBinding{"tls-server-end-point", kCertHash});
            continue;
        }
        fuzz::check_frames(after_ssl_answer(out), true, true, "startup output");
        if (step == StartupStep::cancel) FUZZ_CHECK(out.empty(), "a CancelRequest got an answer");
        if (step != StartupStep::read_more) return step;
    }
    return StartupStep::read_more;
}

std::optional<Authentication> auth_in(const std::string& out, int32_t code) {
    std::string_view rest = out;
    while (!rest.empty()) {
        auto r = decode_message(rest, 1 << 20);
        if (r.status != DecodeStatus::frame) return std::nullopt;
        if (r.frame.type == 'R') {
            auto a = read_authentication(r.frame.body);
            if (a && a->code == code) return a;
        }
        rest.remove_prefix(r.frame.size);
    }
    return std::nullopt;
}

// The harness plays a correct SCRAM client; returns true when logged in.
bool scram_login(ClientStartup& st, const std::string& sasl_request, bool tls) {
    auto req = auth_in(sasl_request, auth_request::SASL);
    if (!req) return false;
    auto mechs = read_sasl_mechanisms(req->payload);
    FUZZ_CHECK(mechs.has_value(), "pgmoat offered a malformed mechanism list");
    bool plus = std::find(mechs->begin(), mechs->end(), "SCRAM-SHA-256-PLUS") != mechs->end();
    FUZZ_CHECK(!plus || tls, "SCRAM-SHA-256-PLUS offered without TLS");
    std::optional<auth::ChannelBinding> cb;
    if (plus) cb = auth::ChannelBinding{"tls-server-end-point", kCertHash};
    auth::ScramClient client(fuzz::kPassword, cb);
    std::string msg, out;
    write_sasl_initial_response(msg, client.mechanism(), client.client_first());
    auto step = st.on_frame(decode_message(msg, 1 << 20).frame, out);
    fuzz::check_frames(out, true, true, "SASL continue");
    if (step != StartupStep::read_more) return false;
    auto cont = auth_in(out, auth_request::SASLContinue);
    FUZZ_CHECK(cont.has_value(), "no SASLContinue after a valid client-first");
    auto final_msg = client.server_first(cont->payload);
    FUZZ_CHECK(final_msg.has_value(), "pgmoat's server-first refused by its own client: %s", client.error().c_str());
    msg.clear();
    out.clear();
    write_sasl_response(msg, *final_msg);
    step = st.on_frame(decode_message(msg, 1 << 20).frame, out);
    fuzz::check_frames(out, true, true, "SASL final");
    if (step != StartupStep::authenticated) {
        // Only grants and targets may refuse a correct password.
        FUZZ_CHECK(st.failure_sqlstate() == "3D000" || st.failure_sqlstate() == "28000" ||
                       st.failure_sqlstate() == "28P01",
                   "a correct login ended with %s: %s", st.failure_sqlstate().c_str(), st.failure_reason().c_str());
        // 28P01 only for apps without credentials.
        if (st.failure_sqlstate() == "28P01") {
            FUZZ_CHECK(!fuzz::credentials()->find(st.identity().app), "correct password refused for a known app");
        }
        return false;
    }
    auto final_auth = auth_in(out, auth_request::SASLFinal);
    FUZZ_CHECK(final_auth.has_value(), "authenticated without SASLFinal");
    FUZZ_CHECK(client.server_final(final_auth->payload), "pgmoat's server signature did not verify");
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    Options o{.login = (flags & 1) != 0,
              .tls = (flags & 2) != 0,
              .over_limit = (flags & 4) != 0,
              .policy = (flags >> 3) & 3,
              .cache = (flags & 32) != 0,
              .audit_refuses = (flags & 64) != 0,
              .max_body = (flags & 128) ? 1024u : (1u << 20)};
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

    StartupContext ctx;
    ctx.config = fuzz::config();
    ctx.credentials = fuzz::credentials();
    ctx.tls_available = o.tls;
    ctx.over_connection_limit = o.over_limit;
    ctx.client_address = "192.0.2.7";
    ctx.client_port = 40000;
    ClientStartup st(ctx);

    if (!o.login) {
        bool sasl = false;
        std::string out;
        run_startup(st, data, o, false, sasl, out);
        return 0;
    }

    bool sasl = false;
    std::string request;  // the last startup output: the AuthenticationSASL request
    auto step = run_startup(st, data, o, true, sasl, request);
    if (!sasl || step != StartupStep::read_more) return 0;
    if (!scram_login(st, request, st.tls_active())) return 0;

    Identity id = st.identity();
    if (o.policy == 1) id.app = "capped";
    if (o.policy == 2) id.app = "watched";
    fuzz::CheckingAudit audit;
    audit.ok = !o.audit_refuses;
    auto& svc = fuzz::services();
    StatementServices services;
    services.policies = fuzz::policies();
    services.analyses = o.cache ? &svc.cache : nullptr;
    services.audit = &audit;
    services.metrics = &svc.metrics;
    services.rate_limiter = &svc.limiter;
    services.session_id = 1;
    services.upstream_user = "pgmoat";
    services.database = "app";
    Session session(id, fuzz::server_parameters(), services);
    bool enforce = session.policy().mode == policy::Mode::enforce;
    fuzz::drive_session(session, data, enforce, o.max_body);
    return 0;
}
