// pgmoat as a SCRAM client to the upstream: it must not trust the server's
// messages either.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

using namespace pgmoat::auth;

namespace {
constexpr std::string_view salt = "W22ZaJ0SNY7soEsUEjb6gQ==";

ScramClient started(std::string password = "pencil") {
    ScramClient client(std::move(password), std::nullopt, "clientnonce");
    client.client_first();
    return client;
}
}  // namespace

TEST_CASE("the client sends an empty user name, as libpq does") {
    ScramClient client("pencil", std::nullopt, "clientnonce");
    CHECK(client.client_first() == "n,,n=,r=clientnonce");
}

TEST_CASE("a user name is escaped as a SASL name") {
    ScramClient client("pencil", std::nullopt, "clientnonce", "a,b=c");
    CHECK(client.client_first() == "n,,n=a=2Cb=3Dc,r=clientnonce");
}

TEST_CASE("random client nonces are printable and distinct") {
    ScramClient a("p", std::nullopt), b("p", std::nullopt);
    auto fa = a.client_first(), fb = b.client_first();
    CHECK(fa != fb);
    auto nonce = fa.substr(fa.find("r=") + 2);
    CHECK(nonce.size() >= 18);
    CHECK(nonce.find_first_of(", \n") == std::string::npos);
}

TEST_CASE("the client accepts PostgreSQL's server-first-message") {
    auto client = started();
    auto final_message = client.server_first("r=clientnonceSERVER,s=" + std::string(salt) + ",i=4096");
    REQUIRE(final_message);
    CHECK(final_message->rfind("c=biws,r=clientnonceSERVER,p=", 0) == 0);
    CHECK(client.error().empty());
}

TEST_CASE("the client refuses unacceptable server-first-messages") {
    const std::string s = ",s=" + std::string(salt);
    for (std::string message : {
             std::string(""),
             std::string("r=clientnonceSERVER"),
             "r=clientnonceSERVER" + s,
             "r=clientnonce" + s + ",i=4096",        // nonce not extended
             "r=clientnonc" + s + ",i=4096",         // shorter
             "r=CLIENTNONCESERVER" + s + ",i=4096",  // not our nonce
             "r=xclientnonceSERVER" + s + ",i=4096",
             "r=clientnonceSER VER" + s + ",i=4096",                              // not printable
             std::string("r=clientnonceSERVER,s=,i=4096"),                        // empty salt
             std::string("r=clientnonceSERVER,s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096"),  // bad padding
             std::string("r=clientnonceSERVER,s=!!!!,i=4096"),
             "r=clientnonceSERVER" + s + ",i=0",
             "r=clientnonceSERVER" + s + ",i=-1",
             "r=clientnonceSERVER" + s + ",i=+4096",
             "r=clientnonceSERVER" + s + ",i=",
             "r=clientnonceSERVER" + s + ",i=4096x",
             "r=clientnonceSERVER" + s + ",i=10000001",
             "r=clientnonceSERVER" + s + ",i=2147483648",
             "r=clientnonceSERVER" + s + ",i=99999999999999999999",
             "r=clientnonceSERVER" + s + ",i=4096,",
             "r=clientnonceSERVER" + s + ",i=4096,x=1",
             "m=ext,r=clientnonceSERVER" + s + ",i=4096",
             "s=" + std::string(salt) + ",r=clientnonceSERVER,i=4096",
             std::string("e=other-error"),
         }) {
        CAPTURE(message);
        auto client = started();
        CHECK_FALSE(client.server_first(message));
        CHECK_FALSE(client.error().empty());
    }
}

TEST_CASE("the client checks the server's signature") {
    // A real server that knows the verifier for "pencil".
    auto verifier = ScramVerifier::from_password("pencil", *base64_decode(salt), 4096);
    auto run_until_final = [&](ScramClient& client) {
        ScramServer server(verifier, std::nullopt);
        auto first = server.client_first(client.mechanism(), client.client_first());
        REQUIRE(first);
        auto final_message = client.server_first(*first);
        REQUIRE(final_message);
        auto server_final = server.client_final(*final_message);
        REQUIRE(server_final);
        return *server_final;
    };

    SUBCASE("a genuine signature is accepted") {
        ScramClient client("pencil", std::nullopt);
        CHECK(client.server_final(run_until_final(client)));
    }
    SUBCASE("a forged or damaged one is not") {
        ScramClient probe("pencil", std::nullopt);
        std::string genuine = run_until_final(probe);
        for (std::string forged : {
                 std::string("v=") + std::string(43, 'A') + "=",
                 std::string("v="),
                 std::string("v=AAAA"),
                 std::string(""),
                 std::string("x=") + genuine.substr(2),
                 genuine + ",x=1",
                 genuine + ",",
                 genuine.substr(0, genuine.size() - 2) + "A=",
             }) {
            CAPTURE(forged);
            ScramClient client("pencil", std::nullopt);
            run_until_final(client);
            CHECK_FALSE(client.server_final(forged));
            CHECK_FALSE(client.error().empty());
        }
    }
    SUBCASE("a server error is reported with its text") {
        ScramClient client("pencil", std::nullopt);
        run_until_final(client);
        CHECK_FALSE(client.server_final("e=invalid-proof"));
        CHECK(client.error().find("invalid-proof") != std::string::npos);
    }
}

TEST_CASE("client calls out of order fail") {
    SUBCASE("server-first before client-first") {
        ScramClient client("p", std::nullopt, "clientnonce");
        CHECK_FALSE(client.server_first("r=clientnonceSERVER,s=" + std::string(salt) + ",i=4096"));
        CHECK_FALSE(client.error().empty());
    }
    SUBCASE("server-final before server-first") {
        auto client = started();
        CHECK_FALSE(client.server_final("v=" + std::string(43, 'A') + "="));
    }
    SUBCASE("server-first twice") {
        auto client = started();
        std::string message = "r=clientnonceSERVER,s=" + std::string(salt) + ",i=4096";
        REQUIRE(client.server_first(message));
        CHECK_FALSE(client.server_first(message));
    }
    SUBCASE("server-final twice") {
        ScramServer server(ScramVerifier::from_password("p", 4096), std::nullopt);
        ScramClient client("p", std::nullopt);
        auto first = server.client_first(client.mechanism(), client.client_first());
        auto final_message = server.client_final(*client.server_first(*first));
        REQUIRE(final_message);
        CHECK(client.server_final(*final_message));
        CHECK_FALSE(client.server_final(*final_message));
    }
}
