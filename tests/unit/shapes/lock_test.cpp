// The shape lock file and the check under mode = "shapes": what is locked passes,
// a new shape or a changed constant does not, and the file reads back as written.
#include "pgmoat/shapes/lock.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/sql/analyzer.h"

#include <doctest/doctest.h>

#include <string>

using namespace pgmoat;
using namespace pgmoat::shapes;

namespace {

sql::Statement one(const std::string& text) {
    auto a = sql::analyze(text);
    REQUIRE(a.ok());
    REQUIRE(a.statements.size() == 1);
    return a.statements[0];
}

ShapeLock lock_of(const std::string& text) {
    return parse_lock(text, "app.toml");
}

std::string fp(const std::string& text) {
    return sql::fingerprint_hex(one(text).fingerprint);
}

std::string shape_block(const std::string& text, const std::string& extra = "") {
    return "[[shape]]\nfingerprint = \"" + fp(text) + "\"\nstatement = '''" + one(text).normalized + "'''\n" + extra;
}

}  // namespace

TEST_CASE("a locked shape passes with any value where nothing is locked, and a new shape does not") {
    auto lock = lock_of(shape_block("SELECT id, name FROM customers WHERE id = 1"));
    for (const char* q :
         {"SELECT id, name FROM customers WHERE id = 1", "SELECT id, name FROM customers WHERE id = 987",
          "SELECT id, name FROM customers WHERE id = $1", "select id,name from customers where id='x'"}) {
        CAPTURE(q);
        auto st = one(q);
        CHECK(match(lock, st, q).verdict == Verdict::known);
    }
    // Literal-free injections into the spliced position change the shape.
    for (const char* q :
         {"SELECT id, name FROM customers WHERE id = id", "SELECT id, name FROM customers WHERE id = 1 OR id > 0",
          "SELECT id, name FROM customers WHERE id = (SELECT max(id) FROM customers)",
          "SELECT id, name FROM customers WHERE id = 1 UNION SELECT id, password_hash FROM users",
          "SELECT id, name FROM customers WHERE id = -id", "SELECT id, name FROM customers WHERE id = 1::text::int"}) {
        CAPTURE(q);
        auto st = one(q);
        CHECK(match(lock, st, q).verdict == Verdict::new_shape);
    }
}

TEST_CASE("a position locked as a constant passes only with its value") {
    const std::string q = "SELECT id FROM orders WHERE status = 'open' AND customer_id = 7 LIMIT 100";
    auto lock = lock_of(shape_block(q,
                                    "constants = [\n  { position = \"$1\", value = \"'open'\" },\n"
                                    "  { position = \"$3\", value = \"100\" },\n]\nspliced = [\"$2\"]\n"));
    auto ok = [&](const std::string& text) { return match(lock, one(text), text); };
    CHECK(ok(q).verdict == Verdict::known);
    CHECK(ok("SELECT id FROM orders WHERE status = 'open' AND customer_id = 12345 LIMIT 100").verdict ==
          Verdict::known);
    auto m = ok("SELECT id FROM orders WHERE status = 'paid' AND customer_id = 7 LIMIT 100");
    CHECK(m.verdict == Verdict::constant_changed);
    CHECK(m.position == 1);
    CHECK(m.expected == "'open'");
    const std::string big = "SELECT id FROM orders WHERE status = 'open' AND customer_id = 7 LIMIT 100000000";
    m = ok(big);
    CHECK(m.verdict == Verdict::constant_changed);
    CHECK(m.position == 3);
    CHECK(big.substr(static_cast<size_t>(m.offset), 9) == "100000000");
    // The same shape with the constant as a parameter: the code no longer writes it.
    CHECK(ok("SELECT id FROM orders WHERE status = $1 AND customer_id = 7 LIMIT 100").verdict ==
          Verdict::constant_changed);
}

TEST_CASE("positions count as the normalized text numbers them, after the statement's own parameters") {
    auto st = one("SELECT a FROM t WHERE b = $1 AND c = 'x' AND d IS NULL AND e = true AND f = 5");
    auto ps = positions(st);
    REQUIRE(ps.size() == 2);
    CHECK(ps[0].number == 2);
    CHECK(ps[1].number == 3);
    CHECK(st.normalized.find("c = $2") != std::string::npos);
    CHECK(st.normalized.find("f = $3") != std::string::npos);
}

TEST_CASE("the lock file reads back as it was written") {
    ShapeLock lock;
    Shape s;
    s.fingerprint = one("SELECT 1 FROM t WHERE a = 'x'").fingerprint;
    s.statement = "SELECT $1 FROM t WHERE a = $2 AND b = 'it''s' -- \"odd\"\\";
    s.constants = {{1, "1"}, {2, "'x'"}, {4, "E'a\\nb'"}};
    s.spliced = {3};
    s.first_seen = "2026-12-01";
    s.last_seen = "2026-12-04";
    s.note = "orders list\nsecond line";
    lock.shapes[s.fingerprint] = s;
    Shape t;
    t.fingerprint = 1;
    t.statement = "SELECT $1 WHERE '''' = $2'";
    lock.shapes[t.fingerprint] = t;
    std::string text = format_lock(lock);
    auto back = parse_lock(text, "x.toml");
    REQUIRE(back.shapes.size() == 2);
    const Shape& r = back.shapes.at(s.fingerprint);
    CHECK(r.statement == s.statement);
    CHECK(r.constants == s.constants);
    CHECK(r.spliced == s.spliced);
    CHECK(r.first_seen == s.first_seen);
    CHECK(r.last_seen == s.last_seen);
    CHECK(r.note == s.note);
    CHECK(back.shapes.at(1).statement == t.statement);
    CHECK(format_lock(back) == text);  // stable: writing it again changes nothing
    // One block per shape, in fingerprint order: the first block is the smaller fingerprint.
    CHECK(text.find("fingerprint = \"0000000000000001\"") <
          text.find("fingerprint = \"" + sql::fingerprint_hex(s.fingerprint)));
}

TEST_CASE("a broken lock file is an error naming file and line") {
    auto error = [](const std::string& text) {
        try {
            parse_lock(text, "locks/app.toml");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(error("[[shape]]\nstatement = 'SELECT 1'\n").find("locks/app.toml:1") == 0);
    CHECK(error("[[shape]]\nfingerprint = 'xyz'\nstatement = 'SELECT 1'\n").find("16 lower-case hex") !=
          std::string::npos);
    CHECK(error("[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\ncolour = 'red'\n")
              .find("locks/app.toml:4") == 0);
    CHECK(error("[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\n"
                "constants = [{ position = '1', value = '5' }]\n")
              .find("not a literal position") != std::string::npos);
    CHECK(error("[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\n"
                "constants = [{ position = '$1', value = '5' }]\nspliced = ['$1']\n")
              .find("both a constant and spliced") != std::string::npos);
    CHECK(error("[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\nfirst_seen = 'yesterday'\n")
              .find("YYYY-MM-DD") != std::string::npos);
    CHECK(error("[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\n"
                "[[shape]]\nfingerprint = '0000000000000001'\nstatement = 'SELECT $1'\n"
                "constants = [{ position = '$1', value = '5' }]\n")
              .find("other constants") != std::string::npos);
    CHECK(error("[shapes]\n").find("locks/app.toml:1") == 0);
}

TEST_CASE("with_constants puts the locked constants back into the normalized text") {
    Shape s;
    s.statement = "SELECT a FROM t WHERE s = $1 AND c = $2 AND n = '$1' LIMIT $3";
    s.constants = {{1, "'open'"}, {3, "10"}};
    CHECK(with_constants(s) == "SELECT a FROM t WHERE s = 'open' AND c = $2 AND n = '$1' LIMIT 10");
}

TEST_CASE("transaction control and session statements need no shape; PREPARE and DECLARE do") {
    for (const char* q : {"BEGIN", "COMMIT", "SAVEPOINT s1", "SET TIME ZONE 'UTC'", "SHOW search_path", "DEALLOCATE a1",
                          "RESET ALL", "EXECUTE p(1)"}) {
        CAPTURE(q);
        CHECK_FALSE(needs_shape(one(q)));
    }
    for (const char* q :
         {"SELECT 1", "PREPARE p AS SELECT * FROM users WHERE id = id", "DECLARE c CURSOR FOR SELECT * FROM users",
          "COPY users TO STDOUT", "EXPLAIN SELECT 1", "INSERT INTO t VALUES (1)"}) {
        CAPTURE(q);
        CHECK(needs_shape(one(q)));
    }
}
