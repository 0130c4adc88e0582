// Backend target: what a hostile or broken upstream server can send. The first
// byte holds options:
//   bit 0  the upstream connection is TLS (channel binding data available)
//   bit 1-2 which policy applies to the session: baseline / capped / monitor
//   bit 3  analysis cache on
// The rest is the server's byte stream during pgmoat's login (UpstreamLogin),
// then, once the login is ready, a logged-in Session fed an interleaving of
// server and client frames (see drive_session: a control byte before each frame,
// low bit 1 for a server frame).
//
// So that the fuzzer can get past SCRAM, the harness rewrites two placeholders in
// the server's SASL messages: "@NONCE@" becomes the client nonce pgmoat sent, and
// "v=@SIG@" the correct server signature. Iteration counts between 65 and 10^7
// are lowered to 64 (PBKDF2 would otherwise dominate); larger ones stay, to test
// their refusal.
#include "fuzz_common.h"

#include "pgmoat/session/upstream_login.h"

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {

constexpr const char* kUpstreamPassword = "upstream-secret-Zq8";

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}


// What the harness learns from pgmoat's side of the SCRAM exchange.
struct ScramTrace {
    std::string client_nonce;
    std::string client_first_bare;
    std::string server_first;
    std::string client_final_without_proof;
};

void learn_from_output(std::string_view out, ScramTrace& t) {
    while (!out.empty()) {
        auto r = decode_message(out, 1 << 20);
        if (r.status != DecodeStatus::frame) return;
        if (r.frame.type == 'p') {
            if (auto init = read_sasl_initial_response(r.frame.body)) {
                std::string data(init->data);
                auto bare = data.find(",,");
                if (bare != std::string::npos) t.client_first_bare = data.substr(bare + 2);
                auto rn = data.find("r=");
                if (rn != std::string::npos) t.client_nonce = data.substr(rn + 2, data.find(',', rn) - rn - 2);
            } else {
                std::string data(r.frame.body);
                auto p = data.find(",p=");
                if (p != std::string::npos) t.client_final_without_proof = data.substr(0, p);
            }
        }
        out.remove_prefix(r.frame.size);
    }
}

std::string server_signature(const ScramTrace& t) {
    std::string_view rest = t.server_first;
    std::string salt_b64, iters;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto field = rest.substr(0, comma);
        if (field.substr(0, 2) == "s=") salt_b64 = field.substr(2);
        if (field.substr(0, 2) == "i=") iters = field.substr(2);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    auto salt = auth::base64_decode(salt_b64);
    int i = 0;
    try {
        i = std::stoi(iters);
    } catch (...) {
        return "v=@SIG@";
    }
    if (!salt || salt->empty() || i < 1 || i > 64) return "v=@SIG@";
    auto salted = auth::salted_password(kUpstreamPassword, *salt, i);
    auto server_key = auth::hmac_sha256(salted, "Server Key");
    std::string auth_message = t.client_first_bare + "," + t.server_first + "," + t.client_final_without_proof;
    auto sig = auth::hmac_sha256(server_key, auth_message);
    return "v=" + auth::base64_encode(sig.data(), sig.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

    config::Target target;
    target.name = "dev";
    target.host = "127.0.0.1";
    target.database = "app";
    target.user = "pgmoat_upstream";
    target.password = kUpstreamPassword;
    std::optional<auth::ChannelBinding> cb;
    if (flags & 1) cb = auth::ChannelBinding{"tls-server-end-point", std::vector<uint8_t>(32, 0x5a)};
    UpstreamLogin login(target, {{"application_name", "fuzz"}, {"client_encoding", "UTF8"}}, cb);
    std::string out;
    login.start(out);
    auto startup = decode_startup_packet(out);
    FUZZ_CHECK(startup.status == DecodeStatus::frame && startup.frame.size == out.size(), "malformed StartupMessage");
    ScramTrace trace;

    UpstreamLogin::Status status = UpstreamLogin::Status::in_progress;
    while (status == UpstreamLogin::Status::in_progress) {
        auto r = decode_message(data, 1 << 20);
        if (r.status != DecodeStatus::frame) return 0;
        data.remove_prefix(r.frame.size);
        std::string rewritten;
        Frame frame = r.frame;
        if (frame.type == 'R' && frame.body.size() >= 4) {
            auto a = read_authentication(frame.body);
            if (a && (a->code == auth_request::SASLContinue || a->code == auth_request::SASLFinal)) {
                std::string payload(a->payload);
                if (a->code == auth_request::SASLContinue) {
                    replace_all(payload, "@NONCE@", trace.client_nonce);
                    fuzz::clamp_iterations(payload);
                    trace.server_first = payload;
                } else if (payload == "v=@SIG@") {
                    payload = server_signature(trace);
                }
                write_authentication(rewritten, a->code, payload);
                frame = decode_message(rewritten, 1 << 20).frame;
            }
        }
        out.clear();
        status = login.on_message(frame, out);
        fuzz::check_frames(out, false, true, "login output");
        learn_from_output(out, trace);
    }
    if (status == UpstreamLogin::Status::failed) {
        const auto& e = login.error();
        FUZZ_CHECK(e.severity == "FATAL" && e.sqlstate.size() == 5 && !e.message.empty(), "login failure without an error");
        // Unless the server itself sent it back, the password never appears.
        bool echoed = std::string_view(reinterpret_cast<const char*>(bytes), size).find(kUpstreamPassword) !=
                      std::string_view::npos;
        FUZZ_CHECK(echoed || (e.message.find(kUpstreamPassword) == std::string::npos &&
                              login.failure_reason().find(kUpstreamPassword) == std::string::npos),
                   "the upstream password appears in an error");
        std::string client_error;
        write_error_response(client_error, e);
        fuzz::check_frames(client_error, true, true, "login error");
        return 0;
    }
    fuzz::check_frames(login.notices(), true, false, "login notices");

    Identity id;
    id.app = (flags & 2) ? "capped" : (flags & 4) ? "watched" : "orders";
    id.target = "dev";
    id.client_address = "192.0.2.8";
    fuzz::CheckingAudit audit;
    auto& svc = fuzz::services();
    StatementServices services;
    services.policies = fuzz::policies();
    services.analyses = (flags & 8) ? &svc.cache : nullptr;
    services.audit = &audit;
    services.metrics = &svc.metrics;
    services.rate_limiter = &svc.limiter;
    services.session_id = 2;
    services.upstream_user = target.user;
    services.database = target.database;
    Session session(id, login.parameters(), services);
    fuzz::drive_session(session, data, session.policy().mode == policy::Mode::enforce, 1 << 20);
    return 0;
}
