// Backend target: what a hostile or broken upstream server can send, fed to the
// connection engine (session::Connection) as net/ would. The first byte holds
// options:
//   bit 0  the upstream connection is TLS (SSLRequest answered 'S' by the harness;
//          channel binding data from the certificate)
//   bit 1-2 which policy applies to the session: baseline / capped / monitor
//   bit 3  analysis cache on
//   bit 4  messages over 64 bytes stream through instead of 256 kB
// A scripted client logs in (SCRAM) first. The rest is the server's byte stream
// during pgmoat's login (session::UpstreamLogin inside the engine), frame by
// frame, then, once the client has its welcome, an interleaving of server and
// client frames (see drive_relay: a control byte before each frame, low bit 1 for
// a server frame, the other bits a piece size).
//
// So that the fuzzer can get past SCRAM, the harness rewrites two placeholders in
// the server's SASL messages: "@NONCE@" becomes the client nonce pgmoat sent, and
// "v=@SIG@" the correct server signature. Iteration counts between 65 and 10^7
// are lowered to 64 (PBKDF2 would otherwise dominate); larger ones stay, to test
// their refusal.
#include "fuzz_common.h"

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;

namespace {

constexpr const char* kUpstreamPassword = "upstream-secret-Zq8";

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
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

    static testing::EngineServices services;
    static const auto config = testing::engine_config({}, kUpstreamPassword);
    testing::DriverOptions o;
    o.config = config;
    o.analysis_cache = flags & 8;
    if (flags & 16) o.stream_threshold = 64;
    testing::EngineDriver d(services, o, PGMOAT_SOURCE_DIR);
    d.start();
    std::string_view app = (flags & 2) ? "capped" : (flags & 4) ? "watched" : "orders";
    d.from_client(testing::startup_message(app, (flags & 1) ? "tls" : "dev",
                                           {{"application_name", "fuzz"}, {"client_encoding", "UTF8"}}));
    FUZZ_CHECK(d.scram(), "the harness's correct login was refused");
    FUZZ_CHECK(d.count(Action::Kind::connect_upstream) == 1, "no upstream connection at login");
    if (flags & 1) {
        std::string ssl;
        write_ssl_request(ssl);
        FUZZ_CHECK(d.new_server_bytes() == ssl, "TLS upstream without an SSLRequest first");
        d.from_server("S");
        FUZZ_CHECK(d.count(Action::Kind::start_server_tls) == 1, "no TLS handshake after 'S'");
    }
    std::string sent = d.new_server_bytes();
    auto startup = decode_startup_packet(sent);
    FUZZ_CHECK(startup.status == DecodeStatus::frame && startup.frame.size == sent.size(), "malformed StartupMessage");
    ScramTrace trace;

    // The server's login, frame by frame, until the client has its welcome.
    auto welcomed = [&] {
        for (const auto& [type, body] : testing::messages_in(d.client_got))
            if (type == backend::ReadyForQuery) return true;
        return false;
    };
    while (!d.closed() && !welcomed()) {
        auto r = decode_message(data, 1 << 20);
        if (r.status != DecodeStatus::frame) return 0;
        data.remove_prefix(r.frame.size);
        std::string frame(r.frame.bytes());
        if (r.frame.type == 'R' && r.frame.body.size() >= 4) {
            auto a = read_authentication(r.frame.body);
            if (a && (a->code == auth_request::SASLContinue || a->code == auth_request::SASLFinal)) {
                std::string payload(a->payload);
                if (a->code == auth_request::SASLContinue) {
                    replace_all(payload, "@NONCE@", trace.client_nonce);
                    fuzz::clamp_iterations(payload);
                    trace.server_first = payload;
                } else if (payload == "v=@SIG@") {
                    payload = server_signature(trace);
                }
                frame.clear();
                write_authentication(frame, a->code, payload);
            }
        }
        d.from_server(frame);
        std::string out = d.new_server_bytes();
        fuzz::check_frames(out, false, true, "login output");
        learn_from_output(out, trace);
    }
    std::string to_client = d.new_client_bytes();
    fuzz::check_frames(to_client, true, false, "welcome");
    fuzz::check_audit(d.audit.records);
    if (d.closed()) {
        // A failed login: the client gets a FATAL with a SQLSTATE, and the upstream
        // password never appears unless the server itself sent it back.
        bool echoed = std::string_view(reinterpret_cast<const char*>(bytes), size).find(kUpstreamPassword) !=
                      std::string_view::npos;
        FUZZ_CHECK(echoed || to_client.find(kUpstreamPassword) == std::string::npos,
                   "the upstream password appears in an error");
        bool fatal = false;
        for (const auto& [type, body] : testing::messages_in(to_client)) {
            if (type != backend::ErrorResponse) continue;
            auto fields = read_error_fields(body);
            FUZZ_CHECK(fields.has_value(), "malformed error");
            fatal |= find_field(*fields, 'S') == "FATAL" && find_field(*fields, 'C').size() == 5;
        }
        FUZZ_CHECK(fatal, "the login failed without a FATAL for the client");
        return 0;
    }
    FUZZ_CHECK(d.engine().session() != nullptr, "welcomed without a session");
    bool enforce = d.engine().session()->policy().mode == policy::Mode::enforce;
    fuzz::drive_relay(d, data, enforce, 1 << 20);
    return 0;
}
