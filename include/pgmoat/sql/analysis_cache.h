// A cache of analyses keyed by exact statement text, so a statement an app sends
// again costs a hash lookup. Bounded by bytes (approximate memory of keys and
// values), least-recently-used first out, sharded so I/O threads rarely wait on
// each other. Thread-safe.
#pragma once

#include "pgmoat/sql/analysis.h"
#include "pgmoat/sql/analyzer.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace pgmoat::sql {

class AnalysisCache {
  public:
    struct Stats {
        uint64_t hits = 0;
        uint64_t misses = 0;
        uint64_t insertions = 0;
        uint64_t evictions = 0;
        uint64_t bytes = 0;  // approximate memory held now
        uint64_t entries = 0;
    };

    // max_bytes is shared evenly by the shards; an entry larger than an eighth of
    // a shard is never kept (one huge statement must not flush the rest).
    explicit AnalysisCache(size_t max_bytes, size_t shards = 16);
    ~AnalysisCache();
    AnalysisCache(const AnalysisCache&) = delete;
    AnalysisCache& operator=(const AnalysisCache&) = delete;

    // The key is the exact text, the caller's version (e.g. the policy set's, so a
    // reload misses every old entry) and options.cache_key().
    std::shared_ptr<const Analysis> find(std::string_view sql, uint64_t version, const AnalyzerOptions& options);
    void insert(std::string_view sql, uint64_t version, const AnalyzerOptions& options,
                std::shared_ptr<const Analysis> analysis);
    // find(), or analyze() and insert() on a miss. Analyses that failed because of
    // session settings are not cached (they are cheap and say nothing of the text).
    std::shared_ptr<const Analysis> analyze(std::string_view sql, uint64_t version, const AnalyzerOptions& options);

    Stats stats() const;
    size_t max_bytes() const { return max_bytes_; }
    void clear();

  private:
    struct Shard;
    Shard& shard_for(uint64_t hash);

    size_t max_bytes_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace pgmoat::sql
