// The shipped agent policy applies by the identity's kind, above every other
// shipped policy, and is read-only with the second lock.
#include "pgmoat/policy/loader.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;

TEST_CASE("identities of kind agent get the agent policy, whatever their name") {
    auto set = policy::load_policy_dir(std::string(PGMOAT_TEST_DATA) + "/../../policies");
    auto agent = set.select({"support-bot", "prod", "", "127.0.0.1", "agent"});
    CHECK(agent->name == "agent");
    CHECK(agent->read_only);
    CHECK(agent->max_rows == 1000);
    CHECK(set.select({"person-alice", "prod", "psql", "127.0.0.1", "agent"})->name == "agent");
    CHECK(set.select({"support-bot", "prod", "", "127.0.0.1", "app"})->name == "baseline");
    CHECK(set.select({"person-alice", "prod", "psql", "127.0.0.1", "person"})->name == "people");
    CHECK_FALSE(set.select({"orders-api", "prod", "", "127.0.0.1"})->read_only);
}
