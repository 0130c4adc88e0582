// The analysis cache: per shard a mutex, an LRU list and a hash index. Shards
// are picked by the key's hash, so threads analyzing different statements rarely
// meet on a lock; the critical sections are a lookup and a list splice.
#include "pgmoat/sql/analysis_cache.h"

#include "hash.h"

#include <atomic>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pgmoat::sql {

namespace {

struct Entry {
    std::string text;
    uint64_t version;
    uint64_t options;
    uint64_t hash;
    size_t bytes;
    std::shared_ptr<const Analysis> analysis;
};

// List node, index node and bookkeeping, roughly, on top of the key text.
constexpr size_t kEntryOverhead = sizeof(Entry) + 64;

uint64_t key_hash(std::string_view sql, uint64_t version, uint64_t options) {
    return detail::combine(detail::combine(detail::hash_bytes(sql), version), options);
}

}  // namespace

struct AnalysisCache::Shard {
    std::mutex mutex;
    std::list<Entry> lru;  // most recently used first
    std::unordered_multimap<uint64_t, std::list<Entry>::iterator> index;
    size_t bytes = 0;
    size_t capacity = 0;
    std::atomic<uint64_t> hits{0}, misses{0}, insertions{0}, evictions{0};

    std::list<Entry>::iterator lookup(std::string_view sql, uint64_t version, uint64_t options, uint64_t hash) {
        auto [lo, hi] = index.equal_range(hash);
        for (auto it = lo; it != hi; ++it) {
            const Entry& e = *it->second;
            if (e.version == version && e.options == options && e.text == sql) return it->second;
        }
        return lru.end();
    }
    void erase(std::list<Entry>::iterator e) {
        auto [lo, hi] = index.equal_range(e->hash);
        for (auto it = lo; it != hi; ++it) {
            if (it->second == e) {
                index.erase(it);
                break;
            }
        }
        bytes -= e->bytes;
        lru.erase(e);
    }
};

AnalysisCache::AnalysisCache(size_t max_bytes, size_t shards) : max_bytes_(max_bytes) {
    if (shards == 0) shards = 1;
    shards_.reserve(shards);
    for (size_t i = 0; i < shards; ++i) {
        shards_.push_back(std::make_unique<Shard>());
        shards_.back()->capacity = max_bytes / shards;
    }
}

AnalysisCache::~AnalysisCache() = default;

AnalysisCache::Shard& AnalysisCache::shard_for(uint64_t hash) {
    return *shards_[(hash >> 32) % shards_.size()];
}

std::shared_ptr<const Analysis> AnalysisCache::find(std::string_view sql, uint64_t version,
                                                    const AnalyzerOptions& options) {
    const uint64_t opts = options.cache_key();
    const uint64_t hash = key_hash(sql, version, opts);
    Shard& shard = shard_for(hash);
    std::lock_guard lock(shard.mutex);
    auto it = shard.lookup(sql, version, opts, hash);
    if (it == shard.lru.end()) {
        shard.misses.fetch_add(1, std::memory_order_relaxed);
        return nullptr;
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, it);
    shard.hits.fetch_add(1, std::memory_order_relaxed);
    return it->analysis;
}

void AnalysisCache::insert(std::string_view sql, uint64_t version, const AnalyzerOptions& options,
                           std::shared_ptr<const Analysis> analysis) {
    if (!analysis) return;
    const uint64_t opts = options.cache_key();
    const uint64_t hash = key_hash(sql, version, opts);
    Shard& shard = shard_for(hash);
    const size_t bytes = kEntryOverhead + sql.size() + analysis->approximate_bytes();
    if (bytes > shard.capacity / 8) return;  // would flush too much of the shard
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.lookup(sql, version, opts, hash); it != shard.lru.end()) shard.erase(it);
    shard.lru.push_front(Entry{std::string(sql), version, opts, hash, bytes, std::move(analysis)});
    shard.index.emplace(hash, shard.lru.begin());
    shard.bytes += bytes;
    shard.insertions.fetch_add(1, std::memory_order_relaxed);
    while (shard.bytes > shard.capacity && !shard.lru.empty()) {
        shard.erase(std::prev(shard.lru.end()));
        shard.evictions.fetch_add(1, std::memory_order_relaxed);
    }
}

std::shared_ptr<const Analysis> AnalysisCache::analyze(std::string_view sql, uint64_t version,
                                                       const AnalyzerOptions& options) {
    if (auto hit = find(sql, version, options)) return hit;
    auto analysis = std::make_shared<const Analysis>(sql::analyze(sql, options));
    if (analysis->status != AnalysisStatus::session_settings) insert(sql, version, options, analysis);
    return analysis;
}

AnalysisCache::Stats AnalysisCache::stats() const {
    Stats s;
    for (const auto& shard : shards_) {
        s.hits += shard->hits.load(std::memory_order_relaxed);
        s.misses += shard->misses.load(std::memory_order_relaxed);
        s.insertions += shard->insertions.load(std::memory_order_relaxed);
        s.evictions += shard->evictions.load(std::memory_order_relaxed);
        std::lock_guard lock(shard->mutex);
        s.bytes += shard->bytes;
        s.entries += shard->lru.size();
    }
    return s;
}

void AnalysisCache::clear() {
    for (auto& shard : shards_) {
        std::lock_guard lock(shard->mutex);
        shard->lru.clear();
        shard->index.clear();
        shard->bytes = 0;
    }
}

}  // namespace pgmoat::sql
