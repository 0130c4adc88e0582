#include "pgmoat/session/cancel_registry.h"

#include <doctest/doctest.h>

#include <set>

using namespace pgmoat;
using namespace pgmoat::session;

TEST_CASE("cancel keys are unique, positive, and found only with their secret") {
    CancelRegistry r;
    std::set<int32_t> ids;
    config::Target t;
    t.name = "dev";
    for (int i = 0; i < 1000; ++i) {
        auto key = r.add({t, {7, 8}});
        CHECK(key.process_id > 0);
        ids.insert(key.process_id);
        CHECK(r.find({key.process_id, key.secret_key}));
        CHECK_FALSE(r.find({key.process_id, key.secret_key ^ 1}));
    }
    CHECK(ids.size() == 1000);
    CHECK(r.peer_of(*ids.begin()) == 0);  // no peering: every key is this instance's
}

TEST_CASE("with peering, every key names the instance that issued it") {
    CancelRegistry one, two;
    one.set_peer_id(1);
    two.set_peer_id(255);
    config::Target t;
    for (int i = 0; i < 200; ++i) {
        auto a = one.add({t, {1, 1}});
        auto b = two.add({t, {1, 1}});
        CHECK(a.process_id > 0);
        CHECK(b.process_id > 0);
        CHECK(one.peer_of(a.process_id) == 1);
        CHECK(one.peer_of(b.process_id) == 255);  // any instance reads any key
        CHECK(two.peer_of(a.process_id) == 1);
        CHECK_FALSE(one.find({b.process_id, b.secret_key}));
    }
}
