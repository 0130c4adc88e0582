// SASLprep must give the same bytes as PostgreSQL's, or a password set in
// PostgreSQL would not verify through pgmoat. Each verifier below was made by
// PostgreSQL 15 (CREATE ROLE ... PASSWORD E'...' with password_encryption =
// 'scram-sha-256'); deriving one with its salt must give the same string.
#include "pgmoat/auth/scram.h"

#include <doctest/doctest.h>

using namespace pgmoat::auth;

namespace {
std::string derive_like(std::string_view password, std::string_view pg_verifier) {
    auto pg = ScramVerifier::parse(pg_verifier);
    REQUIRE(pg);
    return ScramVerifier::from_password(password, pg->salt, pg->iterations).to_string();
}
}  // namespace

TEST_CASE("SASLprep leaves ASCII alone, control characters included") {
    CHECK(saslprep("pencil") == "pencil");
    CHECK(saslprep("") == "");
    CHECK(saslprep("a\x01\x7f b") == "a\x01\x7f b");
    // E'a\x01\x7f b'
    constexpr std::string_view pg =
        "SCRAM-SHA-256$4096:7MuuMyt6dpKzKiIAtqlRpg==$9f9f2d2eV6HcWeIOAuShZiYb66UPoTZWdbcQJ7me8VM=:"
        "UFg/K/5S5OORc/wQbVL603rGZWaTuuZcV2svtTkAP+0=";
    CHECK(derive_like("a\x01\x7f b", pg) == pg);
}

TEST_CASE("SASLprep maps non-ASCII spaces to a space, as PostgreSQL does") {
    CHECK(saslprep("pass\u00A0word") == "pass word");
    CHECK(saslprep("a\u3000b\u2003c") == "a b c");
    // E'pass\u00A0word'
    constexpr std::string_view pg =
        "SCRAM-SHA-256$4096:4CHVfxzHVp2T9D1Q/ZStBg==$HQdcWWeybj0SitDxdFsi6odanqSA5wVhjq+0SmmXBYw=:"
        "bms9wEQecHfvuZrsgLPoaAUecwUQcDASo2cEj52Tigg=";
    CHECK(derive_like("pass\u00A0word", pg) == pg);
    CHECK(derive_like("pass word", pg) == pg);
}

TEST_CASE("SASLprep drops characters commonly mapped to nothing, as PostgreSQL does") {
    CHECK(saslprep("soft\u00ADhyphen") == "softhyphen");
    CHECK(saslprep("a\u200Db\uFEFFc\uFE0F") == "abc");
    // E'soft\u00ADhyphen'
    constexpr std::string_view pg =
        "SCRAM-SHA-256$4096:t1VobUbxY/7oAzqzpNx2lg==$Z2B4pnHmbXVD1kWuKwlAFEjOjjtqZS/FXGBJ5/OXJ/s=:"
        "rDr2rStBdZMXmzkRKdNGCU/RBU6Z1lfy9YBGzuHcqrI=";
    CHECK(derive_like("soft\u00ADhyphen", pg) == pg);
}

TEST_CASE("SASLprep keeps ordinary non-ASCII text, as PostgreSQL does") {
    CHECK(saslprep("caf\u00E9") == "caf\u00E9");
    // E'caf\u00E9'
    constexpr std::string_view pg =
        "SCRAM-SHA-256$4096:UQPlkX2x+DxyBezoz6i4aQ==$1SToNqxulqdBPmimDZUUpoBP1hAuXk0l35n2jc0GmkQ=:"
        "Zevt64FW+Jw/6r4sFY36Dz9wZuoMz2/YJbf/9PjADtM=";
    CHECK(derive_like("caf\u00E9", pg) == pg);
}

TEST_CASE("SASLprep falls back to the raw bytes where PostgreSQL does") {
    // A prohibited control character: nothing is mapped, not even the NBSP.
    CHECK(saslprep("\u00A0\x01x") == "\u00A0\x01x");
    constexpr std::string_view pg_prohibited =  // E'\u00A0\x01x'
        "SCRAM-SHA-256$4096:E9X/dhHdC0WrAbdon75F7Q==$NeP7Uq0rqJlOhQ9/BlojS/yPYFoWyjNEKZzpqab5m7I=:"
        "krNKPtKzWJ2gTsnZkVxPMLAekWDHI3PkNf4XNWNsQus=";
    CHECK(derive_like("\u00A0\x01x", pg_prohibited) == pg_prohibited);

    // Mapped to nothing at all: an empty password is not allowed, so raw bytes.
    CHECK(saslprep("\u00AD") == "\u00AD");
    constexpr std::string_view pg_empty =  // E'\u00AD'
        "SCRAM-SHA-256$4096:eejOgLGcNjTjhAgJbcEqgg==$j7bFOs1H9n6ZNKsJE4L6dr3oqFaou070WF97ZUx3WNU=:"
        "AORoigx42eHquCHVITDPj2DiD/4u7XSG0I9PwJfP6Bw=";
    CHECK(derive_like("\u00AD", pg_empty) == pg_empty);

    // Not UTF-8 (set through a SQL_ASCII database): raw bytes.
    CHECK(saslprep("\xff\xfe"
                   "ab") ==
          "\xff\xfe"
          "ab");
    constexpr std::string_view pg_invalid =  // E'\xff\xfeab'
        "SCRAM-SHA-256$4096:t3VPWWKi4o8oHDncKzvTGQ==$ZS3POPU4URWq46+xjNZlxYPVY2NpMh2gcos1RJ/Rfak=:"
        "FKWh3jQqrxZuLg0BufVo4DHYNM+vc2qfuMsFnDn2Zxo=";
    CHECK(derive_like("\xff\xfe"
                      "ab",
                      pg_invalid) == pg_invalid);
}

TEST_CASE("SASLprep refuses malformed UTF-8, unassigned code points and mixed bidi text") {
    // Each of these comes back unchanged (PostgreSQL then hashes the raw bytes),
    // which shows by a mapped NBSP staying in place.
    for (std::string s : {
             std::string("\u00A0\xc3"),              // truncated sequence
             std::string("\u00A0\xc0\x80"),          // overlong NUL
             std::string("\u00A0\xe0\x80\x80"),      // overlong
             std::string("\u00A0\xed\xa0\x80"),      // surrogate
             std::string("\u00A0\xf4\x90\x80\x80"),  // above U+10FFFF
             std::string("\u00A0\x80"),              // lone continuation byte
             std::string("\u00A0\u0221"),            // unassigned in Unicode 3.2
             std::string("\u00A0\U0001F600"),        // emoji: unassigned in Unicode 3.2
             std::string("\u00A0\uE000"),            // private use
             std::string("\u00A0\u200E"),            // left-to-right mark
             std::string("\u05D0\u00A0a\u05D0"),     // RandALCat mixed with LCat
             std::string("\u05D0\u00A01"),           // RandALCat not at the end
         }) {
        CAPTURE(s);
        CHECK(saslprep(s) == s);
    }
    // Right-to-left text on its own is fine.
    CHECK(saslprep("\u05D0\u00A0\u05D1") == "\u05D0 \u05D1");
}

// PostgreSQL normalizes with NFKC: E'\uFB01x' (a ligature) is stored as "fix".
constexpr std::string_view pg_ligature =
    "SCRAM-SHA-256$4096:/ldzfFqoPxjaI8TtJTJVkw==$s7WQszJaZbYEcvYNN8v5gKW8WTpAydNIF7qRQDkOCIc=:"
    "1G568coprvRK/39KsfgiBv2ngQwcOpq7nwvkfT7F/PU=";

TEST_CASE("PostgreSQL stores a ligature password as its NFKC form") {
    CHECK(derive_like("fix", pg_ligature) == pg_ligature);
}

// pgmoat does not apply NFKC (see saslprep.cpp), so this password prepares
// differently from PostgreSQL. Recorded so that the gap stays visible: when NFKC
// is implemented, this check fails and should become CHECK(... == pg_ligature).
TEST_CASE("known gap: SASLprep does not apply NFKC") {
    CHECK(derive_like("\uFB01x", pg_ligature) != pg_ligature);
}
