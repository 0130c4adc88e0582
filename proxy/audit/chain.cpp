// Chain values: SHA-256 or HMAC-SHA-256 over the previous value and a line's prefix.
#include "pgmoat/audit/chain.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <stdexcept>

namespace pgmoat::audit {

std::string to_hex(const Digest& d) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(64, '0');
    for (size_t i = 0; i < d.size(); ++i) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 0xf];
    }
    return out;
}

std::optional<Digest> digest_from_hex(std::string_view hex) {
    if (hex.size() != 64) return std::nullopt;
    Digest d{};
    for (size_t i = 0; i < 64; ++i) {
        char c = hex[i];
        uint8_t v;
        if (c >= '0' && c <= '9')
            v = static_cast<uint8_t>(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = static_cast<uint8_t>(c - 'a' + 10);
        else
            return std::nullopt;
        d[i / 2] = static_cast<uint8_t>(i % 2 == 0 ? v << 4 : d[i / 2] | v);
    }
    return d;
}

std::string key_id(std::string_view key) {
    Digest d{};
    unsigned int len = 0;
    std::string input = "pgmoat-audit-key-id:";
    input.append(key);
    EVP_Digest(input.data(), input.size(), d.data(), &len, EVP_sha256(), nullptr);
    return to_hex(d).substr(0, 16);
}

struct Chainer::Impl {
    EVP_MD_CTX* md = nullptr;
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* mac_ctx = nullptr;
    ~Impl() {
        EVP_MD_CTX_free(md);
        EVP_MAC_CTX_free(mac_ctx);
        EVP_MAC_free(mac);
    }
};

Chainer::Chainer(std::optional<std::string> key) : key_(std::move(key)), impl_(std::make_unique<Impl>()) {
    if (!key_) {
        impl_->md = EVP_MD_CTX_new();
        if (!impl_->md) throw std::runtime_error("audit: cannot create a SHA-256 context");
        return;
    }
    impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (impl_->mac) impl_->mac_ctx = EVP_MAC_CTX_new(impl_->mac);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    if (!impl_->mac_ctx ||
        !EVP_MAC_init(impl_->mac_ctx, reinterpret_cast<const unsigned char*>(key_->data()), key_->size(), params)) {
        throw std::runtime_error("audit: cannot create an HMAC-SHA-256 context");
    }
}

Chainer::~Chainer() = default;

Digest Chainer::next(const Digest& previous, std::string_view prefix) {
    Digest out{};
    bool ok;
    if (!key_) {
        unsigned int len = 0;
        ok = EVP_DigestInit_ex(impl_->md, EVP_sha256(), nullptr) &&
             EVP_DigestUpdate(impl_->md, previous.data(), previous.size()) &&
             EVP_DigestUpdate(impl_->md, prefix.data(), prefix.size()) &&
             EVP_DigestFinal_ex(impl_->md, out.data(), &len);
    } else {
        size_t len = 0;
        // A null key re-initialises with the key set in the constructor.
        ok = EVP_MAC_init(impl_->mac_ctx, nullptr, 0, nullptr) &&
             EVP_MAC_update(impl_->mac_ctx, previous.data(), previous.size()) &&
             EVP_MAC_update(impl_->mac_ctx, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size()) &&
             EVP_MAC_final(impl_->mac_ctx, out.data(), &len, out.size());
    }
    if (!ok) throw std::runtime_error("chaining failed: OpenSSL could not compute the hash");
    return out;
}

std::optional<ChainedLine> split_chained_line(std::string_view line) {
    if (line.size() < kChainSuffixBytes + 1 || line.front() != '{') return std::nullopt;
    size_t at = line.size() - kChainSuffixBytes;
    if (line.substr(at, kChainField.size()) != kChainField) return std::nullopt;
    if (line.substr(line.size() - 2) != "\"}") return std::nullopt;
    auto d = digest_from_hex(line.substr(at + kChainField.size(), 64));
    if (!d) return std::nullopt;
    return ChainedLine{line.substr(0, at), *d};
}

std::string_view name(Problem problem) {
    switch (problem) {
        case Problem::none:
            return "ok";
        case Problem::unreadable:
            return "unreadable";
        case Problem::empty_file:
            return "empty_file";
        case Problem::not_a_record:
            return "not_a_record";
        case Problem::truncated:
            return "truncated";
        case Problem::modified:
            return "modified";
        case Problem::removed:
            return "removed";
        case Problem::inserted:
            return "inserted";
        case Problem::reordered:
            return "reordered";
        case Problem::chain_broken:
            return "chain_broken";
        case Problem::missing_start:
            return "missing_start";
        case Problem::not_linked:
            return "not_linked";
        case Problem::new_chain:
            return "new_chain";
        case Problem::key_required:
            return "key_required";
        case Problem::wrong_key:
            return "wrong_key";
        case Problem::not_keyed:
            return "not_keyed";
    }
    return "unknown";
}

}  // namespace pgmoat::audit
