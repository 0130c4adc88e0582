#include "audit_test_util.h"

#include "pgmoat/audit/cli.h"
#include "pgmoat/common/log.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace audit_test;

namespace {

struct Run {
    int code;
    std::string out, err;
};

Run run(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = run_cli(args, out, err);
    return {code, out.str(), err.str()};
}

}  // namespace

TEST_CASE("pgmoat audit verify passes an untouched log and exits 0") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    write_log(options_for(p), 3);
    auto r = run({"verify", p});
    CHECK(r.code == 0);
    CHECK(r.out.find("ok: 4 record(s) in 1 file(s), SHA-256; last seq 4, chain ") == 0);
    CHECK(r.err.empty());
}

TEST_CASE("pgmoat audit verify reports the first break with file and line and exits 1") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    write_log(options_for(p), 5);
    auto lines = read_lines(p);
    lines.erase(lines.begin() + 2);
    write_lines(p, lines);
    auto r = run({"verify", p});
    CHECK(r.code == 1);
    CHECK(r.out == "FAILED: " + p +
                       ":3: 1 record(s) removed before this line (seq jumps from 2 to 4)\n"
                       "(2 record(s) verified before it, the last at seq 2)\n");
}

TEST_CASE("pgmoat audit verify --key checks keyed logs") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    auto key_file = d.file("audit.key");
    write_file(key_file, "0123456789abcdef0123456789abcdef\n");
    Options o = options_for(p);
    o.hmac_key = "0123456789abcdef0123456789abcdef";
    write_log(o, 2);
    CHECK(run({"verify", "--key", key_file, p}).code == 0);
    CHECK(run({"verify", "--key=" + key_file, p}).out.find("HMAC-SHA-256 with the key given") != std::string::npos);
    auto r = run({"verify", p});
    CHECK(r.code == 1);
    CHECK(r.out.find("verifying it needs the key (--key FILE)") != std::string::npos);
    r = run({"verify", "--key", d.file("missing.key"), p});
    CHECK(r.code == 2);
    CHECK(r.err.find("missing.key: cannot read audit HMAC key file") != std::string::npos);
}

TEST_CASE("pgmoat audit verify across rotated files notes an unchecked predecessor") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    {
        AuditLog log(options_for(p));
        log.submit(statement(1, 0));
        REQUIRE(log.flush());
        fs::rename(p, p + ".1");
        log.reopen();
        log.submit(statement(1, 1));
        log.stop();
    }
    CHECK(run({"verify", p + ".1", p}).code == 0);
    auto r = run({"verify", p});
    CHECK(r.code == 0);
    CHECK(r.out.find("note: the first file continues from " + p + ".1, which was not verified") != std::string::npos);
    CHECK(run({"verify", p, p + ".1"}).code == 1);
}

TEST_CASE("pgmoat audit usage") {
    auto r = run({"--help"});
    CHECK(r.code == 0);
    CHECK(r.out.find("usage: pgmoat audit verify [--key FILE] AUDIT_FILE...") == 0);
    CHECK(run({"verify", "--help"}).code == 0);
    r = run({});
    CHECK(r.code == 2);
    CHECK(r.err.find("usage:") == 0);
    r = run({"verify"});
    CHECK(r.code == 2);
    CHECK(r.err.find("no audit files given") != std::string::npos);
    CHECK(run({"verify", "--frobnicate", "x"}).code == 2);
    CHECK(run({"verify", "--key"}).code == 2);
    CHECK(run({"shred"}).code == 2);
    // "--" lets a file name start with a dash.
    r = run({"verify", "--", "-odd-name"});
    CHECK(r.code == 1);
    CHECK(r.out.find("-odd-name: cannot open") != std::string::npos);
}
