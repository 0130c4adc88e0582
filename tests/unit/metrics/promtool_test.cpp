// Checks rendered output with Prometheus' own linter, `promtool check metrics`
// (Debian's prometheus package). Skipped with a message when promtool is absent.
#include "pgmoat/metrics/process_collector.h"
#include "pgmoat/metrics/registry.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace pgmoat::metrics;

namespace {

std::string find_promtool() {
    if (const char* env = std::getenv("PROMTOOL"); env && *env) return env;
    for (const char* p : {"/usr/bin/promtool", "/usr/local/bin/promtool"})
        if (access(p, X_OK) == 0) return p;
    return {};
}

struct LintResult {
    int status = -1;
    std::string output;
};

LintResult promtool_check(const std::string& promtool, const std::string& text) {
    char path[] = "/tmp/pgmoat-metrics-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path, std::ios::binary) << text;
    std::string cmd = promtool + " check metrics < " + path + " 2>&1";
    LintResult r;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    int raw = pclose(p);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    unlink(path);
    return r;
}

}  // namespace

TEST_CASE("promtool check metrics finds nothing to complain about in a realistic exposition") {
    std::string promtool = find_promtool();
    if (promtool.empty()) {
        MESSAGE("promtool not found; skipping the lint check");
        return;
    }
    Registry r;
    r.add(std::make_shared<ProcessCollector>());
    auto& statements = r.counter("pgmoat_statements_total", "Statements seen, by app, target, kind and decision.",
                                 {"app", "target", "kind", "decision"});
    statements.labels({"orders-api", "main", "select", "allow"}).inc(3);
    statements.labels({"we\"ird\\app\nname", "main", "ddl", "reject"}).inc();
    r.gauge("pgmoat_client_sessions", "Client sessions open.", {"app", "target"}).labels({"orders-api", "main"}).inc();
    auto& rtt = r.histogram("pgmoat_upstream_round_trip_seconds", "Upstream round trip per statement.", {"target"},
                            exponential_buckets(0.0005, 2, 12));
    rtt.labels({"main"}).observe(0.003);
    rtt.labels({"main"}).observe(12);
    r.info("pgmoat_policy_info", "The loaded policy.", {"version"}).set({"2024-05-01"});
    r.callback_gauge("pgmoat_audit_queue_depth", "Audit records waiting to be written.", [] { return 0.0; });

    auto result = promtool_check(promtool, r.render());
    CHECK_MESSAGE(result.status == 0, result.output);
    CHECK_MESSAGE(result.output.empty(), result.output);
}

TEST_CASE("promtool does complain about a counter named without _total, which the registry refuses") {
    std::string promtool = find_promtool();
    if (promtool.empty()) {
        MESSAGE("promtool not found; skipping the lint check");
        return;
    }
    // Proves the check above has teeth: the same tool, fed what the registry refuses.
    auto result = promtool_check(promtool, "# HELP requests x\n# TYPE requests counter\nrequests 1\n");
    CHECK(result.status != 0);
    CHECK(result.output.find("_total") != std::string::npos);
    Registry r;
    CHECK_THROWS_AS(r.counter("requests", "x"), std::invalid_argument);
}
