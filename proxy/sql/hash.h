// Hashing shared by the fingerprint and the cache: fixed constants (fingerprints
// are stored in policy files, so they must not change between runs or builds)
// and a 64x64->128 multiply mix that spreads every input bit.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace pgmoat::sql::detail {

inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r =
        static_cast<__uint128_t>(a ^ 0xa0761d6478bd642fULL) * static_cast<__uint128_t>(b ^ 0xe7037ed1a0b428dbULL);
    return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

// Order-sensitive: combine(combine(h, a), b) != combine(combine(h, b), a).
inline uint64_t combine(uint64_t h, uint64_t v) {
    return mix(h + 0x8ebc6af09c88c6e3ULL, v ^ h);
}

inline uint64_t hash_bytes(std::string_view s, uint64_t seed = 0x589965cc75374cc3ULL) {
    uint64_t h = seed ^ s.size();
    if (s.size() <= 16) {
        // Most names and keys: one multiply over (overlapping) loads of the
        // first and last bytes, with no variable-length copy.
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        const size_t n = s.size();
        uint64_t a = 0, b = 0;
        if (n >= 8) {
            std::memcpy(&a, p, 8);
            std::memcpy(&b, p + n - 8, 8);
        } else if (n >= 4) {
            uint32_t x, y;
            std::memcpy(&x, p, 4);
            std::memcpy(&y, p + n - 4, 4);
            a = x;
            b = y;
        } else if (n > 0) {
            a = (uint64_t{p[0]} << 16) | (uint64_t{p[n / 2]} << 8) | p[n - 1];
        }
        return mix(h ^ a, b ^ 0x1d8e4e27c47d124fULL);
    }
    const char* p = s.data();
    size_t n = s.size();
    while (n >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = mix(h, w);
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = mix(h, w ^ (static_cast<uint64_t>(n) << 56));
    }
    return mix(h, 0x1d8e4e27c47d124fULL);
}

}  // namespace pgmoat::sql::detail
