#include "audit_test_util.h"

#include "pgmoat/audit/chain.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include <doctest/doctest.h>

#include <unistd.h>

using namespace audit_test;

namespace {

const std::string kKey = "0123456789abcdef0123456789abcdef";

VerifyResult check(const std::vector<std::string>& files, const std::optional<std::string>& key = std::nullopt) {
    VerifyResult r = verify(files, key);
    INFO(r.message);
    return r;
}

// What someone who knows the scheme (but maybe not the key) can do: recompute the
// chain of every line from `from` on.
void rechain(std::vector<std::string>& lines, size_t from, const std::optional<std::string>& key = std::nullopt) {
    Chainer chainer(key);
    Digest prev{};
    if (from > 0) prev = split_chained_line(lines[from - 1])->chain;
    for (size_t i = from; i < lines.size(); ++i) {
        std::string prefix = lines[i].substr(0, lines[i].size() - kChainSuffixBytes);
        prev = chainer.next(prev, prefix);
        lines[i] = prefix + std::string(kChainField) + to_hex(prev) + "\"}";
    }
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

// A log of one log_opened line and n statements (lines 2..n+1, rows 0..n-1).
std::vector<std::string> fresh_log(const std::string& path, int n,
                                   const std::optional<std::string>& key = std::nullopt) {
    Options o = options_for(path);
    o.hmac_key = key;
    write_log(o, n);
    return read_lines(path);
}

}  // namespace

TEST_CASE("an untouched log verifies") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    REQUIRE(lines.size() == 11);
    auto r = check({p});
    CHECK(r.ok());
    CHECK(r.records == 11);
    CHECK(r.files == 1);
    CHECK(r.last_seq == 11);
    CHECK(r.head == field(lines.back(), "chain"));
    CHECK(r.continues_from.empty());
}

TEST_CASE("the chain is SHA-256 of the previous chain value and the line up to its chain field") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 3);
    // The first line opens a new chain.
    CHECK(field(lines[0], "event") == "log_opened");
    CHECK(field(lines[0], "seq") == "1");
    CHECK(field(lines[0], "chain_alg") == "sha256");
    CHECK(field(lines[0], "previous_chain") == "<absent>");
    CHECK(field(lines[0], "pgmoat_version") != "<absent>");
    unsigned char prev[32] = {0};
    for (const auto& line : lines) {
        const std::string tail = ",\"chain\":\"";
        auto at = line.rfind(tail);
        REQUIRE(at == line.size() - 76);
        std::string input(reinterpret_cast<char*>(prev), 32);
        input += line.substr(0, at);
        unsigned char md[32];
        unsigned int len = 0;
        REQUIRE(EVP_Digest(input.data(), input.size(), md, &len, EVP_sha256(), nullptr));
        std::string hex;
        for (unsigned char c : md) hex += fmt::format("{:02x}", c);
        CHECK(line.substr(at + tail.size(), 64) == hex);
        CHECK(line.substr(line.size() - 2) == "\"}");
        std::copy(md, md + 32, prev);
    }
}

TEST_CASE("with a key the chain is HMAC-SHA-256 and log_opened names the key by its id") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 2, kKey);
    CHECK(field(lines[0], "chain_alg") == "hmac-sha256");
    CHECK(field(lines[0], "key_id") == key_id(kKey));
    CHECK(key_id(kKey).size() == 16);
    CHECK(lines[0].find(kKey) == std::string::npos);
    unsigned char prev[32] = {0};
    for (const auto& line : lines) {
        std::string input(reinterpret_cast<char*>(prev), 32);
        input += line.substr(0, line.size() - 76);
        unsigned char mac[32];
        unsigned int len = 0;
        REQUIRE(HMAC(EVP_sha256(), kKey.data(), static_cast<int>(kKey.size()),
                     reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len));
        Digest expected;
        std::copy(mac, mac + 32, expected.begin());
        CHECK(line.substr(line.size() - 66, 64) == to_hex(expected));
        std::copy(mac, mac + 32, prev);
    }
}

TEST_CASE("an edited field is reported as a modified record at its line") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    lines[4] = replace_once(lines[4], "\"rows\":3", "\"rows\":4");
    write_lines(p, lines);
    auto r = check({p});
    CHECK(r.problem == Problem::modified);
    CHECK(r.file == p);
    CHECK(r.line == 5);
    CHECK(r.message.find(p + ":5: record modified") == 0);
    CHECK(r.records == 4);

    // Even a one-byte change in a value that does not matter to JSON.
    lines = fresh_log(d.file("b.jsonl"), 3);
    lines[2] = replace_once(lines[2], "orders-api", "orders-apj");
    write_lines(d.file("b.jsonl"), lines);
    CHECK(check({d.file("b.jsonl")}).problem == Problem::modified);
}

TEST_CASE("an edited last record is reported") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 4);
    lines.back() = replace_once(lines.back(), "\"rows\":3", "\"rows\":0");
    write_lines(p, lines);
    auto r = check({p});
    CHECK(r.problem == Problem::modified);
    CHECK(r.line == 5);
}

TEST_CASE("deleted lines are reported as removed records before the next line") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    auto one = lines;
    one.erase(one.begin() + 4);  // line 5, seq 5
    write_lines(p, one);
    auto r = check({p});
    CHECK(r.problem == Problem::removed);
    CHECK(r.line == 5);
    CHECK(r.message == p + ":5: 1 record(s) removed before this line (seq jumps from 4 to 6)");

    auto two = lines;
    two.erase(two.begin() + 4, two.begin() + 6);
    write_lines(p, two);
    r = check({p});
    CHECK(r.problem == Problem::removed);
    CHECK(r.line == 5);
    CHECK(r.message.find("2 record(s) removed") != std::string::npos);
}

TEST_CASE("two swapped lines are reported as reordered") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    std::swap(lines[3], lines[4]);
    write_lines(p, lines);
    auto r = check({p});
    CHECK(r.problem == Problem::reordered);
    CHECK(r.line == 4);
    CHECK(r.message == p + ":4: lines 4 and 5 are swapped (reordered)");
}

TEST_CASE("a line moved further away is reported as out of order") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    auto moved = lines[2];
    lines.erase(lines.begin() + 2);
    lines.insert(lines.begin() + 7, moved);
    write_lines(p, lines);
    auto r = check({p});
    CHECK_FALSE(r.ok());
    CHECK(r.line == 3);  // where the chain first breaks: the record after the gap
    CHECK(r.problem == Problem::removed);
}

TEST_CASE("inserted lines are reported as inserted") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);

    SUBCASE("a copy of another record") {
        std::string copy = lines[2];
        lines.insert(lines.begin() + 6, copy);
        write_lines(p, lines);
        auto r = check({p});
        CHECK(r.problem == Problem::inserted);
        CHECK(r.line == 7);
        CHECK(r.message.find("line 8 continues from " + p + ":6") != std::string::npos);
    }
    SUBCASE("a forged record") {
        auto forged = replace_once(lines[3], "\"rows\":2", "\"rows\":999");
        lines.insert(lines.begin() + 5, forged);
        write_lines(p, lines);
        auto r = check({p});
        CHECK(r.problem == Problem::inserted);
        CHECK(r.line == 6);
    }
    SUBCASE("a line that is not a record") {
        lines.insert(lines.begin() + 5, "{\"event\":\"statement\"}");
        write_lines(p, lines);
        auto r = check({p});
        CHECK(r.problem == Problem::inserted);
        CHECK(r.line == 6);
        CHECK(r.message.find("not an audit record") != std::string::npos);
    }
    SUBCASE("a forged record with a correctly computed chain value (no key)") {
        auto forged = replace_once(lines[3], "\"rows\":2", "\"rows\":999");
        forged = replace_once(forged, "\"seq\":4", "\"seq\":6");
        lines.insert(lines.begin() + 5, forged);
        // The forger computes the forged line's chain but cannot fix the next one.
        Chainer chainer;
        std::string prefix = forged.substr(0, forged.size() - kChainSuffixBytes);
        lines[5] = prefix + std::string(kChainField) +
                   to_hex(chainer.next(split_chained_line(lines[4])->chain, prefix)) + "\"}";
        write_lines(p, lines);
        auto r = check({p});
        CHECK(r.problem == Problem::inserted);
        CHECK(r.line == 6);
    }
}

TEST_CASE("a truncated file is reported at its incomplete last line") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    fresh_log(p, 10);
    std::string content = read_file(p);

    write_file(p, content.substr(0, content.size() - 20));
    auto r = check({p});
    CHECK(r.problem == Problem::truncated);
    CHECK(r.line == 11);
    CHECK(r.message.find(p + ":11: the last line is incomplete") == 0);

    // Cut in the middle of line 5.
    size_t pos = 0;
    for (int i = 0; i < 4; ++i) pos = content.find('\n', pos) + 1;
    write_file(p, content.substr(0, pos + 30));
    r = check({p});
    CHECK(r.problem == Problem::truncated);
    CHECK(r.line == 5);
    CHECK(r.records == 4);
}

TEST_CASE("recomputing the chain without the key still shows removed records through seq") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 10);
    lines.erase(lines.begin() + 4);
    rechain(lines, 4);
    write_lines(p, lines);
    auto r = check({p});
    CHECK(r.problem == Problem::removed);
    CHECK(r.line == 5);
    CHECK(r.message.find("chain recomputed") != std::string::npos);
}

TEST_CASE("a log must start with log_opened; empty, missing and foreign files fail") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 3);
    lines.erase(lines.begin());
    write_lines(p, lines);
    auto r = check({p});
    CHECK(r.problem == Problem::missing_start);
    CHECK(r.line == 1);

    write_file(p, "");
    CHECK(check({p}).problem == Problem::empty_file);

    CHECK(check({d.file("nope.jsonl")}).problem == Problem::unreadable);
    CHECK(check({}).problem == Problem::unreadable);

    write_file(p, "2026-11-24 10:00:00 LOG:  statement: SELECT 1\n");
    r = check({p});
    CHECK(r.problem == Problem::not_a_record);
    CHECK(r.line == 1);
}

TEST_CASE("restarting on an existing log continues its chain") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    write_log(options_for(p), 3, 1);
    auto first = read_lines(p);
    write_log(options_for(p), 3, 2);
    auto lines = read_lines(p);
    REQUIRE(lines.size() == 8);
    CHECK(field(lines[4], "event") == "log_opened");
    CHECK(field(lines[4], "seq") == "5");
    CHECK(field(lines[4], "previous_chain") == field(first.back(), "chain"));
    CHECK(field(lines[4], "previous_file") == "<absent>");
    auto r = check({p});
    CHECK(r.ok());
    CHECK(r.last_seq == 8);

    // Removing the first run's last record is caught at the restart's log_opened.
    lines.erase(lines.begin() + 3);
    write_lines(p, lines);
    r = check({p});
    CHECK(r.problem == Problem::removed);
    CHECK(r.line == 4);
}

TEST_CASE("a log cut short by a crash gets a new chain after the damage, which stays visible") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    write_log(options_for(p), 3);
    std::string content = read_file(p);
    write_file(p, content.substr(0, content.size() - 10));
    write_log(options_for(p), 2, 2);
    std::string after = read_file(p);
    CHECK(after.back() == '\n');
    auto lines = read_lines(p);
    REQUIRE(lines.size() == 7);
    CHECK(field(lines[4], "event") == "log_opened");
    CHECK(field(lines[4], "previous_chain") == "<absent>");
    CHECK(field(lines[4], "reason").find("not a complete audit record") != std::string::npos);
    auto r = check({p});
    CHECK(r.problem == Problem::not_a_record);
    CHECK(r.line == 4);
    // What follows the damage verifies on its own.
    std::vector<std::string> rest(lines.begin() + 4, lines.end());
    write_lines(d.file("rest.jsonl"), rest);
    CHECK(check({d.file("rest.jsonl")}).ok());
}

TEST_CASE("logs verify across rotations; a missing or misordered file is reported") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    {
        AuditLog log(options_for(p));
        for (int i = 0; i < 3; ++i) log.submit(statement(1, i));
        REQUIRE(log.flush());
        fs::rename(p, p + ".1");  // what logrotate does, then it signals pgmoat
        log.reopen();
        for (int i = 3; i < 6; ++i) log.submit(statement(1, i));
        REQUIRE(log.flush());
        fs::rename(p + ".1", p + ".2");
        fs::rename(p, p + ".1");
        log.reopen();
        for (int i = 6; i < 9; ++i) log.submit(statement(1, i));
        log.stop();
    }
    auto l2 = read_lines(p + ".2"), l1 = read_lines(p + ".1"), l0 = read_lines(p);
    REQUIRE(l2.size() == 4);
    REQUIRE(l1.size() == 4);
    REQUIRE(l0.size() == 4);
    CHECK(field(l1[0], "event") == "log_opened");
    CHECK(field(l1[0], "reason") == "reopen");
    CHECK(field(l1[0], "previous_chain") == field(l2.back(), "chain"));
    CHECK(field(l1[0], "previous_file") == p + ".1");  // its name when pgmoat left it
    CHECK(field(l0[0], "seq") == "9");

    auto r = check({p + ".2", p + ".1", p});
    CHECK(r.ok());
    CHECK(r.records == 12);
    CHECK(r.files == 3);
    CHECK(r.last_seq == 12);

    // The newest file alone verifies, noting what it continues from.
    r = check({p});
    CHECK(r.ok());
    CHECK(r.continues_from == p + ".1");

    r = check({p + ".2", p});
    CHECK(r.problem == Problem::not_linked);
    CHECK(r.file == p);
    CHECK(r.line == 1);
    CHECK(r.message.find("does not continue from the end of " + p + ".2") != std::string::npos);

    r = check({p + ".1", p + ".2", p});
    CHECK(r.problem == Problem::new_chain);
    CHECK(r.file == p + ".2");

    // Records cut from the end of a rotated file break the link to the next one.
    l1.pop_back();
    write_lines(p + ".1", l1);
    r = check({p + ".2", p + ".1", p});
    CHECK(r.problem == Problem::not_linked);
    CHECK(r.file == p);
}

TEST_CASE("reopen without a rotation changes nothing") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    AuditLog log(options_for(p));
    log.submit(statement(1, 0));
    REQUIRE(log.flush());
    log.reopen();  // e.g. SIGHUP for a config reload
    log.submit(statement(1, 1));
    log.stop();
    auto lines = read_lines(p);
    CHECK(lines.size() == 3);
    CHECK(check({p}).ok());
}

TEST_CASE("a keyed log verifies only with its key") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 5, kKey);
    CHECK(check({p}, kKey).ok());

    auto r = check({p});
    CHECK(r.problem == Problem::key_required);
    CHECK(r.line == 1);

    r = check({p}, std::string("another key, long enough to be one"));
    CHECK(r.problem == Problem::wrong_key);
    CHECK(r.message.find(key_id(kKey)) != std::string::npos);

    // An unkeyed log does not pass as keyed.
    auto q = d.file("plain.jsonl");
    fresh_log(q, 2);
    CHECK(check({q}, kKey).problem == Problem::not_keyed);
}

TEST_CASE("without the key, an edit to a keyed log cannot be hidden") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 5, kKey);
    lines[3] = replace_once(lines[3], "\"rows\":2", "\"rows\":7");

    SUBCASE("recomputed with a guessed key") {
        rechain(lines, 3, std::string("guessed key guessed key"));
        write_lines(p, lines);
        auto r = check({p}, kKey);
        CHECK(r.problem == Problem::chain_broken);  // every line from here on is wrong
        CHECK(r.line == 4);
        CHECK(r.records == 3);
    }
    SUBCASE("downgraded to plain SHA-256") {
        lines[0] = replace_once(lines[0], "\"chain_alg\":\"hmac-sha256\"", "\"chain_alg\":\"sha256\"");
        rechain(lines, 0);
        write_lines(p, lines);
        CHECK(check({p}).ok());  // without the key nobody can tell...
        auto r = check({p}, kKey);
        CHECK(r.problem == Problem::not_keyed);  // ...with it, the auditor can
        CHECK(r.line == 1);
    }
}

TEST_CASE("a duplicated chain field makes a line not a record") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto lines = fresh_log(p, 3);
    lines[2] = replace_once(lines[2], "{\"time\"", "{\"chain\":\"x\",\"time\"");
    write_lines(p, lines);
    auto r = check({p});
    CHECK_FALSE(r.ok());
    CHECK(r.line == 3);
}
