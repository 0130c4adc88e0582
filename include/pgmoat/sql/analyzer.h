// The statement analyzer: SQL text in, facts out (see analysis.h), using
// PostgreSQL's own grammar through libpg_query. No sockets, no policy.
//
// - Thread-safe: any number of threads may call analyze() at once (libpg_query
//   keeps its state per thread; the analyzer's scratch buffers are per thread).
// - Stack-safe: a pre-parse scan bounds the parse-tree depth; a shallow
//   statement (estimated depth up to 256) is parsed on the caller's thread, using
//   at most about 0.5 MB of its stack (several times that under sanitizers), a
//   deeper one on a short-lived thread with a stack sized for max_depth. Any
//   caller with 1 MB of free stack is safe; the default 8 MB is plenty.
// - Fails closed: text it cannot analyze comes back with a status other than ok
//   and a reason, never with partial facts presented as complete. It does not
//   throw for any input (std::bad_alloc aside).
// - Cheap to repeat through AnalysisCache (analysis_cache.h).
#pragma once

#include "pgmoat/sql/analysis.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pgmoat::sql {

struct AnalyzerOptions {
    // Longer text is not parsed (status too_large). PostgreSQL accepts up to 1 GB;
    // apps rarely send more than a few hundred kB.
    size_t max_statement_bytes = 4 * 1024 * 1024;
    // Bound on parse-tree depth, estimated from the tokens before parsing: bracket
    // nesting plus operator chains (`1+1+...`, `NOT NOT ...`, `::t::t`, chained
    // JOINs and UNIONs). Deeper text is not parsed (status too_deep). Text deeper
    // than a few hundred levels is parsed on a dedicated thread whose stack is
    // sized for this bound, so the caller's stack is never at risk.
    uint32_t max_depth = 10000;

    // The session's server-reported settings (ParameterStatus). libpg_query lexes
    // as standard_conforming_strings = on in UTF-8; under other settings the
    // server would read the text differently, so analysis fails closed.
    bool standard_conforming_strings = true;
    std::string client_encoding = "UTF8";

    // A hash of everything above that can change an analysis (for cache keys).
    uint64_t cache_key() const;
    // The session settings the parser can be trusted with.
    bool settings_supported() const;
};

Analysis analyze(std::string_view sql, const AnalyzerOptions& options = {});

}  // namespace pgmoat::sql
