// SCRAM server target: the side pgmoat plays to unauthenticated clients. The
// first byte holds options:
//   bit 0  TLS: channel binding data available, -PLUS offered
//   bit 1  unknown user (the mock verifier)
//   bit 2  parse the rest as a stored verifier, SASLprep it as a password and
//          base64-decode it, instead of running an exchange
// Otherwise the rest is "mechanism \0 client-first \0 client-final". The server
// nonce is fixed so the fuzzer can learn the combined nonce; in client-final the
// harness replaces "@R@" with the combined nonce, "@C@" with the correct c= value
// and "p=@PROOF@" with the correct proof, so the success path is reachable too.
// Invariants: success only with the harness's proof for a known user, never with
// a downgrade ("y" while -PLUS is offered) or binding data that does not match,
// and every failure is classified.
#include "fuzz_common.h"

using namespace pgmoat;
using namespace pgmoat::auth;

namespace {

const std::vector<uint8_t> kCertHash = {0xde, 0xad, 0xbe, 0xef, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12,
                                        13,   14,   15,   16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};

const ScramVerifier& verifier() {
    static const ScramVerifier v =
        ScramVerifier::from_password(fuzz::kPassword, std::vector<uint8_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2}, 2);
    return v;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
}

std::string_view next_part(std::string_view& rest) {
    auto z = rest.find('\0');
    auto part = rest.substr(0, z);
    rest = z == std::string_view::npos ? std::string_view() : rest.substr(z + 1);
    return part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    std::string_view rest(reinterpret_cast<const char*>(bytes) + 1, size - 1);

    if (flags & 4) {
        if (auto v = ScramVerifier::parse(rest)) {
            // What parses must print back to something that parses the same.
            auto again = ScramVerifier::parse(v->to_string());
            FUZZ_CHECK(again && again->iterations == v->iterations && again->salt == v->salt &&
                           again->stored_key == v->stored_key && again->server_key == v->server_key,
                       "verifier does not round-trip");
        }
        std::string prepared = saslprep(rest);
        (void)prepared;
        if (auto decoded = base64_decode(rest)) {
            FUZZ_CHECK(base64_encode(decoded->data(), decoded->size()) == rest, "base64 is not canonical");
        }
        if (rest.size() <= 64) (void)mock_verifier(rest);
        return 0;
    }

    bool tls = flags & 1;
    bool known = !(flags & 2);
    std::optional<ChannelBinding> cb;
    if (tls) cb = ChannelBinding{"tls-server-end-point", kCertHash};
    ScramServer server(known ? std::optional<ScramVerifier>(verifier()) : std::nullopt, cb, "FuzzServerNonce0123");

    std::string_view mechanism = next_part(rest);
    std::string_view client_first = next_part(rest);
    std::string client_final(next_part(rest));

    auto server_first = server.client_first(mechanism, client_first);
    if (!server_first) {
        FUZZ_CHECK(server.failure() != ScramFailure::none && !server.failure_reason().empty(),
                   "client-first refused without a reason");
        FUZZ_CHECK(!server.client_final("c=biws,r=x,p=x").has_value(), "exchange went on after a failure");
        return 0;
    }
    FUZZ_CHECK(mechanism == "SCRAM-SHA-256" || (tls && mechanism == "SCRAM-SHA-256-PLUS"), "mechanism %.*s accepted",
               static_cast<int>(mechanism.size()), mechanism.data());
    FUZZ_CHECK(!tls || client_first.empty() || client_first[0] != 'y', "'y' accepted although -PLUS is offered");
    FUZZ_CHECK(server_first->rfind("r=", 0) == 0, "server-first does not start with the nonce");

    // The placeholders the harness fills in.
    std::string combined = server_first->substr(2, server_first->find(',') - 2);
    size_t header_end = client_first.find(',', client_first.find(',') + 1) + 1;
    std::string gs2(client_first.substr(0, header_end));
    std::string binding = gs2;
    if (mechanism == "SCRAM-SHA-256-PLUS") binding.append(kCertHash.begin(), kCertHash.end());
    replace_all(client_final, "@R@", combined);
    replace_all(client_final, "@C@", base64_encode(reinterpret_cast<const uint8_t*>(binding.data()), binding.size()));
    bool harness_proof = false;
    if (auto p = client_final.rfind(",p=@PROOF@"); p != std::string::npos && p + 10 == client_final.size()) {
        harness_proof = true;
        std::string without_proof = client_final.substr(0, p);
        std::string auth_message =
            std::string(client_first.substr(header_end)) + "," + *server_first + "," + without_proof;
        auto salted = salted_password(fuzz::kPassword, verifier().salt, verifier().iterations);
        Key client_key = hmac_sha256(salted, "Client Key");
        Key stored = sha256(client_key.data(), client_key.size());
        Key signature = hmac_sha256(stored, auth_message);
        Key proof{};
        for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
        client_final = without_proof + ",p=" + base64_encode(proof.data(), proof.size());
    }

    auto server_final = server.client_final(client_final);
    if (server_final) {
        FUZZ_CHECK(server.succeeded(), "server-final without success");
        FUZZ_CHECK(known, "an unknown user logged in");
        FUZZ_CHECK(harness_proof, "a proof the harness did not compute was accepted: %s", client_final.c_str());
        FUZZ_CHECK(client_final.find(
                       "c=" + base64_encode(reinterpret_cast<const uint8_t*>(binding.data()), binding.size())) == 0,
                   "wrong channel binding accepted");
        FUZZ_CHECK(server_final->rfind("v=", 0) == 0, "server-final without a signature");
    } else {
        FUZZ_CHECK(!server.succeeded() && server.failure() != ScramFailure::none, "failure not classified");
    }
    // Nothing more is accepted after the exchange ends.
    FUZZ_CHECK(!server.client_final(client_final).has_value(), "a second client-final was accepted");
    FUZZ_CHECK(!server.client_first(mechanism, client_first).has_value(), "a second client-first was accepted");
    return 0;
}
