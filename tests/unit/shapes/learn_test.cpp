// Learning: constants are what never changed, spliced values what did, one
// execution tells nothing; the report names the spliced flows without their
// values; the diff shows exactly what a run added.
#include "pgmoat/shapes/learn.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::shapes;

namespace {

void run(Learner& l, const std::string& text, uint64_t session, const std::string& date = "2026-12-04") {
    auto a = sql::analyze(text);
    REQUIRE(a.ok());
    for (const auto& st : a.statements) l.add(st, text, session, date);
}

const Shape& only_shape(const ShapeLock& lock, const std::string& starts) {
    for (const auto& [fp, s] : lock.shapes)
        if (s.statement.rfind(starts, 0) == 0) return s;
    FAIL("no shape starting with " << starts);
    static Shape none;
    return none;
}

}  // namespace

TEST_CASE("a value that never changes is a constant; one that changes is spliced and never locked") {
    Learner l;
    for (int i = 0; i < 3; ++i) {
        run(l, "SELECT id FROM orders WHERE status = 'open' AND customer_id = " + std::to_string(40 + i) + " LIMIT 100",
            i);
        run(l, "SELECT id FROM orders WHERE id = $1", i);
    }
    auto lock = update({}, l, nullptr, kDefaultMinObservations);
    REQUIRE(lock.shapes.size() == 2);
    const Shape& s = only_shape(lock, "SELECT id FROM orders WHERE status");
    REQUIRE(s.constants.size() == 2);
    CHECK(s.constants[0] == Constant{1, "'open'"});
    CHECK(s.constants[1] == Constant{3, "100"});
    CHECK(s.spliced == std::vector<int>{2});
    CHECK(s.first_seen == "2026-12-04");
    CHECK(only_shape(lock, "SELECT id FROM orders WHERE id").constants.empty());

    std::string report = interpolation_report(l, nullptr, kDefaultMinObservations);
    CHECK(report.find("SELECT id FROM orders WHERE status = $1 AND customer_id = $2 LIMIT $3") != std::string::npos);
    CHECK(report.find("$2: 3 different values") != std::string::npos);
    CHECK(report.find("pass $2 as a bind parameter") != std::string::npos);
    CHECK(report.find("4… (2 chars)") != std::string::npos);
    CHECK(report.find("41") == std::string::npos);             // values are redacted
    CHECK(report.find("WHERE id = $1") == std::string::npos);  // parameterized: nothing to say
}

TEST_CASE("one execution cannot tell a constant from a value: the position is left open and reported") {
    Learner l;
    run(l, "SELECT name FROM customers WHERE email = 'alice@example.com'", 1);
    auto lock = update({}, l, nullptr, kDefaultMinObservations);
    const Shape& s = lock.shapes.begin()->second;
    CHECK(s.constants.empty());
    CHECK(s.spliced.empty());
    std::string report = interpolation_report(l, nullptr, kDefaultMinObservations);
    CHECK(report.find("Undetermined") != std::string::npos);
    CHECK(report.find("$1: seen in 1 execution ('a…' (17 chars))") != std::string::npos);
    CHECK(report.find("alice") == std::string::npos);
    // With a threshold of one, it is locked.
    CHECK(update({}, l, nullptr, 1).shapes.begin()->second.constants.size() == 1);
    // The same value twice, even in one session, makes it a constant.
    run(l, "SELECT name FROM customers WHERE email = 'alice@example.com'", 1);
    CHECK(update({}, l, nullptr, kDefaultMinObservations).shapes.begin()->second.constants.size() == 1);
}

TEST_CASE("an IN list of varying length keeps the shape but locks no position") {
    Learner l;
    run(l, "SELECT id FROM t WHERE id IN (1, 2) AND kind = 'a'", 1);
    run(l, "SELECT id FROM t WHERE id IN (1, 2, 3) AND kind = 'a'", 2);
    auto lock = update({}, l, nullptr, kDefaultMinObservations);
    REQUIRE(lock.shapes.size() == 1);
    CHECK(lock.shapes.begin()->second.constants.empty());
    CHECK(interpolation_report(l, nullptr, kDefaultMinObservations).find("literal count varies") != std::string::npos);
}

TEST_CASE("learning again keeps notes and first_seen, turns a constant seen with another value into spliced") {
    Learner first;
    run(first, "SELECT id FROM t WHERE kind = 'a'", 1, "2026-11-01");
    run(first, "SELECT id FROM t WHERE kind = 'a'", 2, "2026-11-02");
    auto lock = update({}, first, nullptr, kDefaultMinObservations);
    lock.shapes.begin()->second.note = "reviewed by dba";
    Learner second;
    run(second, "SELECT id FROM t WHERE kind = 'b'", 3, "2026-12-04");
    auto again = update(lock, second, nullptr, kDefaultMinObservations);
    const Shape& s = again.shapes.begin()->second;
    CHECK(s.note == "reviewed by dba");
    CHECK(s.first_seen == "2026-11-01");
    CHECK(s.last_seen == "2026-12-04");
    CHECK(s.constants.empty());
    CHECK(s.spliced == std::vector<int>{1});
    auto d = diff(lock, second, nullptr);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiffEntry::Kind::constant_changed);
    CHECK(d[0].detail.find("$1 is locked as 'a'") != std::string::npos);
}

TEST_CASE("the diff of a lock against a new run shows exactly the shapes the change added") {
    Learner before;
    for (int i = 0; i < 2; ++i) {
        run(before, "SELECT id FROM customers WHERE id = $1", i);
        run(before, "SELECT 1 FROM pg_type WHERE typname = 'hstore'", i);
    }
    ShapeLock drivers;
    {
        Learner d;
        run(d, "SELECT 1 FROM pg_type WHERE typname = 'hstore'", 9);
        drivers = update({}, d, nullptr, 1);
    }
    auto lock = update({}, before, &drivers, kDefaultMinObservations);
    CHECK(lock.shapes.size() == 1);  // the driver's shape comes from the shipped list
    Learner after;
    run(after, "SELECT id FROM customers WHERE id = $1", 5);
    run(after, "SELECT 1 FROM pg_type WHERE typname = 'hstore'", 5);
    run(after, "SELECT sum(total) FROM orders WHERE customer_id = $1", 5);
    auto d = diff(lock, after, &drivers);
    REQUIRE(d.size() == 1);
    CHECK(d[0].kind == DiffEntry::Kind::added);
    CHECK(d[0].statement == "SELECT sum(total) FROM orders WHERE customer_id = $1");
    CHECK(format_diff(d).rfind("+ ", 0) == 0);
    // approve adds only what is named.
    auto approved = update(lock, after, &drivers, kDefaultMinObservations, {d[0].fingerprint});
    CHECK(approved.shapes.size() == 2);
    CHECK(diff(approved, after, &drivers).empty());
    auto none = update(lock, after, &drivers, kDefaultMinObservations, {12345});
    CHECK(none.shapes.size() == 1);
    // A shape the lock has that the run did not see is listed, not dropped.
    Learner partial;
    run(partial, "SELECT sum(total) FROM orders WHERE customer_id = $1", 6);
    auto d2 = diff(approved, partial, &drivers);
    REQUIRE(d2.size() == 1);
    CHECK(d2[0].kind == DiffEntry::Kind::unseen);
}

TEST_CASE("redacted values keep their first character and length only") {
    CHECK(redact("'secret-token'") == "'s…' (12 chars)");
    CHECK(redact("12345") == "1… (5 chars)");
    CHECK(redact("E'é!'") == "'é…' (2 chars)");
    CHECK(redact("''") == "''");
}

TEST_CASE("records without raw text teach the shape only, and the report says so") {
    Learner l;
    auto a = sql::analyze("SELECT id FROM t WHERE kind = 'a'");
    REQUIRE(a.ok());
    const auto& st = a.statements[0];
    l.add_shape(st.fingerprint, st.normalized, 1, "2026-12-04");
    l.add_shape(st.fingerprint, st.normalized, 2, "2026-12-04");
    auto lock = update({}, l, nullptr, kDefaultMinObservations);
    REQUIRE(lock.shapes.size() == 1);
    CHECK(lock.shapes.begin()->second.constants.empty());
    CHECK(lock.shapes.begin()->second.statement == "SELECT id FROM t WHERE kind = $1");
    std::string report = interpolation_report(l, nullptr, kDefaultMinObservations);
    CHECK(report.find("Learned without values") != std::string::npos);
    CHECK(report.find("SELECT id FROM t WHERE kind = $1") != std::string::npos);
    // Transaction control and session statements are not learned.
    for (const char* q : {"BEGIN", "SET TIME ZONE 'UTC'", "COMMIT"}) {
        auto b = sql::analyze(q);
        l.add(b.statements[0], q, 1, "2026-12-04");
    }
    CHECK(l.shapes().size() == 1);
}
