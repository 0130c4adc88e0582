// The server side faces unauthenticated peers: malformed, replayed, out-of-order and
// random input must end in a failure with the right SQLSTATE class, never a crash or
// a login.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

#include <random>

using namespace pgmoat::auth;

namespace {
const ScramVerifier& verifier() {
    static const ScramVerifier v = ScramVerifier::from_password("pw", 4096);
    return v;
}

// A server that has answered a valid client-first from `client`.
struct Started {
    ScramServer server{verifier(), std::nullopt, "SERVERNONCE"};
    ScramClient client{"pw", std::nullopt, "clientnonce"};
    std::string valid_final;

    Started() {
        auto first = server.client_first("SCRAM-SHA-256", client.client_first());
        REQUIRE(first);
        valid_final = *client.server_first(*first);
    }
};

constexpr std::string_view combined = "clientnonceSERVERNONCE";
const std::string proof32 = "p=" + std::string(43, 'A') + "=";
}  // namespace

TEST_CASE("malformed client-first-messages are protocol violations") {
    for (std::string message : {
             std::string(""),
             std::string("n"),
             std::string("n,"),
             std::string("n,,"),
             std::string("n,,n="),
             std::string("n,,n=user"),
             std::string("n,,r=abc"),
             std::string("n,,n=u,r="),
             std::string("n,,n=u,r=a b"),
             std::string("n,,n=u,r=ab\x7f"),
             std::string("n,,n=u,r=ab\xc3\xa9"),
             std::string("n,,n=u,x=abc"),
             std::string("n,,n=u,r=abc,1=x"),
             std::string("n,,n=u,r=abc,,"),
             std::string("n,,n=u,r=abc,x"),
             std::string("n,,u=u,r=abc"),
             std::string("x,,n=,r=abc"),
             std::string("N,,n=,r=abc"),
             std::string(",,n=,r=abc"),
             std::string("p,,n=,r=abc"),
             std::string("n=,r=abc"),
             std::string("n,,,n=,r=abc"),
             std::string("n,a=admin,n=u,r=abc"),
             std::string("n,a=,n=u,r=abc"),
             std::string("n,,m=ext,n=u,r=abc"),
             std::string("n,,m=,n=u,r=abc"),
             std::string("\0,,n=,r=abc", 11),
             std::string("n,,n=,r=ab\0c", 12),
             std::string(1 << 20, ','),
             std::string(1 << 20, 'n'),
             "n,,n=,r=" + std::string(1 << 20, ','),
         }) {
        CAPTURE(message.substr(0, 40));
        ScramServer server(verifier(), std::nullopt);
        CHECK_FALSE(server.client_first("SCRAM-SHA-256", message));
        CHECK(server.failure() == ScramFailure::protocol_violation);
        CHECK_FALSE(server.failure_reason().empty());
        CHECK_FALSE(server.succeeded());
    }
}

TEST_CASE("optional extensions after the nonce are ignored, as PostgreSQL does") {
    ScramServer server(verifier(), std::nullopt);
    CHECK(server.client_first("SCRAM-SHA-256", "n,,n=u,r=abc,x=1,y=2"));
}

TEST_CASE("huge but well-formed client-first-messages are handled") {
    ScramServer server(verifier(), std::nullopt);
    auto first =
        server.client_first("SCRAM-SHA-256", "n,,n=" + std::string(1 << 20, 'u') + ",r=" + std::string(1 << 20, 'r'));
    REQUIRE(first);
    CHECK(first->size() > (1 << 20));
}

TEST_CASE("malformed client-final-messages are protocol violations") {
    const std::string r = "r=" + std::string(combined);
    for (std::string message : {
             std::string(""),
             std::string("c=biws"),
             "c=biws," + r,
             "c=biws," + r + ",p=",
             "c=biws," + r + ",p=AAAA",                           // proof too short
             "c=biws," + r + ",p=" + std::string(44, 'A'),        // 33 bytes
             "c=biws," + r + ",p=" + std::string(43, '!') + "=",  // not base64
             "c=biws," + r + "," + proof32 + ",x=1",              // garbage after proof
             "c=biws," + r + "," + proof32 + ",",
             "c=biws," + r + ",p=AAAA," + proof32,  // two proofs
             "c=biws," + r + ",!=x," + proof32,     // bad extension
             "c=biws," + r + ",," + proof32,
             "c=biws,," + proof32,
             r + ",c=biws," + proof32,                       // wrong order
             "c=biws," + proof32,                            // no nonce
             r + "," + proof32,                              // no binding
             "c=biws,r=clientnonce," + proof32,              // nonce without the server part
             "c=biws,r=clientnonceSERVERNONCEx," + proof32,  // nonce extended
             "c=biws,r=CLIENTNONCESERVERNONCE," + proof32,
             "c=biws,r=," + proof32,
             "c=," + r + "," + proof32,                                  // empty binding
             "c=biws=," + r + "," + proof32,                             // binding not base64
             "c=biwt," + r + "," + proof32,                              // non-canonical base64
             "c=eSws," + r + "," + proof32,                              // 'y' after 'n'
             "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws," + r + "," + proof32,  // 'p=...' after 'n'
             std::string(1 << 20, ','),
             "c=biws," + r + ",p=" + std::string(1 << 20, 'A'),
         }) {
        CAPTURE(message.substr(0, 60));
        Started s;
        CHECK_FALSE(s.server.client_final(message));
        CHECK(s.server.failure() == ScramFailure::protocol_violation);
        CHECK_FALSE(s.server.succeeded());
    }
}

TEST_CASE("a well-formed proof that is wrong fails authentication") {
    Started s;
    CHECK_FALSE(s.server.client_final("c=biws,r=" + std::string(combined) + "," + proof32));
    CHECK(s.server.failure() == ScramFailure::authentication_failed);
}

TEST_CASE("the untouched client-final-message passes") {
    Started s;
    CHECK(s.server.client_final(s.valid_final));
    CHECK(s.server.succeeded());
}

TEST_CASE("every single-byte change to a valid client-final-message is refused") {
    Started reference;
    const std::string valid = reference.valid_final;
    for (size_t i = 0; i < valid.size(); ++i) {
        for (char replacement : {'A', 'b', '=', ',', '\0', '+'}) {
            if (valid[i] == replacement) continue;
            std::string mutated = valid;
            mutated[i] = replacement;
            CAPTURE(mutated);
            Started s;
            CHECK_FALSE(s.server.client_final(mutated));
            CHECK(s.server.failure() != ScramFailure::none);
        }
    }
}

TEST_CASE("a proof replayed from another exchange does not log in") {
    Started first;
    std::string recorded = first.valid_final;
    REQUIRE(first.server.client_final(recorded));

    SUBCASE("verbatim: the nonce belongs to the old exchange") {
        ScramServer server(verifier(), std::nullopt);  // random server nonce
        REQUIRE(server.client_first("SCRAM-SHA-256", "n,,n=,r=clientnonce"));
        CHECK_FALSE(server.client_final(recorded));
        CHECK(server.failure() == ScramFailure::protocol_violation);
    }
    SUBCASE("with the new nonce spliced in: the proof no longer matches") {
        ScramServer server(verifier(), std::nullopt, "OTHERNONCE");
        REQUIRE(server.client_first("SCRAM-SHA-256", "n,,n=,r=clientnonce"));
        std::string spliced = recorded;
        spliced.replace(spliced.find("SERVERNONCE"), 11, "OTHERNONCE");
        CHECK_FALSE(server.client_final(spliced));
        CHECK(server.failure() == ScramFailure::authentication_failed);
    }
}

TEST_CASE("messages out of order are protocol violations") {
    SUBCASE("client-final first") {
        ScramServer server(verifier(), std::nullopt);
        CHECK_FALSE(server.client_final("c=biws,r=abc," + proof32));
        CHECK(server.failure() == ScramFailure::protocol_violation);
        // And nothing works after that.
        CHECK_FALSE(server.client_first("SCRAM-SHA-256", "n,,n=,r=abc"));
    }
    SUBCASE("client-first twice") {
        Started s;
        CHECK_FALSE(s.server.client_first("SCRAM-SHA-256", "n,,n=,r=clientnonce"));
        CHECK(s.server.failure() == ScramFailure::protocol_violation);
        CHECK_FALSE(s.server.client_final(s.valid_final));
    }
    SUBCASE("client-final again after success") {
        Started s;
        REQUIRE(s.server.client_final(s.valid_final));
        CHECK(s.server.succeeded());
        CHECK_FALSE(s.server.client_final(s.valid_final));
        CHECK(s.server.failure() == ScramFailure::protocol_violation);
        CHECK_FALSE(s.server.succeeded());
    }
    SUBCASE("the first failure is the one reported") {
        Started s;
        CHECK_FALSE(s.server.client_final("c=biws,r=" + std::string(combined) + "," + proof32));
        CHECK(s.server.failure() == ScramFailure::authentication_failed);
        std::string reason = s.server.failure_reason();
        CHECK_FALSE(s.server.client_final(s.valid_final));
        CHECK(s.server.failure() == ScramFailure::authentication_failed);
        CHECK(s.server.failure_reason() == reason);
    }
}

TEST_CASE("random bytes never crash or log in") {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> byte(0, 255), length(0, 200);
    const std::string alphabet = "nyp=,rcsmia bisw0123456789ABCDEF+/";
    for (int round = 0; round < 3000; ++round) {
        auto random_message = [&](bool structured) {
            std::string m;
            int n = length(rng);
            for (int i = 0; i < n; ++i) {
                m.push_back(structured ? alphabet[static_cast<size_t>(byte(rng)) % alphabet.size()]
                                       : static_cast<char>(byte(rng)));
            }
            return m;
        };
        bool structured = round % 2 == 0;
        ScramServer server(
            verifier(), round % 3 == 0 ? std::optional(ChannelBinding{"tls-server-end-point", {1, 2}}) : std::nullopt);
        auto first =
            server.client_first(round % 5 == 0 ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-256",
                                round % 4 == 0 ? "n,,n=,r=" + random_message(structured) : random_message(structured));
        if (!first) {
            CHECK(server.failure() != ScramFailure::none);
            continue;
        }
        auto final_message = server.client_final(random_message(structured));
        CHECK_FALSE(final_message);
        CHECK(server.failure() != ScramFailure::none);
        CHECK_FALSE(server.succeeded());
    }
}
