// tls-server-end-point data for certificates made here with OpenSSL.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

using namespace pgmoat::auth;

namespace {
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

const PKey& rsa_key() {
    static PKey key(EVP_RSA_gen(2048), EVP_PKEY_free);
    return key;
}

// A self-signed certificate, DER-encoded, signed with `md` (nullptr for Ed25519).
std::vector<uint8_t> make_certificate(EVP_PKEY* key, const EVP_MD* md) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("pgmoat test"), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    X509_set_pubkey(cert.get(), key);
    REQUIRE(X509_sign(cert.get(), key, md) > 0);
    int len = i2d_X509(cert.get(), nullptr);
    REQUIRE(len > 0);
    std::vector<uint8_t> der(static_cast<size_t>(len));
    unsigned char* p = der.data();
    i2d_X509(cert.get(), &p);
    return der;
}

std::vector<uint8_t> digest(const std::vector<uint8_t>& data, const EVP_MD* md) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    REQUIRE(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) == 1);
    return {out, out + len};
}
}  // namespace

TEST_CASE("a sha256WithRSAEncryption certificate binds with the SHA-256 of its DER") {
    auto der = make_certificate(rsa_key().get(), EVP_sha256());
    auto data = tls_server_end_point(der);
    CHECK(data.size() == 32);
    CHECK(data == digest(der, EVP_sha256()));
}

TEST_CASE("SHA-1 signatures are upgraded to SHA-256 (RFC 5929)") {
    auto der = make_certificate(rsa_key().get(), EVP_sha1());
    CHECK(tls_server_end_point(der) == digest(der, EVP_sha256()));
}

TEST_CASE("a SHA-384 signature binds with SHA-384") {
    auto der = make_certificate(rsa_key().get(), EVP_sha384());
    auto data = tls_server_end_point(der);
    CHECK(data.size() == 48);
    CHECK(data == digest(der, EVP_sha384()));
}

TEST_CASE("certificates without a signature digest or that do not parse give no binding data") {
    PKey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
    REQUIRE(ed);
    CHECK(tls_server_end_point(make_certificate(ed.get(), nullptr)).empty());

    auto der = make_certificate(rsa_key().get(), EVP_sha256());
    CHECK(tls_server_end_point({}).empty());
    CHECK(tls_server_end_point({1, 2, 3}).empty());
    CHECK(tls_server_end_point(std::vector<uint8_t>(der.begin(), der.end() - 1)).empty());
    auto trailing = der;
    trailing.push_back(0);
    CHECK(tls_server_end_point(trailing).empty());
}

TEST_CASE("binding data from a certificate drives a -PLUS exchange") {
    auto data = tls_server_end_point(make_certificate(rsa_key().get(), EVP_sha256()));
    ScramServer server(ScramVerifier::from_password("pw", 4096), ChannelBinding{"tls-server-end-point", data});
    ScramClient client("pw", ChannelBinding{"tls-server-end-point", data});
    auto first = server.client_first(client.mechanism(), client.client_first());
    REQUIRE(first);
    auto final_message = server.client_final(*client.server_first(*first));
    REQUIRE(final_message);
    CHECK(client.server_final(*final_message));
}
