// tls-server-end-point channel binding data (RFC 5929 section 4.1), computed the way
// PostgreSQL's be_tls_get_certificate_hash does so both ends agree.
#include "pgmoat/auth/scram.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>

namespace pgmoat::auth {

std::vector<uint8_t> tls_server_end_point(const std::vector<uint8_t>& der_certificate) {
    if (der_certificate.empty() || der_certificate.size() > LONG_MAX) return {};
    const unsigned char* p = der_certificate.data();
    std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der_certificate.size())),
                                                     X509_free);
    // Trailing bytes mean the input is not one certificate.
    if (!cert || p != der_certificate.data() + der_certificate.size()) return {};
    int digest_nid = NID_undef;
    if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert.get()), &digest_nid, nullptr)) return {};
    // RFC 5929: MD5 and SHA-1 are upgraded to SHA-256; other digests are used as is.
    if (digest_nid == NID_md5 || digest_nid == NID_sha1) digest_nid = NID_sha256;
    const EVP_MD* md = EVP_get_digestbynid(digest_nid);
    if (!md) return {};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // Hash the certificate's own DER, which is what the peer received on the wire.
    if (EVP_Digest(der_certificate.data(), der_certificate.size(), digest, &len, md, nullptr) != 1) {
        return {};
    }
    return {digest, digest + len};
}

}  // namespace pgmoat::auth
