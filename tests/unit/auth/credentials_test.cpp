// The credentials file: what loads, and where each mistake is reported.
#include "pgmoat/auth/credentials.h"

#include "pgmoat/common/config_error.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace pgmoat::auth;

namespace {
constexpr std::string_view verifier_a =
    "SCRAM-SHA-256$4096:ZOAnVe5BW6vX5E3fxtcQeQ==$kUzSFqHBxNU1jJHz8lRHV4lt5yXv0Dq9SpcRrFdsxBg=:"
    "wwonNxP5ObTuwyv6ZlHdm+wUBuJhCsAPPdsJOLMU8EY=";
constexpr std::string_view verifier_b =
    "SCRAM-SHA-256$4096:4CHVfxzHVp2T9D1Q/ZStBg==$HQdcWWeybj0SitDxdFsi6odanqSA5wVhjq+0SmmXBYw=:"
    "bms9wEQecHfvuZrsgLPoaAUecwUQcDASo2cEj52Tigg=";

// A credentials file in a fresh directory, removed afterwards.
struct TempFile {
    std::string dir;
    std::string path;

    explicit TempFile(const std::string& content, mode_t mode = 0600) {
        char tmpl[] = "/tmp/pgmoat-auth-test-XXXXXX";
        REQUIRE(mkdtemp(tmpl));
        dir = tmpl;
        path = dir + "/credentials.toml";
        std::ofstream(path) << content;
        chmod(path.c_str(), mode);
    }
    ~TempFile() {
        std::remove(path.c_str());
        rmdir(dir.c_str());
    }
};

// Loads `content` and returns the error, which the test expects.
pgmoat::ConfigError load_error(const std::string& content) {
    TempFile file(content);
    try {
        load_credentials(file.path);
    } catch (const pgmoat::ConfigError& e) {
        CHECK(e.file() == file.path);
        return e;
    }
    FAIL("no error for:\n" << content);
    return pgmoat::ConfigError("", 0, 0, "");
}

// Runs `f` with stderr going to a string.
template <typename F>
std::string capture_stderr(F&& f) {
    std::fflush(stderr);
    char tmpl[] = "/tmp/pgmoat-auth-stderr-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    f();
    dup2(saved, 2);
    close(saved);
    std::ifstream in(tmpl);
    std::stringstream text;
    text << in.rdbuf();
    close(fd);
    std::remove(tmpl);
    return text.str();
}
}  // namespace

TEST_CASE("a valid credentials file maps apps to their verifiers") {
    TempFile file("# issued by pgmoat passwd\n[apps]\norders-api = \"" + std::string(verifier_a) +
                  "\"\n\"reporting.v2\" = '" + std::string(verifier_b) + "'\nA_b-9 = \"" + std::string(verifier_a) +
                  "\"\n");
    auto creds = load_credentials(file.path);
    CHECK(creds.file == file.path);
    CHECK(creds.verifiers.size() == 3);
    REQUIRE(creds.find("orders-api"));
    CHECK(creds.find("orders-api")->to_string() == verifier_a);
    REQUIRE(creds.find("reporting.v2"));
    CHECK(creds.find("reporting.v2")->to_string() == verifier_b);
    CHECK(creds.find("A_b-9"));
    CHECK_FALSE(creds.find("orders"));
    CHECK_FALSE(creds.find("ORDERS-API"));
    CHECK_FALSE(creds.find(""));
}

TEST_CASE("an empty [apps] table is a valid file with no apps") {
    TempFile file("[apps]\n");
    CHECK(load_credentials(file.path).verifiers.empty());
}

TEST_CASE("a TOML syntax error names its line") {
    auto e = load_error("[apps]\norders = \"" + std::string(verifier_a) + "\"\nbroken = \n");
    CHECK(e.line() == 3);
    e = load_error("[apps]\norders = \"unterminated\n");
    CHECK(e.line() == 2);
    e = load_error("[apps]\na = \"" + std::string(verifier_a) + "\"\na = \"" + std::string(verifier_a) + "\"\n");
    CHECK(e.line() == 3);
}

TEST_CASE("an unknown top-level key names its line") {
    auto e = load_error("[apps]\norders = \"" + std::string(verifier_a) + "\"\n\n[users]\nx = \"y\"\n");
    CHECK(e.line() == 4);
    CHECK(e.message().find("users") != std::string::npos);
    e = load_error("password = \"secret\"\n[apps]\n");
    CHECK(e.line() == 1);
}

TEST_CASE("a file without [apps] is an error") {
    auto e = load_error("# nothing here\n");
    CHECK(e.message().find("[apps]") != std::string::npos);
    e = load_error("apps = \"x\"\n");
    CHECK(e.line() == 1);
}

TEST_CASE("a value that is not a string names its line") {
    auto e = load_error("[apps]\nok = \"" + std::string(verifier_a) + "\"\norders = 5\n");
    CHECK(e.line() == 3);
    CHECK(e.message().find("orders") != std::string::npos);
    e = load_error("[apps]\nok = \"" + std::string(verifier_a) + "\"\n[apps.nested]\nx = \"y\"\n");
    CHECK(e.line() == 3);
}

TEST_CASE("a value that is not a verifier names its line, the format and `pgmoat passwd`") {
    for (std::string bad : {std::string("hunter2"), std::string("md5d18bf5f8eddaae3aed1d69b23a252748"),
                            std::string(verifier_a.substr(0, verifier_a.size() - 5)), std::string()}) {
        CAPTURE(bad);
        auto e = load_error("[apps]\n\n# the orders service\norders = \"" + bad + "\"\n");
        CHECK(e.line() == 4);
        CHECK(e.message().find("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>") != std::string::npos);
        CHECK(e.message().find("pgmoat passwd") != std::string::npos);
        CHECK(e.message().find("orders") != std::string::npos);
        if (!bad.empty()) CHECK(std::string(e.what()).find(bad) == std::string::npos);  // never echoed
    }
}

TEST_CASE("app names outside [A-Za-z0-9_.-] name their line") {
    for (std::string key : {"\"\"", "\"orders api\"", "\"na\u00efve\"", "\"a/b\"", "\"a:b\"", "\"a$b\""}) {
        CAPTURE(key);
        auto e = load_error("[apps]\nok = \"" + std::string(verifier_a) + "\"\n" + key + " = \"" +
                            std::string(verifier_a) + "\"\n");
        CHECK(e.line() == 3);
        CHECK(e.message().find("app name") != std::string::npos);
    }
}

TEST_CASE("a credentials file others can read is loaded with a warning") {
    TempFile exposed("[apps]\n", 0644);
    std::string log = capture_stderr([&] { load_credentials(exposed.path); });
    CHECK(log.find("WARNING") != std::string::npos);
    CHECK(log.find(exposed.path) != std::string::npos);

    TempFile private_file("[apps]\n", 0600);
    CHECK(capture_stderr([&] { load_credentials(private_file.path); }).empty());
}

TEST_CASE("a missing credentials file is an error") {
    CHECK_THROWS_AS(load_credentials("/nonexistent/pgmoat/credentials.toml"), pgmoat::ConfigError);
}
