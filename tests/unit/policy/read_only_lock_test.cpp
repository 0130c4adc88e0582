// The second lock: every statement that could make a read-only identity's server
// session or transaction writable is found, and what cannot is left alone.
#include "pgmoat/policy/read_only_lock.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;

namespace {
std::optional<policy::ReadOnlyBreach> breach(const std::string& sql) {
    auto a = sql::analyze(sql, {});
    REQUIRE(a.ok());
    for (const auto& st : a.statements)
        if (auto b = policy::read_only_breach(st, sql)) return b;
    return std::nullopt;
}
}  // namespace

TEST_CASE("statements that turn the read-only lock off are found") {
    for (std::string sql : {
             "SET default_transaction_read_only = off",
             "SET default_transaction_read_only TO false",
             "SET default_transaction_read_only = 0",
             "SET default_transaction_read_only = 'no'",
             "set DEFAULT_TRANSACTION_READ_ONLY = of",
             "SET SESSION default_transaction_read_only = off",
             "SET LOCAL default_transaction_read_only = off",
             "SET transaction_read_only = off",
             "SET LOCAL transaction_read_only TO 'false'",
             "SET TRANSACTION READ WRITE",
             "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE",
             "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
             "BEGIN READ WRITE",
             "begin isolation level repeatable read read write",
             "START TRANSACTION READ WRITE",
             "START TRANSACTION READ WRITE, ISOLATION LEVEL SERIALIZABLE",
             "BEGIN DEFERRABLE, READ WRITE",
             "SELECT set_config('default_transaction_read_only', 'off', false)",
             "SELECT set_config('transaction_read_only', 'off', true)",
             "SELECT pg_catalog.set_config('DEFAULT_TRANSACTION_READ_ONLY', 'false', false)",
             "SELECT set_config($1, $2, false)",
             "SELECT set_config('default_transaction_read_only', $1, false)",
             "SELECT set_config('default_transaction_read_only', 'o' || 'ff', false)",
             "SELECT 1 FROM (SELECT set_config(name, 'off', false) FROM pg_settings) s",
             "ALTER ROLE CURRENT_USER SET default_transaction_read_only = off",
             "ALTER DATABASE app SET default_transaction_read_only = off",
             "ALTER SYSTEM SET default_transaction_read_only = off",
             "ALTER ROLE CURRENT_USER RESET default_transaction_read_only",
         }) {
        CAPTURE(sql);
        CHECK(breach(sql).has_value());
    }
}

TEST_CASE("statements that keep it on, read it, or return to the pinned start pass") {
    for (std::string sql : {
             "SET default_transaction_read_only = on",
             "SET default_transaction_read_only = true",
             "SET default_transaction_read_only TO DEFAULT",
             "RESET default_transaction_read_only",
             "RESET ALL",
             "DISCARD ALL",
             "SHOW default_transaction_read_only",
             "SHOW transaction_read_only",
             "BEGIN",
             "BEGIN READ ONLY",
             "BEGIN ISOLATION LEVEL SERIALIZABLE",
             "BEGIN NOT DEFERRABLE",
             "START TRANSACTION ISOLATION LEVEL READ COMMITTED",
             "SET TRANSACTION READ ONLY",
             "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
             "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
             "SELECT set_config('application_name', $1, false)",
             "SELECT set_config('default_transaction_read_only', 'on', false)",
             "SET statement_timeout = '5s'",
             "SELECT 'READ WRITE'",
         }) {
        CAPTURE(sql);
        CHECK_FALSE(breach(sql).has_value());
    }
}

TEST_CASE("values read as PostgreSQL reads a boolean") {
    CHECK(policy::reads_as_on("on"));
    CHECK(policy::reads_as_on("ON"));
    CHECK(policy::reads_as_on("t"));
    CHECK(policy::reads_as_on("tr"));
    CHECK(policy::reads_as_on("y"));
    CHECK(policy::reads_as_on("1"));
    CHECK(policy::reads_as_on(" true "));
    CHECK_FALSE(policy::reads_as_on("o"));  // ambiguous in PostgreSQL: refused there too
    CHECK_FALSE(policy::reads_as_on("off"));
    CHECK_FALSE(policy::reads_as_on("0"));
    CHECK_FALSE(policy::reads_as_on(""));
    CHECK_FALSE(policy::reads_as_on("truex"));
}
