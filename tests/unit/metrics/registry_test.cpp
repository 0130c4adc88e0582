// The metrics registry as Prometheus sees it: byte-exact exposition text, names,
// label handling, the child cap, and updates racing from many threads.
#include "pgmoat/metrics/registry.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace pgmoat::metrics;

TEST_CASE("a counter family renders HELP, TYPE and one line per child, children sorted by label values") {
    Registry r;
    auto& f = r.counter("pgmoat_statements_total", "Statements seen.", {"app", "decision"});
    f.labels({"orders-api", "reject"}).inc();
    f.labels({"billing", "allow"}).inc(41);
    f.labels({"billing", "allow"}).inc();
    CHECK(r.render() ==
          "# HELP pgmoat_statements_total Statements seen.\n"
          "# TYPE pgmoat_statements_total counter\n"
          "pgmoat_statements_total{app=\"billing\",decision=\"allow\"} 42\n"
          "pgmoat_statements_total{app=\"orders-api\",decision=\"reject\"} 1\n");
}

TEST_CASE("a metric without labels reads 0 before its first event") {
    Registry r;
    r.counter("pgmoat_accepted_total", "Connections accepted.");
    r.gauge("pgmoat_sessions", "Sessions open.");
    CHECK(r.render() ==
          "# HELP pgmoat_accepted_total Connections accepted.\n"
          "# TYPE pgmoat_accepted_total counter\n"
          "pgmoat_accepted_total 0\n"
          "# HELP pgmoat_sessions Sessions open.\n"
          "# TYPE pgmoat_sessions gauge\n"
          "pgmoat_sessions 0\n");
}

TEST_CASE("a labelled family with no children yet is left out of the output") {
    Registry r;
    r.counter("pgmoat_rejections_total", "Rejections.", {"rule"});
    CHECK(r.render() == "");
    CHECK(r.names() == std::vector<std::string>{"pgmoat_rejections_total"});
}

TEST_CASE("gauges set, go up and down, and print fractions and special values as Prometheus reads them") {
    Registry r;
    auto& f = r.gauge("pgmoat_value", "Values.", {"k"});
    f.labels({"a"}).set(3);
    f.labels({"a"}).inc();
    f.labels({"a"}).dec(2.5);
    f.labels({"b"}).set(std::numeric_limits<double>::infinity());
    f.labels({"c"}).set(-std::numeric_limits<double>::infinity());
    f.labels({"d"}).set(std::nan(""));
    f.labels({"e"}).set(1e21);
    f.labels({"f"}).set(-7);
    f.labels({"g"}).set(1e-7);
    f.labels({"h"}).set(123456789012.0);
    CHECK(f.labels({"a"}).value() == 1.5);
    CHECK(r.render() ==
          "# HELP pgmoat_value Values.\n"
          "# TYPE pgmoat_value gauge\n"
          "pgmoat_value{k=\"a\"} 1.5\n"
          "pgmoat_value{k=\"b\"} +Inf\n"
          "pgmoat_value{k=\"c\"} -Inf\n"
          "pgmoat_value{k=\"d\"} NaN\n"
          "pgmoat_value{k=\"e\"} 1e+21\n"
          "pgmoat_value{k=\"f\"} -7\n"
          "pgmoat_value{k=\"g\"} 1e-07\n"
          "pgmoat_value{k=\"h\"} 123456789012\n");
}

TEST_CASE("format_value writes integers without exponent and fractions in their shortest exact form") {
    CHECK(format_value(0) == "0");
    CHECK(format_value(-0.0) == "0");
    CHECK(format_value(1e6) == "1000000");
    CHECK(format_value(9007199254740993.0) == "9007199254740992");
    CHECK(format_value(1e18) == "1000000000000000000");
    CHECK(format_value(0.1) == "0.1");
    CHECK(format_value(0.005) == "0.005");
    CHECK(format_value(2.5) == "2.5");
    CHECK(std::stod(format_value(1.0 / 3)) == 1.0 / 3);
}

TEST_CASE("a histogram renders cumulative buckets in ascending le order ending with +Inf, then _sum and _count") {
    Registry r;
    auto& f = r.histogram("pgmoat_analysis_seconds", "Time to analyze a statement.", {"kind"}, {0.001, 0.01, 0.1});
    auto& h = f.labels({"select"});
    h.observe(0.0005);
    h.observe(0.001);  // on the bound: counted in le="0.001"
    h.observe(0.05);
    h.observe(2);
    f.labels({"insert"}).observe_duration(std::chrono::milliseconds(5));
    CHECK(r.render() ==
          "# HELP pgmoat_analysis_seconds Time to analyze a statement.\n"
          "# TYPE pgmoat_analysis_seconds histogram\n"
          "pgmoat_analysis_seconds_bucket{kind=\"insert\",le=\"0.001\"} 0\n"
          "pgmoat_analysis_seconds_bucket{kind=\"insert\",le=\"0.01\"} 1\n"
          "pgmoat_analysis_seconds_bucket{kind=\"insert\",le=\"0.1\"} 1\n"
          "pgmoat_analysis_seconds_bucket{kind=\"insert\",le=\"+Inf\"} 1\n"
          "pgmoat_analysis_seconds_sum{kind=\"insert\"} 0.005\n"
          "pgmoat_analysis_seconds_count{kind=\"insert\"} 1\n"
          "pgmoat_analysis_seconds_bucket{kind=\"select\",le=\"0.001\"} 2\n"
          "pgmoat_analysis_seconds_bucket{kind=\"select\",le=\"0.01\"} 2\n"
          "pgmoat_analysis_seconds_bucket{kind=\"select\",le=\"0.1\"} 3\n"
          "pgmoat_analysis_seconds_bucket{kind=\"select\",le=\"+Inf\"} 4\n"
          "pgmoat_analysis_seconds_sum{kind=\"select\"} 2.0515\n"
          "pgmoat_analysis_seconds_count{kind=\"select\"} 4\n");
}

TEST_CASE("a histogram without labels, and one whose buckets end with an explicit +Inf") {
    Registry r;
    auto& h = r.histogram("rtt_seconds", "Round trips.", {}, {1, 2.5, INFINITY}).labels({});
    h.observe(3);
    h.observe(std::nan(""));  // ignored
    CHECK(r.render() ==
          "# HELP rtt_seconds Round trips.\n"
          "# TYPE rtt_seconds histogram\n"
          "rtt_seconds_bucket{le=\"1\"} 0\n"
          "rtt_seconds_bucket{le=\"2.5\"} 0\n"
          "rtt_seconds_bucket{le=\"+Inf\"} 1\n"
          "rtt_seconds_sum 3\n"
          "rtt_seconds_count 1\n");
}

TEST_CASE("bucket helpers give tidy bounds") {
    CHECK(exponential_buckets(0.001, 2.5, 4) == std::vector<double>{0.001, 0.0025, 0.00625, 0.015625});
    CHECK(linear_buckets(0.1, 0.1, 3) == std::vector<double>{0.1, 0.2, 0.3});
    CHECK_THROWS_AS(exponential_buckets(0, 2, 3), std::invalid_argument);
    CHECK_THROWS_AS(exponential_buckets(1, 1, 3), std::invalid_argument);
    CHECK_THROWS_AS(linear_buckets(0, 0, 3), std::invalid_argument);
    Registry r;
    CHECK_THROWS_AS(r.histogram("a_seconds", "x", {}, {1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("b_seconds", "x", {}, {2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("c_seconds", "x", {}, {1, NAN}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("d_seconds", "x", {}, {-INFINITY, 1}), std::invalid_argument);
}

TEST_CASE("help text escapes backslash and newline; label values escape backslash, quote and newline") {
    Registry r;
    auto& f = r.counter("odd_total", "Line one\nC:\\path \"quoted\"", {"v"});
    f.labels({"a\\b\"c\nd"}).inc();
    CHECK(r.render() ==
          "# HELP odd_total Line one\\nC:\\\\path \"quoted\"\n"
          "# TYPE odd_total counter\n"
          "odd_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST_CASE("label values that are not UTF-8 are repaired so they cannot break the scrape") {
    Registry r;
    auto& f = r.counter("bytes_total", "x", {"app"});
    f.labels({"ok-\xc3\xa9"}).inc();
    f.labels({"bad-\xff\xc3"}).inc();
    f.labels({"surrogate-\xed\xa0\x80"}).inc();
    std::string out = r.render();
    CHECK(out.find("app=\"ok-\xc3\xa9\"") != std::string::npos);
    CHECK(out.find("app=\"bad-\xef\xbf\xbd\xef\xbf\xbd\"") != std::string::npos);
    CHECK(out.find("app=\"surrogate-\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"") != std::string::npos);
    CHECK(sanitize_utf8("\xf0\x9f\x90\x98") == "\xf0\x9f\x90\x98");
    CHECK(sanitize_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
}

TEST_CASE("families are rendered sorted by name, whatever the order of registration") {
    Registry r;
    r.gauge("zeta", "z");
    r.counter("alpha_total", "a");
    r.callback_gauge("mid", "m", [] { return 2.0; });
    std::string out = r.render();
    auto a = out.find("alpha_total 0"), m = out.find("mid 2"), z = out.find("zeta 0");
    REQUIRE(a != std::string::npos);
    REQUIRE(m != std::string::npos);
    REQUIRE(z != std::string::npos);
    CHECK(a < m);
    CHECK(m < z);
    CHECK(r.names() == std::vector<std::string>{"alpha_total", "mid", "zeta"});
}

TEST_CASE("a child handle stays valid and keeps its count as other children are created") {
    Registry r;
    auto& f = r.counter("c_total", "x", {"k"});
    Counter& first = f.labels({"first"});
    for (int i = 0; i < 1000; ++i) f.labels({std::to_string(i)}).inc();
    first.inc(7);
    CHECK(&f.labels({"first"}) == &first);
    CHECK(f.labels({"first"}).value() == 7);
    std::vector<std::string> values{"first"};
    CHECK(&f.labels(values) == &first);
}

TEST_CASE("concurrent updates from several threads sum exactly") {
    Registry r;
    auto& counters = r.counter("hits_total", "x", {"t"});
    auto& gauges = r.gauge("level", "x");
    auto& hists = r.histogram("lat_seconds", "x", {"t"}, {0.5, 1.5});
    const int threads = 8, per_thread = 20000;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
            // Each thread looks its children up itself, racing on creation too.
            Counter& c = counters.labels({"shared"});
            Gauge& g = gauges.labels({});
            Histogram& h = hists.labels({"shared"});
            for (int i = 0; i < per_thread; ++i) {
                c.inc();
                g.inc(2);
                g.dec();
                h.observe(i % 2 ? 1.0 : 0.25);
            }
        });
    // Scrapes during the updates must not disturb them.
    for (int i = 0; i < 20; ++i) (void)r.render();
    for (auto& t : pool) t.join();
    CHECK(counters.labels({"shared"}).value() == uint64_t{threads} * per_thread);
    CHECK(gauges.labels({}).value() == double(threads) * per_thread);
    auto snap = hists.labels({"shared"}).snapshot();
    CHECK(snap.cumulative ==
          std::vector<uint64_t>{threads * per_thread / 2, threads * per_thread, threads * per_thread});
    CHECK(snap.sum == doctest::Approx(double(threads * per_thread) / 2 * 1.25));
    CHECK(counters.size() == 1);
}

TEST_CASE("past the child cap, new label combinations count under \"overflow\"") {
    Registry r(3);
    auto& f = r.counter("apps_total", "x", {"app", "target"});
    f.labels({"a", "t"}).inc();
    f.labels({"b", "t"}).inc();
    f.labels({"c", "t"}).inc();
    f.labels({"d", "t"}).inc(5);
    f.labels({"e", "t"}).inc();
    f.labels({"a", "t"}).inc();  // existing children still count for themselves
    CHECK(f.size() == 4);
    CHECK(f.labels({"a", "t"}).value() == 2);
    CHECK(&f.labels({"zzz", "t"}) == &f.labels({"overflow", "overflow"}));
    CHECK(r.render() ==
          "# HELP apps_total x\n"
          "# TYPE apps_total counter\n"
          "apps_total{app=\"a\",target=\"t\"} 2\n"
          "apps_total{app=\"b\",target=\"t\"} 1\n"
          "apps_total{app=\"c\",target=\"t\"} 1\n"
          "apps_total{app=\"overflow\",target=\"overflow\"} 6\n");
}

TEST_CASE("the wrong number of label values is refused") {
    Registry r;
    auto& f = r.counter("x_total", "x", {"a", "b"});
    CHECK_THROWS_AS(f.labels({"only-one"}), std::invalid_argument);
    CHECK_THROWS_AS(f.labels({"1", "2", "3"}), std::invalid_argument);
    auto& info = r.info("x_info", "x", {"version"});
    CHECK_THROWS_AS(info.set({}), std::invalid_argument);
}

TEST_CASE("metric and label names are checked against Prometheus' rules") {
    Registry r;
    CHECK_THROWS_AS(r.gauge("", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("1abc", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("has-dash", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("has space", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("caf\xc3\xa9", "x"), std::invalid_argument);
    CHECK_NOTHROW(r.gauge("ns:sub_name_2", "x"));
    CHECK_NOTHROW(r.gauge("_private", "x"));
    CHECK_THROWS_AS(r.gauge("g1", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("g2", "x", {"a:b"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("g3", "x", {"9"}), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("g4", "x", {"a", "a"}), std::invalid_argument);
    CHECK_THROWS_AS(r.histogram("h_seconds", "x", {"le"}, {1}), std::invalid_argument);
    CHECK_NOTHROW(r.gauge("g5", "x", {"le", "_x", "A9"}));
    CHECK_THROWS_AS(r.counter("requests", "x"), std::invalid_argument);  // counters end in _total
    CHECK_THROWS_AS(r.callback_counter("cb", "x", [] { return 1.0; }), std::invalid_argument);
    CHECK(r.names() == std::vector<std::string>{"_private", "g5", "ns:sub_name_2"});
}

TEST_CASE("a family name can be registered once, and not where a histogram writes its series") {
    Registry r;
    r.counter("dup_total", "x");
    CHECK_THROWS_AS(r.counter("dup_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("dup_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.callback_gauge("dup_total", "x", [] { return 1.0; }), std::invalid_argument);
    r.histogram("rt_seconds", "x", {}, {1});
    CHECK_THROWS_AS(r.gauge("rt_seconds_count", "x"), std::invalid_argument);
    CHECK_THROWS_AS(r.gauge("rt_seconds_bucket", "x"), std::invalid_argument);
    r.gauge("q_sum", "x");
    CHECK_THROWS_AS(r.histogram("q", "x", {}, {1}), std::invalid_argument);
    // A refused registration leaves the registry as it was.
    CHECK(r.names() == std::vector<std::string>{"dup_total", "q_sum", "rt_seconds"});
}

TEST_CASE("callback gauges are evaluated at every scrape") {
    Registry r;
    int depth = 3;
    r.callback_gauge("queue_depth", "Records waiting.", [&] { return double(depth); });
    r.callback_gauge("upstream_connections", "Open upstream connections.", {"target"}, [] {
        return std::vector<LabeledValue>{{{"main"}, 2}, {{"replica"}, 0}, {{"too", "many"}, 9}};
    });
    r.callback_counter("cache_hits_total", "Hits.", [] { return 12.0; });
    CHECK(r.render() ==
          "# HELP cache_hits_total Hits.\n"
          "# TYPE cache_hits_total counter\n"
          "cache_hits_total 12\n"
          "# HELP queue_depth Records waiting.\n"
          "# TYPE queue_depth gauge\n"
          "queue_depth 3\n"
          "# HELP upstream_connections Open upstream connections.\n"
          "# TYPE upstream_connections gauge\n"
          "upstream_connections{target=\"main\"} 2\n"
          "upstream_connections{target=\"replica\"} 0\n");
    depth = 7;
    CHECK(r.render().find("queue_depth 7\n") != std::string::npos);
}

TEST_CASE("a failing callback drops only its own metric from the scrape") {
    Registry r;
    r.callback_gauge("broken", "x", []() -> double { throw std::runtime_error("gone"); });
    r.gauge("fine", "x").labels({}).set(1);
    CHECK(r.render() == "# HELP fine x\n# TYPE fine gauge\nfine 1\n");
}

TEST_CASE("a removed callback is no longer called and its name can be registered again") {
    Registry r;
    int calls = 0;
    r.callback_gauge("sessions", "x", [&] { return double(++calls); });
    (void)r.render();
    CHECK(calls == 1);
    CHECK(r.remove("sessions"));
    CHECK_FALSE(r.remove("sessions"));
    CHECK(r.render() == "");
    CHECK(calls == 1);
    r.callback_gauge("sessions", "x", [] { return 5.0; });
    CHECK(r.render() == "# HELP sessions x\n# TYPE sessions gauge\nsessions 5\n");
}

TEST_CASE("an info gauge shows exactly the current label set") {
    Registry r;
    auto& info = r.info("pgmoat_policy_info", "The loaded policy.", {"version", "file"});
    CHECK(r.render() == "");
    info.set({"v1", "/etc/pgmoat/policy.toml"});
    CHECK(r.render() ==
          "# HELP pgmoat_policy_info The loaded policy.\n"
          "# TYPE pgmoat_policy_info gauge\n"
          "pgmoat_policy_info{version=\"v1\",file=\"/etc/pgmoat/policy.toml\"} 1\n");
    std::vector<std::string> next{"v2", "/etc/pgmoat/policy.toml"};
    info.set(next);
    CHECK(r.render() ==
          "# HELP pgmoat_policy_info The loaded policy.\n"
          "# TYPE pgmoat_policy_info gauge\n"
          "pgmoat_policy_info{version=\"v2\",file=\"/etc/pgmoat/policy.toml\"} 1\n");
    info.clear();
    CHECK(r.render() == "");
}

TEST_CASE("render() runs safely while other threads register and update") {
    Registry r;
    auto& f = r.counter("busy_total", "x", {"k"});
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (int i = 0; i < 200 || !stop; ++i) {
            f.labels({std::to_string(i % 50)}).inc();
            if (i < 100) r.gauge("g" + std::to_string(i), "x").labels({}).set(i);
        }
    });
    for (int i = 0; i < 200; ++i) (void)r.render();
    stop = true;
    writer.join();
    std::string out = r.render();
    CHECK(out.find("busy_total{k=\"49\"}") != std::string::npos);
    CHECK(out.find("\ng99 99\n") != std::string::npos);
    CHECK(r.names().size() == 101);
    CHECK(f.size() == 50);
}
