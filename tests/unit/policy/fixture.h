// What the policy unit tests share: the shipped policies, a policy compiled
// from TOML text beside them, and a decision in one call.
#pragma once

#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/sql/analyzer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace pgmoat::policy::testing {

inline const PolicySet& shipped() {
    static PolicySet set =
        load_policy_dir((std::filesystem::path(PGMOAT_TEST_DATA) / ".." / ".." / "policies").string());
    return set;
}

inline const Policy& baseline() {
    return *shipped().default_policy;
}

inline Decision judge(const Policy& p, const std::string& sql, Protocol protocol = Protocol::simple_query) {
    auto a = sql::analyze(sql);
    return decide(p, a, sql, protocol);
}

// The rule that rejects sql, or "allow".
inline std::string rule_for(const std::string& sql, const Policy& p = baseline()) {
    auto d = judge(p, sql);
    return d.allow ? "allow" : std::string(name(d.rule));
}

// The shipped policies plus test.toml with `text` (which usually extends the baseline).
inline PolicySet with_policy(const std::string& text) {
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("pgmoat-decision-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(fs::path(PGMOAT_TEST_DATA) / ".." / ".." / "policies"))
        fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::recursive);
    std::ofstream(dir / "test.toml") << text;
    auto set = load_policy_dir(dir.string());
    fs::remove_all(dir);
    return set;
}

// The policy named "test" of a set made by with_policy().
inline const Policy& test_policy(const PolicySet& set) {
    for (const auto& p : set.policies)
        if (p->name == "test") return *p;
    throw std::runtime_error("no policy named test");
}

}  // namespace pgmoat::policy::testing
