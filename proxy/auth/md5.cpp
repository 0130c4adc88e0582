// PostgreSQL's md5 password method, for upstream servers that still ask for it.
#include "pgmoat/auth/scram.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace pgmoat::auth {

namespace {
std::string md5_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // EVP_Digest rather than MD5(): the low-level call is deprecated in OpenSSL 3,
    // and this fails cleanly where a FIPS configuration disables MD5.
    if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1 || len != 16) {
        throw std::runtime_error("MD5 is not available in this OpenSSL configuration");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 15]);
    }
    return out;
}
}  // namespace

std::string md5_password_response(std::string_view user, std::string_view password,
                                  const std::array<uint8_t, 4>& salt) {
    std::string inner = md5_hex(std::string(password) + std::string(user));
    inner.append(reinterpret_cast<const char*>(salt.data()), salt.size());
    return "md5" + md5_hex(inner);
}

}  // namespace pgmoat::auth
