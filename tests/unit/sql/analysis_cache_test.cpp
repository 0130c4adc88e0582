// The analysis cache: hits by exact text, misses on a new version or options,
// stays within its byte budget, and is safe to share between threads.
#include "pgmoat/sql/analysis_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace pgmoat::sql;

TEST_CASE("a repeated statement is a hit that returns the same analysis") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions o;
    auto first = cache.analyze("SELECT * FROM t WHERE id = $1", 1, o);
    auto second = cache.analyze("SELECT * FROM t WHERE id = $1", 1, o);
    REQUIRE(first);
    CHECK(first.get() == second.get());
    auto s = cache.stats();
    CHECK(s.hits == 1);
    CHECK(s.misses == 1);
    CHECK(s.entries == 1);
    CHECK(s.bytes > 0);
}

TEST_CASE("the key is the exact text: a space or a value makes another entry") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions o;
    cache.analyze("SELECT 1", 1, o);
    cache.analyze("SELECT  1", 1, o);
    cache.analyze("SELECT 2", 1, o);
    CHECK(cache.stats().entries == 3);
    CHECK(cache.stats().hits == 0);
}

TEST_CASE("a new version misses every old entry") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions o;
    auto v1 = cache.analyze("SELECT 1", 1, o);
    auto v2 = cache.analyze("SELECT 1", 2, o);
    CHECK(v1.get() != v2.get());
    CHECK(cache.stats().misses == 2);
    CHECK(cache.find("SELECT 1", 1, o).get() == v1.get());
}

TEST_CASE("options that change the result are part of the key") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions small;
    small.max_statement_bytes = 5;
    AnalyzerOptions normal;
    CHECK(cache.analyze("SELECT 1", 1, small)->status == AnalysisStatus::too_large);
    CHECK(cache.analyze("SELECT 1", 1, normal)->status == AnalysisStatus::ok);
}

TEST_CASE("session-settings failures are not cached") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions off;
    off.standard_conforming_strings = false;
    CHECK(cache.analyze("SELECT 1", 1, off)->status == AnalysisStatus::session_settings);
    CHECK(cache.stats().entries == 0);
}

TEST_CASE("the byte bound is honoured: old entries go first") {
    const size_t budget = 64 * 1024;
    AnalysisCache cache(budget, 4);
    AnalyzerOptions o;
    for (int i = 0; i < 2000; ++i) {
        std::string sql = "SELECT a, b, c FROM some_table WHERE id = " + std::to_string(i);
        cache.analyze(sql, 1, o);
        CHECK(cache.stats().bytes <= budget);
    }
    auto s = cache.stats();
    CHECK(s.evictions > 0);
    CHECK(s.entries < 2000);
    CHECK(s.entries > 10);
    // The most recent statement is still there, the first long gone.
    CHECK(cache.find("SELECT a, b, c FROM some_table WHERE id = 1999", 1, o));
    CHECK_FALSE(cache.find("SELECT a, b, c FROM some_table WHERE id = 0", 1, o));
}

TEST_CASE("recently used entries survive eviction") {
    AnalysisCache cache(48 * 1024, 1);
    AnalyzerOptions o;
    cache.analyze("SELECT 'keep me'", 1, o);
    for (int i = 0; i < 400; ++i) {
        cache.analyze("SELECT " + std::to_string(i), 1, o);
        CHECK(cache.find("SELECT 'keep me'", 1, o));  // touched each time
    }
    CHECK(cache.stats().evictions > 0);
}

TEST_CASE("an entry too large for its shard is not kept") {
    AnalysisCache cache(16 * 1024, 1);
    AnalyzerOptions o;
    std::string big = "SELECT '" + std::string(8 * 1024, 'x') + "'";
    cache.analyze(big, 1, o);
    CHECK(cache.stats().entries == 0);
    cache.analyze("SELECT 1", 1, o);
    CHECK(cache.stats().entries == 1);
}

TEST_CASE("clear empties the cache") {
    AnalysisCache cache(1 << 20);
    AnalyzerOptions o;
    cache.analyze("SELECT 1", 1, o);
    cache.clear();
    CHECK(cache.stats().entries == 0);
    CHECK(cache.stats().bytes == 0);
    CHECK_FALSE(cache.find("SELECT 1", 1, o));
}

TEST_CASE("threads share the cache safely") {
    AnalysisCache cache(256 * 1024);
    AnalyzerOptions o;
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3000; ++i) {
                int n = (i * 7 + t) % 300;
                std::string sql = "SELECT x FROM t" + std::to_string(n) + " WHERE y = $1";
                auto a = cache.analyze(sql, 1, o);
                if (!a || !a->ok() || a->statements.size() != 1 || a->statements[0].relations.size() != 1 ||
                    a->statements[0].relations[0].name != "t" + std::to_string(n))
                    ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
    auto s = cache.stats();
    CHECK(s.hits + s.misses == 12000);
    CHECK(s.hits > 0);
}
