// SCRAM client target: the side pgmoat plays to the upstream server, which must
// not trust the server either. The first byte holds options:
//   bit 0  channel binding (TLS to the upstream, -PLUS chosen)
// The rest is "server-first \0 server-final". The client nonce is fixed; the
// harness replaces "@NONCE@" with it, lowers iteration counts between 65 and 10^7
// to 64 (PBKDF2 cost; larger ones stay to test their refusal), and replaces
// "v=@SIG@" with the correct server signature.
// Invariants: the server is accepted only with the harness's signature, a server
// nonce that extends ours and an acceptable iteration count; the client-final
// message is well formed; nothing is accepted out of order.
#include "fuzz_common.h"

using namespace pgmoat;
using namespace pgmoat::auth;

namespace {

constexpr const char* kNonce = "FuzzClientNonceABCDEFGH";

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

std::optional<std::string> field(std::string_view msg, char name) {
    while (!msg.empty()) {
        auto comma = msg.find(',');
        auto f = msg.substr(0, comma);
        if (f.size() >= 2 && f[0] == name && f[1] == '=') return std::string(f.substr(2));
        if (comma == std::string_view::npos) break;
        msg.remove_prefix(comma + 1);
    }
    return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = bytes[0];
    std::string_view rest(reinterpret_cast<const char*>(bytes) + 1, size - 1);
    std::optional<ChannelBinding> cb;
    if (flags & 1) cb = ChannelBinding{"tls-server-end-point", std::vector<uint8_t>(32, 0x77)};
    const std::string password = "upstream-Pa55";
    ScramClient client(password, cb, kNonce);

    std::string server_first(next_part(rest));
    std::string server_final(next_part(rest));
    replace_all(server_first, "@NONCE@", kNonce);
    fuzz::clamp_iterations(server_first);

    // Out of order: a server-first before client-first is refused.
    if (flags & 2) {
        ScramClient early(password, cb, kNonce);
        FUZZ_CHECK(!early.server_first(server_first).has_value(), "server-first accepted before client-first");
    }

    std::string first = client.client_first();
    FUZZ_CHECK(first.find(std::string("r=") + kNonce) != std::string::npos, "client-first without our nonce");
    auto client_final = client.server_first(server_first);
    if (!client_final) {
        FUZZ_CHECK(!client.error().empty(), "server-first refused without a reason");
        FUZZ_CHECK(!client.server_final("v=AAAA"), "exchange went on after a failure");
        return 0;
    }
    auto r = field(server_first, 'r');
    FUZZ_CHECK(r && r->size() > std::strlen(kNonce) && r->rfind(kNonce, 0) == 0, "server nonce does not extend ours");
    auto i = field(server_first, 'i');
    // Leading zeros are fine (libpq's strtol reads them too); the value must be 1..10^7.
    std::string digits = i ? i->substr(std::min(i->find_first_not_of('0'), i->size())) : "";
    FUZZ_CHECK(i && !i->empty() && !digits.empty() && digits.size() <= 8 && std::stol(digits) >= 1 &&
                   std::stol(digits) <= 10'000'000,
               "iteration count %s accepted", i ? i->c_str() : "(none)");
    FUZZ_CHECK(client_final->rfind("c=", 0) == 0 && client_final->find(",r=" + *r + ",p=") != std::string::npos,
               "malformed client-final: %s", client_final->c_str());

    bool harness_sig = server_final == "v=@SIG@";
    if (harness_sig) {
        auto salt = base64_decode(*field(server_first, 's'));
        auto salted = salted_password(password, *salt, static_cast<int>(std::stol(digits)));
        Key server_key = hmac_sha256(salted, "Server Key");
        std::string bare = first.substr(first.find(",,") + 2);
        std::string without_proof = client_final->substr(0, client_final->rfind(",p="));
        Key sig = hmac_sha256(server_key, bare + "," + server_first + "," + without_proof);
        server_final = "v=" + base64_encode(sig.data(), sig.size());
    }
    bool ok = client.server_final(server_final);
    FUZZ_CHECK(!ok || harness_sig, "a server signature the harness did not compute was accepted: %s",
               server_final.c_str());
    if (harness_sig) FUZZ_CHECK(ok, "the correct server signature was refused: %s", client.error().c_str());
    FUZZ_CHECK(!client.server_final(server_final), "a second server-final was accepted");
    return 0;
}
