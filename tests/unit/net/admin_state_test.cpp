// The admin console's view of a runtime (RuntimeAdmin) without sockets: targets
// with their sessions and pauses, counters as /metrics renders them, and the
// actions that name what does not exist.
#include "../../../proxy/net/admin_state.h"

#include "pgmoat/config/config.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>

using namespace pgmoat;

namespace {

struct Fixture {
    net::Runtime runtime;
    net::ConnectionSet connections;
    std::unique_ptr<net::Readiness> readiness;
    std::unique_ptr<net::RuntimeAdmin> admin;
    int reloads = 0;

    Fixture() {
        auto snapshot = std::make_shared<net::Snapshot>();
        snapshot->config = std::make_shared<config::Config>(config::parse_config(R"([server]
credentials = "c.toml"
[targets.dev]
host = "10.0.0.1"
user = "pgmoat"
database = "app"
[targets.prod]
host = "10.0.0.2"
port = 5433
user = "pgmoat"
)",
                                                                                 "/etc/pgmoat/pgmoat.toml"));
        auto policies = std::make_shared<policy::PolicySet>();
        policies->version = "0123456789ab";
        snapshot->policies = policies;
        runtime.snapshot.store(snapshot);
        readiness = std::make_unique<net::Readiness>(runtime);
        admin = std::make_unique<net::RuntimeAdmin>(runtime, connections, *readiness, [this] {
            ++reloads;
            return std::string("x.toml:1:1: broken");
        });
    }
};

session::SessionRow listed_session(uint64_t id, std::string target) {
    session::SessionRow r;
    r.id = id;
    r.app = "orders";
    r.target = std::move(target);
    return r;
}

}  // namespace

TEST_CASE("SHOW TARGETS: every configured target with its sessions, pause and probe") {
    Fixture f;
    auto a = f.runtime.directory.add(listed_session(1, "dev"));
    auto b = f.runtime.directory.add(listed_session(2, "dev"));
    CHECK(f.admin->set_paused("prod", true));
    auto rows = f.admin->targets();
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].name == "dev");
    CHECK(rows[0].host == "10.0.0.1");
    CHECK(rows[0].port == 5432);
    CHECK(rows[0].database == "app");
    CHECK(rows[0].sessions == 2);
    CHECK_FALSE(rows[0].paused);
    CHECK(rows[0].health == "not probed yet");
    CHECK(rows[1].name == "prod");
    CHECK(rows[1].port == 5433);
    CHECK(rows[1].database == "prod");
    CHECK(rows[1].paused);
    CHECK(rows[1].sessions == 0);
    CHECK(f.admin->sessions().size() == 2);
    f.runtime.directory.remove(1);
    CHECK(f.admin->targets()[0].sessions == 1);
    CHECK(f.admin->set_paused("prod", false));
    CHECK_FALSE(f.runtime.pauses.paused("prod"));
}

TEST_CASE("PAUSE, RESUME and KILL of what does not exist say so; RELOAD passes the error on") {
    Fixture f;
    CHECK_FALSE(f.admin->set_paused("staging", true));
    CHECK_FALSE(f.runtime.pauses.paused("staging"));
    CHECK_FALSE(f.admin->kill(42, "ops"));
    // Listed but already gone from the connections: nothing to kill.
    auto entry = f.runtime.directory.add(listed_session(42, "dev"));
    CHECK_FALSE(f.admin->kill(42, "ops"));
    CHECK(f.admin->reload() == "x.toml:1:1: broken");
    CHECK(f.reloads == 1);
    CHECK(f.admin->policy_version() == "0123456789ab");
}

TEST_CASE("SHOW COUNTERS: each sample /metrics renders, labels apart, histogram buckets left out") {
    Fixture f;
    auto& family = f.runtime.registry.counter("pgmoat_test_things_total", "Things.", {"app", "why"});
    family.labels({"orders", "say \"hi\", then go"}).inc(3);
    f.runtime.registry.histogram("pgmoat_test_seconds", "Time.", {}, {0.1, 1}).labels({}).observe(0.5);
    auto rows = f.admin->counters();
    auto find = [&](std::string_view metric) {
        return std::find_if(rows.begin(), rows.end(), [&](const auto& r) { return r.metric == metric; });
    };
    auto things = find("pgmoat_test_things_total");
    REQUIRE(things != rows.end());
    CHECK(things->labels == "app=\"orders\",why=\"say \\\"hi\\\", then go\"");
    CHECK(things->value == "3");
    CHECK(find("pgmoat_test_seconds_bucket") == rows.end());
    REQUIRE(find("pgmoat_test_seconds_count") != rows.end());
    CHECK(find("pgmoat_test_seconds_count")->value == "1");
    CHECK(find("pgmoat_test_seconds_sum")->labels.empty());
}
