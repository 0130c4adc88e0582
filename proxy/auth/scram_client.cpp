// The client side of SCRAM-SHA-256(-PLUS), for pgmoat's own login to the upstream
// PostgreSQL. It follows libpq's fe-auth-scram.c, and it does not trust the server
// either: a server that stretches the nonce wrongly, sends an absurd iteration count
// (a CPU exhaustion attack) or cannot prove it knows the verifier is refused.
#include "pgmoat/auth/scram.h"

#include "scram_fields.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <tuple>

namespace pgmoat::auth {

namespace {
// A server keeps a role's salt and iteration count, so every login of pgmoat to the
// same target derives the same SaltedPassword: 4096 rounds of PBKDF2 that would
// otherwise be paid on every upstream connection. pgmoat holds the password
// itself, so keeping what is derived from it adds nothing an attacker could use.
Key cached_salted_password(const std::string& password, const std::vector<uint8_t>& salt, int iterations) {
    static std::mutex mutex;
    static std::map<std::tuple<Key, std::vector<uint8_t>, int>, Key> cache;
    auto key =
        std::make_tuple(sha256(reinterpret_cast<const uint8_t*>(password.data()), password.size()), salt, iterations);
    {
        std::lock_guard lock(mutex);
        if (auto it = cache.find(key); it != cache.end()) return it->second;
    }
    Key salted = salted_password(password, salt, iterations);
    std::lock_guard lock(mutex);
    if (cache.size() >= 256) cache.clear();  // targets x roles: small; bound it anyway
    cache.emplace(std::move(key), salted);
    return salted;
}
}  // namespace

namespace {
// Iteration counts above this are refused: PBKDF2 at ten million rounds already
// costs seconds of CPU per login. PostgreSQL's default is 4096.
constexpr int max_iterations = 10'000'000;

// RFC 5802 saslname: ',' and '=' are escaped.
std::string saslname(std::string_view user) {
    std::string out;
    for (char c : user) {
        if (c == ',')
            out += "=2C";
        else if (c == '=')
            out += "=3D";
        else
            out.push_back(c);
    }
    return out;
}

// Keeps a server-supplied error printable and short enough for one log line.
std::string sanitize(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 200)) out.push_back(c >= 0x20 && c <= 0x7E ? c : '?');
    return out;
}
}  // namespace

ScramClient::ScramClient(std::string password, std::optional<ChannelBinding> channel_binding,
                         std::string nonce_for_tests, const std::string& user_name)
    : password_(std::move(password)), channel_binding_(std::move(channel_binding)) {
    if (channel_binding_ && channel_binding_->data.empty()) channel_binding_.reset();
    if (nonce_for_tests.empty()) {
        auto raw = random_bytes(18);  // as libpq's SCRAM_RAW_NONCE_LEN
        client_nonce_ = base64_encode(raw.data(), raw.size());
    } else {
        client_nonce_ = std::move(nonce_for_tests);
    }
    client_first_bare_ = "n=" + saslname(user_name) + ",r=" + client_nonce_;
    gs2_header_ = channel_binding_ ? "p=" + channel_binding_->type + ",," : "n,,";
}

std::string ScramClient::mechanism() const {
    return channel_binding_ ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256";
}

std::string ScramClient::client_first() {
    step_ = 1;
    return gs2_header_ + client_first_bare_;
}

std::optional<std::string> ScramClient::server_first(std::string_view message) {
    if (step_ != 1) {
        error_ = "SCRAM server-first-message out of order";
        step_ = 3;
        return std::nullopt;
    }
    step_ = 3;  // whatever happens below, this message cannot come again
    std::string_view nonce, salt_text, iterations_text;
    ScramFields fields{message};
    auto first = fields.next();
    if (first && first->substr(0, 2) == "m=") {
        error_ = "server requires an unsupported SCRAM extension";
        return std::nullopt;
    }
    if (!attribute_named(first, 'r', nonce) || !attribute_named(fields.next(), 's', salt_text) ||
        !attribute_named(fields.next(), 'i', iterations_text) || !fields.done) {
        error_ = "malformed SCRAM server-first-message";
        return std::nullopt;
    }
    // The server's nonce must extend ours with something of its own.
    if (nonce.size() <= client_nonce_.size() || nonce.substr(0, client_nonce_.size()) != client_nonce_ ||
        !std::all_of(nonce.begin(), nonce.end(), [](char c) { return c >= 0x21 && c <= 0x7E && c != ','; })) {
        error_ = "SCRAM server nonce does not extend the client nonce";
        return std::nullopt;
    }
    auto salt = base64_decode(salt_text);
    if (!salt || salt->empty()) {
        error_ = "invalid SCRAM salt from server";
        return std::nullopt;
    }
    int iterations = 0;
    bool digits = !iterations_text.empty() && iterations_text.find_first_not_of("0123456789") == std::string_view::npos;
    auto res = std::from_chars(iterations_text.data(), iterations_text.data() + iterations_text.size(), iterations);
    if (!digits || res.ec != std::errc() || iterations < 1 || iterations > max_iterations) {
        error_ = "unacceptable SCRAM iteration count from server (must be 1 to 10000000)";
        return std::nullopt;
    }

    Key salted = cached_salted_password(password_, *salt, iterations);
    Key client_key = hmac_sha256(salted, "Client Key");
    Key stored_key = sha256(client_key.data(), client_key.size());
    Key server_key = hmac_sha256(salted, "Server Key");

    std::string binding = gs2_header_;
    if (channel_binding_) binding.append(channel_binding_->data.begin(), channel_binding_->data.end());
    std::string without_proof = "c=" + base64_encode(reinterpret_cast<const uint8_t*>(binding.data()), binding.size()) +
                                ",r=" + std::string(nonce);
    std::string auth_message = client_first_bare_ + "," + std::string(message) + "," + without_proof;
    Key client_signature = hmac_sha256(stored_key, auth_message);
    Key proof{};
    for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ client_signature[i];
    server_signature_ = hmac_sha256(server_key, auth_message);
    step_ = 2;
    return without_proof + ",p=" + base64_encode(proof.data(), proof.size());
}

bool ScramClient::server_final(std::string_view message) {
    if (step_ != 2) {
        error_ = "SCRAM server-final-message out of order";
        step_ = 3;
        return false;
    }
    step_ = 3;
    if (message.substr(0, 2) == "e=") {
        error_ = "error received from server in SCRAM exchange: " + sanitize(message.substr(2));
        return false;
    }
    std::string_view verifier_text;
    ScramFields fields{message};
    if (!attribute_named(fields.next(), 'v', verifier_text) || !fields.done) {
        error_ = "malformed SCRAM server-final-message";
        return false;
    }
    auto signature = base64_decode(verifier_text);
    if (!signature || signature->size() != server_signature_.size() ||
        !equal_secret(signature->data(), server_signature_.data(), server_signature_.size())) {
        error_ = "incorrect server signature: the server does not know the password";
        return false;
    }
    return true;
}

}  // namespace pgmoat::auth
