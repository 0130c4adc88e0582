// SCRAM verifiers in PostgreSQL's stored format (what pg_authid.rolpassword holds),
// so verifiers move freely between pgmoat's credentials file and PostgreSQL.
#include "pgmoat/auth/scram.h"

#include <charconv>
#include <climits>
#include <stdexcept>

#include <algorithm>

namespace pgmoat::auth {

namespace {
constexpr std::string_view prefix = "SCRAM-SHA-256$";

// Splits at the first `sep`; false if it is absent.
bool split(std::string_view s, char sep, std::string_view& head, std::string_view& tail) {
    auto pos = s.find(sep);
    if (pos == std::string_view::npos) return false;
    head = s.substr(0, pos);
    tail = s.substr(pos + 1);
    return true;
}

bool decode_key(std::string_view text, Key& out) {
    auto bytes = base64_decode(text);
    if (!bytes || bytes->size() != out.size()) return false;
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return true;
}
}  // namespace

std::optional<ScramVerifier> ScramVerifier::parse(std::string_view text) {
    if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
    text.remove_prefix(prefix.size());
    std::string_view iterations, salt, keys, stored, server;
    if (!split(text, ':', iterations, text) || !split(text, '$', salt, keys) || !split(keys, ':', stored, server)) {
        return std::nullopt;
    }
    ScramVerifier v;
    // Digits only: from_chars would accept a leading '-'.
    if (iterations.empty() || iterations.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    auto res = std::from_chars(iterations.data(), iterations.data() + iterations.size(), v.iterations);
    if (res.ec != std::errc() || res.ptr != iterations.data() + iterations.size() || v.iterations < 1) {
        return std::nullopt;
    }
    auto salt_bytes = base64_decode(salt);
    if (!salt_bytes || salt_bytes->empty()) return std::nullopt;
    v.salt = std::move(*salt_bytes);
    if (!decode_key(stored, v.stored_key) || !decode_key(server, v.server_key)) return std::nullopt;
    return v;
}

ScramVerifier ScramVerifier::from_password(std::string_view password, int iterations) {
    // 16 bytes, as PostgreSQL's SCRAM_DEFAULT_SALT_LEN.
    return from_password(password, random_bytes(16), iterations);
}

ScramVerifier ScramVerifier::from_password(std::string_view password, std::vector<uint8_t> salt, int iterations) {
    Key salted = salted_password(password, salt, iterations);
    Key client_key = hmac_sha256(salted, "Client Key");
    ScramVerifier v;
    v.iterations = iterations;
    v.salt = std::move(salt);
    v.stored_key = sha256(client_key.data(), client_key.size());
    v.server_key = hmac_sha256(salted, "Server Key");
    return v;
}

std::string ScramVerifier::to_string() const {
    return std::string(prefix) + std::to_string(iterations) + ":" + base64_encode(salt.data(), salt.size()) + "$" +
           base64_encode(stored_key.data(), stored_key.size()) + ":" +
           base64_encode(server_key.data(), server_key.size());
}

ScramVerifier mock_verifier(std::string_view user) {
    // PostgreSQL derives its mock salt from a per-cluster nonce; a per-process one
    // gives the same guarantee for as long as the salt can be observed.
    static const Key secret = [] {
        Key k{};
        auto raw = random_bytes(k.size());
        std::copy(raw.begin(), raw.end(), k.begin());
        return k;
    }();
    Key digest = hmac_sha256(secret, user);
    ScramVerifier v;
    v.iterations = 4096;
    v.salt.assign(digest.begin(), digest.begin() + 16);
    auto keys = random_bytes(v.stored_key.size() + v.server_key.size());
    std::copy_n(keys.begin(), v.stored_key.size(), v.stored_key.begin());
    std::copy_n(keys.begin() + static_cast<long>(v.stored_key.size()), v.server_key.size(), v.server_key.begin());
    return v;
}

}  // namespace pgmoat::auth
