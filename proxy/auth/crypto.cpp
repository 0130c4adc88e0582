// The SCRAM-SHA-256 primitives (RFC 5802 section 2.2) over OpenSSL 3's EVP layer.
#include "pgmoat/auth/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace pgmoat::auth {

bool equal_secret(const uint8_t* a, const uint8_t* b, size_t size) {
    return CRYPTO_memcmp(a, b, size) == 0;
}

Key sha256(const uint8_t* data, size_t size) {
    Key out{};
    unsigned int len = 0;
    if (EVP_Digest(data, size, out.data(), &len, EVP_sha256(), nullptr) != 1 || len != out.size()) {
        throw std::runtime_error("SHA-256 failed");
    }
    return out;
}

Key hmac_sha256(const Key& key, std::string_view message) {
    Key out{};
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len) ||
        len != out.size()) {
        throw std::runtime_error("HMAC-SHA-256 failed");
    }
    return out;
}

Key salted_password(std::string_view password, const std::vector<uint8_t>& salt, int iterations) {
    if (iterations < 1) throw std::invalid_argument("SCRAM iteration count must be at least 1");
    if (salt.empty()) throw std::invalid_argument("SCRAM salt must not be empty");
    std::string prepared = saslprep(password);
    if (prepared.size() > INT_MAX || salt.size() > INT_MAX) throw std::invalid_argument("password or salt too long");
    Key out{};
    // Hi() of RFC 5802 is PBKDF2 with HMAC-SHA-256 and one output block.
    if (PKCS5_PBKDF2_HMAC(prepared.data(), static_cast<int>(prepared.size()), salt.data(),
                          static_cast<int>(salt.size()), iterations, EVP_sha256(), static_cast<int>(out.size()),
                          out.data()) != 1) {
        throw std::runtime_error("PBKDF2 failed");
    }
    return out;
}

std::vector<uint8_t> random_bytes(size_t size) {
    std::vector<uint8_t> out(size);
    if (size > INT_MAX || RAND_bytes(out.data(), static_cast<int>(size)) != 1) {
        throw std::runtime_error("the random number generator failed");
    }
    return out;
}

}  // namespace pgmoat::auth
