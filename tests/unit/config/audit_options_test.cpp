#include "../audit/audit_test_util.h"

#include "pgmoat/config/config.h"

#include "pgmoat/common/config_error.h"
#include "pgmoat/common/toml_reader.h"

#include <doctest/doctest.h>

using namespace audit_test;
using namespace std::chrono_literals;

namespace {

Options read(const std::string& text, const std::string& base_dir = "/etc/pgmoat") {
    toml::table doc = pgmoat::parse_toml(text, "/etc/pgmoat/pgmoat.toml");
    pgmoat::TomlTable root(doc, "/etc/pgmoat/pgmoat.toml");
    auto audit = root.table("audit");
    REQUIRE(audit);
    return pgmoat::config::read_audit_options(*audit, base_dir);
}

std::string error_of(const std::string& text) {
    try {
        read(text);
    } catch (const pgmoat::ConfigError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("[audit] defaults: enabled, next to the config file, fsync every 100ms, block") {
    Options o = read("[audit]\n");
    CHECK(o.enabled);
    CHECK(o.path == "/etc/pgmoat/pgmoat-audit.jsonl");
    CHECK(o.fsync == FsyncMode::interval);
    CHECK(o.fsync_interval == 100ms);
    CHECK(o.failure_policy == FailurePolicy::block);
    CHECK(o.queue_records == 65536);
    CHECK(o.queue_bytes == 64u << 20);
    CHECK_FALSE(o.hmac_key);
    CHECK(default_options("/srv").path == "/srv/pgmoat-audit.jsonl");
}

TEST_CASE("[audit] reads every key") {
    TempDir d;
    write_file(d.file("audit.key"), "k3y-k3y-k3y-k3y-k3y-k3y\n");
    toml::table doc = pgmoat::parse_toml(R"(
[audit]
enabled = false
path = "logs/audit.jsonl"
fsync = "every_record"
failure_policy = "continue"
queue_records = 1000
queue_bytes = "8MB"
hmac_key_file = "audit.key"
)",
                                         d.file("pgmoat.toml"));
    pgmoat::TomlTable root(doc, d.file("pgmoat.toml"));
    auto audit = root.table("audit");
    Options o = pgmoat::config::read_audit_options(*audit, d.path().string());
    CHECK_FALSE(o.enabled);
    CHECK(o.path == d.file("logs/audit.jsonl"));
    CHECK(o.fsync == FsyncMode::every_record);
    CHECK(o.failure_policy == FailurePolicy::continue_);
    CHECK(o.queue_records == 1000);
    CHECK(o.queue_bytes == 8u << 20);
    CHECK(o.hmac_key_file == d.file("audit.key"));
    CHECK(o.hmac_key == "k3y-k3y-k3y-k3y-k3y-k3y");

    CHECK(read("[audit]\npath = \"-\"\n").path == "-");
    CHECK(read("[audit]\npath = \"/var/log/pgmoat/audit.jsonl\"\n").path == "/var/log/pgmoat/audit.jsonl");
    CHECK(read("[audit]\nfsync = \"interval\"\nfsync_interval = \"1s\"\n").fsync_interval == 1000ms);
}

TEST_CASE("[audit] errors name file, line, column and key") {
    CHECK(error_of("[audit]\nfsync = \"always\"\n") ==
          "/etc/pgmoat/pgmoat.toml:2:9: audit.fsync: expected every_record or interval, found \"always\"");
    CHECK(error_of("[audit]\nfsync = \"every_record\"\nfsync_interval = \"10ms\"\n") ==
          "/etc/pgmoat/pgmoat.toml:3:18: audit.fsync_interval: applies only with fsync = \"interval\"");
    CHECK(error_of("[audit]\nfsync_interval = \"2m\"\n")
              .find(":2:18: audit.fsync_interval: must be between 1ms and 60s") != std::string::npos);
    CHECK(error_of("[audit]\nfsync_interval = 0\n").find("must be between 1ms and 60s") != std::string::npos);
    CHECK(error_of("[audit]\nfailure_policy = \"ignore\"\n")
              .find(":2:18: audit.failure_policy: expected block or continue, found \"ignore\"") != std::string::npos);
    CHECK(error_of("[audit]\nqueue_records = 1\n").find(":2:17: audit.queue_records: 1 is out of range") !=
          std::string::npos);
    CHECK(error_of("[audit]\nqueue_bytes = \"1kB\"\n").find("audit.queue_bytes: must be between 64kB and 16GB") !=
          std::string::npos);
    CHECK(error_of("[audit]\npath = \"\"\n").find(":2:8: audit.path: must not be empty") != std::string::npos);
    CHECK(error_of("[audit]\nenabled = \"yes\"\n").find("audit.enabled: expected true or false") != std::string::npos);
    CHECK(error_of("[audit]\nfsynk = \"interval\"\n") == "/etc/pgmoat/pgmoat.toml:2:1: unknown key \"audit.fsynk\"");
    CHECK(error_of("[audit]\nhmac_key_file = \"/nonexistent/audit.key\"\n")
              .find("/nonexistent/audit.key: cannot read audit HMAC key file") != std::string::npos);
}

TEST_CASE("[audit] a short HMAC key is refused") {
    TempDir d;
    write_file(d.file("audit.key"), "short\n");
    toml::table doc = pgmoat::parse_toml("[audit]\nhmac_key_file = \"audit.key\"\n", d.file("pgmoat.toml"));
    pgmoat::TomlTable root(doc, d.file("pgmoat.toml"));
    auto audit = root.table("audit");
    CHECK_THROWS_WITH_AS(pgmoat::config::read_audit_options(*audit, d.path().string()),
                         doctest::Contains("the key is too short"), pgmoat::ConfigError);
}
