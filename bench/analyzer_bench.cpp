// analyzer_bench: µs per statement for a fixed corpus of typical statements,
// three ways: libpg_query's pg_query_parse alone (parse + free, the floor),
// pgmoat's full analysis with no cache (lex, parse, walk, fingerprint,
// normalized text), and a cached lookup. Each figure is the best of several
// rounds, which is what a noisy shared machine can measure reliably. Then a
// 1 MB statement: analysis time and memory.
//
//   analyzer_bench [--rounds N] [--iterations N]
#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/sql/analysis_cache.h"
#include "pgmoat/sql/analyzer.h"

#include <pg_query.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

long peak_rss_kb() {
    struct rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

// A 1 MB statement (a 50,000-element IN list of literals, as an ORM's bulk
// lookup spliced into the text would send): wall time of a full analysis and
// how much the process's peak resident memory grew for it.
void large_statement(const pgmoat::sql::AnalyzerOptions& options) {
    std::string sql = "SELECT id, name FROM users WHERE id IN (";
    for (int i = 0; i < 50000; ++i) {
        if (i) sql += ", ";
        sql += std::to_string(100000000 + i);
    }
    sql += ") AND status = 'active'";
    while (sql.size() < (1u << 20)) sql += " ";
    long rss_before = peak_rss_kb();
    double best_ms = 1e30;
    size_t literals = 0;
    for (int r = 0; r < 5; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        pgmoat::sql::Analysis a = pgmoat::sql::analyze(sql, options);
        best_ms =
            std::min(best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        literals = a.ok() ? a.statements[0].literals.size() : 0;
    }
    std::printf(
        "\n1 MB statement (%zu bytes, IN list of 50,000 literals; %zu literals found): "
        "best of 5 %.1f ms (target: under 100 ms), peak RSS grew %.1f MB\n",
        sql.size(), literals, best_ms, static_cast<double>(peak_rss_kb() - rss_before) / 1024);
}

struct Item {
    const char* label;
    const char* sql;
};

// pgbench's statements, ORM-style CRUD, a driver's type look-up, and the
// 300-byte CTE query the issue measures.
const Item kCorpus[] = {
    {"pgbench select", "SELECT abalance FROM pgbench_accounts WHERE aid = $1"},
    {"pgbench update", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"},
    {"pgbench insert",
     "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, "
     "CURRENT_TIMESTAMP)"},
    {"orm select",
     "SELECT \"users\".\"id\", \"users\".\"email\", \"users\".\"name\" FROM \"users\" WHERE "
     "\"users\".\"id\" = $1 LIMIT $2"},
    {"orm insert",
     "INSERT INTO \"posts\" (\"title\", \"body\", \"created_at\") VALUES ($1, $2, $3) "
     "RETURNING \"id\""},
    {"literal select",
     "SELECT id, status FROM orders WHERE customer_id = 42 AND status = 'open' ORDER BY id "
     "LIMIT 20"},
    {"driver lookup",
     "SELECT t.oid, typarray FROM pg_type t JOIN pg_namespace ns ON typnamespace = ns.oid "
     "WHERE typname = $1 AND ns.nspname = $2"},
    {"cte 300 bytes",
     "WITH recent AS (SELECT o.id, o.customer_id, o.total FROM orders o WHERE o.created_at > "
     "now() - interval '7 days' AND o.status = $1), top AS (SELECT customer_id, sum(total) AS "
     "s FROM recent GROUP BY customer_id ORDER BY s DESC LIMIT 10) SELECT c.name, t.s FROM "
     "top t JOIN customers c ON c.id = t.customer_id ORDER BY t.s DESC"},
};

template <typename F>
double best_us(F&& f, int rounds, int iterations) {
    double best = 1e30;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i) f();
        double us =
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iterations;
        best = std::min(best, us);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 15;
    int iterations = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--iterations")) iterations = std::max(1, std::atoi(argv[i + 1]));
    }
    using namespace pgmoat::sql;
    AnalyzerOptions options;
    AnalysisCache cache(64 << 20);

    // A cached decision: the analysis from the cache, judged by the shipped baseline.
    auto policies = pgmoat::policy::load_policy_dir(PGMOAT_SOURCE_DIR "/policies");
    const auto& baseline = *policies.default_policy;
    std::printf("%-16s %6s %12s %12s %8s %12s %12s\n", "statement", "bytes", "parse µs", "analyze µs", "ratio",
                "cached µs", "decision µs");
    double log_ratio_sum = 0;
    double parse_total = 0, analyze_total = 0, cached_total = 0;
    for (const Item& item : kCorpus) {
        volatile size_t sink = 0;
        Analysis check = analyze(item.sql, options);
        if (!check.ok()) {
            std::fprintf(stderr, "%s: not analyzable: %s\n", item.label, check.error.c_str());
            return 1;
        }
        cache.analyze(item.sql, 1, options);  // warm the entry
        // Interleave the three measurements so that machine noise hits all alike.
        double parse = 1e30, full = 1e30, cached = 1e30, decided = 1e30;
        for (int r = 0; r < rounds; ++r) {
            parse = std::min(parse, best_us(
                                        [&] {
                                            PgQueryParseResult p = pg_query_parse(item.sql);
                                            sink = sink + (p.parse_tree != nullptr);
                                            pg_query_free_parse_result(p);
                                        },
                                        1, iterations));
            full = std::min(full, best_us(
                                      [&] {
                                          Analysis a = analyze(item.sql, options);
                                          sink = sink + a.statements.size();
                                      },
                                      1, iterations));
            cached = std::min(cached, best_us(
                                          [&] {
                                              auto a = cache.analyze(item.sql, 1, options);
                                              sink = sink + a->statements.size();
                                          },
                                          1, iterations * 4));
            decided = std::min(decided, best_us(
                                            [&] {
                                                auto a = cache.analyze(item.sql, 1, options);
                                                auto d = pgmoat::policy::decide(baseline, *a, item.sql,
                                                                                pgmoat::policy::Protocol::extended);
                                                sink = sink + d.allow;
                                            },
                                            1, iterations * 4));
        }
        double ratio = full / parse;
        log_ratio_sum += std::log(ratio);
        parse_total += parse;
        analyze_total += full;
        cached_total += cached;
        std::printf("%-16s %6zu %12.2f %12.2f %7.2fx %12.3f %12.3f\n", item.label, std::strlen(item.sql), parse, full,
                    ratio, cached, decided);
    }
    size_t n = sizeof(kCorpus) / sizeof(kCorpus[0]);
    std::printf("%-16s %6s %12.2f %12.2f %7.2fx %12.3f\n", "total", "", parse_total, analyze_total,
                analyze_total / parse_total, cached_total);
    std::printf("geometric mean of ratios: %.2fx (target: at most 1.5x)\n",
                std::exp(log_ratio_sum / static_cast<double>(n)));
    large_statement(options);
    return 0;
}
