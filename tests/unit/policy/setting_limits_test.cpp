#include "pgmoat/policy/setting_limits.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/policy/loader.h"

#include <doctest/doctest.h>

#include <climits>
#include <filesystem>
#include <fstream>

using namespace pgmoat;
using namespace pgmoat::policy;

TEST_CASE("setting values read as PostgreSQL's parse_int reads them") {
    // Plain numbers are in the base unit.
    CHECK(setting_base_value("statement_timeout", "5000") == 5000);
    CHECK(setting_base_value("work_mem", "4096") == 4096);
    // Units, with optional white space around them; case matters.
    CHECK(setting_base_value("statement_timeout", "5s") == 5000);
    CHECK(setting_base_value("statement_timeout", " 2 min ") == 120000);
    CHECK(setting_base_value("statement_timeout", "1h") == 3600000);
    CHECK(setting_base_value("statement_timeout", "1d") == 86400000);
    CHECK(setting_base_value("statement_timeout", "1500us") == 2);  // 1.5 ms rounds to even
    CHECK(setting_base_value("statement_timeout", "5S") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "5 sec") == std::nullopt);
    CHECK(setting_base_value("work_mem", "64MB") == 65536);
    CHECK(setting_base_value("work_mem", "1GB") == 1048576);
    CHECK(setting_base_value("work_mem", "64mb") == std::nullopt);
    CHECK(setting_base_value("work_mem", "5s") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "64MB") == std::nullopt);
    // C's integer notation: octal and hex are read as PostgreSQL reads them.
    CHECK(setting_base_value("statement_timeout", "010") == 8);
    CHECK(setting_base_value("statement_timeout", "0x10") == 16);
    CHECK(setting_base_value("statement_timeout", "0x10s") == 16000);
    // Fractions and exponents, rounded to the next smaller unit first.
    CHECK(setting_base_value("statement_timeout", "1.5s") == 1500);
    CHECK(setting_base_value("statement_timeout", "1e3") == 1000);
    CHECK(setting_base_value("work_mem", "1.5GB") == 1572864);
    // "No limit" is the largest value of all.
    CHECK(setting_base_value("statement_timeout", "0") == INT64_MAX);
    CHECK(setting_base_value("statement_timeout", "0s") == INT64_MAX);
    CHECK(setting_base_value("statement_timeout", "0.4ms") == INT64_MAX);  // rounds to 0
    CHECK(setting_base_value("temp_file_limit", "-1") == INT64_MAX);
    CHECK(setting_base_value("temp_file_limit", "0") == 0);  // no temporary files at all
    // What PostgreSQL refuses: garbage, out of range, NaN, overflow.
    CHECK(setting_base_value("statement_timeout", "") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "abc") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "-1") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "nan") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "3000000000") == std::nullopt);
    CHECK(setting_base_value("statement_timeout", "25d") == std::nullopt);  // over INT_MAX ms
    CHECK(setting_base_value("statement_timeout", "1e400") == std::nullopt);
    CHECK(setting_base_value("work_mem", "32") == std::nullopt);  // below work_mem's 64 kB
    CHECK(setting_base_value("statement_timeout", std::string_view("5\0s", 3)) == std::nullopt);
    CHECK(setting_base_value("search_path", "5") == std::nullopt);  // not a bounded setting
}

namespace {
std::string load_error(const std::string& limits, PolicySet* out = nullptr) {
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("pgmoat-limits-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "p.toml") << "[policy]\ndefault = true\n[limits]\n" << limits;
    std::string error = "no error";
    try {
        auto set = load_policy_dir(dir.string());
        if (out) *out = set;
    } catch (const ConfigError& e) {
        error = e.what();
    }
    fs::remove_all(dir);
    return error;
}
}  // namespace

TEST_CASE("[limits] settings load in PostgreSQL's notation, with errors naming file and line") {
    PolicySet set;
    REQUIRE(load_error("statement_timeout = \"30s\"\nwork_mem = 8192\nlock_timeout = \"0\"\n", &set) == "no error");
    const auto& p = *set.default_policy;
    REQUIRE(p.setting_limits.size() == 2);  // lock_timeout = 0 is no limit
    CHECK(p.setting_limits[0].parameter == "statement_timeout");
    CHECK(p.setting_limits[0].value == "30s");
    CHECK(p.setting_limits[0].base_value == 30000);
    CHECK(p.setting_limits[0].source.line == 4);
    CHECK(p.setting_limits[1].parameter == "work_mem");
    CHECK(p.setting_limits[1].value == "8192");
    CHECK(p.setting_limit("work_mem")->base_value == 8192);
    CHECK(p.setting_limit("lock_timeout") == nullptr);

    auto e = load_error("statement_timeout = \"30 seconds\"\n");
    CHECK(e.find("p.toml:4") != std::string::npos);
    CHECK(e.find("statement_timeout") != std::string::npos);
    CHECK(load_error("work_mem = true\n").find("expected a string or an integer") != std::string::npos);
    CHECK(load_error("statement_timout = \"30s\"\n").find("statement_timout") != std::string::npos);
}
