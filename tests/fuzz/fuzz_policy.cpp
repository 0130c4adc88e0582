// Policy target: a policy file with arbitrary content, loaded alone and beside the
// shipped baseline (so `extends = "baseline"` resolves). Only ConfigError may
// escape. A set that loads is then used: select() for a few sessions and
// decide() on a few statements, and every decision names a rule when it rejects.
#include "fuzz_common.h"

#include "pgmoat/common/config_error.h"

using namespace pgmoat;

namespace {

const std::vector<std::pair<std::string, sql::Analysis>>& statements() {
    static const auto list = [] {
        std::vector<std::pair<std::string, sql::Analysis>> out;
        for (const char* s :
             {"SELECT id, email FROM users WHERE id = $1", "SELECT * FROM users WHERE email = 'a' OR 1=1",
              "UPDATE orders SET status = $1", "DELETE FROM sessions WHERE id = 5", "COPY users TO STDOUT",
              "COPY t FROM PROGRAM 'id'", "SET search_path = evil", "SELECT pg_sleep(1)", "CREATE TABLE x (a int)",
              "SELECT password_hash FROM users", "BEGIN", "PREPARE p AS SELECT 1", "SELECT 1; SELECT 2",
              "SELECT * FROM pg_catalog.pg_authid", "SELECT 'admin'--", "SELECT (", ""}) {
            out.emplace_back(s, sql::analyze(s));
        }
        return out;
    }();
    return list;
}

void exercise(const policy::PolicySet& set) {
    FUZZ_CHECK(set.default_policy != nullptr, "a loaded set without a default policy");
    for (const char* app : {"orders", "analyst-1", "migrator", ""}) {
        auto p = set.select({app, "prod", "psql", "10.0.0.1"});
        FUZZ_CHECK(p != nullptr, "no policy selected");
        for (const auto& [text, a] : statements()) {
            for (auto proto : {policy::Protocol::simple_query, policy::Protocol::extended}) {
                auto d = policy::decide(*p, a, text, proto);
                if (!d.allow)
                    FUZZ_CHECK(d.rule != policy::Rule::none && d.sqlstate.size() == 5, "rejection without rule");
                if (!a.ok()) FUZZ_CHECK(!d.allow || p->mode == policy::Mode::monitor, "unparseable text allowed");
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    static const std::string dir = [] {
        std::string d = fuzz::scratch_dir() + "/policy";
        std::filesystem::create_directories(d);
        std::filesystem::copy_file(std::string(PGMOAT_SOURCE_DIR) + "/policies/baseline.toml", d + "/baseline.toml",
                                   std::filesystem::copy_options::overwrite_existing);
        return d;
    }();
    std::string path = dir + "/fuzzed.toml";
    fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(bytes), size));
    for (const auto& files : {std::vector<std::string>{path}, std::vector<std::string>{dir + "/baseline.toml", path}}) {
        try {
            exercise(policy::load_policy_files(files));
        } catch (const ConfigError& e) {
            FUZZ_CHECK(!e.message().empty(), "ConfigError without a message");
        }
    }
    // check_policy_files runs the same loader once more per file: only now and then.
    if (size % 16 == 0) {
        for (const auto& e : policy::check_policy_files({dir + "/baseline.toml", path})) {
            FUZZ_CHECK(!e.message().empty(), "check error without a message");
        }
    }
    return 0;
}
