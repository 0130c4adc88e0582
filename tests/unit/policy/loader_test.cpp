#include "pgmoat/policy/loader.h"
#include "pgmoat/common/config_error.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace pgmoat;
using namespace pgmoat::policy;
namespace fs = std::filesystem;

namespace {
// A policy directory in a temp dir with the shipped policies plus test files.
struct PolicyDir {
    fs::path dir;
    PolicyDir() {
        dir = fs::temp_directory_path() /
              ("pgmoat-policy-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(dir);
        for (const auto& e : fs::directory_iterator(fs::path(PGMOAT_TEST_DATA) / ".." / ".." / "policies"))
            fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::recursive);
    }
    ~PolicyDir() { fs::remove_all(dir); }
    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return (dir / name).string();
    }
    std::string error() {
        try {
            load_policy_dir(dir.string());
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    }
    static inline int counter = 0;
};
}  // namespace

TEST_CASE("the shipped policies load, with baseline as the default") {
    PolicyDir d;
    auto set = load_policy_dir(d.dir.string());
    REQUIRE(set.default_policy);
    CHECK(set.default_policy->name == "baseline");
    CHECK(set.version.size() == 12);
    CHECK(set.policies.size() == 5);
    // Highest priority first.
    CHECK(set.policies.front()->name == "agent");
}

TEST_CASE("policy selection: applies_to, priority, and the default for everyone else") {
    PolicyDir d;
    auto set = load_policy_dir(d.dir.string());
    CHECK(set.select({"analyst-jane", "prod", "psql", "10.0.0.1"})->name == "readonly-analyst");
    CHECK(set.select({"migrator", "dev", "", "10.0.0.1"})->name == "migrations");
    // The migrator on prod matches no policy's applies_to: it gets the baseline.
    CHECK(set.select({"migrator", "prod", "", "10.0.0.1"})->name == "baseline");
    CHECK(set.select({"some-new-app", "dev", "", "10.0.0.1"})->name == "baseline");
    // A person's identity, by its naming convention, on any target.
    CHECK(set.select({"person-alice", "prod", "psql", "10.0.0.1"})->name == "people");
    CHECK(set.select({"alice", "prod", "psql", "10.0.0.1"})->name == "baseline");
}

TEST_CASE("extends inherits every rule the child does not set") {
    PolicyDir d;
    auto set = load_policy_dir(d.dir.string());
    auto analyst = set.select({"metabase", "prod", "", ""});
    CHECK(analyst->name == "readonly-analyst");
    CHECK(analyst->max_rows == 10000);
    CHECK(!analyst->function_deny.empty());  // from baseline
    CHECK(analyst->tautologies);
    CHECK(analyst->column_deny.size() == 4);
}

TEST_CASE("policy errors name file, line and the problem") {
    SUBCASE("unknown key") {
        PolicyDir d;
        d.write("x.toml", "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n[limits]\nmax_rowz = 5\n");
        CHECK(d.error().find("x.toml:6:1: unknown key \"limits.max_rowz\"") != std::string::npos);
    }
    SUBCASE("unknown statement kind") {
        PolicyDir d;
        d.write("x.toml",
                "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n[statements]\nallow = [\"selekt\"]\n");
        CHECK(d.error().find("x.toml:6:9: statements.allow: \"selekt\" is neither a statement kind") !=
              std::string::npos);
    }
    SUBCASE("missing parent") {
        PolicyDir d;
        d.write("x.toml", "[policy]\nextends = \"basline\"\n[applies_to]\napps = [\"x\"]\n");
        CHECK(d.error().find("extends \"basline\": no policy has that name") != std::string::npos);
    }
    SUBCASE("a cycle") {
        PolicyDir d;
        d.write("a.toml", "[policy]\nextends = \"b\"\n[applies_to]\napps = [\"x\"]\n");
        d.write("b.toml", "[policy]\nextends = \"a\"\n[applies_to]\napps = [\"y\"]\n");
        CHECK(d.error().find("through a cycle") != std::string::npos);
    }
    SUBCASE("two defaults") {
        PolicyDir d;
        d.write("x.toml", "[policy]\ndefault = true\n");
        CHECK(d.error().find("both marked default = true") != std::string::npos);
    }
    SUBCASE("no default") {
        PolicyDir d;
        std::vector<fs::path> shipped(fs::directory_iterator(d.dir), fs::directory_iterator{});
        for (const auto& p : shipped) fs::remove_all(p);
        d.write("x.toml", "[policy]\n[applies_to]\napps = [\"x\"]\n");
        CHECK(d.error().find("no policy is marked default = true") != std::string::npos);
    }
    SUBCASE("a policy for nobody") {
        PolicyDir d;
        d.write("x.toml", "[policy]\nextends = \"baseline\"\n");
        CHECK(d.error().find("needs an [applies_to] table") != std::string::npos);
    }
    SUBCASE("bad CIDR, bad fingerprint, TOML syntax") {
        PolicyDir d;
        d.write("x.toml", "[policy]\nextends = \"baseline\"\n[applies_to]\nclient_addresses = [\"10.0.0.1/8\"]\n");
        CHECK(d.error().find("x.toml:4:20: applies_to.client_addresses") != std::string::npos);
        d.write("x.toml",
                "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n[[parameters.approved]]\nfingerprint "
                "= \"xyz\"\n");
        CHECK(d.error().find("is not a fingerprint") != std::string::npos);
        d.write("x.toml", "[policy\n");
        CHECK(d.error().find("x.toml:1:") != std::string::npos);
    }
}

TEST_CASE("check reports an error for each broken file") {
    PolicyDir d;
    auto a = d.write("a.toml", "[policy\n");
    auto b = d.write("b.toml", "[limits]\nmax_rows = 1\n");
    auto errors = check_policy_files({a, b, (d.dir / "baseline.toml").string()});
    REQUIRE(errors.size() == 2);
    CHECK(std::string(errors[0].what()).find("a.toml:1:") != std::string::npos);
    CHECK(std::string(errors[1].what()).find("b.toml:1:1: a policy file starts with a [policy] table") !=
          std::string::npos);
}

TEST_CASE("the version changes with any file's content") {
    PolicyDir d;
    auto v1 = load_policy_dir(d.dir.string()).version;
    d.write("x.toml", "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"x\"]\n");
    auto v2 = load_policy_dir(d.dir.string()).version;
    CHECK(v1 != v2);
    CHECK(load_policy_dir(d.dir.string()).version == v2);
}

TEST_CASE("the shipped baseline pins generous limits; migrations lift only statement_timeout") {
    PolicyDir d;
    auto set = load_policy_dir(d.dir.string());
    const auto& base = *set.default_policy;
    REQUIRE(base.setting_limit("statement_timeout"));
    CHECK(base.setting_limit("statement_timeout")->base_value == 120000);
    CHECK(base.setting_limit("idle_in_transaction_session_timeout")->base_value == 300000);
    CHECK(base.setting_limit("lock_timeout")->base_value == 30000);
    CHECK(base.setting_limit("work_mem")->base_value == 65536);
    // Only superusers (or roles granted it) may set temp_file_limit: not pinned by default.
    CHECK(base.setting_limit("temp_file_limit") == nullptr);
    auto migrations = set.select({"migrator", "dev", "", "10.0.0.1"});
    CHECK(migrations->setting_limit("statement_timeout") == nullptr);
    CHECK(migrations->setting_limit("lock_timeout")->base_value == 30000);
    CHECK(migrations->setting_limits.size() == base.setting_limits.size() - 1);
}

TEST_CASE("applies_to kinds names only the kinds pgmoat.toml has") {
    PolicyDir d;
    d.write("robots.toml", "[policy]\nextends = \"baseline\"\n[applies_to]\nkinds = [\"robot\"]\n");
    CHECK_THROWS_WITH(policy::load_policy_dir(d.dir.string()),
                      doctest::Contains("\"robot\": expected app, agent or person"));
}
