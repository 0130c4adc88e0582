// base64 as SCRAM and the verifier format use it, and the constant-time compare.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

using namespace pgmoat::auth;

namespace {
std::string encode(std::string_view s) {
    return base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
std::optional<std::string> decode(std::string_view s) {
    auto bytes = base64_decode(s);
    if (!bytes) return std::nullopt;
    return std::string(bytes->begin(), bytes->end());
}
}  // namespace

TEST_CASE("base64 encodes the RFC 4648 test vectors") {
    CHECK(encode("") == "");
    CHECK(encode("f") == "Zg==");
    CHECK(encode("fo") == "Zm8=");
    CHECK(encode("foo") == "Zm9v");
    CHECK(encode("foob") == "Zm9vYg==");
    CHECK(encode("fooba") == "Zm9vYmE=");
    CHECK(encode("foobar") == "Zm9vYmFy");
    CHECK(encode("n,,") == "biws");
    const uint8_t high[] = {0xfb, 0xff, 0xbf};
    CHECK(base64_encode(high, 3) == "+/+/");
}

TEST_CASE("base64 decodes what it encodes") {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) CHECK(decode(encode(s)) == s);
    std::vector<uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
    CHECK(base64_decode(base64_encode(all.data(), all.size())) == all);
}

TEST_CASE("base64 decoding refuses everything but canonical encodings") {
    CHECK_FALSE(decode("Zg"));        // missing padding
    CHECK_FALSE(decode("Zg="));       // short padding
    CHECK_FALSE(decode("Zg==="));     // too much padding
    CHECK_FALSE(decode("Z==="));      // three pads
    CHECK_FALSE(decode("Zg==Zg=="));  // padding in the middle
    CHECK_FALSE(decode("=Zg="));
    CHECK_FALSE(decode("Zm9v YmFy"));  // space
    CHECK_FALSE(decode("Zm9v\nYmFy"));
    CHECK_FALSE(decode("Zm9-"));  // URL-safe alphabet
    CHECK_FALSE(decode("Zm9_"));
    CHECK_FALSE(decode("Zh=="));  // non-zero unused bits
    CHECK_FALSE(decode("Zm9="));
    CHECK_FALSE(decode(std::string_view("Zm\0v", 4)));
    CHECK_FALSE(decode("\xff\xff\xff\xff"));
}

TEST_CASE("equal_secret compares bytes") {
    const uint8_t a[] = {1, 2, 3, 4};
    const uint8_t b[] = {1, 2, 3, 5};
    CHECK(equal_secret(a, a, 4));
    CHECK_FALSE(equal_secret(a, b, 4));
    CHECK(equal_secret(a, b, 3));
}
