// Known answers: the RFC 7677 exchange, verifiers made by PostgreSQL 15 itself, and
// PostgreSQL's md5 response.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace pgmoat::auth;

namespace {
// RFC 7677 section 3.
constexpr std::string_view rfc_client_nonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view rfc_client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view rfc_server_first =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view rfc_client_final =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
    "Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view rfc_server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

std::vector<uint8_t> rfc_salt() {
    return *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
}

// Made by PostgreSQL 15: SET password_encryption = 'scram-sha-256';
// CREATE ROLE x PASSWORD 'secret'; SELECT rolpassword FROM pg_authid.
constexpr std::string_view pg_secret =
    "SCRAM-SHA-256$4096:ZOAnVe5BW6vX5E3fxtcQeQ==$kUzSFqHBxNU1jJHz8lRHV4lt5yXv0Dq9SpcRrFdsxBg=:"
    "wwonNxP5ObTuwyv6ZlHdm+wUBuJhCsAPPdsJOLMU8EY=";

bool login(const ScramVerifier& verifier, const std::string& password) {
    ScramServer server(verifier, std::nullopt);
    ScramClient client(password, std::nullopt);
    auto first = server.client_first(client.mechanism(), client.client_first());
    REQUIRE(first);
    auto final_message = client.server_first(*first);
    REQUIRE(final_message);
    auto server_final = server.client_final(*final_message);
    if (!server_final) {
        CHECK(server.failure() == ScramFailure::authentication_failed);
        return false;
    }
    CHECK(client.server_final(*server_final));
    return server.succeeded();
}
}  // namespace

TEST_CASE("the server side reproduces the RFC 7677 exchange") {
    auto verifier = ScramVerifier::from_password("pencil", rfc_salt(), 4096);
    ScramServer server(verifier, std::nullopt, std::string(rfc_server_nonce));
    CHECK(server.mechanisms() == std::vector<std::string>{"SCRAM-SHA-256"});
    CHECK(server.client_first("SCRAM-SHA-256", rfc_client_first) == std::string(rfc_server_first));
    CHECK(server.client_final(rfc_client_final) == std::string(rfc_server_final));
    CHECK(server.succeeded());
    CHECK(server.failure() == ScramFailure::none);
}

TEST_CASE("the client side reproduces the RFC 7677 exchange") {
    ScramClient client("pencil", std::nullopt, std::string(rfc_client_nonce), "user");
    CHECK(client.mechanism() == "SCRAM-SHA-256");
    CHECK(client.client_first() == rfc_client_first);
    CHECK(client.server_first(rfc_server_first) == std::string(rfc_client_final));
    CHECK(client.server_final(rfc_server_final));
    CHECK(client.error().empty());
}

TEST_CASE("a verifier made by PostgreSQL 15 accepts its password and nothing else") {
    auto verifier = ScramVerifier::parse(pg_secret);
    REQUIRE(verifier);
    CHECK(verifier->iterations == 4096);
    CHECK(verifier->salt.size() == 16);
    CHECK(verifier->to_string() == pg_secret);
    CHECK(ScramVerifier::from_password("secret", verifier->salt, 4096).to_string() == pg_secret);
    CHECK(login(*verifier, "secret"));
    CHECK_FALSE(login(*verifier, "wrong"));
    CHECK_FALSE(login(*verifier, "Secret"));
    CHECK_FALSE(login(*verifier, ""));
}

TEST_CASE("a fresh verifier has a random salt and PostgreSQL's format") {
    auto a = ScramVerifier::from_password("hunter2");
    auto b = ScramVerifier::from_password("hunter2");
    CHECK(a.iterations == 4096);
    CHECK(a.salt.size() == 16);
    CHECK(a.salt != b.salt);
    CHECK(a.to_string().rfind("SCRAM-SHA-256$4096:", 0) == 0);
    auto parsed = ScramVerifier::parse(a.to_string());
    REQUIRE(parsed);
    CHECK(parsed->to_string() == a.to_string());
    CHECK(login(*parsed, "hunter2"));
    CHECK(ScramVerifier::from_password("x", 1).iterations == 1);
    CHECK_THROWS_AS(ScramVerifier::from_password("x", 0), std::invalid_argument);
    CHECK_THROWS_AS(ScramVerifier::from_password("x", {}, 4096), std::invalid_argument);
}

TEST_CASE("verifier strings that are not PostgreSQL's format do not parse") {
    const std::string keys =
        "$kUzSFqHBxNU1jJHz8lRHV4lt5yXv0Dq9SpcRrFdsxBg=:wwonNxP5ObTuwyv6ZlHdm+"
        "wUBuJhCsAPPdsJOLMU8EY=";
    CHECK(ScramVerifier::parse("SCRAM-SHA-256$1:ZOAnVe5BW6vX5E3fxtcQeQ==" + keys));
    for (std::string bad : {
             std::string(""),
             std::string("secret"),
             std::string("md5d18bf5f8eddaae3aed1d69b23a252748"),
             std::string("SCRAM-SHA-1$4096:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("scram-sha-256$4096:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$0:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$-1:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$+4096:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$99999999999:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$:ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string("SCRAM-SHA-256$4096:") + keys,
             std::string("SCRAM-SHA-256$4096:not base64!") + keys,
             std::string("SCRAM-SHA-256$4096ZOAnVe5BW6vX5E3fxtcQeQ==") + keys,
             std::string(pg_secret.substr(0, pg_secret.size() - 1)),
             std::string(pg_secret) + "=",
             std::string(pg_secret) + ":x",
             std::string("SCRAM-SHA-256$4096:ZOAnVe5BW6vX5E3fxtcQeQ==$AAAA:AAAA"),
             std::string("SCRAM-SHA-256$4096:ZOAnVe5BW6vX5E3fxtcQeQ==$"
                         "kUzSFqHBxNU1jJHz8lRHV4lt5yXv0Dq9SpcRrFdsxBg="),
             std::string(" ") + std::string(pg_secret),
         }) {
        CAPTURE(bad);
        CHECK_FALSE(ScramVerifier::parse(bad));
    }
}

TEST_CASE("md5 password response matches PostgreSQL's") {
    // SELECT 'md5' || md5(md5('secret' || 'user') || 'abcd') in PostgreSQL 15.
    CHECK(md5_password_response("user", "secret", {'a', 'b', 'c', 'd'}) == "md5fd7c993d0b0386ed609939ae4ac157ce");
    auto other = md5_password_response("user", "secret", {0, 0xff, 1, 2});
    CHECK(other.size() == 35);
    CHECK(other != "md5fd7c993d0b0386ed609939ae4ac157ce");
}
