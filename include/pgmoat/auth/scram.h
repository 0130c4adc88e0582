// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it, both sides, with no
// I/O: pgmoat plays the server to apps and the client to the upstream database.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::auth {

using Key = std::array<uint8_t, 32>;

// A stored verifier in PostgreSQL's format:
//   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
struct ScramVerifier {
    int iterations = 0;
    std::vector<uint8_t> salt;
    Key stored_key{};
    Key server_key{};

    static std::optional<ScramVerifier> parse(std::string_view text);
    // Derives a verifier from a password (SASLprep-normalized as PostgreSQL does) with
    // a fresh random 16-byte salt. Throws std::invalid_argument for iterations < 1 or
    // an empty salt.
    static ScramVerifier from_password(std::string_view password, int iterations = 4096);
    static ScramVerifier from_password(std::string_view password, std::vector<uint8_t> salt, int iterations);
    std::string to_string() const;
};

// Channel binding data for SCRAM-SHA-256-PLUS: "tls-server-end-point" is the hash of
// the server's certificate (RFC 5929), which both ends can compute. Empty data counts
// as no channel binding.
struct ChannelBinding {
    std::string type = "tls-server-end-point";
    std::vector<uint8_t> data;
};

// Why an exchange ended, in the terms the session must map to SQLSTATEs:
// protocol violations are 08P01, failed authentication is 28P01.
enum class ScramFailure { none, protocol_violation, authentication_failed };

// A stand-in verifier for a user with no credentials. Its salt is the same for the
// same name for the life of the process (as a real user's would be), so that two
// login attempts cannot tell an unknown user from a known one; its keys match no
// password.
ScramVerifier mock_verifier(std::string_view user);

// The server side, one per login attempt. For an unknown user pass no verifier: the
// exchange then runs to the end with a made-up salt and fails, so a client cannot
// tell unknown users from wrong passwords.
class ScramServer {
  public:
    // channel_binding is set when the connection is TLS: the mechanism offered is
    // then SCRAM-SHA-256-PLUS as well, and a client that claims the server does not
    // support channel binding ("y") is refused (a downgrade). nonce_for_tests, when
    // not empty, is the server nonce to use instead of a random one.
    ScramServer(std::optional<ScramVerifier> verifier, std::optional<ChannelBinding> channel_binding,
                std::string nonce_for_tests = {});

    // The SASL mechanism names to offer in AuthenticationSASL, preferred first.
    std::vector<std::string> mechanisms() const;

    // Input: the mechanism the client chose and its client-first-message
    // (SASLInitialResponse). Output: server-first-message, or nullopt on failure.
    // The user name in the message ("n=") is ignored, as PostgreSQL does: the user is
    // the one from the startup packet.
    std::optional<std::string> client_first(std::string_view mechanism, std::string_view message);
    // Input: client-final-message (SASLResponse). Output: server-final-message
    // ("v=..."), or nullopt on failure. Calls out of order fail with a protocol
    // violation; after a failure every call fails and the first reason is kept.
    std::optional<std::string> client_final(std::string_view message);
    // True once client_final accepted the proof.
    bool succeeded() const { return step_ == 2; }

    ScramFailure failure() const { return failure_; }
    // A human-readable reason for pgmoat's own log (never contains secrets).
    const std::string& failure_reason() const { return reason_; }

  private:
    std::optional<std::string> fail(ScramFailure f, std::string reason);
    std::optional<ScramVerifier> verifier_;
    ScramVerifier mock_;
    std::optional<ChannelBinding> channel_binding_;
    std::string server_nonce_;
    std::string client_first_bare_;
    std::string server_first_;
    std::string gs2_header_;
    std::string combined_nonce_;
    bool plus_ = false;
    int step_ = 0;  // 0: awaiting client-first, 1: awaiting client-final, 2: done, 3: failed
    ScramFailure failure_ = ScramFailure::none;
    std::string reason_;
};

// The client side, for pgmoat's own login to the upstream server.
class ScramClient {
  public:
    // channel_binding: pass when the connection is TLS and the server offered
    // SCRAM-SHA-256-PLUS. nonce_for_tests, when not empty, is the client nonce to use.
    // user_name goes into client-first "n="; PostgreSQL ignores it, and libpq sends
    // it empty, which is the default.
    ScramClient(std::string password, std::optional<ChannelBinding> channel_binding, std::string nonce_for_tests = {},
                const std::string& user_name = {});

    std::string mechanism() const;
    std::string client_first();
    // Returns client-final-message, or nullopt (reason in error()) if the server's
    // message is malformed or unacceptable: nonce does not extend ours, empty salt,
    // iteration count outside 1..10,000,000 (a higher one would be a CPU attack).
    std::optional<std::string> server_first(std::string_view message);
    // True if the server proved it knows the verifier; false (reason in error()) on
    // a wrong or malformed signature or a server "e=" error.
    // Both fail when called out of order.
    bool server_final(std::string_view message);
    const std::string& error() const { return error_; }

  private:
    std::string password_;
    std::optional<ChannelBinding> channel_binding_;
    std::string client_nonce_;
    std::string client_first_bare_;
    std::string gs2_header_;
    Key server_signature_{};
    std::string error_;
    int step_ = 0;  // 0: nothing sent, 1: client-first sent, 2: client-final sent, 3: done
};

// PostgreSQL's md5 password response: "md5" + md5hex(md5hex(password + user) + salt).
std::string md5_password_response(std::string_view user, std::string_view password, const std::array<uint8_t, 4>& salt);

// tls-server-end-point channel binding data for a DER-encoded certificate: its hash
// with the certificate's signature digest, SHA-256 for MD5 and SHA-1 (RFC 5929).
// Empty when the certificate does not parse or its signature algorithm names no
// digest (Ed25519, RSA-PSS): channel binding is then unavailable, as in PostgreSQL.
std::vector<uint8_t> tls_server_end_point(const std::vector<uint8_t>& der_certificate);

// Standard alphabet with padding. Decoding is strict: only canonical encodings
// (length a multiple of 4, padding only at the end, unused bits zero) are accepted.
std::string base64_encode(const uint8_t* data, size_t size);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view text);

// Constant-time comparison for secrets.
bool equal_secret(const uint8_t* a, const uint8_t* b, size_t size);

// PostgreSQL's SASLprep of a password (pg_saslprep, RFC 4013): ASCII passes
// unchanged; other input is mapped, checked for prohibited, unassigned and badly
// mixed bidirectional characters, and when it is not UTF-8 or preparation fails the
// raw bytes are used, exactly as PostgreSQL's server and libpq do. Gap: NFKC
// normalization is not applied, so a password that NFKC changes (compatibility
// characters such as ligatures, fullwidth forms, decomposed accents) prepares
// differently from PostgreSQL. `pgmoat passwd` refuses non-ASCII passwords.
std::string saslprep(std::string_view password);

// RFC 5802 building blocks shared by the verifier and both sides.
Key sha256(const uint8_t* data, size_t size);
Key hmac_sha256(const Key& key, std::string_view message);
// SaltedPassword := Hi(SASLprep(password), salt, i) (PBKDF2-HMAC-SHA-256).
Key salted_password(std::string_view password, const std::vector<uint8_t>& salt, int iterations);
// Cryptographically random bytes; throws std::runtime_error if the generator fails.
std::vector<uint8_t> random_bytes(size_t size);

}  // namespace pgmoat::auth
