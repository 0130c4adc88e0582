#include "pgmoat/config/config.h"
#include "pgmoat/common/config_error.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

using namespace pgmoat;
using namespace pgmoat::config;

namespace {
// Returns the ConfigError's "file:line:column: message" for a config text.
std::string error_of(const std::string& text) {
    try {
        parse_config(text, "/etc/pgmoat/pgmoat.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

constexpr const char* kValid = R"(
[server]
listen = "127.0.0.1:7432"
credentials = "credentials.toml"
startup_timeout = "5s"
max_message_size = "8MB"

[targets.dev]
host = "127.0.0.1"
port = 5433
database = "app"
user = "pgmoat"
password_env = "PGMOAT_TEST_PW"

[targets.prod]
host = "db.internal"
user = "pgmoat"
password_env = "PGMOAT_TEST_PW"
sslmode = "verify-full"
sslrootcert = "/etc/ssl/ca.crt"

[apps.orders-api]
targets = ["dev"]
)";
}  // namespace

TEST_CASE("a valid config resolves paths, targets and grants") {
    setenv("PGMOAT_TEST_PW", "s3cret", 1);
    Config c = parse_config(kValid, "/etc/pgmoat/pgmoat.toml");
    CHECK(c.server.listen_port == 7432);
    CHECK(c.credentials_file == "/etc/pgmoat/credentials.toml");
    CHECK(c.server.startup_timeout == std::chrono::milliseconds(5000));
    CHECK(c.server.max_message_bytes == 8u << 20);
    REQUIRE(c.find_target("dev"));
    CHECK(c.find_target("dev")->database == "app");
    CHECK(c.find_target("dev")->password == "s3cret");
    CHECK(c.find_target("prod")->database == "prod");  // defaults to the target name
    CHECK(c.find_target("prod")->sslmode == SslMode::verify_full);
    CHECK(c.find_app("orders-api")->may_use("dev"));
    CHECK_FALSE(c.find_app("orders-api")->may_use("prod"));
}

TEST_CASE("left out, forward_parameters passes on the parameters drivers set, and no others") {
    Config c = parse_config("[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n", "/etc/pgmoat.toml");
    CHECK(c.server.forward_parameters ==
          std::vector<std::string>{"application_name", "client_encoding", "DateStyle", "TimeZone", "extra_float_digits",
                                   "IntervalStyle", "lc_monetary", "lc_numeric", "lc_time", "geqo", "statement_timeout",
                                   "lock_timeout", "idle_in_transaction_session_timeout", "bytea_output",
                                   "client_min_messages"});
}

TEST_CASE("config errors name file, line, column and key") {
    setenv("PGMOAT_TEST_PW", "s3cret", 1);
    std::string base = kValid;
    CHECK(error_of(base + "[server2]\nx = 1\n").find("pgmoat.toml:24:2: unknown key \"server2\"") != std::string::npos);
    CHECK(error_of("[server]\ncredentials = \"c\"\nthreads = \"two\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n") ==
          "/etc/pgmoat/pgmoat.toml:3:11: server.threads: expected an integer, found a string");
    CHECK(error_of(
              "[server]\ncredentials = \"c\"\nstartup_timeout = \"10 parsecs\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n")
              .find(":3:19: server.startup_timeout: unknown duration unit \"parsecs\"") != std::string::npos);
    CHECK(error_of("[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\nsslmode=\"prefer\"\n")
              .find(":6:9: targets.a.sslmode: expected one of disable, require, verify-full") != std::string::npos);
    CHECK(error_of("[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\npassword=\"x\"\n")
              .find("use password_file or password_env") != std::string::npos);
    CHECK(error_of("[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n[apps.x]\ntargets=[\"b\"]\n")
              .find(":7:9: apps.x.targets: no target named \"b\"") != std::string::npos);
    CHECK(
        error_of(
            "[server]\ncredentials = \"c\"\nforward_parameters = [\"options\"]\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n")
            .find("\"options\" cannot be forwarded") != std::string::npos);
    CHECK(error_of("[server]\ncredentials = \"c\"\nlog_format = \"xml\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n")
              .find("pgmoat.toml:3:14: server.log_format: expected text or json") != std::string::npos);
    CHECK(error_of("[server\n").find("pgmoat.toml:1:") != std::string::npos);
    CHECK(error_of("[targets.a]\nhost=\"h\"\nuser=\"u\"\n").find("credentials is required") != std::string::npos);
    unsetenv("PGMOAT_TEST_PW_MISSING");
    CHECK(error_of("[server]\ncredentials = "
                   "\"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\npassword_env=\"PGMOAT_TEST_PW_MISSING\"\n")
              .find("environment variable PGMOAT_TEST_PW_MISSING is not set") != std::string::npos);
}

TEST_CASE("peers: numbered tables with a host, and this instance's peer_id among them") {
    std::string head = "[server]\ncredentials = \"c\"\npeer_id = 2\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n";
    auto c = parse_config(head + "[peers.1]\nhost = \"10.0.0.1\"\n[peers.2]\nhost = \"10.0.0.2\"\nport = 7000\n",
                          "/etc/pgmoat/pgmoat.toml");
    CHECK(c.server.peer_id == 2);
    REQUIRE(c.peers.size() == 2);
    CHECK(c.peers.at(1).port == 6432);
    CHECK(c.peers.at(2).host == "10.0.0.2");
    CHECK(c.peers.at(2).port == 7000);
    CHECK(error_of(head + "[peers.one]\nhost = \"h\"\n").find("peers are numbered 1 to 255") != std::string::npos);
    CHECK(error_of(head + "[peers.256]\nhost = \"h\"\n").find("peers are numbered 1 to 255") != std::string::npos);
    CHECK(error_of(head + "[peers.1]\nport = 1\n").find("host: is required") != std::string::npos);
    CHECK(error_of(head + "[peers.1]\nhost = \"h\"\n").find("peer_id = 2 has no [peers.2] table") != std::string::npos);
}

TEST_CASE("non-ASCII text is fine in strings and comments, an error elsewhere with its position") {
    setenv("PGMOAT_TEST_PW", "s3cret", 1);
    std::string ok = std::string("# café\n[server]\ncredentials = \"créd.toml\"\n[targets.a]\nhost=\"h\"\nuser='ü'\n") +
                     "password_env = \"PGMOAT_TEST_PW\"\n";
    CHECK(parse_config(ok, "/etc/pgmoat/pgmoat.toml").find_target("a")->user == "ü");
    CHECK(error_of("[server]\ncredentials = \"c\" \xc3\xa9\n") ==
          "/etc/pgmoat/pgmoat.toml:2:19: non-ASCII character outside a quoted string or comment (quote the key or "
          "value)");
}

TEST_CASE(
    "admin = true makes an app an admin of the console; it may have no targets; the name pgmoat is the console's") {
    std::string head = "[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n";
    auto c =
        parse_config(head + "[apps.ops]\nadmin = true\n[apps.web]\ntargets = [\"a\"]\n", "/etc/pgmoat/pgmoat.toml");
    CHECK(c.find_app("ops")->admin);
    CHECK(c.find_app("ops")->targets.empty());
    CHECK_FALSE(c.find_app("web")->admin);
    auto both = parse_config(head + "[apps.ops]\nadmin = true\ntargets = [\"a\"]\n", "/etc/pgmoat/pgmoat.toml");
    CHECK(both.find_app("ops")->may_use("a"));
    CHECK(error_of(head + "[apps.ops]\nadmin = \"yes\"\n").find("/etc/pgmoat/pgmoat.toml:7:9: ") == 0);
    CHECK(error_of(head + "[apps.ops]\nadmin = \"yes\"\n").find("admin") != std::string::npos);
    CHECK(error_of(head + "[apps.ops]\nadmin = false\n").find("is required: the targets") != std::string::npos);
    CHECK(error_of(head + "[apps.ops]\nadmin = false\n").find("or admin = true") != std::string::npos);
    auto named = error_of("[server]\ncredentials = \"c\"\n[targets.pgmoat]\nhost=\"h\"\nuser=\"u\"\n");
    CHECK(named.find("/etc/pgmoat/pgmoat.toml:3:") == 0);
    CHECK(named.find("the database name \"pgmoat\" opens the admin console") != std::string::npos);
}

TEST_CASE("[approvals] webhook: an http:// URL split into host, port and path; anything else named as wrong") {
    std::string head = "[server]\ncredentials = \"c\"\n[targets.a]\nhost=\"h\"\nuser=\"u\"\n";
    auto none = parse_config(head, "/etc/pgmoat/pgmoat.toml");
    CHECK(none.approvals.webhook_host.empty());
    auto c = parse_config(head +
                              "[approvals]\nwebhook = \"http://hooks.internal:8080/pgmoat/held?team=dba\"\n"
                              "webhook_timeout = \"2s\"\nwebhook_outcomes = false\n",
                          "/etc/pgmoat/pgmoat.toml");
    CHECK(c.approvals.webhook_host == "hooks.internal");
    CHECK(c.approvals.webhook_port == 8080);
    CHECK(c.approvals.webhook_path == "/pgmoat/held?team=dba");
    CHECK(c.approvals.webhook_timeout == std::chrono::milliseconds(2000));
    CHECK_FALSE(c.approvals.webhook_outcomes);

    auto url = [](std::string_view text) { return parse_http_url(text); };
    auto plain = std::get<HttpUrl>(url("http://10.1.2.3"));
    CHECK(plain.host == "10.1.2.3");
    CHECK(plain.port == 80);
    CHECK(plain.path == "/");
    auto v6 = std::get<HttpUrl>(url("http://[::1]:9000/x"));
    CHECK(v6.host == "::1");
    CHECK(v6.port == 9000);
    CHECK(v6.path == "/x");
    CHECK(std::get<HttpUrl>(url("http://[::1]/")).port == 80);
    CHECK(std::get<std::string>(url("https://h/")).find("https is not supported") != std::string::npos);
    CHECK(std::get<std::string>(url("ftp://h/")).find("is not an http:// URL") != std::string::npos);
    CHECK(std::get<std::string>(url("http://h:0/")).find("\"0\" is not a valid port") != std::string::npos);
    CHECK(std::get<std::string>(url("http://h:65536/")).find("is not a valid port") != std::string::npos);
    CHECK(std::get<std::string>(url("http://h:80x/")).find("is not a valid port") != std::string::npos);
    CHECK(std::get<std::string>(url("http:///path")).find("names no host") != std::string::npos);
    CHECK(std::get<std::string>(url("http://:80/")).find("names no host") != std::string::npos);
    CHECK(std::get<std::string>(url("http://u:p@h/")).find("user:password@") != std::string::npos);
    CHECK(std::get<std::string>(url("http://h/a b")).find("spaces or control") != std::string::npos);
    CHECK(std::get<std::string>(url("http://h/a\r\nX: y")).find("spaces or control") != std::string::npos);

    CHECK(
        error_of(head + "[approvals]\nwebhook = \"https://h/\"\n").find("approvals.webhook: https is not supported") !=
        std::string::npos);
    CHECK(error_of(head + "[approvals]\nwebhook_timeout = \"10ms\"\n").find("between 100ms and 60s") !=
          std::string::npos);
    CHECK(error_of(head + "[approvals]\nwebhok = \"http://h/\"\n").find("unknown key \"approvals.webhok\"") !=
          std::string::npos);
}
