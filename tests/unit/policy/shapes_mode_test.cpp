// [parameters] mode = "shapes": the policy reads its lock files, decide() lets
// locked shapes run (whatever their literals) and rejects new shapes and changed
// constants with errors that say how the shape gets reviewed; every other rule
// still applies.
#include "fixture.h"

#include "pgmoat/shapes/learn.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace pgmoat;
using namespace pgmoat::policy;
using namespace pgmoat::policy::testing;
namespace fs = std::filesystem;

namespace {

// The shipped policies, test.toml in shapes mode and shapes/app.toml learned from
// `learned` (each statement run twice, so its unchanging literals are constants).
struct ShapesDir {
    fs::path dir;
    PolicySet set;
    explicit ShapesDir(const std::vector<std::string>& learned, const std::string& mode = "enforce") {
        dir = fs::temp_directory_path() / ("pgmoat-shapes-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        for (const auto& e : fs::directory_iterator(fs::path(PGMOAT_TEST_DATA) / ".." / ".." / "policies"))
            fs::copy(e.path(), dir / e.path().filename(), fs::copy_options::recursive);
        shapes::Learner l;
        for (int session = 0; session < 2; ++session)
            for (const auto& text : learned) {
                auto a = sql::analyze(text);
                REQUIRE(a.ok());
                for (const auto& st : a.statements) l.add(st, text, session, "2026-12-04");
            }
        std::ofstream(dir / "shapes" / "app.toml") << shapes::format_lock(shapes::update({}, l, nullptr, 2));
        std::ofstream(dir / "test.toml") << "[policy]\nextends = \"baseline\"\nmode = \"" << mode
                                         << "\"\n[applies_to]\napps = [\"app\"]\n[parameters]\nmode = \"shapes\"\n"
                                            "shapes = [\"shapes/drivers.toml\", \"shapes/app.toml\"]\n";
        set = load_policy_dir(dir.string());
    }
    ~ShapesDir() { fs::remove_all(dir); }
    const Policy& policy() const { return test_policy(set); }
};

}  // namespace

TEST_CASE("a locked shape runs with its literals; a new shape and a changed constant are rejected") {
    ShapesDir d({"SELECT id FROM orders WHERE status = 'open' AND customer_id = 7 LIMIT 50",
                 "SELECT id FROM orders WHERE status = 'open' AND customer_id = 8 LIMIT 50",
                 "SELECT id FROM orders WHERE id = $1"});
    const Policy& p = d.policy();
    CHECK(p.parameter_mode == ParameterMode::shapes);
    REQUIRE(p.shape_lock);
    // The baseline would reject the literal 7; the lock holds the shape.
    CHECK(rule_for("SELECT id FROM orders WHERE status = 'open' AND customer_id = 7 LIMIT 50") == "parameters");
    CHECK(judge(p, "SELECT id FROM orders WHERE status = 'open' AND customer_id = 7 LIMIT 50").allow);
    CHECK(judge(p, "SELECT id FROM orders WHERE id = $1", Protocol::extended).allow);
    CHECK(judge(p, "BEGIN").allow);  // transaction control needs no shape
    CHECK(judge(p, "SET TIME ZONE 'UTC'").allow);
    CHECK(judge(p, "select version()").allow);  // from the shipped drivers' list

    auto n = judge(p, "SELECT id FROM orders WHERE id = (SELECT max(id) FROM orders)");
    CHECK(name(n.rule) == "new_shape");
    CHECK(n.sqlstate == "42501");
    CHECK(n.message.find("new statement shape") != std::string::npos);
    CHECK(n.message.find("SELECT id FROM orders WHERE id = (SELECT max(id) FROM orders)") != std::string::npos);
    CHECK(n.hint.find("pgmoat shapes approve " + (d.dir / "shapes" / "app.toml").string()) != std::string::npos);
    CHECK(n.detail.find("test.toml:8") != std::string::npos);  // the shapes = line

    auto c = judge(p, "SELECT id FROM orders WHERE status = 'paid' AND customer_id = 7 LIMIT 50");
    CHECK(name(c.rule) == "shape_constant");
    CHECK(c.message.find("$1 of statement shape") != std::string::npos);
    CHECK(c.message.find("locked as the constant 'open'") != std::string::npos);
    CHECK(c.position == static_cast<int>(std::string("SELECT id FROM orders WHERE status = ").size()) + 1);
    // A spliced position takes any value.
    CHECK(judge(p, "SELECT id FROM orders WHERE status = 'open' AND customer_id = 9999 LIMIT 50").allow);
}

TEST_CASE("a locked shape is still judged by every other rule") {
    ShapesDir d(
        {"DELETE FROM orders", "SELECT pg_sleep(1) FROM orders WHERE id = $1", "SELECT id FROM orders WHERE 1=1"});
    const Policy& p = d.policy();
    CHECK(rule_for("DELETE FROM orders", p) == "require_where");
    CHECK(rule_for("SELECT pg_sleep(1) FROM orders WHERE id = $1", p) == "function");
    // The signatures about literals are what a review covers: a locked 1=1 passes.
    CHECK(rule_for("SELECT id FROM orders WHERE 1=1", p) == "allow");
    CHECK(rule_for("SELECT id FROM orders WHERE 1=1 OR 2=2", p) == "tautology");
}

TEST_CASE("monitor mode records a new shape without rejecting it") {
    ShapesDir d({"SELECT id FROM orders WHERE id = $1"}, "monitor");
    auto r = judge(d.policy(), "SELECT id FROM orders WHERE id = id");
    CHECK(r.allow);
    CHECK(r.would_reject);
}

TEST_CASE("shapes mode needs its lock files, and a broken lock file names its line") {
    auto error = [](const std::string& policy, const std::string& lock) {
        auto dir = fs::temp_directory_path() / ("pgmoat-shapes-err-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir / "shapes");
        fs::copy(fs::path(PGMOAT_TEST_DATA) / ".." / ".." / "policies" / "baseline.toml", dir / "baseline.toml");
        std::ofstream(dir / "test.toml") << policy;
        if (!lock.empty()) std::ofstream(dir / "shapes" / "app.toml") << lock;
        std::string what = "no error";
        try {
            load_policy_dir(dir.string());
        } catch (const ConfigError& e) {
            what = e.what();
        }
        fs::remove_all(dir);
        return what;
    };
    const std::string head =
        "[policy]\nextends = \"baseline\"\n[applies_to]\napps = [\"app\"]\n[parameters]\nmode = \"shapes\"\n";
    CHECK(error(head, "").find("test.toml:6:") != std::string::npos);
    CHECK(error(head, "").find("needs the lock files") != std::string::npos);
    CHECK(error(head + "shapes = []\n", "").find("needs the lock files") != std::string::npos);
    CHECK(error(head + "shapes = [\"shapes/none.toml\"]\n", "").find("test.toml:7") != std::string::npos);
    CHECK(error(head + "shapes = [\"shapes/app.toml\"]\n", "[[shape]]\nfingerprint = \"zz\"\n").find("app.toml:2") !=
          std::string::npos);
    CHECK(error(head + "shapes = [\"shapes/app.toml\"]\n", "# nothing reviewed yet\n") ==
          "no error");  // an empty lock: every shape is new
}

TEST_CASE("a lock file counts in the policy version and is watched with the policies") {
    ShapesDir d({"SELECT id FROM orders WHERE id = $1"});
    std::string before = d.set.version;
    std::string stamp = policy_files_stamp(d.dir.string());
    std::ofstream(d.dir / "shapes" / "app.toml", std::ios::app) << "\n# reviewed\n";
    CHECK(policy_files_stamp(d.dir.string()) != stamp);
    CHECK(load_policy_dir(d.dir.string()).version != before);
}

TEST_CASE("a statement inside DECLARE needs its shape, under shapes and approved_structures alike") {
    // Before the shape lock, approved_structures let DECLARE … CURSOR FOR <any
    // structure> through as a session statement.
    const std::string q = "DECLARE c CURSOR FOR SELECT id, login FROM users";
    ShapesDir d({"SELECT id FROM orders WHERE id = $1"});
    CHECK(rule_for(q, d.policy()) == "new_shape");
    auto set = with_policy(
        "[policy]\nname = \"test\"\nextends = \"baseline\"\n[applies_to]\napps = [\"cs\"]\n"
        "[parameters]\nmode = \"approved_structures\"\n");
    CHECK(rule_for(q, test_policy(set)) == "approved_structures");
    CHECK(rule_for("BEGIN", test_policy(set)) == "allow");
}
