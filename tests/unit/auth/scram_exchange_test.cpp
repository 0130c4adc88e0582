// Whole exchanges between pgmoat's two SCRAM sides, with and without channel
// binding, and the negotiation rules PostgreSQL enforces.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

using namespace pgmoat::auth;

namespace {
const ScramVerifier& verifier() {
    static const ScramVerifier v = ScramVerifier::from_password("correct horse", 4096);
    return v;
}

ChannelBinding binding(uint8_t fill) {
    return ChannelBinding{"tls-server-end-point", std::vector<uint8_t>(32, fill)};
}

struct Outcome {
    bool server_accepted = false;
    bool client_accepted = false;
    ScramFailure failure = ScramFailure::none;
};

Outcome exchange(ScramServer& server, ScramClient& client) {
    Outcome out;
    auto server_first = server.client_first(client.mechanism(), client.client_first());
    if (server_first) {
        auto client_final = client.server_first(*server_first);
        REQUIRE(client_final);
        auto server_final = server.client_final(*client_final);
        out.server_accepted = server_final.has_value() && server.succeeded();
        if (server_final) out.client_accepted = client.server_final(*server_final);
    }
    out.failure = server.failure();
    if (out.failure != ScramFailure::none) CHECK_FALSE(server.failure_reason().empty());
    return out;
}

// A client-final-message built by hand, for clients ScramClient does not imitate.
std::string client_final_for(std::string_view password, std::string_view client_first_bare,
                             std::string_view server_first, std::string_view c_attribute) {
    auto nonce = server_first.substr(2, server_first.find(',') - 2);
    auto s_at = server_first.find(",s=") + 3;
    auto i_at = server_first.find(",i=");
    auto salt = *base64_decode(server_first.substr(s_at, i_at - s_at));
    int iterations = std::stoi(std::string(server_first.substr(i_at + 3)));
    Key salted = salted_password(password, salt, iterations);
    Key client_key = hmac_sha256(salted, "Client Key");
    Key stored_key = sha256(client_key.data(), client_key.size());
    std::string without_proof = "c=" + std::string(c_attribute) + ",r=" + std::string(nonce);
    std::string auth_message = std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
    Key signature = hmac_sha256(stored_key, auth_message);
    Key proof{};
    for (size_t i = 0; i < proof.size(); ++i) proof[i] = client_key[i] ^ signature[i];
    return without_proof + ",p=" + base64_encode(proof.data(), proof.size());
}
}  // namespace

TEST_CASE("the right password logs in and the client verifies the server") {
    ScramServer server(verifier(), std::nullopt);
    ScramClient client("correct horse", std::nullopt);
    auto out = exchange(server, client);
    CHECK(out.server_accepted);
    CHECK(out.client_accepted);
    CHECK(out.failure == ScramFailure::none);
}

TEST_CASE("a wrong password fails as authentication_failed (28P01)") {
    ScramServer server(verifier(), std::nullopt);
    ScramClient client("Correct horse", std::nullopt);
    auto out = exchange(server, client);
    CHECK_FALSE(out.server_accepted);
    CHECK_FALSE(out.client_accepted);
    CHECK(out.failure == ScramFailure::authentication_failed);
}

TEST_CASE("an unknown user runs the whole exchange and fails like a wrong password") {
    ScramServer server(std::nullopt, std::nullopt);
    ScramClient client("correct horse", std::nullopt);
    auto first = server.client_first(client.mechanism(), client.client_first());
    REQUIRE(first);
    // Looks like a real user's: PostgreSQL's default iterations and salt length.
    CHECK(first->find(",i=4096") != std::string::npos);
    auto s_at = first->find(",s=") + 3;
    CHECK(base64_decode(first->substr(s_at, first->find(",i=") - s_at))->size() == 16);
    auto final_message = client.server_first(*first);
    REQUIRE(final_message);
    CHECK_FALSE(server.client_final(*final_message));
    CHECK(server.failure() == ScramFailure::authentication_failed);
    CHECK_FALSE(server.succeeded());
}

TEST_CASE("over TLS the server offers SCRAM-SHA-256-PLUS first and binding succeeds") {
    ScramServer server(verifier(), binding(7));
    CHECK(server.mechanisms() == std::vector<std::string>{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"});
    ScramClient client("correct horse", binding(7));
    CHECK(client.mechanism() == "SCRAM-SHA-256-PLUS");
    CHECK(client.client_first().rfind("p=tls-server-end-point,,", 0) == 0);
    auto out = exchange(server, client);
    CHECK(out.server_accepted);
    CHECK(out.client_accepted);
}

TEST_CASE("channel binding with a wrong password still fails as authentication_failed") {
    ScramServer server(verifier(), binding(7));
    ScramClient client("wrong", binding(7));
    CHECK(exchange(server, client).failure == ScramFailure::authentication_failed);
}

TEST_CASE("a client without channel binding may use plain SCRAM over TLS") {
    ScramServer server(verifier(), binding(7));
    ScramClient client("correct horse", std::nullopt);
    CHECK(client.client_first().rfind("n,,", 0) == 0);
    CHECK(exchange(server, client).server_accepted);
}

TEST_CASE("binding data that is not the server's certificate hash is a protocol violation") {
    ScramServer server(verifier(), binding(7));
    ScramClient client("correct horse", binding(8));
    auto out = exchange(server, client);
    CHECK_FALSE(out.server_accepted);
    CHECK(out.failure == ScramFailure::protocol_violation);
}

TEST_CASE("empty binding data counts as no channel binding") {
    ScramServer server(verifier(), ChannelBinding{});
    CHECK(server.mechanisms() == std::vector<std::string>{"SCRAM-SHA-256"});
    ScramClient client("correct horse", ChannelBinding{});
    CHECK(client.mechanism() == "SCRAM-SHA-256");
    CHECK(exchange(server, client).server_accepted);
}

TEST_CASE("a client that says the server cannot bind, when it can, is refused as a downgrade") {
    ScramServer server(verifier(), binding(7));
    CHECK_FALSE(server.client_first("SCRAM-SHA-256", "y,,n=,r=abcdef"));
    CHECK(server.failure() == ScramFailure::authentication_failed);
}

TEST_CASE("'y' is accepted by a server without TLS, with c= repeating it") {
    ScramServer server(verifier(), std::nullopt);
    auto first = server.client_first("SCRAM-SHA-256", "y,,n=,r=abcdef");
    REQUIRE(first);
    CHECK(server.client_final(client_final_for("correct horse", "n=,r=abcdef", *first, "eSws")));
    CHECK(server.succeeded());
}

TEST_CASE("c= must repeat the GS2 header exactly") {
    SUBCASE("'y' header, 'n' binding") {
        ScramServer server(verifier(), std::nullopt);
        auto first = server.client_first("SCRAM-SHA-256", "y,,n=,r=abcdef");
        REQUIRE(first);
        CHECK_FALSE(server.client_final(client_final_for("correct horse", "n=,r=abcdef", *first, "biws")));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
    SUBCASE("'n' header, 'y' binding") {
        ScramServer server(verifier(), std::nullopt);
        auto first = server.client_first("SCRAM-SHA-256", "n,,n=,r=abcdef");
        REQUIRE(first);
        CHECK_FALSE(server.client_final(client_final_for("correct horse", "n=,r=abcdef", *first, "eSws")));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
    SUBCASE("-PLUS without the binding data") {
        ScramServer server(verifier(), binding(7));
        auto first = server.client_first("SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,n=,r=abcdef");
        REQUIRE(first);
        std::string header = "p=tls-server-end-point,,";
        auto c = base64_encode(reinterpret_cast<const uint8_t*>(header.data()), header.size());
        CHECK_FALSE(server.client_final(client_final_for("correct horse", "n=,r=abcdef", *first, c)));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
}

TEST_CASE("choosing plain SCRAM-SHA-256 but sending binding data is a protocol violation") {
    ScramServer server(verifier(), binding(7));
    CHECK_FALSE(server.client_first("SCRAM-SHA-256", "p=tls-server-end-point,,n=,r=abcdef"));
    CHECK(server.failure() == ScramFailure::protocol_violation);
}

TEST_CASE("choosing SCRAM-SHA-256-PLUS without binding is a protocol violation") {
    for (std::string header : {"n,,", "y,,"}) {
        ScramServer server(verifier(), binding(7));
        CHECK_FALSE(server.client_first("SCRAM-SHA-256-PLUS", header + "n=,r=abcdef"));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
}

TEST_CASE("choosing SCRAM-SHA-256-PLUS when it was not offered is a protocol violation") {
    ScramServer server(verifier(), std::nullopt);
    ScramClient client("correct horse", binding(7));
    auto out = exchange(server, client);
    CHECK_FALSE(out.server_accepted);
    CHECK(out.failure == ScramFailure::protocol_violation);
}

TEST_CASE("an unsupported channel binding type is a protocol violation") {
    ScramServer server(verifier(), binding(7));
    CHECK_FALSE(server.client_first("SCRAM-SHA-256-PLUS", "p=tls-unique,,n=,r=abcdef"));
    CHECK(server.failure() == ScramFailure::protocol_violation);

    ScramServer server2(verifier(), binding(7));
    ScramClient client("correct horse", ChannelBinding{"tls-exporter", std::vector<uint8_t>(32, 7)});
    CHECK(exchange(server2, client).failure == ScramFailure::protocol_violation);
}

TEST_CASE("an unknown SASL mechanism is a protocol violation") {
    for (std::string mechanism : {"", "SCRAM-SHA-1", "scram-sha-256", "SCRAM-SHA-256-PLUS ", "PLAIN"}) {
        ScramServer server(verifier(), binding(7));
        CHECK_FALSE(server.client_first(mechanism, "n,,n=,r=abcdef"));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
}

TEST_CASE("the user name in client-first is ignored, whatever it is") {
    for (const std::string& user :
         std::vector<std::string>{"", "user", "someone else", "=2C=3D", std::string(10000, 'u')}) {
        ScramServer server(verifier(), std::nullopt);
        ScramClient client("correct horse", std::nullopt, {}, user);
        CHECK(exchange(server, client).server_accepted);
    }
}

TEST_CASE("each exchange uses fresh nonces") {
    ScramClient a("p", std::nullopt), b("p", std::nullopt);
    CHECK(a.client_first() != b.client_first());
    ScramServer s1(verifier(), std::nullopt), s2(verifier(), std::nullopt);
    auto f1 = s1.client_first("SCRAM-SHA-256", "n,,n=,r=same");
    auto f2 = s2.client_first("SCRAM-SHA-256", "n,,n=,r=same");
    REQUIRE(f1);
    REQUIRE(f2);
    CHECK(*f1 != *f2);
}

TEST_CASE("an unknown user's salt is stable across attempts, like a real user's") {
    auto a = pgmoat::auth::mock_verifier("nobody");
    auto b = pgmoat::auth::mock_verifier("nobody");
    auto c = pgmoat::auth::mock_verifier("somebody");
    CHECK(a.salt == b.salt);
    CHECK(a.salt != c.salt);
    CHECK(a.salt.size() == 16);
    CHECK(a.iterations == 4096);
}
