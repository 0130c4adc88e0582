// What a statement leaves on its server connection in transaction pooling, and
// which plain SETs pgmoat can apply again on another server connection: the SQL
// it replays must give the server the value the client's own SET gave it.
#include "pgmoat/session/session_state.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

using namespace pgmoat;

namespace {
std::optional<session::SessionState> state_of(std::string_view sql) {
    auto a = sql::analyze(sql, {});
    REQUIRE(a.statements.size() == 1);
    return session::session_state(a.statements[0]);
}

std::string replay_of(std::string_view sql) {
    auto s = state_of(sql);
    REQUIRE(s);
    CHECK(s->reason == "set");
    return s->replay.value_or("(pinned)");
}
}  // namespace

TEST_CASE("a plain SET of constants is replayed with its values as the grammar read them") {
    CHECK(replay_of("SET extra_float_digits = 3") == "3");
    CHECK(replay_of("SET extra_float_digits = -2") == "-2");
    CHECK(replay_of("SET SESSION extra_float_digits TO 0") == "0");
    CHECK(replay_of("SET random_page_cost = 1.5") == "1.5");
    CHECK(replay_of("SET work_mem = '64MB'") == "'64MB'");
    CHECK(replay_of("SET work_mem = 65536") == "65536");
    CHECK(replay_of("SET application_name = 'it''s'") == "'it''s'");
    CHECK(replay_of("SET application_name = E'tab\\there'") == "'tab\there'");
    CHECK(replay_of("SET enable_seqscan = off") == "'off'");
    CHECK(replay_of("SET enable_seqscan TO true") == "'true'");
    // A bare word and a quoted identifier are string constants in the tree:
    // search_path quotes each as an identifier again, whichever was written.
    CHECK(replay_of("SET search_path TO app, \"Mixed Case\", public") == "'app', 'Mixed Case', 'public'");
    CHECK(replay_of("SET TIME ZONE 'UTC'") == "'UTC'");
    CHECK(replay_of("SET SCHEMA 'app'") == "'app'");
    CHECK(replay_of("SET datestyle TO iso, mdy") == "'iso', 'mdy'");
}

TEST_CASE("what must stay on its own server connection is pinned, not replayed") {
    CHECK(replay_of("SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE") == "(pinned)");
    CHECK(replay_of("SET ROLE NONE") == "(pinned)");
    CHECK(replay_of("SET SESSION AUTHORIZATION alice") == "(pinned)");
    CHECK(replay_of("SET client_encoding TO 'LATIN1'") == "(pinned)");
    CHECK(replay_of("SET NAMES 'LATIN1'") == "(pinned)");
    CHECK(replay_of("SET standard_conforming_strings = off") == "(pinned)");
    CHECK(replay_of("SET search_path FROM CURRENT") == "(pinned)");
}

TEST_CASE("SET LOCAL and SET TRANSACTION last only for their transaction; RESET is refused") {
    CHECK_FALSE(state_of("SET LOCAL work_mem = '1MB'"));
    CHECK_FALSE(state_of("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"));
    auto reset = state_of("RESET work_mem");
    REQUIRE(reset);
    CHECK(reset->never_pinned);
    CHECK_FALSE(reset->replay);
    auto to_default = state_of("SET work_mem TO DEFAULT");
    REQUIRE(to_default);
    CHECK(to_default->never_pinned);
    CHECK_FALSE(to_default->replay);
}
