// The server side of SCRAM-SHA-256(-PLUS), which pgmoat plays to apps. It follows
// PostgreSQL's auth-scram.c in what it accepts and in which failures are protocol
// violations (08P01) and which are failed logins (28P01), and it treats every byte
// of input as hostile: the messages come straight from an unauthenticated peer.
#include "pgmoat/auth/scram.h"

#include "scram_fields.h"

#include <algorithm>

namespace pgmoat::auth {

namespace {
constexpr std::string_view mechanism_plain = "SCRAM-SHA-256";
constexpr std::string_view mechanism_plus = "SCRAM-SHA-256-PLUS";

// RFC 5802 "printable": %x21-2B / %x2D-7E, i.e. visible ASCII except ','.
bool valid_nonce(std::string_view nonce) {
    return !nonce.empty() &&
           std::all_of(nonce.begin(), nonce.end(), [](char c) { return c >= 0x21 && c <= 0x7E && c != ','; });
}
}  // namespace

ScramServer::ScramServer(std::optional<ScramVerifier> verifier, std::optional<ChannelBinding> channel_binding,
                         std::string nonce_for_tests)
    : verifier_(std::move(verifier)), channel_binding_(std::move(channel_binding)) {
    // Without binding data there is nothing to bind to: do not offer -PLUS.
    if (channel_binding_ && channel_binding_->data.empty()) channel_binding_.reset();
    if (nonce_for_tests.empty()) {
        // 18 random bytes, as PostgreSQL's SCRAM_RAW_NONCE_LEN.
        auto raw = random_bytes(18);
        server_nonce_ = base64_encode(raw.data(), raw.size());
    } else {
        server_nonce_ = std::move(nonce_for_tests);
    }
    if (!verifier_) {
        // A made-up verifier with PostgreSQL's default iteration count, so that an
        // unknown user's server-first-message looks like anyone else's. Its keys are
        // random as well: even if the "no verifier" check below were lost, no proof
        // could match them.
        mock_.iterations = 4096;
        mock_.salt = random_bytes(16);
        auto keys = random_bytes(mock_.stored_key.size() + mock_.server_key.size());
        std::copy_n(keys.begin(), mock_.stored_key.size(), mock_.stored_key.begin());
        std::copy_n(keys.begin() + static_cast<long>(mock_.stored_key.size()), mock_.server_key.size(),
                    mock_.server_key.begin());
    }
}

std::vector<std::string> ScramServer::mechanisms() const {
    if (channel_binding_) return {std::string(mechanism_plus), std::string(mechanism_plain)};
    return {std::string(mechanism_plain)};
}

std::optional<std::string> ScramServer::fail(ScramFailure f, std::string reason) {
    if (failure_ == ScramFailure::none) {
        failure_ = f;
        reason_ = std::move(reason);
    }
    step_ = 3;
    return std::nullopt;
}

std::optional<std::string> ScramServer::client_first(std::string_view mechanism, std::string_view message) {
    constexpr auto violation = ScramFailure::protocol_violation;
    if (step_ != 0) return fail(violation, "SCRAM client-first-message out of order");

    if (mechanism == mechanism_plus) {
        if (!channel_binding_) return fail(violation, "client selected SCRAM-SHA-256-PLUS, which was not offered");
        plus_ = true;
    } else if (mechanism != mechanism_plain) {
        return fail(violation, "client selected an invalid SASL authentication mechanism");
    }

    // gs2-header: gs2-cbind-flag "," [authzid] ","
    ScramFields fields{message};
    auto flag = fields.next();
    auto authzid = fields.next();
    if (!flag || !authzid || fields.done) return fail(violation, "malformed SCRAM client-first-message: no GS2 header");
    if (*flag == "n" || *flag == "y") {
        if (plus_) {
            return fail(violation,
                        "client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                        "include channel "
                        "binding data");
        }
        // "y": the client can bind but believes this server cannot. We can, so
        // someone between us removed -PLUS from the offer.
        if (*flag == "y" && channel_binding_) {
            return fail(ScramFailure::authentication_failed,
                        "client supports SCRAM channel binding but thinks the server does not, "
                        "although it does "
                        "(possible downgrade attack)");
        }
    } else if (flag->substr(0, 2) == "p=") {
        if (!plus_) {
            return fail(violation,
                        "client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                        "message includes "
                        "channel binding data");
        }
        if (flag->substr(2) != channel_binding_->type) return fail(violation, "unsupported SCRAM channel-binding type");
    } else {
        return fail(violation, "malformed SCRAM client-first-message: invalid channel binding flag");
    }
    if (!authzid->empty()) return fail(violation, "SCRAM authorization identity (a=) is not supported");
    size_t header_size = flag->size() + authzid->size() + 2;
    gs2_header_ = std::string(message.substr(0, header_size));
    std::string_view bare = message.substr(header_size);

    // client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions]
    ScramFields attrs{bare};
    auto user = attrs.next();
    char name = 0;
    std::string_view value;
    if (user && scram_attribute(*user, name, value) && name == 'm') {
        return fail(violation, "client requires an unsupported SCRAM extension");
    }
    // The user name is ignored: the user is the one from the startup packet.
    if (!attribute_named(user, 'n', value))
        return fail(violation, "malformed SCRAM client-first-message: no user name");
    std::string_view client_nonce;
    if (!attribute_named(attrs.next(), 'r', client_nonce)) {
        return fail(violation, "malformed SCRAM client-first-message: no nonce");
    }
    if (!valid_nonce(client_nonce)) return fail(violation, "SCRAM client nonce contains invalid characters");
    while (auto ext = attrs.next()) {
        // Optional extensions are allowed and ignored, as PostgreSQL does.
        if (!scram_attribute(*ext, name, value))
            return fail(violation, "malformed SCRAM client-first-message: bad attribute");
    }

    client_first_bare_ = std::string(bare);
    combined_nonce_ = std::string(client_nonce) + server_nonce_;
    const ScramVerifier& v = verifier_ ? *verifier_ : mock_;
    server_first_ = "r=" + combined_nonce_ + ",s=" + base64_encode(v.salt.data(), v.salt.size()) +
                    ",i=" + std::to_string(v.iterations);
    step_ = 1;
    return server_first_;
}

std::optional<std::string> ScramServer::client_final(std::string_view message) {
    constexpr auto violation = ScramFailure::protocol_violation;
    if (step_ != 1) return fail(violation, "SCRAM client-final-message out of order");

    // client-final-message: channel-binding "," nonce ["," extensions] "," proof
    auto proof_at = message.rfind(",p=");
    if (proof_at == std::string_view::npos) return fail(violation, "malformed SCRAM client-final-message: no proof");
    std::string_view without_proof = message.substr(0, proof_at);
    std::string_view proof_text = message.substr(proof_at + 3);
    if (proof_text.find(',') != std::string_view::npos) {
        return fail(violation, "malformed SCRAM client-final-message: garbage after the proof");
    }
    ScramFields fields{without_proof};
    std::string_view binding_text, nonce;
    if (!attribute_named(fields.next(), 'c', binding_text)) {
        return fail(violation, "malformed SCRAM client-final-message: no channel binding");
    }
    if (!attribute_named(fields.next(), 'r', nonce))
        return fail(violation, "malformed SCRAM client-final-message: no nonce");
    while (auto ext = fields.next()) {
        char name = 0;
        std::string_view value;
        if (!scram_attribute(*ext, name, value) || name == 'p') {
            return fail(violation, "malformed SCRAM client-final-message: bad attribute");
        }
    }

    // c= must repeat the GS2 header of client-first, plus the binding data for -PLUS.
    std::string expected = gs2_header_;
    if (plus_) expected.append(channel_binding_->data.begin(), channel_binding_->data.end());
    auto binding = base64_decode(binding_text);
    if (!binding || binding->size() != expected.size() ||
        !std::equal(binding->begin(), binding->end(), expected.begin(),
                    [](uint8_t a, char b) { return a == static_cast<uint8_t>(b); })) {
        return fail(violation, plus_ ? "SCRAM channel binding check failed"
                                     : "unexpected SCRAM channel-binding attribute in client-final-message");
    }
    if (nonce != combined_nonce_) return fail(violation, "SCRAM nonce does not match");
    auto proof = base64_decode(proof_text);
    Key client_proof{};
    if (!proof || proof->size() != client_proof.size()) return fail(violation, "malformed SCRAM proof");
    std::copy(proof->begin(), proof->end(), client_proof.begin());

    // The proof is ClientKey XOR HMAC(StoredKey, AuthMessage); recover ClientKey and
    // check that it hashes to StoredKey.
    std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
    const ScramVerifier& v = verifier_ ? *verifier_ : mock_;
    Key client_signature = hmac_sha256(v.stored_key, auth_message);
    Key client_key{};
    for (size_t i = 0; i < client_key.size(); ++i) client_key[i] = client_proof[i] ^ client_signature[i];
    Key computed = sha256(client_key.data(), client_key.size());
    bool proof_ok = equal_secret(computed.data(), v.stored_key.data(), computed.size());
    if (!verifier_) return fail(ScramFailure::authentication_failed, "no credentials for this user");
    if (!proof_ok) return fail(ScramFailure::authentication_failed, "wrong password (SCRAM proof does not verify)");

    Key server_signature = hmac_sha256(v.server_key, auth_message);
    step_ = 2;
    return "v=" + base64_encode(server_signature.data(), server_signature.size());
}

}  // namespace pgmoat::auth
