#include "pgmoat/session/startup_options.h"

#include <doctest/doctest.h>

using namespace pgmoat::session;
using Settings = std::vector<std::pair<std::string, std::string>>;

TEST_CASE("options: -c name=value and --name=value, as pg_regress and PGOPTIONS write them") {
    CHECK(parse_startup_options("-c intervalstyle=postgres_verbose").settings ==
          Settings{{"intervalstyle", "postgres_verbose"}});
    auto o = parse_startup_options("  -cgeqo=off\t--statement-timeout=5s -c work_mem=64MB  ");
    CHECK(o.error.empty());
    CHECK(o.settings == Settings{{"geqo", "off"}, {"statement_timeout", "5s"}, {"work_mem", "64MB"}});
    CHECK(parse_startup_options("").settings.empty());
}

TEST_CASE("options: a backslash escapes white space and itself, as in PostgreSQL") {
    CHECK(parse_startup_options("-c datestyle=Postgres,\\ MDY").settings == Settings{{"datestyle", "Postgres, MDY"}});
    CHECK(parse_startup_options("-c application_name=a\\\\b").settings == Settings{{"application_name", "a\\b"}});
    CHECK(parse_startup_options("-c application_name=x\\").settings == Settings{{"application_name", "x"}});
}

TEST_CASE("options: what is not a setting is an error naming it") {
    auto word = parse_startup_options("x");
    CHECK(word.error == "invalid command-line argument for server process: x");
    CHECK_FALSE(word.unsupported);
    CHECK(parse_startup_options("-c").error == "-c requires a value");
    CHECK(parse_startup_options("-c geqo").error == "-c geqo requires a value");
    CHECK(parse_startup_options("--geqo").error == "--geqo requires a value");
    CHECK(parse_startup_options("-c =x").error == "-c =x requires a value");
    auto other = parse_startup_options("-c geqo=on -B 100");
    CHECK(other.unsupported);
    CHECK(other.error == "the server switch \"-B\"");
}
