// Frontend target: what an untrusted client can send, fed to the connection engine
// (session::Connection) as net/ would. The first byte picks the mode and options:
//   bit 0  0: the rest is the raw client byte stream, from the first startup packet
//             on (startup packets, TLS requests, SASL messages, whatever follows);
//          1: startup packets from the input until SCRAM starts, a correct SCRAM
//             login played by the harness, pgmoat's upstream login answered by a
//             scripted server, then the rest (see drive_relay: a control byte before
//             each frame, low bit 1 for a server frame, the other bits a piece size)
//   bit 1  TLS configured (SSLRequest answered 'S', channel binding offered)
//   bit 2  over max_client_connections
//   bit 3-4 which policy applies: baseline / capped (row cap, raw audit) / monitor
//   bit 5  analysis cache on
//   bit 6  the audit log refuses records (failure_policy = block)
//   bit 7  small limits: max_message_size 1 kB instead of 1 MB, and messages over
//          64 bytes stream through instead of 256 kB
// Invariants: no crash, every output splits into whole frames of the right
// direction, pgmoat's own ErrorResponses carry severity, SQLSTATE and message,
// only allowed text or decoys reach the server, a correct password is refused only
// for grants and targets, audit records are valid JSON.
#include "fuzz_common.h"

using namespace pgmoat;
using namespace pgmoat::protocol;
using namespace pgmoat::session;
using pgmoat::testing::EngineDriver;

namespace {

bool sasl_requested(std::string_view out) {
    return testing::authentication_in(testing::after_ssl_answers(out), auth_request::SASL).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    bool login = flags & 1;
    int policy = (flags >> 3) & 3;
    std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);

    static testing::EngineServices services;
    static const auto big = testing::engine_config("max_message_size = \"1MB\"");
    static const auto small = testing::engine_config("max_message_size = \"1kB\"");
    testing::DriverOptions o;
    o.config = (flags & 128) ? small : big;
    o.tls_available = flags & 2;
    o.over_connection_limit = flags & 4;
    o.analysis_cache = flags & 32;
    if (flags & 128) o.stream_threshold = 64;
    EngineDriver d(services, o, PGMOAT_SOURCE_DIR);
    d.audit.ok = !(flags & 64);
    d.start();

    if (!login) {
        d.from_client(data);
        fuzz::check_frames(testing::after_ssl_answers(d.client_got), true, true, "startup output");
        FUZZ_CHECK(d.server_got.empty(), "a client that never logged in reached the server");
        fuzz::check_audit(d.audit.records);
        return 0;
    }

    // Startup packets until pgmoat asks for SASL (or ends the exchange).
    while (!data.empty() && !d.closed() && !sasl_requested(d.client_got)) {
        auto r = decode_startup_packet(data);
        if (r.status != DecodeStatus::frame) return 0;
        std::string packet(data.substr(0, r.frame.size));
        data.remove_prefix(r.frame.size);
        // The policy bits pick the app: the StartupMessage's user becomes it.
        StartupPacket parsed = read_startup_packet(r.frame.body);
        auto* m = std::get_if<StartupMessage>(&parsed);
        if (m && policy != 0) {
            auto params = m->parameters;
            for (auto& [name, value] : params)
                if (name == "user") value = policy == 1 ? "capped" : "watched";
            packet.clear();
            write_startup_message(packet, params);
        }
        d.from_client(packet);
    }
    fuzz::check_frames(testing::after_ssl_answers(d.client_got), true, true, "startup output");
    if (d.closed() || !sasl_requested(d.client_got)) return 0;
    if (!d.scram()) {
        std::string got = d.new_client_bytes();

        fuzz::check_frames(got, true, true, "SASL output");
        // Only grants and targets may refuse a correct password, and 28P01 only
        // apps without credentials.
        for (const auto& [type, body] : testing::messages_in(got)) {
            if (type != backend::ErrorResponse) continue;
            auto fields = read_error_fields(body);
            FUZZ_CHECK(fields.has_value(), "malformed error");
            std::string code(find_field(*fields, 'C'));
            FUZZ_CHECK(code == "3D000" || code == "28000" || code == "28P01" || code == "08P01",
                       "a correct login ended with %s", code.c_str());
        }
        return 0;
    }
    if (d.count(Action::Kind::connect_upstream) > 0) d.from_server(testing::server_welcome());
    fuzz::check_frames(d.new_client_bytes(), true, true, "welcome");
    if (d.closed() || !d.engine().session()) return 0;
    fuzz::check_audit(d.audit.records);

    bool enforce = d.engine().session()->policy().mode == policy::Mode::enforce;
    fuzz::drive_relay(d, data, enforce, (flags & 128) ? 1024u : (1u << 20));
    return 0;
}
