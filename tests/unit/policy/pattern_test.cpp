#include "pgmoat/policy/pattern.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat::policy;

TEST_CASE("globs match whole identifiers with * and ?") {
    CHECK(glob_match("pg_sleep*", "pg_sleep"));
    CHECK(glob_match("pg_sleep*", "pg_sleep_for"));
    CHECK_FALSE(glob_match("pg_sleep*", "my_pg_sleep"));
    CHECK(glob_match("*_to_xml", "query_to_xml"));
    CHECK_FALSE(glob_match("*_to_xml", "query_to_xmlschema"));
    CHECK(glob_match("a?c", "abc"));
    CHECK_FALSE(glob_match("a?c", "ac"));
    CHECK(glob_match("*", ""));
    // A pathological pattern stays fast (no exponential backtracking).
    CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

TEST_CASE("qualified patterns fold case like PostgreSQL and keep quoted names exact") {
    std::string err;
    auto p = QualifiedPattern::parse("Public.Users", err);
    REQUIRE(p);
    CHECK(p->schema == "public");
    CHECK(p->name == "users");
    auto q = QualifiedPattern::parse("\"Audit\".\"Events\"", err);
    REQUIRE(q);
    CHECK(q->schema == "Audit");
    CHECK(q->name == "Events");
    CHECK_FALSE(QualifiedPattern::parse("a.b.c", err));
    CHECK_FALSE(QualifiedPattern::parse("", err));
    CHECK_FALSE(QualifiedPattern::parse("\"open", err));
}

TEST_CASE("unqualified names match deny patterns in any schema, allow patterns only in public") {
    std::string err;
    auto p = *QualifiedPattern::parse("billing.invoices", err);
    CHECK(p.matches("billing", "invoices", false));
    CHECK_FALSE(p.matches("public", "invoices", false));
    CHECK(p.matches("", "invoices", true));         // deny: search_path could reach billing
    CHECK_FALSE(p.matches("", "invoices", false));  // allow: only public is assumed
    auto pub = *QualifiedPattern::parse("public.*", err);
    CHECK(pub.matches("", "orders", false));
    auto any = *QualifiedPattern::parse("users", err);
    CHECK(any.matches("crm", "users", false));
    CHECK(any.matches("", "users", false));
}

TEST_CASE("CIDR ranges hold IPv4 and IPv6 addresses") {
    auto net = Cidr::parse("10.1.0.0/16");
    REQUIRE(net);
    CHECK(net->contains("10.1.200.3"));
    CHECK_FALSE(net->contains("10.2.0.1"));
    CHECK_FALSE(net->contains("not an address"));
    auto host = Cidr::parse("127.0.0.1");
    REQUIRE(host);
    CHECK(host->contains("127.0.0.1"));
    CHECK_FALSE(host->contains("127.0.0.2"));
    auto v6 = Cidr::parse("fd00::/8");
    REQUIRE(v6);
    CHECK(v6->contains("fd12::1"));
    CHECK_FALSE(v6->contains("10.0.0.1"));
    CHECK_FALSE(Cidr::parse("10.1.0.1/16"));  // host bits set: a typo
    CHECK_FALSE(Cidr::parse("10.0.0.0/33"));
    CHECK_FALSE(Cidr::parse("300.0.0.0/8"));
}
